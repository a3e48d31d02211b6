import QuantscopeFormats

extension BinaryQuants {
  /// This family's quantizers, bit-exact with ggml's `quantize_row_q1_0_ref` /
  /// `quantize_row_q2_0_ref`. ggml accepts an imatrix for these types but ignores it; so do they.
  public static let quantizers: [BlockQuantizer] = [
    BlockQuantizer(type: .q1_0, quantize: quantizeQ1),
    BlockQuantizer(type: .q2_0, quantize: quantizeQ2),
  ]

  /// `quantize_row_q1_0_ref` (18 bytes / 128): d = mean |x| (sequential sum), bit set for
  /// x ≥ 0 (−0.0 included).
  static func quantizeQ1(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    iqForEachBlock(source, rows, rowLength, destination, blockElements: 128, blockBytes: 18) { x, y in
      var sum: Float = 0
      for j in 0..<128 { sum = sum + abs(x[j]) }
      iqStoreU16(y, 0, Half.fromFloat(sum / 128))
      for byte in 0..<16 {
        var bits: UInt8 = 0
        for k in 0..<8 where x[8 * byte + k] >= 0 { bits |= 1 << UInt8(k) }
        y.storeBytes(of: bits, toByteOffset: 2 + byte, as: UInt8.self)
      }
    }
  }

  /// `quantize_row_q2_0_ref` (18 bytes / 64): d = max|x|, code `clamp(roundf(x/d) + 1, 0, 3)`
  /// packed sequentially, 4 codes a byte.
  static func quantizeQ2(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    iqForEachBlock(source, rows, rowLength, destination, blockElements: 64, blockBytes: 18) { x, y in
      var amax: Float = 0
      for j in 0..<64 where abs(x[j]) > amax { amax = abs(x[j]) }
      let id: Float = amax > 0 ? 1 / amax : 0
      iqStoreU16(y, 0, Half.fromFloat(amax))
      for byte in 0..<16 {
        var bits: UInt8 = 0
        for k in 0..<4 {
          let q = Swift.min(3, Swift.max(0, iqRoundToInt32(x[4 * byte + k] * id) &+ 1))
          bits |= UInt8(q) << UInt8(2 * k)
        }
        y.storeBytes(of: bits, toByteOffset: 2 + byte, as: UInt8.self)
      }
    }
  }
}
