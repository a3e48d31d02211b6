import CDecodeKernels
import QuantscopeFormats

/// Codecs of the ternary family (TQ1_0, TQ2_0): every value is −d, 0 or +d.
///
/// Decoders reproduce ggml's `dequantize_row_tq1_0` / `dequantize_row_tq2_0` bit for bit:
/// each value is `f32(t − 1)·d`.
public enum TernaryQuants {
  /// This family's codecs.
  public static let codecs: [BlockCodec] = [
    BlockCodec(type: .tq1_0, decode: decodeTQ1),
    BlockCodec(type: .tq2_0, decode: decodeTQ2),
  ]

  /// Digit `k` of a base-3 "fractional" byte: multiplying by 3^k (mod 256) shifts the wanted
  /// trit to the top, and `(q·3) >> 8` reads it.
  @inline(__always)
  static func trit(_ byte: UInt8, _ pow3: UInt8) -> Float {
    let q = byte &* pow3
    return Float(Int((UInt16(q) &* 3) >> 8) - 1)
  }

  /// Writes digit n (for n = 0…digits−1, in that order) of bytes [start, start+count) of `x`
  /// to `y`, and returns the pointer past the last value written.
  @inline(__always)
  static func tq1Digits(
    _ x: UnsafeRawPointer, _ start: Int, _ count: Int, _ digits: Int, _ d: Float, _ y: UnsafeMutablePointer<Float>
  ) -> UnsafeMutablePointer<Float> {
    var y = y
    var pow3: UInt8 = 1
    for _ in 0..<digits {
      for m in 0..<count {
        y[m] = trit(x.load(fromByteOffset: start + m, as: UInt8.self), pow3) * d
      }
      y += count
      pow3 = pow3 &* 3
    }
    return y
  }

  /// TQ1_0 (54 bytes / 256): the AVX2 kernel where the CPU has it (``DecodeKernels``), else
  /// ``portableDecodeTQ1_0(_:_:_:)``.
  static func decodeTQ1(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    #if arch(x86_64)
      if DecodeKernels.avx2 {
        qs_decode_tq1_0_avx2(source, blocks, destination)
        return
      }
    #endif
    portableDecodeTQ1_0(source, blocks, destination)
  }

  /// TQ1_0 (54 bytes / 256): qs[48] with 5 trits a byte, qh[4] with 4, then d; portable Swift,
  /// the same bits as the AVX2 kernel.
  public static func portableDecodeTQ1_0(
    _ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>
  ) {
    for b in 0..<blocks {
      let x = source + b * 54
      let d = iqLoadHalf(x, 52)
      var y = destination + b * 256
      y = tq1Digits(x, 0, 32, 5, d, y)
      y = tq1Digits(x, 32, 16, 5, d, y)
      _ = tq1Digits(x, 48, 4, 4, d, y)
    }
  }

  /// TQ2_0 (66 bytes / 256): qs[64] of 2-bit values (`q − 1`), then d.
  static func decodeTQ2(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    for b in 0..<blocks {
      let x = source + b * 66
      var y = destination + b * 256
      let d = iqLoadHalf(x, 64)
      for chunk in 0..<2 {
        for l in 0..<4 {
          for m in 0..<32 {
            let q = (x.load(fromByteOffset: 32 * chunk + m, as: UInt8.self) >> UInt8(2 * l)) & 3
            y[m] = Float(Int(q) - 1) * d
          }
          y += 32
        }
      }
    }
  }
}
