import QuantscopeCodecs
import QuantscopeFormats

/// The analysis layer: metrics, reference resolution and name mapping, recipes, planning and
/// requantization.
public enum Analysis {}
