import ArgumentParser
import Foundation
import QuantscopeAnalysis
import QuantscopeFormats

extension Quantscope {
  /// `quantscope diff`: per-tensor error of a quantized GGUF against a reference.
  struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Measure, tensor by tensor, what quantization lost against a reference.",
      discussion: """
        CANDIDATE is a GGUF file (any shard of a split set). The reference is an FP8 safetensors \
        checkpoint (F8_E4M3 with weight_scale_inv 128x128 blocks, or weight_scale per tensor or \
        channel), a BF16/F16/F32 safetensors checkpoint, or another GGUF. Hugging Face names and \
        layouts are mapped to GGUF as llama.cpp's converter does (deepseek2, llama, qwen2, qwen3, \
        gemma, gemma3): experts stacked, kv_b_proj split into attn_k_b/attn_v_b (or the legacy \
        attn_kv_b), llama Q/K rows permuted, gemma norms plus one. Unmapped tensors are listed.

        Per tensor: MSE, RMSE, NMSE (MSE / mean(ref^2)) and NMSE in dB, cosine similarity, SNR, max \
        abs error and its position, mean abs error, relative Frobenius error. Roll-ups per layer, \
        per tensor kind and for the whole model are weighted by elements. Sums are in double and \
        do not depend on the thread count.

        Examples:
          quantscope diff model-Q3_K_M.gguf --ref DeepSeek-V3/ --sort nmse --top 20
          quantscope diff q4.gguf --ref bf16.gguf --json > report.json
          quantscope diff q3.gguf --ref fp8/ --fail-above nmse_db=-20
        """)

    @Argument(help: "The quantized GGUF (any shard of a split set).")
    var candidate: String

    @Option(name: .customLong("ref"), parsing: .upToNextOption,
      help: "Reference: safetensors file, checkpoint directory, shards, or a GGUF.")
    var reference: [String]

    @Option(name: .customLong("ref-precision"),
      help: "exact: FP8 * scale in double (default); bf16: the product rounded to bf16, as a BF16 GGUF holds it.")
    var precision: ReferencePrecision = .exact

    @Option(help: "Sort tensors: nmse (worst first), mse, cosine (lowest first), maxabs, name, file (file order).")
    var sort: SortKey = .nmse

    @Option(help: "Show only the N first tensors after sorting.")
    var top: Int?

    @Option(help: "Only candidate tensors whose name matches this regular expression.")
    var tensors: String?

    @Option(help: "Importance matrix (llama.cpp GGUF imatrix or legacy .dat) to weight the error.")
    var imatrix: String?

    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Print CSV (one row per tensor).") var csv = false

    @Option(name: .customLong("fail-above"), parsing: .singleValue,
      help: ArgumentHelp(
        "Exit 2 when any tensor is worse than METRIC=VALUE (mse, rmse, nmse, nmse_db, maxabs, or cosine/snr_db: worse means lower).",
        valueName: "metric=value"))
    var failAbove: [Threshold] = []

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(help: "Also write a self-contained HTML report (heatmaps, worst tensors) to this file.")
    var report: String?

    @Flag(help: "Replace the report file if it exists.")
    var force = false

    @OptionGroup(title: "Progress")
    var progressOptions: ProgressOptions

    @OptionGroup(title: "Colour")
    var colorOptions: ColorOptions

    enum SortKey: String, ExpressibleByArgument, CaseIterable { case nmse, mse, cosine, maxabs, name, file }

    func validate() throws {
      if json && csv { throw ValidationError("--json and --csv exclude each other") }
      if let top, top < 1 { throw ValidationError("--top must be at least 1") }
      if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
      if let threads, threads > Limits.maximumThreads {
        throw ValidationError("--threads must be at most \(Limits.maximumThreads)")
      }
    }

    func run() throws {
      let model = try GGUFModel(path: candidate)
      let ref = try WeightFiles.open(reference)
      var options = QuantscopeAnalysis.Diff.Options()
      options.precision = precision
      options.tensorFilter = tensors
      if let threads { options.threads = threads }
      if let imatrix { options.importance = try ImportanceMatrix(path: imatrix) }
      options.progress = progressOptions.reporter(label: "diff")
      let diff = try QuantscopeAnalysis.Diff(candidate: model, reference: ref, options: options)

      var rows = diff.tensors
      switch sort {
      case .nmse: rows.sort { $0.metrics.nmse > $1.metrics.nmse }
      case .mse: rows.sort { $0.metrics.mse > $1.metrics.mse }
      case .cosine: rows.sort { $0.metrics.cosine < $1.metrics.cosine }
      case .maxabs: rows.sort { $0.metrics.maxAbsoluteError > $1.metrics.maxAbsoluteError }
      case .name: rows.sort { $0.name < $1.name }
      case .file: break
      }
      if let top { rows = Array(rows.prefix(top)) }

      if let report {
        let html = HTMLReport(
          diff: diff, candidate: model, commandLine: CommandLine.arguments.joined(separator: " "),
          inputs: HTMLReport.describe(files: model.files + ref.files))
        let out = try OutputFile(
          path: report, overwrite: force, inputs: [candidate] + reference + (imatrix.map { [$0] } ?? []))
        try out.write(html.render())
        try out.commit()
      }

      if json {
        print(try DiffReport.json(diff, rows: rows, candidate: candidate, reference: reference, precision: precision))
      } else if csv {
        print(DiffReport.csv(rows, weighted: imatrix != nil))
      } else {
        print(DiffReport.table(diff, rows: rows, weighted: imatrix != nil, style: colorOptions.style))
      }

      let failing = diff.tensors.filter { t in failAbove.contains { $0.isViolated(by: t.metrics) } }
      if !failing.isEmpty {
        FileHandle.standardError.write(Data(
          "quantscope: \(failing.count) tensor(s) exceed the thresholds, worst: \(failing[0].name)\n".utf8))
        throw ExitCode(ExitStatus.findings)
      }
    }
  }
}

extension ReferencePrecision: ExpressibleByArgument {}

/// A `METRIC=VALUE` limit for `--fail-above`.
struct Threshold: ExpressibleByArgument {
  enum Metric: String, CaseIterable { case mse, rmse, nmse, nmse_db, maxabs, cosine, snr_db }
  let metric: Metric
  let value: Double

  init?(argument: String) {
    let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
    guard parts.count == 2, let m = Metric(rawValue: parts[0].lowercased()), let v = Double(parts[1]) else { return nil }
    metric = m
    value = v
  }

  func isViolated(by m: ErrorMetrics) -> Bool {
    switch metric {
    case .mse: m.mse > value
    case .rmse: m.rmse > value
    case .nmse: m.nmse > value
    case .nmse_db: m.nmseDecibels > value
    case .maxabs: m.maxAbsoluteError > value
    case .cosine: m.cosine < value
    case .snr_db: m.snrDecibels < value
    }
  }
}

/// Renders a diff as a table, CSV or JSON.
enum DiffReport {
  /// The per-tensor table, the roll-ups and the lists of unmatched tensors; NMSE dB cells are
  /// coloured by severity when `style` is on.
  static func table(
    _ diff: QuantscopeAnalysis.Diff, rows: [QuantscopeAnalysis.Diff.TensorResult], weighted: Bool, style: Style = .plain
  ) -> String {
    var header = ["tensor", "type", "bpw", "elements", "mse", "nmse_db", "cosine", "snr_db", "max_abs", "at"]
    if weighted { header.append("w_nmse_db") }
    var t = TextTable(header, rightAligned: Set(2...8).union(weighted ? [10] : []))
    for r in rows {
      let m = r.metrics
      var row = [
        r.name, r.type, Format.bpw(r.bitsPerWeight), Format.count(m.count), Format.sci(m.mse), nmseCell(m, style),
        Format.cosine(m.cosine), Format.db(m.snrDecibels), Format.sci(m.maxAbsoluteError),
        "[" + r.maxErrorPosition.map(String.init).joined(separator: ",") + "]",
      ]
      if weighted {
        row.append(m.weightedNMSE.map { 10 * log10($0) }.map { style.paint(Format.db($0), Style.severity(nmseDecibels: $0)) } ?? "-")
      }
      t.add(row)
    }
    var out = [t.render(), ""]
    out.append(rollupTable("layer", diff.byLayer, style))
    out.append("")
    out.append(rollupTable("kind", diff.byKind, style))
    out.append("")
    out.append(rollupTable("", [diff.model], style))
    if !diff.missingReference.isEmpty {
      out.append("\ncandidate tensors without a reference (\(diff.missingReference.count)): "
        + diff.missingReference.joined(separator: ", "))
    }
    if !diff.unmappedReference.isEmpty {
      out.append("reference tensors no rule maps (\(diff.unmappedReference.count)): "
        + diff.unmappedReference.prefix(20).joined(separator: ", ") + (diff.unmappedReference.count > 20 ? ", …" : ""))
    }
    if !diff.skippedReference.isEmpty {
      out.append("reference tensors skipped (layers past num_hidden_layers, e.g. MTP): \(diff.skippedReference.count)")
    }
    return out.joined(separator: "\n")
  }

  /// NMSE in dB with one decimal, coloured by severity.
  static func nmseCell(_ m: ErrorMetrics, _ style: Style) -> String {
    style.paint(Format.db(m.nmseDecibels), Style.severity(nmseDecibels: m.nmseDecibels))
  }

  /// One roll-up table (per layer, per kind or the whole model).
  static func rollupTable(_ label: String, _ rollups: [QuantscopeAnalysis.Diff.Rollup], _ style: Style) -> String {
    var t = TextTable([label.isEmpty ? "whole model" : label, "tensors", "elements", "mse", "nmse_db", "cosine", "snr_db"],
      rightAligned: Set(1...6))
    for r in rollups {
      let m = r.metrics
      t.add([r.label, String(r.tensors), Format.count(m.count), Format.sci(m.mse), nmseCell(m, style),
        Format.cosine(m.cosine), Format.db(m.snrDecibels)])
    }
    return t.render()
  }

  static let csvColumns = [
    "tensor", "type", "bpw", "elements", "mse", "rmse", "nmse", "nmse_db", "cosine", "snr_db", "max_abs", "max_abs_at",
    "mean_abs", "rel_frobenius",
  ]

  static func csv(_ rows: [QuantscopeAnalysis.Diff.TensorResult], weighted: Bool) -> String {
    var lines = [(csvColumns + (weighted ? ["weighted_nmse"] : [])).joined(separator: ",")]
    for r in rows {
      let m = r.metrics
      var cells = [
        r.name, r.type, "\(r.bitsPerWeight)", "\(m.count)", "\(m.mse)", "\(m.rmse)", "\(m.nmse)", "\(m.nmseDecibels)",
        "\(m.cosine)", "\(m.snrDecibels)", "\(m.maxAbsoluteError)",
        r.maxErrorPosition.map(String.init).joined(separator: ":"), "\(m.meanAbsoluteError)", "\(m.relativeFrobenius)",
      ]
      if weighted { cells.append(m.weightedNMSE.map { "\($0)" } ?? "") }
      lines.append(cells.joined(separator: ","))
    }
    return lines.joined(separator: "\n")
  }

  static func metricsObject(_ m: ErrorMetrics) -> [String: Any] {
    var o: [String: Any] = [
      "elements": m.count, "mse": Format.json(m.mse), "rmse": Format.json(m.rmse), "nmse": Format.json(m.nmse),
      "nmse_db": Format.json(m.nmseDecibels), "cosine": Format.json(m.cosine), "snr_db": Format.json(m.snrDecibels),
      "max_abs": Format.json(m.maxAbsoluteError), "mean_abs": Format.json(m.meanAbsoluteError),
      "rel_frobenius": Format.json(m.relativeFrobenius), "non_finite": m.nonFinite,
    ]
    if let w = m.weightedNMSE { o["weighted_nmse"] = Format.json(w) }
    return o
  }

  static func json(
    _ diff: QuantscopeAnalysis.Diff, rows: [QuantscopeAnalysis.Diff.TensorResult], candidate: String, reference: [String],
    precision: ReferencePrecision
  ) throws -> String {
    let tensors: [[String: Any]] = rows.map { r in
      var o = metricsObject(r.metrics)
      o["name"] = r.name
      o["type"] = r.type
      o["bpw"] = r.bitsPerWeight
      o["shape"] = r.shape
      o["kind"] = r.kind
      o["layer"] = r.layer ?? NSNull()
      o["max_abs_at"] = r.maxErrorPosition
      o["reference"] = r.referenceOrigin
      return o
    }
    func rollups(_ list: [QuantscopeAnalysis.Diff.Rollup]) -> [[String: Any]] {
      list.map { r in
        var o = metricsObject(r.metrics)
        o["label"] = r.label
        o["tensors"] = r.tensors
        return o
      }
    }
    let object: [String: Any] = [
      "candidate": candidate, "reference": reference, "reference_precision": precision.rawValue,
      "architecture": diff.architecture ?? NSNull(),
      "tensors": tensors, "layers": rollups(diff.byLayer), "kinds": rollups(diff.byKind),
      "model": rollups([diff.model])[0],
      "missing_reference": diff.missingReference, "unmapped_reference": diff.unmappedReference,
      "skipped_reference": diff.skippedReference,
    ]
    return try Format.jsonString(object)
  }
}
