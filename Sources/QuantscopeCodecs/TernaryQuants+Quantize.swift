import QuantscopeFormats

extension TernaryQuants {
  /// This family's quantizers, bit-exact with ggml's `quantize_row_tq1_0_ref` /
  /// `quantize_row_tq2_0_ref`. ggml ignores the imatrix for these types, and so do they.
  public static let quantizers: [BlockQuantizer] = [
    BlockQuantizer(type: .tq1_0, quantize: quantizeTQ1),
    BlockQuantizer(type: .tq2_0, quantize: quantizeTQ2),
  ]

  /// The block scale `d = max|x|` (ggml's `MAX(amax, fabsf(v))`, which lets a NaN through) and
  /// its reciprocal (0 when d is zero).
  @inline(__always)
  static func ternaryScale(_ x: UnsafePointer<Float>) -> (d: Float, id: Float) {
    var amax: Float = 0
    for j in 0..<256 {
      let a = abs(x[j])
      amax = amax > a ? amax : a
    }
    return (amax, amax != 0 ? 1 / amax : 0)
  }

  /// The trit code `lroundf(x·id) + 1` (0, 1 or 2 for finite input), wrapped to a byte as C's
  /// `uint8_t` arithmetic does.
  @inline(__always)
  static func tritCode(_ x: Float, _ id: Float) -> UInt8 {
    UInt8(truncatingIfNeeded: iqLround(x * id) &+ 1)
  }

  /// Base-3 packs `digits` trit codes (the first most significant) into a "fractional" byte
  /// `ceil(q·256/243)`; `scale` multiplies q first (3 for the 4-trit qh bytes).
  @inline(__always)
  static func packTrits(_ x: UnsafePointer<Float>, stride: Int, digits: Int, scale: UInt8, _ id: Float) -> UInt8 {
    var q: UInt8 = 0
    for n in 0..<digits {
      q = q &* 3 &+ tritCode(x[n * stride], id)
    }
    q = q &* scale
    return UInt8(truncatingIfNeeded: (Int(q) * 256 + 242) / 243)
  }

  /// `quantize_row_tq1_0_ref`: qs[0..<32] take 5 trits at stride 32 from values 0–159,
  /// qs[32..<48] 5 trits at stride 16 from 160–239, qh[4] 4 trits at stride 4 from 240–255.
  static func quantizeTQ1(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    iqForEachBlock(source, rows, rowLength, destination, blockElements: 256, blockBytes: 54) { x, y in
      let (d, id) = ternaryScale(x)
      iqStoreU16(y, 52, Half.fromFloat(d))
      for m in 0..<32 {
        y.storeBytes(of: packTrits(x + m, stride: 32, digits: 5, scale: 1, id), toByteOffset: m, as: UInt8.self)
      }
      for m in 0..<16 {
        y.storeBytes(
          of: packTrits(x + 160 + m, stride: 16, digits: 5, scale: 1, id), toByteOffset: 32 + m, as: UInt8.self)
      }
      for j in 0..<4 {
        y.storeBytes(
          of: packTrits(x + 240 + j, stride: 4, digits: 4, scale: 3, id), toByteOffset: 48 + j, as: UInt8.self)
      }
    }
  }

  /// `quantize_row_tq2_0_ref`: byte `32c + m` holds values `128c + 32n + m` at bits 2n.
  static func quantizeTQ2(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    iqForEachBlock(source, rows, rowLength, destination, blockElements: 256, blockBytes: 66) { x, y in
      let (d, id) = ternaryScale(x)
      iqStoreU16(y, 64, Half.fromFloat(d))
      for chunk in 0..<2 {
        for m in 0..<32 {
          var q: UInt8 = 0
          for n in 0..<4 {
            q = q &+ (tritCode(x[128 * chunk + 32 * n + m], id) & 3) << UInt8(2 * n)
          }
          y.storeBytes(of: q, toByteOffset: 32 * chunk + m, as: UInt8.self)
        }
      }
    }
  }
}
