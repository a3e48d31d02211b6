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

        NaN and infinite values (a NaN scale tile, an overflowed tensor) are counted per tensor, \
        reference and candidate apart, and warned about on stderr; that tensor's metrics and \
        every roll-up containing it are n/a (null in JSON), never a score over the other values.

        --fail-above is a release gate: it fails (exit 2) when a tensor is past a limit, when a \
        tensor has NaN/Inf values, or when no tensor was compared; it names the worst tensor of \
        each failing metric in that metric's order. --json carries it as "gate". A --tensors \
        pattern that matches nothing is an error (exit 1) naming the nearest tensors.

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

    @Option(help: "Only candidate tensors whose name matches this regular expression (an error if none does).")
    var tensors: String?

    @Option(help: "Importance matrix (llama.cpp GGUF imatrix or legacy .dat) to weight the error.")
    var imatrix: String?

    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Print CSV (one row per tensor).") var csv = false

    @Option(name: .customLong("fail-above"), parsing: .singleValue,
      help: ArgumentHelp(
        "Exit 2 when any tensor is worse than METRIC=VALUE (mse, rmse, nmse, nmse_db, maxabs, or cosine/snr_db: worse means lower), has NaN/Inf values, or no tensor is compared.",
        valueName: "metric=value"))
    var failAbove: [String] = []

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
      _ = try thresholds()
      if let tensors {
        do { _ = try TensorNameFilter(tensors) } catch { throw ValidationError("\(error)") }
      }
    }

    /// The parsed `--fail-above` limits; a limit that cannot both pass and fail is a usage error.
    func thresholds() throws -> [DiffGate.Threshold] {
      try failAbove.map { text in
        do { return try DiffGate.Threshold(parsing: text) } catch { throw ValidationError("--fail-above \(error)") }
      }
    }

    func run() throws {
      try DiffInputs.check(candidate: candidate, reference: reference)
      let model = try GGUFModel(path: candidate)
      let ref = try WeightFiles.open(reference)
      var options = QuantscopeAnalysis.Diff.Options()
      options.precision = precision
      options.tensorFilter = tensors
      if let threads { options.threads = threads }
      if let imatrix { options.importance = try ImportanceMatrix(path: imatrix) }
      options.progress = progressOptions.reporter(label: "diff")
      let diff = try QuantscopeAnalysis.Diff(candidate: model, reference: ref, options: options)

      let gate = try failAbove.isEmpty ? nil : DiffGate(diff, thresholds: thresholds())
      // Tensors without metrics (NaN/Inf values) sort first: they are the worst news.
      typealias Row = QuantscopeAnalysis.Diff.TensorResult
      func worstFirst(_ key: @escaping (ErrorMetrics) -> Double) -> (Row, Row) -> Bool {
        { a, b in
          guard let x = a.metrics else { return b.metrics != nil }
          guard let y = b.metrics else { return false }
          return key(x) > key(y)
        }
      }
      var rows = diff.tensors
      switch sort {
      case .nmse: rows.sort(by: worstFirst { $0.nmse })
      case .mse: rows.sort(by: worstFirst { $0.mse })
      case .cosine: rows.sort(by: worstFirst { -$0.cosine })
      case .maxabs: rows.sort(by: worstFirst { $0.maxAbsoluteError })
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

      for t in diff.tensors where t.sums.nonFinite > 0 {
        FileHandle.standardError.write(Data(
          ("quantscope: warning: \(candidate): \(t.name): \(t.sums.nonFiniteReference) NaN/Inf reference and "
            + "\(t.sums.nonFiniteCandidate) NaN/Inf candidate value(s), first at "
            + "[\(t.firstNonFinitePosition.map(String.init).joined(separator: ","))] "
            + "(reference \(t.referenceOrigin)); its metrics and roll-ups are n/a\n").utf8))
      }

      if json {
        printJSON(
          DiffReport.json(
            diff, rows: rows, candidate: candidate, reference: reference, precision: precision, gate: gate))
      } else if csv {
        print(DiffReport.csv(rows, weighted: imatrix != nil))
      } else {
        print(DiffReport.table(diff, rows: rows, weighted: imatrix != nil, style: colorOptions.style))
      }

      if let note = gate?.coverageNote {
        FileHandle.standardError.write(Data("quantscope: warning: \(note)\n".utf8))
      }
      if let gate, !gate.passed {
        for line in gate.messages { FileHandle.standardError.write(Data("quantscope: gate failed: \(line)\n".utf8)) }
        throw ExitCode(ExitStatus.findings)
      }
    }
  }
}

extension ReferencePrecision: ExpressibleByArgument {}

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
      let elements = Format.count(r.sums.count + r.sums.nonFinite)
      guard let m = r.metrics else {
        // No score: NaN/Inf values (or nothing compared). Say so in every metric cell.
        var row = [r.name, r.type, Format.bpw(r.bitsPerWeight), elements]
        row += Array(repeating: style.paint(notAvailable, .red), count: 5) + [""]
        if weighted { row.append(style.paint(notAvailable, .red)) }
        t.add(row)
        continue
      }
      var row = [
        r.name, r.type, Format.bpw(r.bitsPerWeight), elements, Format.sci(m.mse), nmseCell(m, style),
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
    let nonFinite = diff.tensors.filter { $0.sums.nonFinite > 0 }
    if !nonFinite.isEmpty {
      out.append("\ntensors with NaN/Inf values, metrics n/a (\(nonFinite.count)): "
        + nonFinite.map {
          "\($0.name) (\($0.sums.nonFiniteReference) reference, \($0.sums.nonFiniteCandidate) candidate)"
        }.joined(separator: ", "))
    }
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

  /// What a metric cell says when the tensor has no metrics.
  static let notAvailable = "n/a"

  /// NMSE in dB with one decimal, coloured by severity.
  static func nmseCell(_ m: ErrorMetrics, _ style: Style) -> String {
    style.paint(Format.db(m.nmseDecibels), Style.severity(nmseDecibels: m.nmseDecibels))
  }

  /// One roll-up table (per layer, per kind or the whole model).
  static func rollupTable(_ label: String, _ rollups: [QuantscopeAnalysis.Diff.Rollup], _ style: Style) -> String {
    var t = TextTable([label.isEmpty ? "whole model" : label, "tensors", "elements", "mse", "nmse_db", "cosine", "snr_db"],
      rightAligned: Set(1...6))
    for r in rollups {
      let elements = Format.count(r.sums.count + r.sums.nonFinite)
      guard let m = r.metrics else {
        t.add([r.label, String(r.tensors), elements] + Array(repeating: style.paint(notAvailable, .red), count: 4))
        continue
      }
      t.add([r.label, String(r.tensors), elements, Format.sci(m.mse), nmseCell(m, style),
        Format.cosine(m.cosine), Format.db(m.snrDecibels)])
    }
    return t.render()
  }

  static let csvColumns = [
    "tensor", "type", "bpw", "elements", "mse", "rmse", "nmse", "nmse_db", "cosine", "snr_db", "max_abs", "max_abs_at",
    "mean_abs", "rel_frobenius", "non_finite_reference", "non_finite_candidate",
  ]

  static func csv(_ rows: [QuantscopeAnalysis.Diff.TensorResult], weighted: Bool) -> String {
    var lines = [(csvColumns + (weighted ? ["weighted_nmse"] : [])).joined(separator: ",")]
    for r in rows {
      let counts = ["\(r.sums.nonFiniteReference)", "\(r.sums.nonFiniteCandidate)"]
      let elements = "\(r.sums.count + r.sums.nonFinite)"
      guard let m = r.metrics else {
        // Empty cells: CSV's null. Never a number the tensor does not have.
        var cells = [r.name, r.type, "\(r.bitsPerWeight)", elements] + Array(repeating: "", count: 10) + counts
        if weighted { cells.append("") }
        lines.append(cells.joined(separator: ","))
        continue
      }
      var cells = [
        r.name, r.type, "\(r.bitsPerWeight)", elements, "\(m.mse)", "\(m.rmse)", "\(m.nmse)", "\(m.nmseDecibels)",
        "\(m.cosine)", "\(m.snrDecibels)", "\(m.maxAbsoluteError)",
        r.maxErrorPosition.map(String.init).joined(separator: ":"), "\(m.meanAbsoluteError)", "\(m.relativeFrobenius)",
      ] + counts
      if weighted { cells.append(m.weightedNMSE.map { "\($0)" } ?? "") }
      lines.append(cells.joined(separator: ","))
    }
    return lines.joined(separator: "\n")
  }

  /// The metric members of a tensor or roll-up: `null` metrics when it has none (NaN/Inf values),
  /// never a score over the remaining values.
  static func metricsMembers(_ sums: ErrorAccumulator) -> [(String, JSONValue)] {
    let m = sums.metrics
    var o: [(String, JSONValue)] = [
      ("elements", .int(sums.count + sums.nonFinite)), ("mse", .finite(m?.mse)), ("rmse", .finite(m?.rmse)),
      ("nmse", .finite(m?.nmse)), ("nmse_db", .finite(m?.nmseDecibels)), ("cosine", .finite(m?.cosine)),
      ("snr_db", .finite(m?.snrDecibels)), ("max_abs", .finite(m?.maxAbsoluteError)),
      ("mean_abs", .finite(m?.meanAbsoluteError)), ("rel_frobenius", .finite(m?.relativeFrobenius)),
    ]
    if sums.sumWeights > 0 || m?.weightedNMSE != nil { o.append(("weighted_nmse", .finite(m?.weightedNMSE))) }
    o += [
      ("non_finite", .int(sums.nonFinite)), ("non_finite_reference", .int(sums.nonFiniteReference)),
      ("non_finite_candidate", .int(sums.nonFiniteCandidate)),
    ]
    return o
  }

  /// The `gate` object: thresholds, each failing threshold with its worst tensor (in the
  /// metric's order) and failing tensors, the tensors with NaN/Inf values, and the verdict.
  static func gateObject(_ gate: DiffGate) -> JSONValue {
    .members([
      (
        "thresholds",
        .array(
          gate.thresholds.map { t in
            .members([
              ("metric", .string(t.metric.rawValue)), ("limit", .finite(t.limit)),
              ("fails_when", .string(t.metric.higherIsWorse ? "above" : "below")),
            ])
          })
      ),
      (
        "failures",
        .array(
          gate.failures.map { f in
            .members([
              ("metric", .string(f.threshold.metric.rawValue)), ("limit", .finite(f.threshold.limit)),
              ("worst", .optional(f.worst?.name)), ("worst_value", .finite(f.worst?.value)),
              ("tensors", .array(f.tensors.map { .members([("name", .string($0.name)), ("value", .finite($0.value))]) })),
              ("non_finite_tensors", .array(f.nonFinite.map { .string($0) })),
            ])
          })
      ),
      (
        "non_finite_tensors",
        .array(
          gate.nonFiniteTensors.map { t in
            .members([
              ("name", .string(t.name)), ("non_finite_reference", .int(t.reference)),
              ("non_finite_candidate", .int(t.candidate)),
            ])
          })
      ),
      ("tensors_compared", .int(gate.tensorsCompared)),
      ("not_compared", .array(gate.notCompared.map { .string($0) })),
      ("passed", .bool(gate.passed)),
    ])
  }

  static func json(
    _ diff: QuantscopeAnalysis.Diff, rows: [QuantscopeAnalysis.Diff.TensorResult], candidate: String, reference: [String],
    precision: ReferencePrecision, gate: DiffGate? = nil
  ) -> JSONValue {
    func ints(_ list: [Int]) -> JSONValue { .array(list.map { .int($0) }) }
    func strings(_ list: [String]) -> JSONValue { .array(list.map { .string($0) }) }
    let tensors: [JSONValue] = rows.map { r in
      var o: [(String, JSONValue)] = [
        ("name", .string(r.name)), ("type", .string(r.type)), ("bpw", .finite(r.bitsPerWeight)),
        ("shape", ints(r.shape)), ("kind", .string(r.kind)), ("layer", r.layer.map { .int($0) } ?? .null),
        ("reference", .string(r.referenceOrigin)),
      ]
      o += metricsMembers(r.sums)
      o.append(("max_abs_at", r.metrics == nil ? .null : ints(r.maxErrorPosition)))
      if r.sums.nonFinite > 0 { o.append(("first_non_finite_at", ints(r.firstNonFinitePosition))) }
      return .members(o)
    }
    func rollup(_ r: QuantscopeAnalysis.Diff.Rollup) -> JSONValue {
      .members([("label", .string(r.label)), ("tensors", .int(r.tensors))] + metricsMembers(r.sums))
    }
    return .document(
      schema: "quantscope.diff/1",
      [
        ("candidate", .string(candidate)), ("reference", strings(reference)),
        ("reference_precision", .string(precision.rawValue)), ("architecture", .optional(diff.architecture)),
        ("tensors", .array(tensors)), ("layers", .array(diff.byLayer.map(rollup))),
        ("kinds", .array(diff.byKind.map(rollup))), ("model", rollup(diff.model)),
        ("missing_reference", strings(diff.missingReference)), ("unmapped_reference", strings(diff.unmappedReference)),
        ("skipped_reference", strings(diff.skippedReference)), ("gate", gate.map(gateObject) ?? .null),
      ])
  }
}
