/// Colour scales for the report, computed (not looked up from a library) so output is deterministic.
public enum ColorScale {
  /// An RGB colour.
  public struct RGB: Equatable, Sendable {
    public var r: Double, g: Double, b: Double
    /// `#rrggbb`.
    public var hex: String {
      func h(_ v: Double) -> String {
        let n = Int((max(0, min(1, v)) * 255).rounded())
        let s = String(n, radix: 16)
        return s.count == 1 ? "0" + s : s
      }
      return "#" + h(r) + h(g) + h(b)
    }
  }

  // Anchor points of a perceptually ordered scale from good (dark blue) to bad (yellow-red),
  // readable on light and dark backgrounds.
  static let anchors: [RGB] = [
    RGB(r: 0.127, g: 0.235, b: 0.549),
    RGB(r: 0.129, g: 0.490, b: 0.620),
    RGB(r: 0.263, g: 0.686, b: 0.490),
    RGB(r: 0.820, g: 0.800, b: 0.250),
    RGB(r: 0.930, g: 0.510, b: 0.180),
    RGB(r: 0.800, g: 0.150, b: 0.150),
  ]

  /// The colour of `t` in 0…1 (0 good, 1 bad), clamped.
  public static func sequential(_ t: Double) -> RGB {
    let x = t.isNaN ? 0 : max(0, min(1, t)) * Double(anchors.count - 1)
    let i = min(anchors.count - 2, Int(x))
    let f = x - Double(i)
    let a = anchors[i], b = anchors[i + 1]
    return RGB(r: a.r + (b.r - a.r) * f, g: a.g + (b.g - a.g) * f, b: a.b + (b.b - a.b) * f)
  }

  /// A distinct colour for category `index` of `count` (ggml types in the type map).
  public static func categorical(_ index: Int, of count: Int) -> RGB {
    // Evenly spaced hues at fixed saturation and lightness (HSL → RGB).
    let h = Double(index) / Double(max(1, count)) * 360
    let s = 0.55, l = 0.55
    let c = (1 - abs(2 * l - 1)) * s
    let hp = h / 60
    let xx = c * (1 - abs(hp.truncatingRemainder(dividingBy: 2) - 1))
    let (r1, g1, b1): (Double, Double, Double)
    switch Int(hp) {
    case 0: (r1, g1, b1) = (c, xx, 0)
    case 1: (r1, g1, b1) = (xx, c, 0)
    case 2: (r1, g1, b1) = (0, c, xx)
    case 3: (r1, g1, b1) = (0, xx, c)
    case 4: (r1, g1, b1) = (xx, 0, c)
    default: (r1, g1, b1) = (c, 0, xx)
    }
    let m = l - c / 2
    return RGB(r: r1 + m, g: g1 + m, b: b1 + m)
  }
}
