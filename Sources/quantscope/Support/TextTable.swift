/// A table with aligned columns: numbers right-aligned, text left-aligned, a dashed rule under
/// the header; or the same table in Markdown.
///
/// Widths are measured in visible characters (``Style/visibleWidth(_:)``), so cells coloured
/// with ANSI escape sequences line up exactly like plain ones.
struct TextTable {
  var header: [String]
  var rows: [[String]] = []
  /// Columns aligned right (numbers).
  var rightAligned: Set<Int> = []

  init(_ header: [String], rows: [[String]] = [], rightAligned: Set<Int> = []) {
    self.header = header
    self.rows = rows
    self.rightAligned = rightAligned
  }

  mutating func add(_ row: [String]) { rows.append(row) }

  func render() -> String {
    // Cells hold names and values from files: control characters are escaped here, once for
    // every table, keeping only the colour sequences Style wrote.
    let header = self.header.map(TerminalText.escapeKeepingColor)
    let rows = self.rows.map { $0.map(TerminalText.escapeKeepingColor) }
    var widths = header.map(Style.visibleWidth)
    for row in rows {
      for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], Style.visibleWidth(cell)) }
    }
    func line(_ cells: [String]) -> String {
      cells.enumerated().map { i, c in
        let pad = String(repeating: " ", count: max(0, (i < widths.count ? widths[i] : 0) - Style.visibleWidth(c)))
        return rightAligned.contains(i) ? pad + c : c + pad
      }.joined(separator: "  ").trimmingTrailingSpaces()
    }
    var out = [line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
    out += rows.map(line)
    return out.joined(separator: "\n")
  }

  /// The table in Markdown (GitHub's pipe tables; `|` in cells escaped), ending with a newline.
  func markdown() -> String {
    func esc(_ s: String) -> String { TerminalText.escape(s).replacingOccurrences(of: "|", with: "\\|") }
    var out = "| " + header.map(esc).joined(separator: " | ") + " |\n"
    out += "|" + header.indices.map { rightAligned.contains($0) ? " ---: " : " --- " }.joined(separator: "|") + "|\n"
    for r in rows { out += "| " + r.map(esc).joined(separator: " | ") + " |\n" }
    return out
  }
}

extension String {
  /// The string without trailing spaces.
  func trimmingTrailingSpaces() -> String {
    var s = self
    while s.last == " " { s.removeLast() }
    return s
  }
}
