/// IEEE binary16 and bfloat16 conversions, bit-exact with ggml's scalar code.
///
/// Both directions are branchless integer/float bit manipulation rather than `Float(Float16)` /
/// `Float16(Float)`: a default (baseline x86-64, no F16C) build turns those into the
/// `__extendhfsf2` / `__truncsfhf2` libcalls, one call per value, which also stops the
/// surrounding decode loops from vectorizing.
public enum Half {
  /// binary16 bits to binary32 (exact).
  ///
  /// Normal numbers are a rebias of the exponent (shift left 13, add 112 << 23); infinities and
  /// NaNs keep their payload under an all-ones exponent, and NaNs are quieted (as ggml's
  /// conversion and the F16C instruction do); zeros and subnormals are converted as
  /// the integer mantissa times 2⁻²⁴, which is exact. The three candidates are selected without
  /// branches. Matches `Float(Float16(bitPattern:))` on all 65,536 inputs.
  @inlinable @inline(__always)
  public static func toFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) &<< 16
    let magnitude = UInt32(h & 0x7fff)
    let shifted = magnitude &<< 13
    let normal = shifted &+ 0x3800_0000
    let quiet: UInt32 = magnitude > 0x7c00 ? 0x0040_0000 : 0
    let special = shifted | 0x7f80_0000 | quiet
    let small = (Float(Int32(bitPattern: magnitude)) * 0x1p-24).bitPattern
    let wide = magnitude >= 0x7c00 ? special : normal
    let bits = magnitude < 0x0400 ? small : wide
    return Float(bitPattern: bits | sign)
  }

  /// binary32 to binary16 bits, round to nearest even (ggml's `GGML_FP32_TO_FP16`).
  ///
  /// This is ggml's portable routine (after Maratyszcza's FP16 library): scaling by 2¹¹² then
  /// 2⁻¹¹⁰ makes the float unit do the rounding (including to subnormal halves and to infinity),
  /// and adding a power of two aligned on the target exponent leaves the rounded half bits in
  /// the low mantissa. NaN becomes the quiet NaN 0x7E00 with the input's sign, as in ggml.
  @inlinable @inline(__always)
  public static func fromFloat(_ f: Float) -> UInt16 {
    let w = f.bitPattern
    let shl1 = w &+ w
    let sign = w & 0x8000_0000
    var bias = shl1 & 0xff00_0000
    bias = bias < 0x7100_0000 ? 0x7100_0000 : bias
    var base = (abs(f) * 0x1p112) * 0x1p-110
    base = Float(bitPattern: (bias &>> 1) &+ 0x0780_0000) + base
    let bits = base.bitPattern
    let expBits = (bits &>> 13) & 0x0000_7c00
    let mantissaBits = bits & 0x0000_0fff
    let nonsign = expBits &+ mantissaBits
    let result = (sign &>> 16) | (shl1 > 0xff00_0000 ? 0x7e00 : nonsign)
    return UInt16(truncatingIfNeeded: result)
  }

  /// bfloat16 bits to binary32 (exact).
  @inlinable @inline(__always)
  public static func bf16ToFloat(_ h: UInt16) -> Float {
    Float(bitPattern: UInt32(h) &<< 16)
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
