import ArgumentParser
import Foundation
import QuantscopeFormats

extension Quantscope {
  /// `quantscope inspect`: metadata, tensor table and totals of weight files.
  struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show metadata, the tensor table and totals of GGUF or safetensors files.",
      discussion: """
        Shapes are row-major (outermost first, as numpy prints them); JSON also gives GGUF's `ne` \
        (innermost first). Offsets are absolute byte offsets in the file named. Long metadata \
        arrays are shortened to their first 8 elements unless --full. Totals give GiB (2^30 \
        bytes) with two decimals and bits per weight with three.

        Examples:
          quantscope inspect model-Q4_K_M.gguf
          quantscope inspect DeepSeek-V3-Q3_K_M-00003-of-00007.gguf --by-layer
          quantscope inspect DeepSeek-V3/ --tensors 'layers\\.0\\.' --markdown
          quantscope inspect model.safetensors --json --no-tensors | jq .totals
        """)

    @Argument(help: "GGUF file (any shard of a split set), safetensors file, checkpoint directory or shards.")
    var paths: [String]

    @Flag(help: "Print JSON (stable key order).")
    var json = false

    @Flag(help: "Print Markdown tables.")
    var markdown = false

    @Option(
      name: .customLong("tensors"),
      help: ArgumentHelp(
        "Only tensors whose name matches this regular expression (totals then cover those; an error if none does).",
        valueName: "regex"))
    var tensorPattern: String?

    @Flag(help: "Leave out the tensor table.")
    var noTensors = false

    @Flag(help: "One row per layer (blk.N / model.layers.N) instead of one per tensor.")
    var byLayer = false

    @Flag(help: "Print metadata arrays and strings in full.")
    var full = false

    func validate() throws {
      if json && markdown { throw ValidationError("--json and --markdown exclude each other") }
      if let tensorPattern {
        do { _ = try TensorNameFilter(tensorPattern) } catch { throw ValidationError("\(error)") }
      }
    }

    func run() throws {
      let model = try WeightFiles.open(paths)
      var tensors = model.tensors
      if let tensorPattern {
        tensors = try TensorNameFilter(tensorPattern).select(tensors, in: paths[0])
      }
      let report = InspectReport(model: model, tensors: tensors, full: full)
      if json {
        printJSON(report.json(tensorTable: !noTensors, byLayer: byLayer))
      } else {
        print(report.text(markdown: markdown, tensorTable: !noTensors, byLayer: byLayer), terminator: "")
      }
    }
  }
}

/// What `inspect` prints, computed once and formatted as text, Markdown or JSON.
struct InspectReport {
  let model: any TensorCollection
  let tensors: [TensorInfo]
  let full: Bool
  let totals: TensorTotals
  let types: [TensorSummary.EncodingRow]

  /// Arrays longer than this are shortened unless `full`.
  static let arrayPreview = 8
  /// Strings longer than this are shortened in text output unless `full`.
  static let stringPreview = 200

  init(model: any TensorCollection, tensors: [TensorInfo], full: Bool) {
    self.model = model
    self.tensors = tensors
    self.full = full
    self.totals = TensorTotals(tensors)
    self.types = TensorSummary.byEncoding(tensors)
  }

  var gguf: GGUFModel? { model as? GGUFModel }

  // MARK: JSON

  func json(tensorTable: Bool, byLayer: Bool) -> JSONValue {
    var root: [(String, JSONValue)] = []
    root.append(("files", .array(model.files.map { .members([("path", .string($0.path)), ("size", .int($0.size))]) })))
    if let g = gguf {
      let first = g.shards[0]
      root.append(("format", .string("gguf")))
      root.append(("version", .int(Int(first.version))))
      root.append(("big_endian", .bool(first.isBigEndian)))
      root.append(("alignment", .int(first.alignment)))
      root.append(("data_offsets", .array(g.shards.map { .int($0.dataStart) })))
    } else {
      root.append(("format", .string("safetensors")))
    }
    root.append(
      ("metadata", .array(model.metadataEntries.map { entry in
        var o: [(String, JSONValue)] = [("key", .string(entry.key)), ("type", .string(Self.typeName(entry.value)))]
        if let a = entry.value.array { o.append(("count", .int(a.count))) }
        o.append(("value", jsonValue(entry.value, depth: 0)))
        return .members(o)
      })))
    if tensorTable && !byLayer {
      root.append(("tensors", .array(tensors.map(jsonTensor))))
    }
    if byLayer {
      root.append(("layers", .array(TensorSummary.byLayer(tensors).map { row in
        var o: [(String, JSONValue)] = [("layer", row.layer.map { .int($0) } ?? .null)]
        o += Self.jsonTotals(row.totals)
        o.append(("types", .array(row.encodings.map { e in
          .members([("type", .string(e.encoding.name))] + Self.jsonTotals(e.totals))
        })))
        return .members(o)
      })))
    }
    root.append(("totals", .members(Self.jsonTotals(totals) + [("gib", .number(Self.round(totals.gibibytes, 2)))])))
    root.append(("types", .array(types.map { e in
      .members([("type", .string(e.encoding.name))] + Self.jsonTotals(e.totals))
    })))
    return .document(schema: "quantscope.inspect/1", root)
  }

  static func jsonTotals(_ t: TensorTotals) -> [(String, JSONValue)] {
    [("tensors", .int(t.tensors)), ("parameters", .int(t.parameters)), ("bytes", .int(t.bytes)),
     ("bpw", .number(round(t.bitsPerWeight, 3)))]
  }

  func jsonTensor(_ t: TensorInfo) -> JSONValue {
    var o: [(String, JSONValue)] = [("name", .string(t.name)), ("type", .string(t.encoding.name))]
    if case .ggml(let type) = t.encoding {
      o.append(("type_id", .int(Int(type.id))))
      if !type.isUsable { o.append(("usable", .bool(false))) }
    }
    o.append(("shape", .array(t.shape.map { .int($0) })))
    o.append(("ne", .array(t.ne.map { .int($0) })))
    o.append(("elements", .int(t.elementCount)))
    o.append(("bytes", .int(t.byteCount)))
    o.append(("bpw", .number(Self.round(t.bitsPerWeight, 4))))
    o.append(("file", .string(t.file.path)))
    o.append(("offset", .int(t.dataOffset)))
    return .members(o)
  }

  func jsonValue(_ v: GGUFValue, depth: Int) -> JSONValue {
    switch v {
    case .uint8(let x): .int(Int(x))
    case .int8(let x): .int(Int(x))
    case .uint16(let x): .int(Int(x))
    case .int16(let x): .int(Int(x))
    case .uint32(let x): .int(Int(x))
    case .int32(let x): .int(Int(x))
    case .uint64(let x): Int64(exactly: x).map { .integer($0) } ?? .unsigned(x)
    case .int64(let x): .int(Int(x))
    case .float32(let x): .number(Double(x))
    case .float64(let x): .number(x)
    case .bool(let x): .bool(x)
    case .string(let s): .string(s)
    case .array(_, let elements):
      .array((full ? elements[...] : elements.prefix(Self.arrayPreview)).map { jsonValue($0, depth: depth + 1) })
    }
  }

  // MARK: Text and Markdown

  func text(markdown: Bool, tensorTable: Bool, byLayer: Bool) -> String {
    var out = ""
    let files = model.files
    if let g = gguf {
      let first = g.shards[0]
      let order = first.isBigEndian ? "big-endian" : "little-endian"
      let split = g.shards.count > 1 ? ", split set of \(g.shards.count) files" : ""
      out += heading("GGUF v\(first.version) \(order), alignment \(first.alignment)\(split)", markdown)
    } else {
      out += heading("safetensors, \(files.count) file\(files.count == 1 ? "" : "s")", markdown)
    }
    for f in files { out += (markdown ? "- `\(f.path)`" : "  \(f.path)") + " (\(f.size) bytes)\n" }

    let meta = model.metadataEntries
    out += "\n" + heading("Metadata (\(meta.count) entries)", markdown)
    out += table(
      ["key", "type", "value"],
      meta.map { [$0.key, Self.typeName($0.value), textValue($0.value, markdown: markdown)] },
      markdown: markdown, rightAligned: [])

    if byLayer {
      let rows = TensorSummary.byLayer(tensors)
      out += "\n" + heading("Layers (\(rows.count))", markdown)
      out += table(
        ["layer", "tensors", "parameters", "bytes", "bpw", "types"],
        rows.map { r in
          [r.layer.map(String.init) ?? "other", String(r.totals.tensors), String(r.totals.parameters),
           String(r.totals.bytes), Format.bpw(r.totals.bitsPerWeight),
           r.encodings.map { "\($0.encoding.name)×\($0.totals.tensors)" }.joined(separator: " ")]
        }, markdown: markdown, rightAligned: [1, 2, 3, 4])
    } else if tensorTable {
      out += "\n" + heading("Tensors (\(tensors.count))", markdown)
      out += table(
        ["name", "type", "shape", "elements", "bytes", "bpw", "file", "offset"],
        tensors.map { t in
          let usable = if case .ggml(let type) = t.encoding { type.isUsable } else { true }
          return [t.name, usable ? t.encoding.name : "\(t.encoding.name) (unusable)",
                  "[" + t.shape.map(String.init).joined(separator: ", ") + "]",
                  String(t.elementCount), String(t.byteCount),
                  usable ? Format.bpw(t.bitsPerWeight) : "?",
                  Self.baseName(t.file.path), String(t.dataOffset)]
        }, markdown: markdown, rightAligned: [3, 4, 5, 7])
    }

    out += "\n" + heading("Totals", markdown)
    out += table(
      ["tensors", "parameters", "bytes", "GiB", "bpw"],
      [[String(totals.tensors), String(totals.parameters), String(totals.bytes),
        Format.gib(totals.bytes), Format.bpw(totals.bitsPerWeight)]],
      markdown: markdown, rightAligned: [0, 1, 2, 3, 4])
    out += "\n" + heading("By type", markdown)
    out += table(
      ["type", "tensors", "parameters", "bytes", "bpw"],
      types.map { [$0.encoding.name, String($0.totals.tensors), String($0.totals.parameters),
                   String($0.totals.bytes), Format.bpw($0.totals.bitsPerWeight)] },
      markdown: markdown, rightAligned: [1, 2, 3, 4])
    return out
  }

  func heading(_ s: String, _ markdown: Bool) -> String { markdown ? "## \(s)\n\n" : "\(s)\n" }

  /// A table as Markdown, or as aligned text indented under its heading.
  func table(_ header: [String], _ rows: [[String]], markdown: Bool, rightAligned: Set<Int>) -> String {
    let t = TextTable(header, rows: rows, rightAligned: rightAligned)
    if markdown { return t.markdown() }
    return t.render().split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 + "\n" }.joined()
  }

  func textValue(_ v: GGUFValue, markdown: Bool) -> String {
    switch v {
    case .string(let s):
      var shown = s
      if !full && s.count > Self.stringPreview {
        shown = String(s.prefix(Self.stringPreview)) + "… (\(s.count - Self.stringPreview) more characters)"
      }
      return Self.quote(shown)
    case .array(_, let elements):
      let shown = full ? elements[...] : elements.prefix(Self.arrayPreview)
      var parts = shown.map { textValue($0, markdown: markdown) }
      if shown.count < elements.count { parts.append("… (\(elements.count - shown.count) more)") }
      return "[" + parts.joined(separator: ", ") + "]"
    case .float32(let x): return "\(x)"
    case .float64(let x): return "\(x)"
    case .bool(let x): return x ? "true" : "false"
    case .uint64(let x): return String(x)
    default: return v.integer.map(String.init) ?? "?"
    }
  }

  /// A string quoted and escaped as a JSON string literal (control characters made visible).
  static func quote(_ s: String) -> String { JSONValue.string(s).serialized }

  static func typeName(_ v: GGUFValue) -> String {
    if case .array(let t, let elements) = v {
      if t == .array, let inner = elements.first { return "ARRAY[\(typeName(inner))]" }
      return "ARRAY[\(t.name)]"
    }
    return v.type.name
  }

  static func baseName(_ path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? path
  }

  static func round(_ x: Double, _ decimals: Int) -> Double {
    guard x.isFinite else { return x }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    return (x * scale).rounded() / scale
  }
}
