import QuantscopeFormats

/// Decoding of every safetensors dtype to binary32.
///
/// The 8-bit float formats (and the 4- and 6-bit ones) decode through lookup tables built once
/// from the bit definitions of safetensors-fp8-deepseek.md §3 (sign, exponent field, mantissa
/// field, bias, and each format's NaN/Inf codes), not from transcribed values; the tests check
/// every code against `ml_dtypes`. Every value of these formats is exactly representable as a
/// binary32, so the tables are exact.
///
/// Sub-byte packing:
/// * `F4` (e2m1): two elements per byte, element 2k in the **low** nibble and 2k+1 in the high
///   nibble. This is torch's `float4_e2m1fn_x2` (the dtype safetensors maps `F4` to) and NVIDIA's
///   `__nv_fp4x2_e2m1`, and the same order as ggml's MXFP4 pairs.
/// * `F6_E2M3`, `F6_E3M2`: no reference (the safetensors crate, its bindings, `ml_dtypes`) defines
///   a packing; `ml_dtypes` only has one-value-per-byte float6 types. quantscope reads them as a
///   little-endian bit stream: element i is bits `6i ..< 6i+6`, least significant bit first
///   (four elements in three bytes), the natural extension of the F4 order. Treat F6 results as
///   provisional until a producer of such files confirms the order.
public enum SafetensorsDecoding {
  /// Whether quantscope can turn `dtype` into real values. `C64` (complex) is the one exception.
  public static func canDecode(_ dtype: SafetensorsDType) -> Bool { dtype != .C64 }

  // MARK: Lookup tables

  /// Decodes a minifloat code `[sign][exponent][mantissa]` by the IEEE-style formulas: normal
  /// `(1 + m/2^M)·2^(e−bias)`, subnormal (e = 0) `(m/2^M)·2^(1−bias)`. Special codes are the
  /// caller's business. Computed exactly with `Double(sign:exponent:significand:)`.
  static func minifloat(_ code: Int, exponentBits: Int, mantissaBits: Int, bias: Int) -> Float {
    let mantissa = code & ((1 << mantissaBits) - 1)
    let exponent = (code >> mantissaBits) & ((1 << exponentBits) - 1)
    let negative = (code >> (exponentBits + mantissaBits)) & 1 == 1
    let fraction = Double(mantissa) / Double(1 << mantissaBits)
    let magnitude =
      exponent == 0
      ? Double(sign: .plus, exponent: 1 - bias, significand: fraction)
      : Double(sign: .plus, exponent: exponent - bias, significand: 1 + fraction)
    return Float(negative ? -magnitude : magnitude)
  }

  /// A NaN carrying the code's sign bit (the sign of a NaN means nothing, but keeping it makes the
  /// table a faithful picture of the codes).
  static func nan(_ negative: Bool) -> Float { negative ? -Float.nan : Float.nan }

  /// `F8_E4M3` = e4m3fn: 1.4.3, bias 7, no infinities, NaN only at S.1111.111 (0x7F, 0xFF).
  public static let e4m3fnTable: [Float] = (0..<256).map { b in
    b & 0x7F == 0x7F ? nan(b >= 0x80) : minifloat(b, exponentBits: 4, mantissaBits: 3, bias: 7)
  }

  /// `F8_E5M2`: 1.5.2, bias 15, IEEE-like: exponent 31 is ±Inf (mantissa 0) or NaN.
  public static let e5m2Table: [Float] = (0..<256).map { b in
    guard (b >> 2) & 31 == 31 else { return minifloat(b, exponentBits: 5, mantissaBits: 2, bias: 15) }
    if b & 3 == 0 { return b >= 0x80 ? -.infinity : .infinity }
    return nan(b >= 0x80)
  }

  /// `F8_E4M3FNUZ`: 1.4.3, bias 8, no infinities, no −0: 0x80 is the only NaN.
  public static let e4m3fnuzTable: [Float] = (0..<256).map { b in
    b == 0x80 ? .nan : minifloat(b, exponentBits: 4, mantissaBits: 3, bias: 8)
  }

  /// `F8_E5M2FNUZ`: 1.5.2, bias 16, no infinities, no −0: 0x80 is the only NaN.
  public static let e5m2fnuzTable: [Float] = (0..<256).map { b in
    b == 0x80 ? .nan : minifloat(b, exponentBits: 5, mantissaBits: 2, bias: 16)
  }

  /// `F8_E8M0` = e8m0fnu (the MX scale): unsigned, exponent only, `2^(b−127)`; 0x00 is 2^−127
  /// (a binary32 subnormal, still exact); 0xFF is NaN. No sign, no zero.
  public static let e8m0Table: [Float] = (0..<256).map { b in
    b == 0xFF ? .nan : Float(Double(sign: .plus, exponent: b - 127, significand: 1))
  }

  /// `F4` = e2m1fn: 1.2.1, bias 1, no Inf/NaN; 16 codes (±{0, 0.5, 1, 1.5, 2, 3, 4, 6}).
  public static let e2m1Table: [Float] = (0..<16).map { minifloat($0, exponentBits: 2, mantissaBits: 1, bias: 1) }

  /// `F6_E2M3` = e2m3fn: 1.2.3, bias 1, no Inf/NaN; 64 codes (max ±7.5).
  public static let e2m3Table: [Float] = (0..<64).map { minifloat($0, exponentBits: 2, mantissaBits: 3, bias: 1) }

  /// `F6_E3M2` = e3m2fn: 1.3.2, bias 3, no Inf/NaN; 64 codes (max ±28).
  public static let e3m2Table: [Float] = (0..<64).map { minifloat($0, exponentBits: 3, mantissaBits: 2, bias: 3) }

  /// The code → value table of a small-float dtype (8, 6 or 4 bits), or `nil` for other dtypes.
  public static func table(for dtype: SafetensorsDType) -> [Float]? {
    switch dtype {
    case .F8_E4M3: e4m3fnTable
    case .F8_E5M2: e5m2Table
    case .F8_E4M3FNUZ: e4m3fnuzTable
    case .F8_E5M2FNUZ: e5m2fnuzTable
    case .F8_E8M0: e8m0Table
    case .F4: e2m1Table
    case .F6_E2M3: e2m3Table
    case .F6_E3M2: e3m2Table
    default: nil
    }
  }

  // MARK: Decoding

  /// Decodes elements `firstElement ..< firstElement + count` of a tensor whose data starts at
  /// `data` into `destination`.
  ///
  /// The caller has checked that those elements lie inside the tensor's bytes (for sub-byte
  /// dtypes: that bit `(firstElement + count) · bits` does). Integers and `F64` round to the
  /// nearest binary32 like numpy's `astype(float32)`; `BOOL` gives 0 or 1 (any nonzero byte is
  /// true). `C64` is not decodable (see ``canDecode(_:)``) and must not be passed.
  public static func decode(
    _ dtype: SafetensorsDType, data: UnsafeRawPointer, firstElement: Int, count: Int,
    into destination: UnsafeMutablePointer<Float>
  ) {
    precondition(dtype != .C64, "C64 is complex; check canDecode first")
    guard count > 0 else { return }
    switch dtype {
    case .F4:
      e2m1Table.withUnsafeBufferPointer { t in
        for i in 0..<count {
          let e = firstElement + i
          let byte = data.load(fromByteOffset: e >> 1, as: UInt8.self)
          destination[i] = t[Int((byte >> UInt8((e & 1) << 2)) & 15)]
        }
      }
    case .F6_E2M3, .F6_E3M2:
      (dtype == .F6_E2M3 ? e2m3Table : e3m2Table).withUnsafeBufferPointer { t in
        for i in 0..<count {
          let bit = 6 * (firstElement + i)
          let shift = bit & 7
          var v = Int(data.load(fromByteOffset: bit >> 3, as: UInt8.self)) >> shift
          // Bits 6i..6i+5 spill into the next byte when they start above bit 2.
          if shift > 2 { v |= Int(data.load(fromByteOffset: (bit >> 3) + 1, as: UInt8.self)) << (8 - shift) }
          destination[i] = t[v & 63]
        }
      }
    case .F8_E4M3, .F8_E5M2, .F8_E4M3FNUZ, .F8_E5M2FNUZ, .F8_E8M0:
      let bytes = data + firstElement
      let lookup = table(for: dtype) ?? []
      lookup.withUnsafeBufferPointer { t in
        for i in 0..<count { destination[i] = t[Int(bytes.load(fromByteOffset: i, as: UInt8.self))] }
      }
    case .BOOL:
      let bytes = data + firstElement
      for i in 0..<count { destination[i] = bytes.load(fromByteOffset: i, as: UInt8.self) == 0 ? 0 : 1 }
    case .U8:
      let bytes = data + firstElement
      for i in 0..<count { destination[i] = Float(bytes.load(fromByteOffset: i, as: UInt8.self)) }
    case .I8: ScalarTypes.decodeI8(data + firstElement, count, destination)
    case .I16: ScalarTypes.decodeI16(data + 2 * firstElement, count, destination)
    case .U16:
      let p = data + 2 * firstElement
      for i in 0..<count {
        destination[i] = Float(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
      }
    case .I32: ScalarTypes.decodeI32(data + 4 * firstElement, count, destination)
    case .U32:
      let p = data + 4 * firstElement
      for i in 0..<count {
        destination[i] = Float(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
      }
    case .I64: ScalarTypes.decodeI64(data + 8 * firstElement, count, destination)
    case .U64:
      let p = data + 8 * firstElement
      for i in 0..<count {
        destination[i] = Float(UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
      }
    case .F16: ScalarTypes.decodeF16(data + 2 * firstElement, count, destination)
    case .BF16: ScalarTypes.decodeBF16(data + 2 * firstElement, count, destination)
    case .F32: ScalarTypes.decodeF32(data + 4 * firstElement, count, destination)
    case .F64: ScalarTypes.decodeF64(data + 8 * firstElement, count, destination)
    case .C64: break
    }
  }

  /// Bytes that hold `elements` values of `dtype`, or `nil` when they do not fill whole bytes
  /// (the safetensors `MisalignedSlice` rule) or the size overflows.
  public static func byteCount(_ dtype: SafetensorsDType, elements: Int) -> Int? {
    let (bits, overflow) = elements.multipliedReportingOverflow(by: dtype.bits)
    guard elements >= 0, !overflow, bits % 8 == 0 else { return nil }
    return bits / 8
  }
}
