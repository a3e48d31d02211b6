import Foundation

extension HTMLReport {
  /// Colours of the audit map: reproduced, differing, not compared (no reference, no quantizer,
  /// no imatrix).
  static let auditColors = (identical: "#2da44e", differs: "#cf222e", notCompared: "#bf8700")

  /// The audit section: the verdict, the precision line, the preset match, a layer × kind map of
  /// identical and differing tensors, and the tensors that are not identical.
  func auditSection(_ audit: AuditReport) -> String {
    var html = "<p class=summary><strong>\(escape(audit.verdict))</strong> — \(escape(audit.precisionLine))"
    if let match = audit.presetMatch { html += "; \(escape(match.summary))" }
    html += "</p>\n"
    html += auditMap(audit)
    let bad = audit.worstFirst.filter { !$0.status.isReproduced }
    if bad.isEmpty {
      html += "<p class=note>Every tensor was reproduced byte for byte.</p>"
    } else {
      html += "<table class=sortable><thead><tr><th>tensor</th><th>type</th><th>status</th><th>differing blocks</th>"
      html += "<th>first difference (row, column)</th><th>NMSE vs reproduction</th></tr></thead><tbody>\n"
      for t in bad {
        let first = t.firstDifference.map { "\($0.row), \($0.column)" } ?? ""
        let nmse = t.nmseVsReproduction.map { String(format: "%.3e", $0) } ?? ""
        let blocks = t.status == .differs ? "\(format(t.differingBlocks)) / \(format(t.blocks))" : ""
        html +=
          "<tr><td>\(escape(t.name))</td><td>\(escape(t.type))</td><td>\(escape(t.status.rawValue))</td>"
          + "<td>\(blocks)</td><td>\(first)</td><td>\(nmse)</td></tr>\n"
      }
      html += "</tbody></table>"
    }
    return section("Audit: reproduction from the reference", html)
  }

  /// One cell per block tensor: green identical, red differing, amber not compared.
  func auditMap(_ audit: AuditReport) -> String {
    let inBlocks = audit.tensors.filter { $0.layer != nil }
    func rank(_ k: String) -> Int { k.hasPrefix("attn") ? 0 : (k.hasPrefix("ffn") ? 1 : 2) }
    let kinds = Set(inBlocks.map(\.kind)).sorted { (rank($0), $0) < (rank($1), $1) }
    let layers = Set(inBlocks.compactMap(\.layer)).sorted()
    guard !kinds.isEmpty, !layers.isEmpty else { return "<p>No per-layer tensors.</p>" }
    var cells: [String: TensorAudit] = [:]
    for t in inBlocks { cells["\(t.layer!)/\(t.kind)"] = t }
    let cw = 26, ch = 14, left = 56, top = 110
    var svg =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"\(left + kinds.count * cw + 80)\" "
      + "height=\"\(top + layers.count * ch + 10)\" class=\"heatmap\">"
    for (j, k) in kinds.enumerated() {
      svg +=
        "<text class=\"axis\" transform=\"translate(\(left + j * cw + cw / 2),\(top - 6)) rotate(-60)\">"
        + "\(escape(k))</text>"
    }
    for (i, l) in layers.enumerated() {
      svg += "<text class=\"axis\" x=\"\(left - 6)\" y=\"\(top + i * ch + ch - 3)\" text-anchor=\"end\">blk.\(l)</text>"
      for (j, k) in kinds.enumerated() {
        guard let t = cells["\(l)/\(k)"] else { continue }
        let fill: String
        switch t.status {
        case .identical: fill = Self.auditColors.identical
        case .differs: fill = Self.auditColors.differs
        default: fill = Self.auditColors.notCompared
        }
        var title = "\(t.name) — \(t.type), \(t.status.rawValue)"
        if let p = t.precision, t.status == .identical { title += " (\(p.rawValue))" }
        if t.status == .differs { title += ", \(t.differingBlocks) of \(t.blocks) blocks" }
        svg +=
          "<rect x=\"\(left + j * cw)\" y=\"\(top + i * ch)\" width=\"\(cw - 1)\" height=\"\(ch - 1)\" "
          + "fill=\"\(fill)\"><title>\(escape(title))</title></rect>"
      }
    }
    svg += "</svg>"
    let legend = [
      ("identical", Self.auditColors.identical), ("differs", Self.auditColors.differs),
      ("not compared", Self.auditColors.notCompared),
    ]
    var key =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(legend.count * 110 + 10)\" height=\"24\" class=\"legend\">"
    for (i, (label, color)) in legend.enumerated() {
      key +=
        "<rect x=\"\(10 + i * 110)\" y=\"4\" width=\"14\" height=\"14\" fill=\"\(color)\"/>"
        + "<text class=\"axis\" x=\"\(28 + i * 110)\" y=\"16\">\(label)</text>"
    }
    return svg + key + "</svg>"
  }
}
