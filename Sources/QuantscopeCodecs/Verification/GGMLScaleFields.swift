import QuantscopeFormats

/// A floating-point scale stored inside each block of a quantized ggml type (`d`, `dmin`, `m`,
/// `s`, `e`): where it is and how it is encoded. Used to find non-finite scales without
/// decoding, like ggml's `ggml_validate_row_data` does.
public struct GGMLScaleField: Sendable, Equatable {
  /// How a scale is encoded.
  public enum Encoding: Sendable, Equatable {
    /// IEEE binary16.
    case f16
    /// IEEE binary32.
    case f32
    /// E8M0 exponent byte (MXFP4); 0xFF is invalid (NaN).
    case e8m0
    /// IQ1_M's binary16 super-scale, spread over the top nibbles of the four little-endian
    /// u16 words at the offset: `(w0>>12) | ((w1>>8)&0xF0) | ((w2>>4)&0xF00) | (w3&0xF000)`.
    case iq1mPackedF16
  }

  /// The field's name in ggml's block struct.
  public let name: String
  /// Byte offset within the block.
  public let offset: Int
  /// How it is encoded.
  public let encoding: Encoding

  /// Creates a field description.
  public init(_ name: String, at offset: Int, _ encoding: Encoding = .f16) {
    self.name = name
    self.offset = offset
    self.encoding = encoding
  }

  /// Whether the scale in `block` (a whole block of the type) is NaN, ±Inf or an invalid
  /// code; returns a word describing it, or `nil` when it is finite.
  ///
  /// - Parameter bigEndian: the file stores multi-byte fields big-endian.
  public func nonFinite(in block: UnsafeRawBufferPointer, bigEndian: Bool = false) -> String? {
    func u16(_ at: Int) -> UInt16 {
      let raw = block.loadUnaligned(fromByteOffset: at, as: UInt16.self)
      return bigEndian ? UInt16(bigEndian: raw) : UInt16(littleEndian: raw)
    }
    switch encoding {
    case .f16:
      return Self.describeHalf(u16(offset))
    case .iq1mPackedF16:
      let w0 = u16(offset), w1 = u16(offset + 2), w2 = u16(offset + 4), w3 = u16(offset + 6)
      return Self.describeHalf((w0 >> 12) | ((w1 >> 8) & 0x00F0) | ((w2 >> 4) & 0x0F00) | (w3 & 0xF000))
    case .f32:
      let raw = block.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
      let bits = bigEndian ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw)
      guard bits & 0x7F80_0000 == 0x7F80_0000 else { return nil }
      return bits & 0x007F_FFFF != 0 ? "NaN" : (bits >> 31 != 0 ? "-Inf" : "+Inf")
    case .e8m0:
      return block[offset] == 0xFF ? "invalid E8M0 0xFF (NaN)" : nil
    }
  }

  /// `nil` for a finite binary16, else `NaN`, `+Inf` or `-Inf`.
  public static func describeHalf(_ bits: UInt16) -> String? {
    guard bits & 0x7C00 == 0x7C00 else { return nil }
    return bits & 0x03FF != 0 ? "NaN" : (bits >> 15 != 0 ? "-Inf" : "+Inf")
  }
}

extension GGMLType {
  /// The floating-point scales stored in each block of this type (offsets from reference §2).
  ///
  /// Empty for scalar types (their values themselves are checked), for types whose scales
  /// cannot be non-finite (NVFP4's UE4M3 has no NaN or Inf code), and for unusable ids.
  public var scaleFields: [GGMLScaleField] {
    switch id {
    case 2, 6, 8, 20, 41, 42: [GGMLScaleField("d", at: 0)]  // Q4_0 Q5_0 Q8_0 IQ4_NL Q1_0 Q2_0
    case 3, 7: [GGMLScaleField("d", at: 0), GGMLScaleField("m", at: 2)]  // Q4_1 Q5_1
    case 9: [GGMLScaleField("d", at: 0), GGMLScaleField("s", at: 2)]  // Q8_1
    case 10: [GGMLScaleField("d", at: 80), GGMLScaleField("dmin", at: 82)]  // Q2_K
    case 11: [GGMLScaleField("d", at: 108)]  // Q3_K
    case 12, 13: [GGMLScaleField("d", at: 0), GGMLScaleField("dmin", at: 2)]  // Q4_K Q5_K
    case 14: [GGMLScaleField("d", at: 208)]  // Q6_K
    case 15: [GGMLScaleField("d", at: 0, .f32)]  // Q8_K
    case 16, 17, 18, 19, 21, 22, 23: [GGMLScaleField("d", at: 0)]  // IQ2_XXS IQ2_XS IQ3_XXS IQ1_S IQ3_S IQ2_S IQ4_XS
    case 29: [GGMLScaleField("d", at: 48, .iq1mPackedF16)]  // IQ1_M
    case 34: [GGMLScaleField("d", at: 52)]  // TQ1_0
    case 35: [GGMLScaleField("d", at: 64)]  // TQ2_0
    case 39: [GGMLScaleField("e", at: 0, .e8m0)]  // MXFP4
    default: []
    }
  }
}
