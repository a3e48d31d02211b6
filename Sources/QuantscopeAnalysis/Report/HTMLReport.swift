import Foundation
import QuantscopeFormats

/// A self-contained HTML report of a ``Diff``: the files compared, error by layer, heatmaps of
/// error and of type by layer × tensor kind, bars of bytes by type and of error share by kind,
/// every tensor (or the `tensorLimit` worst) in a sortable table, and the command and inputs
/// that produced it. No network, no external scripts or fonts; the SVG is
/// generated here, deterministically.
public struct HTMLReport {
  /// The comparison shown.
  public let diff: Diff
  /// The candidate model (for sizes by type).
  public let candidate: GGUFModel
  /// The command line that produced the report.
  public let commandLine: String
  /// Input files: name, size and a hash, as the caller computed them.
  public let inputs: [(name: String, size: Int, hash: String)]
  /// Rows in the tensor table (the worst first); `nil`: every tensor. The table says how many
  /// of how many it shows when it leaves some out.
  public var tensorLimit: Int? = nil
  /// The candidate and reference as the user named them (a checkpoint directory rather than its
  /// shards); `nil`: the candidate's first file and the input files that are not the candidate's.
  public var compared: (candidate: String, reference: String)? = nil
  /// An audit of the candidate (`quantscope audit --report`), shown as its own section; see HTMLReport+Audit.swift.
  public var audit: AuditReport? = nil
  /// An `attribute` measurement shown before the weight-space sections (HTMLReport+Attribute.swift).
  public var attribution: AttributionReport? = nil

  /// A report of `diff`.
  public init(diff: Diff, candidate: GGUFModel, commandLine: String, inputs: [(name: String, size: Int, hash: String)])
  {
    self.diff = diff
    self.candidate = candidate
    self.commandLine = commandLine
    self.inputs = inputs
  }

  /// NMSE in dB mapped onto the colour scale: `best` dB is 0, `worst` dB is 1.
  public static let scaleRange = (best: -60.0, worst: -10.0)

  /// The HTML document.
  public func render() -> String {
    var body = ""
    body += "<h1>quantscope diff report</h1>\n"
    let names = comparedNames
    body +=
      "<p class=files>candidate <code>\(escape(names.candidate))</code> vs reference "
      + "<code>\(escape(names.reference))</code></p>\n"
    let sums = diff.model.sums
    let whole =
      diff.model.metrics.map {
        "NMSE \(db($0.nmseDecibels)) dB, cosine \(String(format: "%.6f", $0.cosine)), SNR \(db($0.snrDecibels)) dB"
      } ?? "n/a"
    body +=
      "<p class=summary>\(diff.tensors.count) tensors, \(format(sums.count)) values compared — whole model: "
      + whole + (diff.architecture.map { ", architecture \(escape($0))" } ?? "") + "</p>\n"
    let nonFinite = diff.tensors.filter { $0.sums.nonFinite > 0 }
    if !nonFinite.isEmpty {
      // Never a score that hides NaN/Inf: name the tensors whose metrics are n/a.
      body +=
        "<p class=summary>NaN/Inf values, metrics n/a: "
        + nonFinite.map {
          "\(escape($0.name)) (\($0.sums.nonFiniteReference) reference, \($0.sums.nonFiniteCandidate) candidate)"
        }.joined(separator: ", ") + "</p>\n"
    }
    if let audit { body += auditSection(audit) }
    if let attribution { body += attributionSections(attribution) }
    body += section("Error by layer (NMSE, dB)", layerChart())
    body += section("Error by layer and tensor kind (NMSE, dB)", heatmap(mode: .error))
    body += section("Quantization type by layer and tensor kind", heatmap(mode: .type))
    let bytes = bytesByType()
    let mib = (bytes.map(\.1).max() ?? 0) < 1_073_741_824
    body += section(
      "Bytes by type",
      bars(bytes) { String(format: mib ? "%.2f MiB" : "%.2f GiB", $0 / (mib ? 1_048_576 : 1_073_741_824)) })
    body += section(
      "Share of squared error by tensor kind", bars(errorShareByKind()) { String(format: "%.1f %%", $0 * 100) })
    body += section("Tensors, worst first (NMSE)", worstTable())
    body += section("Inputs", inputsTable())
    return """
      <!DOCTYPE html>
      <html lang="en"><head><meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>quantscope diff report</title>
      <style>\(Self.css)</style>
      </head><body>
      \(body)
      <script>\(Self.sortScript)</script>
      </body></html>

      """
  }

  enum HeatmapMode { case error, type }

  /// The names shown in the header: ``compared``, or what the inputs say.
  var comparedNames: (candidate: String, reference: String) {
    if let compared { return compared }
    let own = Set(candidate.files.map(\.path))
    let reference = inputs.map(\.name).filter { !own.contains($0) }
    return (candidate.files.first?.path ?? "?", reference.isEmpty ? "?" : reference.joined(separator: ", "))
  }

  /// One bar per layer, its height and colour the layer's NMSE on the heatmap's scale (taller and
  /// redder is worse); a layer with NaN/Inf values is drawn full height in the worst colour.
  func layerChart() -> String {
    let layers = diff.byLayer
    guard !layers.isEmpty else { return "<p>No per-layer tensors.</p>" }
    let (best, worst) = Self.scaleRange
    let barW = max(4, min(24, 900 / layers.count)), plotH = 160, left = 44, top = 8
    let width = left + layers.count * barW + 10
    var svg =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"\(width)\" "
      + "height=\"\(top + plotH + 34)\" class=\"layers\">"
    for v in stride(from: best, through: worst, by: 10) {
      let y = top + plotH - Int((v - best) / (worst - best) * Double(plotH))
      svg += "<text class=\"axis\" x=\"\(left - 6)\" y=\"\(y + 4)\" text-anchor=\"end\">\(Int(v))</text>"
    }
    let labelEvery = max(1, layers.count / 16)
    for (i, layer) in layers.enumerated() {
      let m = layer.metrics
      let t = m.map { max(0, min(1, ($0.nmseDecibels - best) / (worst - best))) } ?? 1
      let h = max(1, Int(t * Double(plotH)))
      let x = left + i * barW
      let figures =
        m.map { "NMSE \(db($0.nmseDecibels)) dB, cosine \(String(format: "%.6f", $0.cosine))" }
        ?? "NaN/Inf values, metrics n/a"
      svg +=
        "<rect class=\"layer-bar\" x=\"\(x)\" y=\"\(top + plotH - h)\" width=\"\(barW - 1)\" height=\"\(h)\" "
        + "fill=\"\(ColorScale.sequential(t).hex)\"><title>\(escape(layer.label)), \(layer.tensors) tensors: "
        + "\(figures)</title></rect>"
      if i % labelEvery == 0 {
        let label = layer.label.hasPrefix("blk.") ? String(layer.label.dropFirst(4)) : layer.label
        svg +=
          "<text class=\"axis\" x=\"\(x + barW / 2)\" y=\"\(top + plotH + 14)\" "
          + "text-anchor=\"middle\">\(escape(label))</text>"
      }
    }
    svg += "<text class=\"axis\" x=\"\(left)\" y=\"\(top + plotH + 30)\">layer</text></svg>"
    return svg + "<p class=note>Per-layer NMSE over all the layer's values; higher bars are worse. "
      + "Hover a bar for its figures.</p>"
  }

  /// The colour of a ggml type in the type map: unquantized float types in neutral greys, so
  /// F32 never takes a colour the error scale uses for bad; quantized types in distinct hues.
  static func typeColor(_ type: String, among types: [String]) -> ColorScale.RGB {
    let floats = ["F32": 0.62, "F64": 0.55, "F16": 0.76, "BF16": 0.82]
    if let grey = floats[type.uppercased()] { return ColorScale.RGB(r: grey, g: grey, b: grey) }
    let quantized = types.filter { floats[$0.uppercased()] == nil }
    return ColorScale.categorical(quantized.firstIndex(of: type) ?? 0, of: quantized.count)
  }

  /// Kinds that occur in blocks, in a stable order (attention first, then FFN, others).
  var blockKinds: [String] {
    let kinds = Set(diff.tensors.filter { $0.layer != nil }.map(\.kind))
    func rank(_ k: String) -> Int { k.hasPrefix("attn") ? 0 : (k.hasPrefix("ffn") ? 1 : 2) }
    return kinds.sorted { (rank($0), $0) < (rank($1), $1) }
  }

  func heatmap(mode: HeatmapMode) -> String {
    let kinds = blockKinds
    let layers = Set(diff.tensors.compactMap(\.layer)).sorted()
    guard !kinds.isEmpty, !layers.isEmpty else { return "<p>No per-layer tensors.</p>" }
    var cells: [String: Diff.TensorResult] = [:]
    for t in diff.tensors { if let l = t.layer { cells["\(l)/\(t.kind)"] = t } }
    let types = Array(Set(diff.tensors.map(\.type))).sorted()
    let cw = 26, ch = 14, left = 56, top = 110
    let width = left + kinds.count * cw + 80
    let height = top + layers.count * ch + 10
    var svg =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"\(width)\" height=\"\(height)\" class=\"heatmap\">"
    for (j, k) in kinds.enumerated() {
      let x = left + j * cw + cw / 2
      svg += "<text class=\"axis\" transform=\"translate(\(x),\(top - 6)) rotate(-60)\">\(escape(k))</text>"
    }
    for (i, l) in layers.enumerated() {
      let y = top + i * ch + ch - 3
      svg += "<text class=\"axis\" x=\"\(left - 6)\" y=\"\(y)\" text-anchor=\"end\">blk.\(l)</text>"
      for (j, k) in kinds.enumerated() {
        let x = left + j * cw, yy = top + i * ch
        guard let t = cells["\(l)/\(k)"] else { continue }
        let m = t.metrics
        let fill: String
        switch mode {
        case .error:
          let (best, worst) = Self.scaleRange
          // No metrics (NaN/Inf values): the worst colour, never a good one.
          fill = ColorScale.sequential(m.map { ($0.nmseDecibels - best) / (worst - best) } ?? 1).hex
        case .type:
          fill = Self.typeColor(t.type, among: types).hex
        }
        svg +=
          "<rect x=\"\(x)\" y=\"\(yy)\" width=\"\(cw - 1)\" height=\"\(ch - 1)\" fill=\"\(fill)\">"
          + "<title>\(escape(t.name)) — \(escape(t.type)), \(bpw(t.bitsPerWeight)) bpw, "
          + (m.map { "NMSE \(db($0.nmseDecibels)) dB, cosine \(String(format: "%.6f", $0.cosine))" }
            ?? "NaN/Inf values, metrics n/a")
          + "</title></rect>"
      }
    }
    svg += "</svg>"
    return svg + legend(mode: mode, types: types)
  }

  func legend(mode: HeatmapMode, types: [String]) -> String {
    var svg: String
    switch mode {
    case .error:
      let (best, worst) = Self.scaleRange
      let w = 300
      svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w + 80)\" height=\"40\" class=\"legend\">"
      for i in 0..<60 {
        let c = ColorScale.sequential(Double(i) / 59).hex
        svg += "<rect x=\"\(10 + i * w / 60)\" y=\"4\" width=\"\(w / 60 + 1)\" height=\"14\" fill=\"\(c)\"/>"
      }
      for v in stride(from: best, through: worst, by: 10) {
        let x = 10 + Int((v - best) / (worst - best) * Double(w))
        svg += "<text class=\"axis\" x=\"\(x)\" y=\"34\" text-anchor=\"middle\">\(Int(v))</text>"
      }
      svg += "<text class=\"axis\" x=\"\(w + 20)\" y=\"16\">dB</text></svg>"
      svg +=
        "<p class=note>Lower is better; values outside \(Int(best))…\(Int(worst)) dB take the end colours. Hover a cell for its tensor, type and figures.</p>"
    case .type:
      svg =
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(types.count * 90 + 10)\" height=\"24\" class=\"legend\">"
      for (i, t) in types.enumerated() {
        let fill = Self.typeColor(t, among: types).hex
        svg +=
          "<rect x=\"\(10 + i * 90)\" y=\"4\" width=\"14\" height=\"14\" fill=\"\(fill)\"/>"
          + "<text class=\"axis\" x=\"\(28 + i * 90)\" y=\"16\">\(escape(t))</text>"
      }
      svg += "</svg>"
    }
    return svg
  }

  func bytesByType() -> [(String, Double)] {
    var bytes: [String: Int] = [:]
    for t in candidate.tensors { bytes[t.encoding.name, default: 0] += t.byteCount }
    return bytes.sorted { $0.value > $1.value }.map { ($0.key, Double($0.value)) }
  }

  func errorShareByKind() -> [(String, Double)] {
    let total = diff.tensors.reduce(0.0) { $0 + $1.sums.sumSquaredError }
    guard total > 0 else { return [] }
    return diff.byKind.map { ($0.label, $0.sums.sumSquaredError / total) }.sorted { $0.1 > $1.1 }
  }

  func bars(_ values: [(String, Double)], label format: (Double) -> String) -> String {
    guard let maxValue = values.map(\.1).max(), maxValue > 0 else { return "<p>Nothing to show.</p>" }
    let rowH = 18, labelW = 170, barW = 360
    var svg =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(labelW + barW + 120)\" height=\"\(values.count * rowH + 8)\" class=\"bars\">"
    for (i, (label, v)) in values.enumerated() {
      let y = 4 + i * rowH
      let w = max(1, Int(v / maxValue * Double(barW)))
      let shown = format(v)
      svg +=
        "<text class=\"axis\" x=\"\(labelW - 6)\" y=\"\(y + 12)\" text-anchor=\"end\">\(escape(label))</text>"
        + "<rect class=\"bar\" x=\"\(labelW)\" y=\"\(y)\" width=\"\(w)\" height=\"\(rowH - 4)\"><title>\(escape(label)): \(shown)</title></rect>"
        + "<text class=\"axis\" x=\"\(labelW + w + 6)\" y=\"\(y + 12)\">\(shown)</text>"
    }
    return svg + "</svg>"
  }

  func worstTable() -> String {
    // Tensors without metrics (NaN/Inf values) first: they are the worst news.
    let sorted = diff.tensors.sorted { ($0.metrics?.nmse ?? .infinity) > ($1.metrics?.nmse ?? .infinity) }
    let rows = sorted.prefix(tensorLimit ?? sorted.count)
    var html = ""
    if rows.count < sorted.count {
      html += "<p class=note>\(rows.count) of \(sorted.count) tensors, worst first; --top N sets how many.</p>"
    }
    html += "<table class=sortable><thead><tr>"
    for h in ["tensor", "type", "bpw", "elements", "NMSE dB", "cosine", "MSE", "max abs"] {
      html += "<th>\(h)</th>"
    }
    html += "</tr></thead><tbody>"
    for t in rows {
      let elements = t.sums.count + t.sums.nonFinite
      html +=
        "<tr><td>\(escape(t.name))</td><td>\(escape(t.type))</td>"
        + "<td data-v=\"\(t.bitsPerWeight)\">\(bpw(t.bitsPerWeight))</td>"
        + "<td data-v=\"\(elements)\">\(format(elements))</td>"
      guard let m = t.metrics else {
        html +=
          "<td data-v=\"999\">n/a</td><td data-v=\"-2\">n/a</td><td data-v=\"1e308\">n/a</td>"
          + "<td data-v=\"1e308\">n/a</td></tr>"
        continue
      }
      html +=
        ""
        + "<td data-v=\"\(m.nmseDecibels.isFinite ? m.nmseDecibels : -999)\">\(db(m.nmseDecibels))</td>"
        + "<td data-v=\"\(m.cosine)\">\(String(format: "%.6f", m.cosine))</td>"
        + "<td data-v=\"\(m.mse)\">\(String(format: "%.3e", m.mse))</td>"
        + "<td data-v=\"\(m.maxAbsoluteError)\">\(String(format: "%.3e", m.maxAbsoluteError))</td></tr>"
    }
    return html + "</tbody></table><p class=note>Click a column heading to sort.</p>"
  }

  func inputsTable() -> String {
    var html =
      "<p><code>\(escape(commandLine))</code></p><table><thead><tr><th>file</th><th>bytes</th><th>hash</th></tr></thead><tbody>"
    for i in inputs {
      html +=
        "<tr><td>\(escape(i.name))</td><td data-v=\"\(i.size)\">\(format(i.size))</td><td><code>\(escape(i.hash))</code></td></tr>"
    }
    return html + "</tbody></table>"
  }

  func section(_ title: String, _ content: String) -> String {
    "<section><h2>\(escape(title))</h2>\n\(content)\n</section>\n"
  }

  func escape(_ s: String) -> String {
    var out = ""
    for c in s {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      default: out.append(c)
      }
    }
    return out
  }

  func db(_ v: Double) -> String { v.isFinite ? String(format: "%.1f", v) : (v > 0 ? "inf" : "-inf") }
  func bpw(_ v: Double) -> String { String(format: "%.3f", v) }
  func format(_ n: Int) -> String {
    var out = ""
    for (i, ch) in String(n).reversed().enumerated() {
      if i > 0 && i % 3 == 0 { out.append(",") }
      out.append(ch)
    }
    return String(out.reversed())
  }

  static let css = """
    :root { color-scheme: light dark; --fg:#1b1f24; --bg:#ffffff; --muted:#57606a; --line:#d0d7de; --bar:#2f6fb0; }
    @media (prefers-color-scheme: dark) { :root { --fg:#e6edf3; --bg:#0d1117; --muted:#9da7b3; --line:#30363d; --bar:#58a6ff; } }
    body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 24px; }
    h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
    .summary, .note { color: var(--muted); }
    svg text.axis { fill: var(--fg); font: 11px system-ui, sans-serif; }
    svg rect.bar { fill: var(--bar); }
    table { border-collapse: collapse; } th, td { border-bottom: 1px solid var(--line); padding: 3px 10px; text-align: left; }
    td[data-v] { text-align: right; font-variant-numeric: tabular-nums; }
    table.sortable th { cursor: pointer; user-select: none; }
    code { font-family: ui-monospace, monospace; font-size: 12px; }
    """

  static let sortScript = """
    document.querySelectorAll('table.sortable').forEach(function (table) {
      table.querySelectorAll('th').forEach(function (th, col) {
        th.addEventListener('click', function () {
          var body = table.tBodies[0];
          var rows = Array.prototype.slice.call(body.rows);
          var asc = th.getAttribute('data-asc') !== '1';
          rows.sort(function (a, b) {
            var x = a.cells[col], y = b.cells[col];
            var vx = x.hasAttribute('data-v') ? parseFloat(x.getAttribute('data-v')) : x.textContent;
            var vy = y.hasAttribute('data-v') ? parseFloat(y.getAttribute('data-v')) : y.textContent;
            return (vx < vy ? -1 : vx > vy ? 1 : 0) * (asc ? 1 : -1);
          });
          rows.forEach(function (r) { body.appendChild(r); });
          th.setAttribute('data-asc', asc ? '1' : '0');
        });
      });
    });
    """
}

extension HTMLReport {
  /// Bytes hashed from the start of each file to identify it: the header and its tensor table,
  /// without reading hundreds of gigabytes of tensor data.
  public static let identifyingPrefix = 1 << 20

  /// Name, size and an identifying hash of each file: XXH3-128 of its first MiB (header and
  /// tensor table), labelled as such.
  public static func describe(files: [MappedFile]) -> [(name: String, size: Int, hash: String)] {
    files.map { f in
      let prefix = UnsafeRawBufferPointer(rebasing: f.allBytes.prefix(identifyingPrefix))
      return (f.path, f.size, "xxh3-128 of first \(min(f.size, identifyingPrefix)) bytes: \(XXH3.hash128(prefix).hex)")
    }
  }
}
