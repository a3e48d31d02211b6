import QuantscopeFormats

/// Codecs of the family `MicroscalingQuants`. (Filled in by the codec work.)
public enum MicroscalingQuants {
  /// This family's codecs.
  public static let codecs: [BlockCodec] = []
}
