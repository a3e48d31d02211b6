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
        arrays are shortened to their first 8 elements unless --full. Sizes are given in the \
        binary unit that fits (KiB, MiB, GiB: 2^10, 2^20, 2^30 bytes) with two decimals, and \
        bits per weight with three.

        A GGUF cut off before its end (a download stopped midway) is still shown: the header, \
        metadata and every tensor, with a "data" column saying which tensors are present, \
        partial or missing, and a line "N of M bytes present" (M is the size of the whole file \
        as the header describes it). The exit status is then 2, as for findings. A file cut \
        off inside its header is an error naming the byte offset where it ends (exit 1).

        Examples:
          quantscope inspect model-Q4_K_M.gguf
          quantscope inspect DeepSeek-V3-Q3_K_M-00003-of-00007.gguf --by-layer
          quantscope inspect DeepSeek-V3/ --tensors 'layers\\.0\\.' --markdown
          quantscope inspect model.safetensors --json --no-tensors | jq .totals
          quantscope inspect partial-download-Q4_K_M.gguf --json \\
            | jq '.tensors[] | select(.data != "present") | .name'
        """)

    @Argument(help: "GGUF file (any shard of a split set), safetensors file, checkpoint directory or shards.")
    var paths: [String]

    @OptionGroup
    var jsonOptions: JSONOptions

    @Flag(help: "Print Markdown tables.")
    var markdown = false

    @OptionGroup
    var tensorFilter: TensorFilterOptions

    @Flag(help: "Leave out the tensor table.")
    var noTensors = false

    @Flag(help: "One row per layer (blk.N / model.layers.N) instead of one per tensor.")
    var byLayer = false

    @Flag(help: "Print metadata arrays and strings in full.")
    var full = false

    @OptionGroup
    var quietOptions: QuietOptions

    @OptionGroup(title: "Colour")
    var colorOptions: ColorOptions

    func validate() throws {
      if jsonOptions.json && markdown { throw ValidationError("--json and --markdown exclude each other") }
    }

    func run() throws {
      let model = try WeightFiles.open(paths, allowingTruncation: true)
      let tensors = try tensorFilter.select(model.tensors, in: paths[0])
      let report = InspectSummary(model: model, tensors: tensors, full: full)
      if jsonOptions.json {
        printJSON(report.jsonDocument(tensorTable: !noTensors, byLayer: byLayer))
      } else {
        let style = markdown ? Style.plain : colorOptions.style
        print(report.text(markdown: markdown, tensorTable: !noTensors, byLayer: byLayer, style: style), terminator: "")
      }
      // A partial download is a finding, not an error: everything the file holds was shown.
      if !report.truncatedShards.isEmpty { throw ExitCode(ExitStatus.findings) }
    }
  }
}

/// The text and Markdown forms of what `inspect` prints (the JSON document comes from the library).
extension InspectSummary {
  func text(markdown: Bool, tensorTable: Bool, byLayer: Bool, style: Style = .plain) -> String {
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
    for f in files { out += (markdown ? "- `\(f.path)`" : "  \(f.path)") + " (\(Format.count(f.size)) bytes)\n" }
    for shard in truncatedShards {
      let absent = Self.absentTensors(in: shard)
      out +=
        (markdown ? "- **truncated** `\(shard.file.path)`: " : "  truncated \(shard.file.path): ")
        + "\(shard.presentSummary); \(absent.missing) of \(shard.tensors.count) tensors missing, "
        + "\(absent.partial) partial\n"
    }

    let meta = model.metadataEntries
    out += "\n" + heading("Metadata (\(meta.count) entries)", markdown)
    out += table(
      ["key", "type", "value"],
      meta.map { entry in
        let value =
          if Self.fileTypeName(entry) != nil, let n = entry.value.integer { GGUFFileType.describe(n) } else {
            textValue(entry.value, markdown: markdown)
          }
        return [entry.key, Self.typeName(entry.value), value]
      },
      markdown: markdown, rightAligned: [])

    if byLayer {
      let rows = TensorSummary.byLayer(tensors)
      out += "\n" + heading("Layers (\(rows.count))", markdown)
      out += table(
        ["layer", "tensors", "parameters", "bytes", "bpw", "types"],
        rows.map { r in
          [
            r.layer.map(String.init) ?? "other", Format.count(r.totals.tensors), Format.count(r.totals.parameters),
            Format.count(r.totals.bytes), Format.bpw(r.totals.bitsPerWeight),
            r.encodings.map { "\($0.encoding.name)×\($0.totals.tensors)" }.joined(separator: " "),
          ]
        }, markdown: markdown, rightAligned: [1, 2, 3, 4])
    } else if tensorTable {
      out += "\n" + heading("Tensors (\(tensors.count))", markdown)
      let presence = showsPresence
      out += table(
        ["name", "type", "shape", "elements", "bytes", "bpw", "file", "offset"] + (presence ? ["data"] : []),
        tensors.map { t in
          let usable = if case .ggml(let type) = t.encoding { type.isUsable } else { true }
          return [
            t.name, usable ? t.encoding.name : style.paint("\(t.encoding.name) (unusable)", .red),
            Format.shape(t.shape),
            Format.count(t.elementCount), Format.count(t.byteCount),
            usable ? Format.bpw(t.bitsPerWeight) : "?",
            Self.baseName(t.file.path), String(t.dataOffset),
          ] + (presence ? [t.presence.rawValue] : [])
        }, markdown: markdown, rightAligned: [3, 4, 5, 7])
    }

    out += "\n" + heading("Totals", markdown)
    out += table(
      ["tensors", "parameters", "bytes", "size", "bpw"],
      [
        [
          Format.count(totals.tensors), Format.count(totals.parameters), Format.count(totals.bytes),
          Format.size(totals.bytes), Format.bpw(totals.bitsPerWeight),
        ]
      ],
      markdown: markdown, rightAligned: [0, 1, 2, 3, 4])
    out += "\n" + heading("By type", markdown)
    out += table(
      ["type", "tensors", "parameters", "bytes", "bpw"],
      types.map {
        [
          $0.encoding.name, Format.count($0.totals.tensors), Format.count($0.totals.parameters),
          Format.count($0.totals.bytes), Format.bpw($0.totals.bitsPerWeight),
        ]
      },
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

  static func baseName(_ path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? path
  }
}
