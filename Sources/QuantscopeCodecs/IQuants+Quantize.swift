import QuantscopeFormats

extension IQuants {
  /// This family's quantizers: IQ4_NL and IQ4_XS, bit-exact with ggml's `quantize_iq4_nl` /
  /// `quantize_iq4_xs` (the chunk path that `llama-quantize` uses), with and without an imatrix.
  public static let quantizers: [BlockQuantizer] = [
    BlockQuantizer(type: .iq4_nl, quantize: quantizeIQ4NL),
    BlockQuantizer(type: .iq4_xs, quantize: quantizeIQ4XS),
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
