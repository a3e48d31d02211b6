/// Text from a file made safe to print: a tensor name or metadata string may hold ESC, BEL, CR
/// or LF, which raw on a terminal could retitle it, forge output lines (`hash` lines a script
/// trusts) or hide text. Every string that comes from a file goes through here before it reaches
/// text output or an error message; JSON output escapes on its own.
enum TerminalText {
  /// `text` with every control character made visible: `\n`, `\r`, `\t`, `\\` for a backslash
  /// that would otherwise read as an escape, and `\u{XX}` for other C0 and C1 controls, DEL and
  /// the Unicode bidirectional overrides (which reorder what the terminal shows).
  static func escape(_ text: String) -> String {
    guard mayNeedEscape(text), text.unicodeScalars.contains(where: needsEscape) else { return text }
    var out = ""
    for u in text.unicodeScalars {
      switch u {
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\\": out += "\\\\"
      case _ where isControl(u): out += "\\u{" + String(u.value, radix: 16, uppercase: true) + "}"
      default: out.unicodeScalars.append(u)
      }
    }
    return out
  }

  /// Like ``escape(_:)``, but keeps the colour sequences ``Style`` writes (`ESC [ digits m`), for
  /// cells that may already be painted; a file string could at worst change a colour, which
  /// `ESC [ 0 m` at the end of the cell then resets.
  static func escapeKeepingColor(_ text: String) -> String {
    guard mayNeedEscape(text), text.unicodeScalars.contains(where: needsEscape) else { return text }
    var out = ""
    var kept = false
    var scalars = Array(text.unicodeScalars)[...]
    while let u = scalars.first {
      if u == "\u{1B}", let end = colorSequenceEnd(scalars) {
        out.unicodeScalars.append(contentsOf: scalars.prefix(end))
        scalars = scalars.dropFirst(end)
        kept = true
        continue
      }
      out += escape(String(u))
      scalars = scalars.dropFirst()
    }
    return out + (kept && !out.hasSuffix("\u{1B}[0m") ? "\u{1B}[0m" : "")
  }

  /// The length of `ESC [ digits/; m` at the start of `s`, if that is what starts it.
  private static func colorSequenceEnd(_ s: ArraySlice<Unicode.Scalar>) -> Int? {
    var i = s.startIndex + 1
    guard i < s.endIndex, s[i] == "[" else { return nil }
    i += 1
    while i < s.endIndex, s[i].properties.numericType != nil || s[i] == ";", s[i].isASCII { i += 1 }
    guard i < s.endIndex, s[i] == "m" else { return nil }
    return i + 1 - s.startIndex
  }

  /// A quick byte scan: plain printable ASCII (nearly every name) needs nothing.
  private static func mayNeedEscape(_ text: String) -> Bool {
    text.utf8.contains { $0 < 0x20 || $0 >= 0x7F || $0 == UInt8(ascii: "\\") }
  }

  private static func isControl(_ u: Unicode.Scalar) -> Bool {
    u.value < 0x20 || (0x7F...0x9F).contains(u.value) || (0x202A...0x202E).contains(u.value)
      || (0x2066...0x2069).contains(u.value)
  }

  private static func needsEscape(_ u: Unicode.Scalar) -> Bool { isControl(u) || u == "\\" }
}

extension String {
  /// The string with control characters made visible (see ``TerminalText/escape(_:)``).
  var terminalSafe: String { TerminalText.escape(self) }
}
