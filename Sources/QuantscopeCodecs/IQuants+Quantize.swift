import QuantscopeFormats

extension IQuants {
  /// This family's quantizers: IQ4_NL and IQ4_XS, bit-exact with ggml's `quantize_iq4_nl` /
  /// `quantize_iq4_xs` (the chunk path that `llama-quantize` uses), with and without an imatrix.
  ///
  /// The grid-searching types follow `quantize_iq2_xxs`, `quantize_iq2_xs`, `quantize_iq2_s`,
  /// `quantize_iq3_xxs` and `quantize_iq3_s`. ggml refuses IQ2_XXS and IQ2_XS without an
  /// imatrix; called without one, these quantizers weight every column 1 instead of failing.
  public static let quantizers: [BlockQuantizer] = [
    BlockQuantizer(type: .iq4_nl, quantize: quantizeIQ4NL),
    BlockQuantizer(type: .iq4_xs, quantize: quantizeIQ4XS),
    BlockQuantizer(type: .iq2_xxs, quantize: quantizeIQ2XXS, requiresImportance: true),
    BlockQuantizer(type: .iq2_xs, quantize: quantizeIQ2XS, requiresImportance: true),
    BlockQuantizer(type: .iq2_s, quantize: quantizeIQ2S),
    BlockQuantizer(type: .iq3_xxs, quantize: quantizeIQ3XXS),
    BlockQuantizer(type: .iq3_s, quantize: quantizeIQ3S),
  ]

  /// ggml's `GROUP_MAX_EPS`: a 32-value group whose largest magnitude is below this gets scale 0.
  static let iq4GroupMaxEps: Float = 1e-15

  /// `quantize_iq4_nl`: every 32-value block is its own super-block, searched with ntry = 7.
  /// A row tail shorter than one block (ggml asserts there is none) is left unwritten.
  static func quantizeIQ4NL(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    iqQuantizeIQ4Rows(source, rows, rowLength, importance, destination, superBlock: 32, blockBytes: 18)
  }

  /// `quantize_iq4_xs`: 256-value super-blocks of eight 32-value blocks with 6-bit scales.
  static func quantizeIQ4XS(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    iqQuantizeIQ4Rows(source, rows, rowLength, importance, destination, superBlock: 256, blockBytes: 136)
  }
}

/// Runs `iqQuantizeIQ4SuperBlock` over every super-block of every row. The imatrix is one
/// vector of `rowLength` weights applied to every row.
private func iqQuantizeIQ4Rows(
  _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
  _ destination: UnsafeMutableRawPointer, superBlock: Int, blockBytes: Int
) {
  let perRow = rowLength / superBlock
  iqKvaluesIQ4NLFloat.withUnsafeBufferPointer { values in
    guard let values = values.baseAddress else { return }
    var scratch = IQ4Scratch()
    for row in 0..<rows {
      for ibl in 0..<perRow {
        iqQuantizeIQ4SuperBlock(
          source + row * rowLength + ibl * superBlock, superBlock, importance.map { $0 + ibl * superBlock },
          values, destination + (row * perRow + ibl) * blockBytes, &scratch)
      }
    }
  }
}

/// Working storage of one IQ4 super-block (the C code's `scales`, `weight` and `L` arrays).
private struct IQ4Scratch {
  var scales = [Float](repeating: 0, count: 8)
  var weight = [Float](repeating: 0, count: 32)
  var levels = [UInt8](repeating: 0, count: 256)
}

/// Sums `Σ (w·q)·x` and `Σ (w·q)·q` over one 32-value block for the levels nearest to `id·x`,
/// in ggml's order, optionally recording the chosen levels.
@inline(__always)
private func iqIQ4Sums(
  _ xb: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ values: UnsafePointer<Float>, _ id: Float,
  _ levels: UnsafeMutablePointer<UInt8>?
) -> (sumqx: Float, sumq2: Float) {
  var sumqx: Float = 0
  var sumq2: Float = 0
  for j in 0..<32 {
    let l = iqBestIndexInt8(values, id * xb[j])
    levels?[j] = UInt8(truncatingIfNeeded: l)
    let q = values[l]
    let wq = w[j] * q
    sumqx = sumqx + wq * xb[j]
    sumq2 = sumq2 + wq * q
  }
  return (sumqx, sumq2)
}

/// ggml's `quantize_row_iq4_nl_impl(superBlock, 32, …, ntry = 7)`: writes one IQ4_NL block
/// (`superBlock` = 32) or one IQ4_XS block (`superBlock` = 256) at `out`.
private func iqQuantizeIQ4SuperBlock(
  _ x: UnsafePointer<Float>, _ superBlock: Int, _ qw: UnsafePointer<Float>?, _ values: UnsafePointer<Float>,
  _ out: UnsafeMutableRawPointer, _ scratch: inout IQ4Scratch
) {
  let ntry = 7
  let blocks = superBlock / 32
  var sigma2: Float = 0
  for j in 0..<superBlock { sigma2 = sigma2 + x[j] * x[j] }
  sigma2 = sigma2 * (2 / Float(superBlock))

  scratch.scales.withUnsafeMutableBufferPointer { scalesBuffer in
    scratch.weight.withUnsafeMutableBufferPointer { weightBuffer in
      scratch.levels.withUnsafeMutableBufferPointer { levelBuffer in
        guard let scales = scalesBuffer.baseAddress, let weight = weightBuffer.baseAddress,
          let levels = levelBuffer.baseAddress
        else { return }
        var maxScale: Float = 0
        var amaxScale: Float = 0
        for ib in 0..<blocks {
          let xb = x + 32 * ib
          if let qw {
            for j in 0..<32 { weight[j] = qw[32 * ib + j] * (sigma2 + xb[j] * xb[j]).squareRoot() }
          } else {
            for j in 0..<32 { weight[j] = xb[j] * xb[j] }
          }
          var amax: Float = 0
          var max: Float = 0
          for j in 0..<32 {
            let ax = abs(xb[j])
            if ax > amax {
              amax = ax
              max = xb[j]
            }
          }
          if amax < IQuants.iq4GroupMaxEps {
            scales[ib] = 0
            continue
          }
          // ntry > 0, so the starting scale maps the extreme value to −values[0] = 127.
          var d = -max / values[0]
          var (sumqx, sumq2) = iqIQ4Sums(xb, weight, values, 1 / d, levels + 32 * ib)
          d = sumq2 > 0 ? sumqx / sumq2 : 0
          var best = d * sumqx
          for itry in -ntry...ntry {
            // The integer is added before converting, as in C's `(itry + values[0])/max`.
            let id = Float(itry - 127) / max
            (sumqx, sumq2) = iqIQ4Sums(xb, weight, values, id, nil)
            if sumq2 > 0 && sumqx * sumqx > best * sumq2 {
              d = sumqx / sumq2
              best = d * sumqx
            }
          }
          scales[ib] = d
          let absD = abs(d)
          if absD > amaxScale {
            amaxScale = absD
            maxScale = d
          }
        }

        let q4: UnsafeMutableRawPointer
        if blocks > 1 {
          // IQ4_XS: one f16 super-scale and 6-bit block scales in [−32, 31].
          let d = -maxScale / 32
          iqStoreU16(out, 0, Half.fromFloat(d))
          let id: Float = d != 0 ? 1 / d : 0
          var scalesH: UInt16 = 0
          for ib in 0..<blocks {
            var l = iqNearestInt(id * scales[ib])
            l = Swift.max(-32, Swift.min(31, l))
            let dl = d * Float(l)
            let idl: Float = dl != 0 ? 1 / dl : 0
            let xb = x + 32 * ib
            for j in 0..<32 {
              levels[32 * ib + j] = UInt8(truncatingIfNeeded: iqBestIndexInt8(values, idl * xb[j]))
            }
            let biased = UInt8(truncatingIfNeeded: l + 32)
            let low = biased & 0xF
            if ib % 2 == 0 {
              out.storeBytes(of: low, toByteOffset: 4 + ib / 2, as: UInt8.self)
            } else {
              let previous = out.load(fromByteOffset: 4 + ib / 2, as: UInt8.self)
              out.storeBytes(of: previous | low << 4, toByteOffset: 4 + ib / 2, as: UInt8.self)
            }
            scalesH |= UInt16(biased >> 4) << UInt16(2 * ib)
          }
          iqStoreU16(out, 2, scalesH)
          q4 = out + 8
        } else {
          // IQ4_NL: the block scale itself, and levels recomputed against it.
          iqStoreU16(out, 0, Half.fromFloat(scales[0]))
          let id: Float = scales[0] != 0 ? 1 / scales[0] : 0
          for j in 0..<32 { levels[j] = UInt8(truncatingIfNeeded: iqBestIndexInt8(values, id * x[j])) }
          q4 = out + 2
        }
        for i in 0..<blocks {
          for j in 0..<16 {
            let byte = levels[32 * i + j] | levels[32 * i + 16 + j] << 4
            q4.storeBytes(of: byte, toByteOffset: 16 * i + j, as: UInt8.self)
          }
        }
      }
    }
  }
}

// MARK: - Grid-searching types

extension IQSearchConfig {
  /// IQ2_XXS: 32-value sub-blocks, scan from `make_qp_quants`, is = −6…6 step 0.1.
  static let iq2xxs = IQSearchConfig(
    store: .iq2xxs, blockSize: 32, kMaxQ: 3, paritySigns: true, doubledSigma: false, sigmaInPlainWeight: false,
    eps: 1e-15, startFromQP: true, steps: -6...6, step: 0.1, onGridInitially: true, refit: .always)
  /// IQ2_XS: 16-value sub-blocks, is = −9…9 step 0.1.
  static let iq2xs = IQSearchConfig(
    store: .iq2xs, blockSize: 16, kMaxQ: 3, paritySigns: true, doubledSigma: false, sigmaInPlainWeight: false,
    eps: 1e-15, startFromQP: false, steps: -9...9, step: 0.1, onGridInitially: true, refit: .offGridGroups)
  /// IQ2_S: 16-value sub-blocks with full sign bytes, is = −9…9 step 0.1.
  static let iq2s = IQSearchConfig(
    store: .iq2s, blockSize: 16, kMaxQ: 3, paritySigns: false, doubledSigma: true, sigmaInPlainWeight: true,
    eps: 1e-8, startFromQP: false, steps: -9...9, step: 0.1, onGridInitially: true, refit: .offGridGroups)
  /// IQ3_XXS: 32-value sub-blocks of 4-value groups, is = −15…15 step 0.2.
  static let iq3xxs = IQSearchConfig(
    store: .iq3xxs, blockSize: 32, kMaxQ: 8, paritySigns: true, doubledSigma: true, sigmaInPlainWeight: false,
    eps: 1e-8, startFromQP: false, steps: -15...15, step: 0.2, onGridInitially: true, refit: .offGridGroups)
  /// IQ3_S: 32-value sub-blocks with full sign bytes, is = −9…9 step 0.2.
  static let iq3s = IQSearchConfig(
    store: .iq3s, blockSize: 32, kMaxQ: 8, paritySigns: false, doubledSigma: true, sigmaInPlainWeight: false,
    eps: nil, startFromQP: false, steps: -9...9, step: 0.2, onGridInitially: false, refit: .allGroupsIfAnyOffGrid)
}

/// Runs `body` on every 256-value super-block with its output and imatrix slice. The imatrix
/// is one vector of `rowLength` weights shared by all rows; `uniform` stands in when a type
/// needs one and none was given.
private func iqForEachSuperBlock(
  _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
  _ destination: UnsafeMutableRawPointer, blockBytes: Int, requireImportance: Bool,
  _ body: (UnsafePointer<Float>, UnsafePointer<Float>?, UnsafeMutableRawPointer) -> Void
) {
  let perRow = rowLength / 256
  let uniform: [Float] = requireImportance && importance == nil ? [Float](repeating: 1, count: rowLength) : []
  uniform.withUnsafeBufferPointer { ones in
    let weights = importance ?? (requireImportance ? ones.baseAddress : nil)
    for row in 0..<rows {
      for ibl in 0..<perRow {
        let out = destination + (row * perRow + ibl) * blockBytes
        out.initializeMemory(as: UInt8.self, repeating: 0, count: blockBytes)
        body(source + row * rowLength + ibl * 256, weights.map { $0 + ibl * 256 }, out)
      }
    }
  }
}

extension IQuants {
  /// `quantize_iq2_xxs` (66 bytes / 256): per 32 values 4 grid bytes and a u32 of 7-bit sign
  /// indices with the 4-bit scale on top.
  static func quantizeIQ2XXS(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    let config = IQSearchConfig.iq2xxs
    let scratch = IQSearchScratch(config.store)
    iqForEachSuperBlock(source, rows, rowLength, importance, destination, blockBytes: 66, requireImportance: true) {
      x, qw, out in
      let sigma2 = iqSigma2(x, doubled: config.doubledSigma)
      var scales = [Float](repeating: 0, count: 8)
      var words = [UInt32](repeating: 0, count: 16)
      var maxScale: Float = 0
      for ib in 0..<8 {
        guard let scale = iqSearchSubBlock(config, x + 32 * ib, qw.map { $0 + 32 * ib }, sigma2, scratch) else {
          continue
        }
        for k in 0..<4 {
          words[2 * ib] |= UInt32(scratch.gridIndex[k]) << UInt32(8 * k)
          words[2 * ib + 1] |= UInt32(scratch.signs[k]) << UInt32(7 * k)
        }
        scales[ib] = scale
        maxScale = maxScale > scale ? maxScale : scale
      }
      guard maxScale != 0 else { return }
      let d = maxScale / 31
      iqStoreU16(out, 0, Half.fromFloat(d))
      let id = 1 / d
      for ib in 0..<8 { words[2 * ib + 1] |= UInt32(iqScaleCode(id, scales[ib])) << 28 }
      for (i, w) in words.enumerated() { out.storeBytes(of: w.littleEndian, toByteOffset: 2 + 4 * i, as: UInt32.self) }
    }
  }

  /// `quantize_iq2_xs` (74 bytes / 256): per 16 values two u16 (9-bit grid index, 7-bit sign
  /// index) and a 4-bit scale.
  static func quantizeIQ2XS(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    let config = IQSearchConfig.iq2xs
    let scratch = IQSearchScratch(config.store)
    iqForEachSuperBlock(source, rows, rowLength, importance, destination, blockBytes: 74, requireImportance: true) {
      x, qw, out in
      let sigma2 = iqSigma2(x, doubled: config.doubledSigma)
      var scales = [Float](repeating: 0, count: 16)
      var maxScale: Float = 0
      for ib in 0..<16 {
        guard let scale = iqSearchSubBlock(config, x + 16 * ib, qw.map { $0 + 16 * ib }, sigma2, scratch) else {
          continue
        }
        for k in 0..<2 {
          iqStoreU16(out, 2 + 2 * (2 * ib + k), UInt16(scratch.gridIndex[k]) | UInt16(scratch.signs[k]) << 9)
        }
        scales[ib] = scale
        maxScale = maxScale > scale ? maxScale : scale
      }
      guard maxScale != 0 else {
        out.initializeMemory(as: UInt8.self, repeating: 0, count: 74)
        return
      }
      let d = maxScale / 31
      iqStoreU16(out, 0, Half.fromFloat(d))
      let id = 1 / d
      for ib in stride(from: 0, to: 16, by: 2) {
        let byte = iqScaleCode(id, scales[ib]) | iqScaleCode(id, scales[ib + 1]) << 4
        out.storeBytes(of: byte, toByteOffset: 66 + ib / 2, as: UInt8.self)
      }
    }
  }

  /// `quantize_iq2_s` (82 bytes / 256): 10-bit grid indices (low bytes, then 2 bits each in
  /// qh), full sign bytes, 4-bit scales per 16 values.
  static func quantizeIQ2S(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    let config = IQSearchConfig.iq2s
    let scratch = IQSearchScratch(config.store)
    iqForEachSuperBlock(source, rows, rowLength, importance, destination, blockBytes: 82, requireImportance: false) {
      x, qw, out in
      let sigma2 = iqSigma2(x, doubled: config.doubledSigma)
      var scales = [Float](repeating: 0, count: 16)
      var maxScale: Float = 0
      for ib in 0..<16 {
        guard let scale = iqSearchSubBlock(config, x + 16 * ib, qw.map { $0 + 16 * ib }, sigma2, scratch) else {
          continue
        }
        for k in 0..<2 {
          let i8 = 2 * ib + k
          let index = scratch.gridIndex[k]
          out.storeBytes(of: UInt8(index & 255), toByteOffset: 2 + i8, as: UInt8.self)
          let qh = out.load(fromByteOffset: 66 + i8 / 4, as: UInt8.self)
          out.storeBytes(of: qh | UInt8(index >> 8) << UInt8(2 * (i8 % 4)), toByteOffset: 66 + i8 / 4, as: UInt8.self)
          out.storeBytes(of: scratch.signs[k], toByteOffset: 2 + 32 + i8, as: UInt8.self)
        }
        scales[ib] = scale
        maxScale = maxScale > scale ? maxScale : scale
      }
      guard maxScale != 0 else { return }
      let d = maxScale / 31
      iqStoreU16(out, 0, Half.fromFloat(d * 0.9875))
      let id = 1 / d
      for ib in stride(from: 0, to: 16, by: 2) {
        let byte = iqScaleCode(id, scales[ib]) | iqScaleCode(id, scales[ib + 1]) << 4
        out.storeBytes(of: byte, toByteOffset: 74 + ib / 2, as: UInt8.self)
      }
    }
  }

  /// `quantize_iq3_xxs` (98 bytes / 256): 8-bit grid indices per 4 values, then per 32 values
  /// a u32 of four 7-bit sign indices and a 4-bit scale.
  static func quantizeIQ3XXS(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    let config = IQSearchConfig.iq3xxs
    let scratch = IQSearchScratch(config.store)
    iqForEachSuperBlock(source, rows, rowLength, importance, destination, blockBytes: 98, requireImportance: false) {
      x, qw, out in
      let sigma2 = iqSigma2(x, doubled: config.doubledSigma)
      var scales = [Float](repeating: 0, count: 8)
      var words = [UInt32](repeating: 0, count: 8)
      var maxScale: Float = 0
      for ib in 0..<8 {
        guard let scale = iqSearchSubBlock(config, x + 32 * ib, qw.map { $0 + 32 * ib }, sigma2, scratch) else {
          continue
        }
        for k in 0..<8 {
          out.storeBytes(of: UInt8(truncatingIfNeeded: scratch.gridIndex[k]), toByteOffset: 2 + 8 * ib + k, as: UInt8.self)
        }
        words[ib] =
          UInt32(scratch.signs[0]) | UInt32(scratch.signs[1]) << 7 | UInt32(scratch.signs[2]) << 14
          | UInt32(scratch.signs[3]) << 21
        scales[ib] = scale
        maxScale = maxScale > scale ? maxScale : scale
      }
      guard maxScale != 0 else {
        out.initializeMemory(as: UInt8.self, repeating: 0, count: 98)
        return
      }
      let d = maxScale / 31
      iqStoreU16(out, 0, Half.fromFloat(d * 1.0125))
      let id = 1 / d
      for ib in 0..<8 {
        let word = words[ib] | UInt32(iqScaleCode(id, scales[ib])) << 28
        out.storeBytes(of: word.littleEndian, toByteOffset: 2 + 64 + 4 * ib, as: UInt32.self)
      }
    }
  }

  /// `quantize_iq3_s` (110 bytes / 256): 9-bit grid indices per 4 values (low bytes, then one
  /// bit each in qh), full sign bytes, 4-bit odd scales per 32 values.
  ///
  /// As in ggml, the index and sign bytes of a skipped (all-zero) sub-block are not reserved:
  /// the next sub-block's bytes take their place (its qh bits and scale stay in position).
  static func quantizeIQ3S(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    let config = IQSearchConfig.iq3s
    let scratch = IQSearchScratch(config.store)
    iqForEachSuperBlock(source, rows, rowLength, importance, destination, blockBytes: 110, requireImportance: false) {
      x, qw, out in
      let sigma2 = iqSigma2(x, doubled: config.doubledSigma)
      var scales = [Float](repeating: 0, count: 8)
      var maxScale: Float = 0
      var qsOffset = 2
      var signsOffset = 74
      for ib in 0..<8 {
        guard let scale = iqSearchSubBlock(config, x + 32 * ib, qw.map { $0 + 32 * ib }, sigma2, scratch) else {
          continue
        }
        var qh: UInt8 = 0
        for k in 0..<8 {
          let index = scratch.gridIndex[k]
          out.storeBytes(of: UInt8(index & 255), toByteOffset: qsOffset + k, as: UInt8.self)
          qh |= UInt8(index >> 8) << UInt8(k)
        }
        out.storeBytes(of: qh, toByteOffset: 66 + ib, as: UInt8.self)
        qsOffset += 8
        for k in 0..<4 { out.storeBytes(of: scratch.signs[k], toByteOffset: signsOffset + k, as: UInt8.self) }
        signsOffset += 4
        scales[ib] = scale
        maxScale = maxScale > scale ? maxScale : scale
      }
      guard maxScale != 0 else { return }
      let d = maxScale / 31
      iqStoreU16(out, 0, Half.fromFloat(d * 1.033))
      let id = 1 / d
      for ib in stride(from: 0, to: 8, by: 2) {
        let byte = iqScaleCode(id, scales[ib]) | iqScaleCode(id, scales[ib + 1]) << 4
        out.storeBytes(of: byte, toByteOffset: 106 + ib / 2, as: UInt8.self)
      }
    }
  }
}
