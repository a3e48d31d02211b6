/// IEEE binary16 and bfloat16 conversions, bit-exact with ggml's scalar code.
public enum Half {
  /// binary16 bits to binary32 (exact).
  @inlinable @inline(__always)
  public static func toFloat(_ h: UInt16) -> Float {
    Float(Float16(bitPattern: h))
  }

  /// binary32 to binary16 bits, round to nearest even (ggml's `GGML_FP32_TO_FP16`).
  @inlinable @inline(__always)
  public static func fromFloat(_ f: Float) -> UInt16 {
    Float16(f).bitPattern
  }

  /// bfloat16 bits to binary32 (exact).
  @inlinable @inline(__always)
  public static func bf16ToFloat(_ h: UInt16) -> Float {
    Float(bitPattern: UInt32(h) << 16)
  }

  /// binary32 to bfloat16 bits as ggml does (`ggml_compute_fp32_to_bf16`): NaN is quieted,
  /// everything else rounds to nearest even.
  @inlinable @inline(__always)
  public static func bf16FromFloat(_ f: Float) -> UInt16 {
    let u = f.bitPattern
    if (u & 0x7fff_ffff) > 0x7f80_0000 { return UInt16(truncatingIfNeeded: (u >> 16) | 64) }
    return UInt16(truncatingIfNeeded: (u &+ (0x7fff &+ ((u >> 16) & 1))) >> 16)
  }
}
