import QuantscopeFormats

/// Codecs of the low-bit sequential family: Q1_0 (one sign bit per value, ±d) and Q2_0 (two
/// bits per value, {−1, 0, 1, 2}·d), both packed LSB-first in element order.
///
/// Decoders match ggml's `dequantize_row_q1_0` / `dequantize_row_q2_0` bit for bit.
public enum BinaryQuants {
  /// This family's codecs.
  public static let codecs: [BlockCodec] = [
    BlockCodec(type: .q1_0, decode: decodeQ1),
    BlockCodec(type: .q2_0, decode: decodeQ2),
  ]

  /// Q1_0 (18 bytes / 128): d, then 16 bytes of sign bits (set = +d, clear = −d).
  static func decodeQ1(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    for b in 0..<blocks {
      let x = source + b * 18
      let y = destination + b * 128
      let d = iqLoadHalf(x, 0)
      let negative = -d
      for byte in 0..<16 {
        let bits = x.load(fromByteOffset: 2 + byte, as: UInt8.self)
        for k in 0..<8 {
          y[8 * byte + k] = (bits >> UInt8(k)) & 1 != 0 ? d : negative
        }
      }
    }
  }

  /// Q2_0 (18 bytes / 64): d, then 16 bytes of 2-bit codes, value j at bits 2·(j%4) of byte j/4.
  static func decodeQ2(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    for b in 0..<blocks {
      let x = source + b * 18
      let y = destination + b * 64
      let d = iqLoadHalf(x, 0)
      for byte in 0..<16 {
        let bits = x.load(fromByteOffset: 2 + byte, as: UInt8.self)
        for k in 0..<4 {
          y[4 * byte + k] = Float(Int((bits >> UInt8(2 * k)) & 3) - 1) * d
        }
      }
    }
  }
}
