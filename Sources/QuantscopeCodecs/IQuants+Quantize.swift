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
    BlockQuantizer(type: .iq1_s, quantize: quantizeIQ1S, requiresImportance: true),
    BlockQuantizer(type: .iq1_m, quantize: quantizeIQ1M),
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
            var l = QuantizationSearch.nearestInt(id * scales[ib])
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
          out.storeBytes(
            of: UInt8(truncatingIfNeeded: scratch.gridIndex[k]), toByteOffset: 2 + 8 * ib + k, as: UInt8.self)
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

// MARK: - 1-bit types

/// The three IQ1 values {−1, 0, 1} shifted by +delta (`x_p`) or −delta (`x_m`), delta = 1/8.
private let iq1ShiftedUp: (Float, Float, Float) = (-1 + 0.125, 0.125, 1 + 0.125)
private let iq1ShiftedDown: (Float, Float, Float) = (-1 - 0.125, -0.125, 1 - 0.125)

@inline(__always)
private func iq1Value(_ xx: (Float, Float, Float), _ level: Int) -> Float {
  level == 0 ? xx.0 : level == 1 ? xx.1 : xx.2
}

/// Working storage of the IQ1 quantizers.
private final class IQ1Scratch {
  var weight = [Float](repeating: 0, count: 32)
  var sortedValues = [Float](repeating: 0, count: 32)
  var order = [Int](repeating: 0, count: 32)
  var levels = [Int8](repeating: 0, count: 32)
  var sumx = [Float](repeating: 0, count: 33)
  var sumw = [Float](repeating: 0, count: 33)
  /// IQ1_M's per-half prefix sums of w·x and w: half h at `17·h ..< 17·h + 17`.
  var prefixX = [Float](repeating: 0, count: 34)
  var prefixW = [Float](repeating: 0, count: 34)
  var cache = IQNeighbourCache(.iq1s)

  /// Orders the indices 0..<n by their value, as ggml's `qsort` with `iq1_sort_helper` does
  /// in glibc (a stable merge sort, so equal values keep index order).
  func sort(_ xb: UnsafePointer<Float>, _ n: Int) {
    for j in 0..<n {
      let v = xb[j]
      var k = j
      while k > 0 && sortedValues[k - 1] > v {
        sortedValues[k] = sortedValues[k - 1]
        order[k] = order[k - 1]
        k -= 1
      }
      sortedValues[k] = v
      order[k] = j
    }
  }

  /// ggml's `iq1_find_best_neighbour2`: the neighbour of off-grid point `key` whose values
  /// `xx[level]·scale` are nearest to `xb` under `weight` (strictly smaller wins). Writes its
  /// levels and returns its index.
  func bestNeighbour(
    _ key: Int, _ xb: UnsafePointer<Float>, _ weightOffset: Int, _ scale: Float, _ xx: (Float, Float, Float),
    _ levelOffset: Int
  ) -> Int {
    let tables = cache.tables
    let list = cache.neighbours(key)
    var best = Float.greatestFiniteMagnitude
    // ggml asserts a neighbour beats FLT_MAX (its fallback scan reads out of bounds); with
    // non-finite input none does, and the first neighbour is used instead of aborting.
    var index = Int(list.first ?? 0)
    for candidate in list {
      let g = Int(candidate)
      var d2: Float = 0
      for i in 0..<8 {
        let q = iq1Value(xx, (tables.coordinate(g, i) - 1) / 2)
        let w = weight[weightOffset + i]
        let diff = scale * q - xb[i]
        d2 = d2 + (w * diff) * diff
      }
      if d2 < best {
        best = d2
        index = g
      }
    }
    for i in 0..<8 { levels[levelOffset + i] = Int8((tables.coordinate(index, i) - 1) / 2) }
    return index
  }

  /// Snaps the 8 levels at `levelOffset` to the grid (through a neighbour search when off it);
  /// returns the grid index and whether the levels were on the grid.
  func snap(_ xb: UnsafePointer<Float>, _ offset: Int, _ scale: Float, _ xx: (Float, Float, Float)) -> (Int, Bool) {
    var key = 0
    for j in 0..<8 { key |= (Int(levels[offset + j]) & 3) << (2 * j) }
    let index = cache.tables.map[key]
    if index >= 0 { return (Int(index), true) }
    return (bestNeighbour(key, xb + offset, offset, scale, xx, offset), false)
  }
}

extension IQuants {
  /// `quantize_iq1_s` (50 bytes / 256): per 32 values an exhaustive 3-way split of the sorted
  /// values, snapped to the 2048-point grid, with a 3-bit scale and a delta sign in qh.
  static func quantizeIQ1S(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    let s = IQ1Scratch()
    iqForEachSuperBlock(source, rows, rowLength, importance, destination, blockBytes: 50, requireImportance: true) {
      x, qw, out in
      let sigma2 = iqSigma2(x, doubled: true)
      var scales = [Float](repeating: 0, count: 8)
      var shifts = [Int](repeating: 1, count: 8)
      var maxScale: Float = 0
      for ib in 0..<8 {
        let xb = x + 32 * ib
        for i in 0..<32 {
          let w = qw.map { $0[32 * ib + i] } ?? 1
          s.weight[i] = w * (sigma2 + xb[i] * xb[i]).squareRoot()
        }
        var max = abs(xb[0])
        for i in 1..<32 { max = max > abs(xb[i]) ? max : abs(xb[i]) }
        if max < 1e-12 { continue }
        s.sort(xb, 32)
        s.sumx[0] = 0
        s.sumw[0] = 0
        for j in 0..<32 {
          let i = s.order[j]
          s.sumx[j + 1] = s.sumx[j] + s.weight[i] * xb[i]
          s.sumw[j + 1] = s.sumw[j] + s.weight[i]
        }
        var bestScore = -Float.greatestFiniteMagnitude
        var scale = max
        var best1 = -1, best2 = -1, bestShift = 0
        for i1 in 0...32 {
          for i2 in i1...32 {
            let x0 = s.sumx[i1] - s.sumx[0], x1 = s.sumx[i2] - s.sumx[i1], x2 = s.sumx[32] - s.sumx[i2]
            let w0 = s.sumw[i1] - s.sumw[0], w1 = s.sumw[i2] - s.sumw[i1], w2 = s.sumw[32] - s.sumw[i2]
            for shift in stride(from: 1, through: -1, by: -2) {
              let xx = shift == 1 ? iq1ShiftedUp : iq1ShiftedDown
              let sumqx = (x0 * xx.0 + x1 * xx.1) + x2 * xx.2
              let sumq2 = ((w0 * xx.0) * xx.0 + (w1 * xx.1) * xx.1) + (w2 * xx.2) * xx.2
              if sumq2 > 0 && sumqx * sumqx > bestScore * sumq2 {
                scale = sumqx / sumq2
                bestScore = scale * sumqx
                best1 = i1
                best2 = i2
                bestShift = shift
              }
            }
          }
        }
        if best1 < 0 || best2 < 0 || bestShift == 0 { continue }
        for j in 0..<32 { s.levels[s.order[j]] = j < best1 ? 0 : j < best2 ? 1 : 2 }
        if scale < 0 {
          for j in 0..<32 { s.levels[j] = 2 - s.levels[j] }
          scale = -scale
          bestShift = -bestShift
        }
        let xx = bestShift == 1 ? iq1ShiftedUp : iq1ShiftedDown
        var allOnGrid = true
        var index = [0, 0, 0, 0]
        for k in 0..<4 {
          let (g, on) = s.snap(xb, 8 * k, scale, xx)
          index[k] = g
          if !on { allOnGrid = false }
        }
        if !allOnGrid {
          var sumqx: Float = 0
          var sumq2: Float = 0
          for k in 0..<4 {
            for j in 0..<8 {
              let w = s.weight[8 * k + j]
              let q = iq1Value(xx, (IQLatticeTables.iq1s.coordinate(index[k], j) - 1) / 2)
              sumqx = sumqx + (w * q) * xb[8 * k + j]
              sumq2 = sumq2 + (w * q) * q
            }
          }
          if sumqx > 0 && sumq2 > 0 { scale = sumqx / sumq2 }
        }
        var h: UInt16 = 0
        for k in 0..<4 {
          out.storeBytes(of: UInt8(index[k] & 255), toByteOffset: 2 + 4 * ib + k, as: UInt8.self)
          h |= UInt16(index[k] >> 8) << UInt16(3 * k)
        }
        iqStoreU16(out, 34 + 2 * ib, h)
        scales[ib] = scale
        shifts[ib] = bestShift
        maxScale = maxScale > scale ? maxScale : scale
      }
      guard maxScale != 0 else { return }
      let d = maxScale / 15
      iqStoreU16(out, 0, Half.fromFloat(d * 1.125))
      let id = 1 / d
      for ib in 0..<8 {
        var l = UInt16(iqScaleCode(id, scales[ib], max: 7))
        if shifts[ib] == -1 { l |= 8 }
        iqStoreU16(out, 34 + 2 * ib, iqLoadU16(out, 34 + 2 * ib) | l << 12)
      }
    }
  }

  /// `quantize_iq1_m` (56 bytes / 256): per 16 values an exhaustive split with an independent
  /// delta sign per group of 8, 3-bit scales, and the f16 super-scale refitted over the whole
  /// block and spread over the scale words' top nibbles.
  /// The split search scores from per-half prefix sums, as ggml 0.25.3 does (ggml 0.21.0 summed
  /// each split directly; the two round differently and disagree on a few blocks).
  static func quantizeIQ1M(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    let s = IQ1Scratch()
    let masks: [UInt8] = [0x00, 0x80, 0x08, 0x88]
    iqForEachSuperBlock(source, rows, rowLength, importance, destination, blockBytes: 56, requireImportance: false) {
      x, qw, out in
      let sigma2 = iqSigma2(x, doubled: true)
      var scales = [Float](repeating: 0, count: 16)
      var shifts = [Int](repeating: 0, count: 16)
      var maxScale: Float = 0
      func setWeights(_ ib: Int) {
        let xb = x + 16 * ib
        if let qw {
          for i in 0..<16 { s.weight[i] = qw[16 * ib + i] * (sigma2 + xb[i] * xb[i]).squareRoot() }
        } else {
          for i in 0..<16 { s.weight[i] = xb[i] * xb[i] }
        }
      }
      // Shift choice k: bit 1 picks the first group's sign, bit 0 the second's (0 = +delta).
      func values(_ k: Int, group: Int) -> (Float, Float, Float) {
        if group == 0 { return k < 2 ? iq1ShiftedUp : iq1ShiftedDown }
        return k % 2 == 0 ? iq1ShiftedUp : iq1ShiftedDown
      }
      for ib in 0..<16 {
        let xb = x + 16 * ib
        setWeights(ib)
        var max = abs(xb[0])
        for i in 1..<16 { max = max > abs(xb[i]) ? max : abs(xb[i]) }
        if max < 1e-7 { continue }
        s.sort(xb, 16)
        // ggml keeps prefix sums of w·x and w per half in sorted order (the other half's entry
        // carried over), and since v0 − v1 = v1 − v2 = −1 for both shifts, a split's sums close
        // in form: Σqx = T·v2 − (px[i1] + px[i2]), Σq2 = (W·v2)·v2 + pw[i1]·c1 + pw[i2]·c2,
        // per half, then added. The rounding of these — not of the sums over the 16 values
        // directly — decides the scale, and through it the neighbour a grid miss snaps to.
        s.prefixX[0] = 0
        s.prefixX[17] = 0
        s.prefixW[0] = 0
        s.prefixW[17] = 0
        for j in 0..<16 {
          let i = s.order[j]
          let h = i < 8 ? 0 : 17
          let o = i < 8 ? 17 : 0
          s.prefixX[h + j + 1] = s.prefixX[h + j] + s.weight[i] * xb[i]
          s.prefixX[o + j + 1] = s.prefixX[o + j]
          s.prefixW[h + j + 1] = s.prefixW[h + j] + s.weight[i]
          s.prefixW[o + j + 1] = s.prefixW[o + j]
        }
        let up = iq1ShiftedUp, down = iq1ShiftedDown
        let p2 = up.2, m2 = down.2
        let cp1 = up.0 * up.0 - up.1 * up.1, cp2 = up.1 * up.1 - up.2 * up.2
        let cm1 = down.0 * down.0 - down.1 * down.1, cm2 = down.1 * down.1 - down.2 * down.2
        // One half's (Σqx, Σq2) for +delta and −delta, its prefix sums starting at `base`.
        func half(_ base: Int, _ i1: Int, _ i2: Int) -> (qxP: Float, qxM: Float, q2P: Float, q2M: Float) {
          let tx = s.prefixX[base + 16], tw = s.prefixW[base + 16]
          let sx = s.prefixX[base + i1] + s.prefixX[base + i2]
          let w1 = s.prefixW[base + i1], w2 = s.prefixW[base + i2]
          return (
            tx * p2 - sx, tx * m2 - sx,
            ((tw * p2) * p2 + w1 * cp1) + w2 * cp2, ((tw * m2) * m2 + w1 * cm1) + w2 * cm2
          )
        }
        var bestScore = -Float.greatestFiniteMagnitude
        var scale = max
        var best1 = -1, best2 = -1, bestK = -1
        for i1 in 0...16 {
          for i2 in i1...16 {
            // Half 0 (values 0–7) follows bit 1 of k, half 1 bit 0.
            let h0 = half(0, i1, i2), h1 = half(17, i1, i2)
            for k in 0..<4 {
              let qx = (k < 2 ? h0.qxP : h0.qxM) + (k % 2 == 0 ? h1.qxP : h1.qxM)
              let q2 = (k < 2 ? h0.q2P : h0.q2M) + (k % 2 == 0 ? h1.q2P : h1.q2M)
              if q2 > 0 && qx * qx > bestScore * q2 {
                scale = qx / q2
                bestScore = scale * qx
                best1 = i1
                best2 = i2
                bestK = k
              }
            }
          }
        }
        if best1 < 0 || best2 < 0 || bestK < 0 { continue }
        for j in 0..<16 { s.levels[s.order[j]] = j < best1 ? 0 : j < best2 ? 1 : 2 }
        if scale < 0 {
          for j in 0..<16 { s.levels[j] = 2 - s.levels[j] }
          scale = -scale
          bestK = 3 - bestK
        }
        var allOnGrid = true
        var index = [0, 0]
        for k in 0..<2 {
          let (g, on) = s.snap(xb, 8 * k, scale, values(bestK, group: k))
          index[k] = g
          if !on { allOnGrid = false }
        }
        if !allOnGrid {
          var qx: Float = 0
          var q2: Float = 0
          for k in 0..<2 {
            let xx = values(bestK, group: k)
            for j in 0..<8 {
              let w = s.weight[8 * k + j]
              let q = iq1Value(xx, (IQLatticeTables.iq1s.coordinate(index[k], j) - 1) / 2)
              qx = qx + (w * q) * xb[8 * k + j]
              q2 = q2 + (w * q) * q
            }
          }
          if qx > 0 && q2 > 0 { scale = qx / q2 }
        }
        out.storeBytes(of: UInt8(index[0] & 255), toByteOffset: 2 * ib, as: UInt8.self)
        out.storeBytes(of: UInt8(index[1] & 255), toByteOffset: 2 * ib + 1, as: UInt8.self)
        out.storeBytes(of: UInt8(index[0] >> 8) | UInt8(index[1] >> 8) << 4, toByteOffset: 32 + ib, as: UInt8.self)
        scales[ib] = scale
        shifts[ib] = bestK
        maxScale = maxScale > scale ? maxScale : scale
      }
      guard maxScale != 0 else { return }
      var sc: [UInt16] = [0, 0, 0, 0]
      var d = maxScale / 15
      let id = 1 / d
      var sumqx: Float = 0
      var sumq2: Float = 0
      for ib in 0..<16 {
        let l = iqScaleCode(id, scales[ib], max: 7)
        sc[ib / 4] |= UInt16(l) << UInt16(3 * (ib % 4))
        let qh = out.load(fromByteOffset: 32 + ib, as: UInt8.self) | masks[shifts[ib]]
        out.storeBytes(of: qh, toByteOffset: 32 + ib, as: UInt8.self)
        setWeights(ib)
        let xb = x + 16 * ib
        let multiplier = Float(2 * Int(l) + 1)
        for k in 0..<2 {
          let xx = values(shifts[ib], group: k)
          let low = Int(out.load(fromByteOffset: 2 * ib + k, as: UInt8.self))
          let g = low + ((Int(qh) << (8 - 4 * k)) & 0x700)
          for j in 0..<8 {
            let w = s.weight[8 * k + j]
            let q = iq1Value(xx, (IQLatticeTables.iq1s.coordinate(g, j) - 1) / 2) * multiplier
            sumqx = sumqx + (w * q) * xb[8 * k + j]
            sumq2 = sumq2 + (w * q) * q
          }
        }
      }
      if sumq2 > 0 { d = sumqx / sumq2 }
      let bits = Half.fromFloat(d * 1.1125)
      sc[0] |= (bits & 0x000F) << 12
      sc[1] |= (bits & 0x00F0) << 8
      sc[2] |= (bits & 0x0F00) << 4
      sc[3] |= bits & 0xF000
      for i in 0..<4 { iqStoreU16(out, 48 + 2 * i, sc[i]) }
    }
  }
}
