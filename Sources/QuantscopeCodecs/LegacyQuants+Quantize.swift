import QuantscopeFormats

extension LegacyQuants {
  /// This family's quantizers. (Filled in by the quantizer work.)
  public static let quantizers: [BlockQuantizer] = []
}
