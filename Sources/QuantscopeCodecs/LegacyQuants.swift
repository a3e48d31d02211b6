import QuantscopeFormats

/// Codecs of the family `LegacyQuants`. (Filled in by the codec work.)
public enum LegacyQuants {
  /// This family's codecs.
  public static let codecs: [BlockCodec] = []
}
