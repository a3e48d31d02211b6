import QuantscopeFormats

/// Codecs of the family `BinaryQuants`. (Filled in by the codec work.)
public enum BinaryQuants {
  /// This family's codecs.
  public static let codecs: [BlockCodec] = []
}
