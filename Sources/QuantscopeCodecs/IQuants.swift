import QuantscopeFormats

/// Codecs of the family `IQuants`. (Filled in by the codec work.)
public enum IQuants {
  /// This family's codecs.
  public static let codecs: [BlockCodec] = []
}
