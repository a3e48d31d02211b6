import Foundation

extension HTMLReport {
  /// The `attribute` sections: mean KLD by group (bars, worst first, with each group's share of the whole file's
  /// KLD) and measured KLD against predicted error (a log-log scatter, one labelled point per group).
  func attributionSections(_ r: AttributionReport) -> String {
    var html = "<p class=summary>llama-perplexity \(escape(r.llamaVersion ?? "?")): whole file mean KLD "
    html += String(format: "%.4f", r.whole.meanKLD) + ", sum of groups " + String(format: "%.4f", r.sumOfGroups)
    if let rho = r.rankCorrelation { html += String(format: ", Spearman ρ (predicted error, KLD) %.3f", rho) }
    html += "</p>\n"
    let bars = r.groupsWorstFirst.map { ($0.label, $0.statistics.meanKLD) }
    html += section(
      "Mean KLD with one group degraded",
      self.bars(bars) { v in
        String(format: "%.4f", v) + (r.whole.meanKLD > 0 ? String(format: " (%.0f %%)", v / r.whole.meanKLD * 100) : "")
      })
    html += section("Measured KLD vs predicted \(r.weighted ? "weighted " : "")error", scatter(r))
    return html
  }

  /// Log-log scatter of (predicted error, mean KLD); groups with a non-positive value are left out (said below).
  func scatter(_ r: AttributionReport) -> String {
    let points = r.groups.filter { $0.predictedError > 0 && $0.statistics.meanKLD > 0 }
    guard points.count >= 1 else { return "<p>Nothing to plot (no group has positive error and KLD).</p>" }
    let xs = points.map { log10($0.predictedError) }, ys = points.map { log10($0.statistics.meanKLD) }
    let (x0, x1) = (xs.min()! - 0.2, xs.max()! + 0.2), (y0, y1) = (ys.min()! - 0.2, ys.max()! + 0.2)
    let w = 520.0, h = 320.0, left = 60.0, bottom = 40.0
    func px(_ x: Double) -> Double { left + (x - x0) / max(1e-9, x1 - x0) * (w - left - 20) }
    func py(_ y: Double) -> Double { h - bottom - (y - y0) / max(1e-9, y1 - y0) * (h - bottom - 20) }
    var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" class=\"scatter\">"
    svg +=
      "<line class=\"axis\" x1=\"\(left)\" y1=\"\(h - bottom)\" x2=\"\(w - 10)\" y2=\"\(h - bottom)\" stroke=\"#888\"/>"
    svg += "<line class=\"axis\" x1=\"\(left)\" y1=\"10\" x2=\"\(left)\" y2=\"\(h - bottom)\" stroke=\"#888\"/>"
    for e in Int(x0.rounded(.up))...max(Int(x0.rounded(.up)), Int(x1.rounded(.down))) {
      svg += "<text class=\"axis\" x=\"\(px(Double(e)))\" y=\"\(h - bottom + 16)\" text-anchor=\"middle\">1e\(e)</text>"
    }
    for e in Int(y0.rounded(.up))...max(Int(y0.rounded(.up)), Int(y1.rounded(.down))) {
      svg += "<text class=\"axis\" x=\"\(left - 6)\" y=\"\(py(Double(e)) + 4)\" text-anchor=\"end\">1e\(e)</text>"
    }
    svg += "<text class=\"axis\" x=\"\((w + left) / 2)\" y=\"\(h - 6)\" text-anchor=\"middle\">predicted error</text>"
    svg += "<text class=\"axis\" x=\"12\" y=\"14\">mean KLD</text>"
    for (g, (x, y)) in zip(points, zip(xs, ys)) {
      let tip =
        "\(g.label): KLD " + String(format: "%.4f", g.statistics.meanKLD) + ", error "
        + String(format: "%.3e", g.predictedError)
      svg += "<circle class=\"bar\" cx=\"\(px(x))\" cy=\"\(py(y))\" r=\"4\"><title>\(escape(tip))</title></circle>"
      svg += "<text class=\"axis\" x=\"\(px(x) + 6)\" y=\"\(py(y) - 4)\">\(escape(g.label))</text>"
    }
    svg += "</svg>"
    let left_out = r.groups.count - points.count
    return svg + (left_out > 0 ? "<p>\(left_out) group(s) with zero error or KLD not plotted.</p>" : "")
  }
}
