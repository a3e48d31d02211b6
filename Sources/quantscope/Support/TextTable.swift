/// A plain-text table with aligned columns: numbers right-aligned, text left-aligned.
struct TextTable {
  var header: [String]
  var rows: [[String]] = []
  /// Columns aligned right (numbers).
  var rightAligned: Set<Int> = []

  init(_ header: [String], rightAligned: Set<Int> = []) {
    self.header = header
    self.rightAligned = rightAligned
  }

  mutating func add(_ row: [String]) { rows.append(row) }

  func render() -> String {
    var widths = header.map(\.count)
    for row in rows {
      for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
    }
    func line(_ cells: [String]) -> String {
      cells.enumerated().map { i, c in
        let pad = String(repeating: " ", count: max(0, widths[i] - c.count))
        return rightAligned.contains(i) ? pad + c : c + pad
      }.joined(separator: "  ").trimmingTrailingSpaces()
    }
    var out = [line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
    out += rows.map(line)
    return out.joined(separator: "\n")
  }
}

extension String {
  func trimmingTrailingSpaces() -> String {
    var s = self
    while s.last == " " { s.removeLast() }
    return s
  }
}
