import Foundation
import QuantscopeFormats

extension HTMLReport {
  /// A preset's point on the tune report's Pareto picture.
  public struct TunePreset: Sendable {
    /// The preset's name.
    public let name: String
    /// Its bytes of tensor data on this model.
    public let bytes: Int
    /// Its predicted error from the same measurement (`nil` when it uses a type not measured).
    public let error: Double?

    /// A preset point.
    public init(name: String, bytes: Int, error: Double?) {
      self.name = name
      self.bytes = bytes
      self.error = error
    }
  }

  /// The self-contained `tune --report` page: the Pareto curve of size against predicted error
  /// with the presets marked on it and the chosen mix highlighted, the chosen type of every
  /// layer × kind, and the command line. No network, no scripts; the SVG is generated here.
  public static func tuneDocument(
    result: TuneResult, frontier: [TuneSolver.Solution], presets: [TunePreset], commandLine: String
  ) -> String {
    func esc(_ s: String) -> String {
      s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
    let s = result.solution
    var body = "<h1>quantscope tune report</h1>\n"
    body +=
      "<p>Budget \(ByteSize.describe(s.budget)); chosen mix \(ByteSize.describe(s.bytes)), \(String(format: "%.3f", result.bitsPerWeight))"
    body += " bits per weight; predicted error \(String(format: "%.4e", s.error)) (Lagrangian bound "
    body += "\(String(format: "%.4e", s.bound))). Errors are "
    body += result.weighted ? "imatrix-weighted squared errors (a proxy for the layer output error)" : "squared errors"
    body += result.sampleFraction < 1 ? ", estimated from a \(result.sampleFraction) sample of rows.</p>\n" : ".</p>\n"

    // Pareto picture: size (x) against predicted error (y, log scale).
    let points = frontier.map { (Double($0.bytes), $0.error) }
    let marks = presets.compactMap { p in p.error.map { (p.name, Double(p.bytes), $0) } }
    let xs = points.map(\.0) + marks.map(\.1) + [Double(s.bytes)]
    let ys = (points.map(\.1) + marks.map(\.2) + [s.error]).filter { $0 > 0 }
    if let x0 = xs.min(), let x1 = xs.max(), let y0 = ys.min(), let y1 = ys.max(), x1 > x0 {
      let w = 760.0, h = 400.0, left = 86.0, right = 96.0, top = 24.0, bottom = 56.0
      // Whole decades around the errors, so the log axis has labelled ticks at both ends.
      let ly0 = (log10(y0)).rounded(.down), ly1 = max((log10(y1)).rounded(.up), ly0 + 1)
      func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * (w - left - right) }
      func py(_ y: Double) -> Double { h - bottom - (log10(max(y, y0)) - ly0) / (ly1 - ly0) * (h - top - bottom) }
      func text(_ x: Double, _ y: Double, _ s: String, anchor: String = "start", size: Int = 12) -> String {
        String(
          format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" text-anchor=\"%@\">%@</text>", x, y, size, anchor,
          esc(s))
      }
      var svg =
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\">"
      svg += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>"
      // Axes, with five size ticks and one tick per decade of error.
      let axis = "stroke=\"#444\" stroke-width=\"1\""
      svg += String(
        format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" %@/>", left, h - bottom, w - right, h - bottom,
        axis)
      svg += String(
        format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" %@/>", left, top, left, h - bottom, axis)
      for k in 0...4 {
        let x = x0 + (x1 - x0) * Double(k) / 4
        svg += String(
          format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" %@/>", px(x), h - bottom, px(x),
          h - bottom + 5, axis)
        svg += text(px(x), h - bottom + 19, ByteSize.describe(Int(x.rounded())), anchor: "middle")
      }
      for d in Int(ly0)...Int(ly1) {
        let y = h - bottom - (Double(d) - ly0) / (ly1 - ly0) * (h - top - bottom)
        svg += String(
          format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>", left, y, w - right, y)
        svg += text(left - 6, y + 4, "1e\(d)", anchor: "end")
      }
      svg += text((left + w - right) / 2, h - 12, "size of the tensor data", anchor: "middle")
      svg += String(
        format: "<text x=\"16\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 16 %.1f)\">",
        (top + h - bottom) / 2, (top + h - bottom) / 2)
      svg += "predicted error (log scale)</text>"
      let path = points.map { String(format: "%.1f,%.1f", px($0.0), py($0.1)) }.joined(separator: " ")
      svg += "<polyline fill=\"none\" stroke=\"#2a6fdb\" stroke-width=\"2\" points=\"\(path)\"/>"
      for (x, y) in points {
        svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"#2a6fdb\"/>", px(x), py(y))
      }
      // Presets: labels right of their point, moved down when they would overlap an earlier one.
      var placed: [(x: Double, y: Double)] = []
      for (name, x, y) in marks.sorted(by: { $0.1 < $1.1 }) {
        svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"#d9534f\"/>", px(x), py(y))
        var ly = py(y) - 7
        while placed.contains(where: { abs($0.y - ly) < 13 && abs($0.x - (px(x) + 7)) < 70 }) { ly += 13 }
        placed.append((px(x) + 7, ly))
        svg += text(px(x) + 7, ly, name)
      }
      svg += String(
        format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"7\" fill=\"none\" stroke=\"#111\" stroke-width=\"2\"/>",
        px(Double(s.bytes)), py(s.error))
      svg += "</svg>"
      body += "<h2>Pareto frontier</h2>\n<p>Blue: the best mix at each size; red: presets measured the same way;"
      body += " circled: the chosen mix.</p>\n" + svg + "\n"
    }

    // Chosen type by layer × kind.
    let rows = result.rows.filter { $0.layer != nil && ($0.fixedBy == nil || !$0.fixedBy!.hasPrefix("keep:")) }
    var kinds: [String] = []
    for r in rows where !kinds.contains(r.kind) { kinds.append(r.kind) }
    let layers = Array(Set(rows.compactMap(\.layer))).sorted()
    var cell: [String: GGMLType] = [:]
    for r in rows { cell["\(r.layer!)/\(r.kind)"] = r.type }
    // By size, then by name: Q4_0 and Q4_K share 4.5 bits per weight, and a Set's order changes from
    // run to run, so without the second key the colours would too.
    func precedes(_ a: GGMLType, _ b: GGMLType) -> Bool {
      let (x, y): (Double, Double) = (a.bitsPerWeight, b.bitsPerWeight)
      if x != y { return x < y }
      return a.name < b.name
    }
    let types: [GGMLType] = Array(Set(rows.map(\.type))).sorted(by: precedes)
    func color(_ t: GGMLType) -> String {
      let i = types.firstIndex(of: t) ?? 0
      let f = types.count > 1 ? Double(i) / Double(types.count - 1) : 0
      return String(format: "hsl(%.0f,70%%,%.0f%%)", 10 + 200 * f, 55 + 20 * (1 - f))
    }
    body += "<h2>Chosen type by layer and kind</h2>\n<table><tr><th>layer</th>"
    body += kinds.map { "<th>\(esc($0))</th>" }.joined() + "</tr>\n"
    for l in layers {
      body += "<tr><td>blk.\(l)</td>"
      for k in kinds {
        if let t = cell["\(l)/\(k)"] {
          body += "<td style=\"background:\(color(t))\">\(esc(t.name))</td>"
        } else {
          body += "<td></td>"
        }
      }
      body += "</tr>\n"
    }
    body += "</table>\n"
    body += "<h2>Command</h2>\n<pre>\(esc(commandLine))</pre>\n"
    return """
      <!DOCTYPE html>
      <html><head><meta charset="utf-8"><title>quantscope tune report</title>
      <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:12px}\
      td,th{border:1px solid #ccc;padding:2px 6px}</style></head><body>
      \(body)</body></html>

      """
  }

  /// A preset's predicted error from a tune measurement: the sum, over the tensors tune measured,
  /// of the error of the type the preset's plan gives each; `nil` when the plan gives a tensor a
  /// type that was not measured, or a fixed tensor another type.
  public static func presetError(plan: Plan, table: TuneTable) -> Double? {
    let byName = Dictionary(uniqueKeysWithValues: table.items.map { ($0.name, $0) })
    var total = 0.0
    for t in plan.tensors {
      guard let item = byName[t.name] else { continue }
      guard let o = item.options.first(where: { $0.type == t.targetType }) else {
        if item.fixedBy != nil { continue }
        return nil
      }
      total += o.error
    }
    return total
  }
}
