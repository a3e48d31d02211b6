import QuantscopeFormats

/// Codecs of the family `KQuants`. (Filled in by the codec work.)
public enum KQuants {
  /// This family's codecs.
  public static let codecs: [BlockCodec] = []
}
