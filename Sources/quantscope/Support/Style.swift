#if canImport(Glibc)
  import Glibc
#endif

/// ANSI colours for terminal output, on or off as `--color` and `NO_COLOR` decide.
///
/// Colour marks what needs a look (bad error figures, problems, changes); it never carries
/// information the text does not already give, so output without it loses nothing.
struct Style: Sendable {
  /// Colours quantscope uses.
  enum Color: String, Sendable {
    case red = "31"
    case green = "32"
    case yellow = "33"
    case cyan = "36"
    case bold = "1"
  }

  /// Whether escape sequences are written.
  let enabled: Bool

  /// No colour.
  static let plain = Style(enabled: false)

  /// `text` wrapped in the escape sequences for `color` (unchanged when disabled or empty).
  func paint(_ text: String, _ color: Color) -> String {
    guard enabled, !text.isEmpty else { return text }
    return "\u{1B}[\(color.rawValue)m\(text)\u{1B}[0m"
  }

  /// The colour for an NMSE in dB: green below −30 dB (hardly measurable), red above −15 dB
  /// (a loss worth a look), yellow between.
  static func severity(nmseDecibels db: Double) -> Color {
    if db.isNaN || db > -15 { return .red }
    if db < -30 { return .green }
    return .yellow
  }

  /// Characters a terminal shows for `text`: escape sequences (`ESC [ … final byte`) count
  /// zero, and a grapheme cluster (× and → included) counts one.
  static func visibleWidth(_ text: String) -> Int {
    guard text.contains("\u{1B}") else { return text.count }
    return stripped(text).count
  }

  /// `text` without its ANSI escape sequences.
  static func stripped(_ text: String) -> String {
    var out = String.UnicodeScalarView()
    var state = 0  // 0 text, 1 after ESC, 2 inside ESC [ …
    for u in text.unicodeScalars {
      switch state {
      case 1: state = u == "[" ? 2 : 0
      case 2: if (0x40...0x7E).contains(u.value) { state = 0 }
      default:
        if u == "\u{1B}" { state = 1 } else { out.append(u) }
      }
    }
    return String(out)
  }

  /// Whether standard output is a terminal.
  static var stdoutIsTerminal: Bool { isatty(1) == 1 }
}
