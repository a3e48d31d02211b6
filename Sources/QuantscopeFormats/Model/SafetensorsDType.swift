/// A safetensors dtype string, as the reference Rust crate accepts it.
public enum SafetensorsDType: String, Sendable, CaseIterable, Hashable {
  case BOOL, U8, I8, I16, U16, I32, U32, I64, U64
  case F16, BF16, F32, F64, C64
  case F8_E4M3, F8_E5M2, F8_E4M3FNUZ, F8_E5M2FNUZ, F8_E8M0
  case F4, F6_E2M3, F6_E3M2

  /// Bits per element.
  public var bits: Int {
    switch self {
    case .BOOL, .U8, .I8, .F8_E4M3, .F8_E5M2, .F8_E4M3FNUZ, .F8_E5M2FNUZ, .F8_E8M0: 8
    case .I16, .U16, .F16, .BF16: 16
    case .I32, .U32, .F32: 32
    case .I64, .U64, .F64, .C64: 64
    case .F4: 4
    case .F6_E2M3, .F6_E3M2: 6
    }
  }
}
