import QuantscopeFormats

/// Codecs of the family `TernaryQuants`. (Filled in by the codec work.)
public enum TernaryQuants {
  /// This family's codecs.
  public static let codecs: [BlockCodec] = []
}
