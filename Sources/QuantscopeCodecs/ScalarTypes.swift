import QuantscopeFormats

/// Codecs of the family `ScalarTypes`. (Filled in by the codec work.)
public enum ScalarTypes {
  /// This family's codecs.
  public static let codecs: [BlockCodec] = []
}
