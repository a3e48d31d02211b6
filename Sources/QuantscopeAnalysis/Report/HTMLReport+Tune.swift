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
    func gib(_ b: Int) -> String { String(format: "%.3f GiB", Double(b) / 1_073_741_824) }
    let s = result.solution
    var body = "<h1>quantscope tune report</h1>\n"
    body += "<p>Budget \(gib(s.budget)); chosen mix \(gib(s.bytes)), \(String(format: "%.3f", result.bitsPerWeight))"
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
      let w = 720.0, h = 360.0, pad = 60.0
      let ly0 = log10(y0), ly1 = max(log10(y1), ly0 + 1e-9)
      func px(_ x: Double) -> Double { pad + (x - x0) / (x1 - x0) * (w - 2 * pad) }
      func py(_ y: Double) -> Double { h - pad - (log10(max(y, y0)) - ly0) / (ly1 - ly0) * (h - 2 * pad) }
      var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\">"
      svg += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>"
      let path = points.map { String(format: "%.1f,%.1f", px($0.0), py($0.1)) }.joined(separator: " ")
      svg += "<polyline fill=\"none\" stroke=\"#2a6fdb\" stroke-width=\"2\" points=\"\(path)\"/>"
      for (name, x, y) in marks {
        svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"#d9534f\"/>", px(x), py(y))
        svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">%@</text>", px(x) + 7, py(y) - 7, esc(name))
      }
      svg += String(
        format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"none\" stroke=\"#111\" stroke-width=\"2\"/>",
        px(Double(s.bytes)), py(s.error))
      svg += "<text x=\"\(Int(pad))\" y=\"\(Int(h - 20))\" font-size=\"12\">size: \(gib(Int(x0))) … \(gib(Int(x1)))"
      svg += " (tensor data)</text>"
      svg += "<text x=\"10\" y=\"20\" font-size=\"12\">predicted error (log): "
      svg += "\(String(format: "%.3e", y0)) … \(String(format: "%.3e", y1))</text></svg>"
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
    let types = Array(Set(rows.map(\.type))).sorted { $0.bitsPerWeight < $1.bitsPerWeight }
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
