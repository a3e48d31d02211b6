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
        per tensor kind and for the whole model are weighted by elements; the layer and kind \
        tables follow --sort like the tensor table, worst first (name and file keep layer and \
        name order). Sums are in double and do not depend on the thread count.

        NaN and infinite values (a NaN scale tile, an overflowed tensor) are counted per tensor, \
        reference and candidate apart, and warned about on stderr; that tensor's metrics and \
        every roll-up containing it are n/a (null in JSON), never a score over the other values.

        --fail-above is a release gate: it fails (exit 2) when a tensor is past a limit, when a \
        tensor has NaN/Inf values, or when no tensor was compared; it names the worst tensor of \
        each failing metric in that metric's order. --json carries it as "gate". A --tensors \
        pattern that matches nothing is an error (exit 1) naming the nearest tensors.

        --shard K/N -o PART compares only shard K of N of the tensors (balanced by bytes, the \
        same on every machine) and writes their sums, not figures, to PART; 'quantscope merge' \
        of all N parts prints what the single run prints, with bit-identical numbers, and \
        applies --fail-above. --sort, --top and --fail-above are recorded in the parts; give \
        --json, --csv or --report to merge. A shard exits 0 whatever the gate would say.

        Examples:
          quantscope diff model-Q3_K_M.gguf --ref DeepSeek-V3/ --sort nmse --top 20
          quantscope diff q4.gguf --ref bf16.gguf --json > report.json
          quantscope diff q3.gguf --ref fp8/ --fail-above nmse_db=-20
          quantscope diff q3.gguf --ref fp8/ --shard 2/8 -o part2.json
        """)

    @Argument(help: "The quantized GGUF (any shard of a split set).")
    var candidate: String

    @Option(
      name: .customLong("ref"), parsing: .upToNextOption,
      help: "Reference: safetensors file, checkpoint directory, shards, or a GGUF.")
    var reference: [String]

    @Option(
      name: .customLong("ref-precision"),
      help: "exact: FP8 * scale in double (default); bf16: the product rounded to bf16, as a BF16 GGUF holds it.")
    var precision: ReferencePrecision = .exact

    @Option(
      help: ArgumentHelp(
        "Sort tensors, layers and kinds: nmse (worst first), mse, cosine (lowest first), max_abs, name, file.",
        valueName: "key"))
    var sort: SortKey = .nmse

    @Option(help: "Show only the N first tensors after sorting (also in the --report table).")
    var top: Int?

    @OptionGroup
    var tensorFilter: TensorFilterOptions

    @Option(help: "Importance matrix (llama.cpp GGUF imatrix or legacy .dat) to weight the error.")
    var imatrix: String?

    @OptionGroup
    var jsonOptions: JSONOptions

    @Flag(help: "Print CSV (one row per tensor).") var csv = false

    @Option(
      name: .customLong("fail-above"), parsing: .singleValue,
      help: ArgumentHelp(
        "Exit 2 when any tensor is worse than METRIC=VALUE (mse, rmse, nmse, nmse_db, max_abs, or "
          + "cosine/snr_db: worse means lower), has NaN/Inf values, or no tensor is compared.",
        valueName: "metric=value"))
    var failAbove: [String] = []

    @OptionGroup
    var threadOptions: ThreadOptions

    @Option(help: "Also write a self-contained HTML report (heatmaps, worst tensors) to this file.")
    var report: String?

    @OptionGroup(title: "Sharding")
    var shardOptions: ShardOptions

    @Option(
      name: [.short, .customLong("output")],
      help: ArgumentHelp("With --shard: write the partial result to this file.", valueName: "part"))
    var output: String?

    @OptionGroup
    var forceOptions: ForceOptions

    @OptionGroup(title: "Progress")
    var progressOptions: ProgressOptions

    @OptionGroup(title: "Colour")
    var colorOptions: ColorOptions

    /// `--sort` keys; `maxabs` is `max_abs`'s old spelling, still accepted with a warning.
    enum SortKey: String, ExpressibleByArgument, CaseIterable {
      case nmse, mse, cosine, max_abs, name, file, maxabs

      /// The keys help and completions offer (not the deprecated spelling).
      static var allValueStrings: [String] { allCases.filter { $0 != .maxabs }.map(\.rawValue) }

      /// The key with a deprecated spelling replaced.
      var canonical: SortKey { self == .maxabs ? .max_abs : self }

      /// The library's order for the key.
      var order: DiffReport.Order { DiffReport.Order(rawValue: canonical.rawValue)! }
    }

    func validate() throws {
      if jsonOptions.json && csv { throw ValidationError("--json and --csv exclude each other") }
      if let top, top < 1 { throw ValidationError("--top must be at least 1 (got \(top))") }
      _ = try thresholds()
      try shardOptions.validate(
        output: output,
        conflict: csv || report != nil
          ? "--shard writes a partial result; give --csv or --report to 'quantscope merge'" : nil,
        outputWithoutShard: "-o is for --shard (the partial result); diff prints to standard output")
    }

    /// The parsed `--fail-above` limits; a limit that cannot both pass and fail is a usage error.
    func thresholds() throws -> [DiffGate.Threshold] {
      try failAbove.map { text in
        do { return try DiffGate.Threshold(parsing: text) } catch { throw ValidationError("--fail-above \(error)") }
      }
    }

    /// One warning per deprecated metric spelling used in `--sort` or `--fail-above`.
    func warnAboutDeprecatedNames() {
      let used =
        failAbove.compactMap { text -> String? in
          let name = String(text.prefix { $0 != "=" }).lowercased()
          return DiffGate.Metric.deprecatedNames[name] == nil ? nil : name
        } + (sort == .maxabs ? ["maxabs"] : [])
      for name in Set(used).sorted() {
        progressOptions.warn("'\(name)' is deprecated: the metric is called max_abs")
      }
    }

    func run() throws {
      warnAboutDeprecatedNames()
      try DiffInputs.check(candidate: candidate, reference: reference)
      let model = try GGUFModel(path: candidate)
      let ref = try WeightFiles.open(reference)
      var options = QuantscopeAnalysis.Diff.Options()
      options.precision = precision
      options.tensorFilter = tensorFilter.pattern
      if let threads = threadOptions.threads { options.threads = threads }
      if let imatrix { options.importance = try ImportanceMatrix(path: imatrix) }
      options.progress = progressOptions.reporter(label: "diff")
      if let shard = try shardOptions.spec(), let output {
        try runShard(shard, output: output, model: model, ref: ref, options: options)
        return
      }
      let result = try DiffReport.run(
        candidate: model, reference: ref, options: options, order: sort.order, top: top, thresholds: thresholds())

      if let report {
        try Self.writeReport(
          result, to: report, top: top, candidate: candidate, reference: reference, model: model, ref: ref,
          force: forceOptions.force, inputs: [candidate] + reference + (imatrix.map { [$0] } ?? []))
      }
      try Self.present(
        result, candidate: candidate, reference: reference, json: jsonOptions.json, csv: csv,
        style: colorOptions.style, progress: progressOptions, output: nil, force: false)
    }

    /// Writes the HTML report of `result` to `path`.
    static func writeReport(
      _ result: DiffReport, to path: String, top: Int?, candidate: String, reference: [String], model: GGUFModel,
      ref: any TensorCollection, force: Bool, inputs: [String]
    ) throws {
      var html = HTMLReport(
        diff: result.diff, candidate: model, commandLine: CommandLine.arguments.joined(separator: " "),
        inputs: HTMLReport.describe(files: model.files + ref.files))
      html.tensorLimit = top
      html.compared = (candidate, reference.joined(separator: " "))
      let out = try OutputFile(path: path, overwrite: force, inputs: inputs)
      try out.write(html.render())
      try out.commit()
    }

    /// Warns about NaN/Inf tensors, prints `result` (JSON, CSV or tables) — to `output` when one
    /// is given — and ends with the gate's status: what `diff` and `merge` of its parts do alike.
    static func present(
      _ result: DiffReport, candidate: String, reference: [String], json: Bool, csv: Bool, style: Style,
      progress progressOptions: ProgressOptions, output: String?, force: Bool, inputs: [String] = []
    ) throws {
      for t in result.nonFiniteTensors {
        progressOptions.warn(
          ("\(candidate): \(t.name): \(t.sums.nonFiniteReference) NaN/Inf reference and "
            + "\(t.sums.nonFiniteCandidate) NaN/Inf candidate value(s), first at "
            + "[\(t.firstNonFinitePosition.map(String.init).joined(separator: ","))] "
            + "(reference \(t.referenceOrigin)); its metrics and roll-ups are n/a"))
      }

      let text: String
      if json {
        text = result.jsonDocument(candidate: candidate, reference: reference).prettySerialized
      } else if csv {
        text = result.csv + "\n"
      } else {
        text = DiffTable.render(result, style: style) + "\n"
      }
      if let output {
        let out = try OutputFile(path: output, overwrite: force, inputs: inputs)
        try out.write(text)
        try out.commit()
      } else {
        print(text, terminator: "")
      }

      if let note = result.gate?.coverageNote {
        progressOptions.warn(note)
      }
      if let gate = result.gate, !gate.passed {
        for line in gate.messages { FileHandle.standardError.write(Data("quantscope: gate failed: \(line)\n".utf8)) }
        throw ExitCode(ExitStatus.findings)
      }
    }

    /// Compares shard `shard`'s tensors and writes their sums with the job to `output`.
    func runShard(
      _ shard: ShardSpec, output: String, model: GGUFModel, ref: any TensorCollection,
      options: QuantscopeAnalysis.Diff.Options
    ) throws {
      var options = options
      options.shard = shard
      let out = try OutputFile(
        path: output, overwrite: forceOptions.force, inputs: [candidate] + reference + (imatrix.map { [$0] } ?? []))
      let diff = try QuantscopeAnalysis.Diff.compute(candidate: model, reference: ref, options: options)
      let part = PartialResult(
        command: "diff", job: try job.jobValue(candidate: model, reference: ref, options: options), shard: shard,
        payload: diff.partialPayload(candidate: model))
      try out.write(part.jsonText)
      try out.commit()
    }

    /// The job the parts record: inputs as given and every option that shapes the output.
    var job: DiffShardJob {
      var job = DiffShardJob(candidate: candidate, reference: reference)
      job.precision = precision
      job.tensorFilter = tensorFilter.pattern
      job.imatrix = imatrix
      job.order = sort.order
      job.top = top
      job.thresholds = failAbove
      return job
    }
  }
}

extension ReferencePrecision: ExpressibleByArgument {}

/// Renders a ``DiffReport`` as terminal tables (CSV and JSON come from the library).
enum DiffTable {
  /// The per-tensor table, the roll-ups and the lists of unmatched tensors; NMSE dB cells are
  /// coloured by severity when `style` is on.
  static func render(_ report: DiffReport, style: Style = .plain) -> String {
    let weighted = report.weighted
    var header = ["name", "type", "bpw", "elements", "mse", "nmse_db", "cosine", "snr_db", "max_abs", "at"]
    if weighted { header.append("w_nmse_db") }
    var t = TextTable(header, rightAligned: Set(2...8).union(weighted ? [10] : []))
    for r in report.rows {
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
        row.append(
          m.weightedNMSE.map { 10 * log10($0) }.map { style.paint(Format.db($0), Style.severity(nmseDecibels: $0)) }
            ?? "-")
      }
      t.add(row)
    }
    var out = [t.render(), ""]
    out.append(rollupTable("layer", report.layersInOrder, style))
    out.append("")
    out.append(rollupTable("kind", report.kindsInOrder, style))
    out.append("")
    out.append(rollupTable("", [report.model], style))
    let nonFinite = report.nonFiniteTensors
    if !nonFinite.isEmpty {
      out.append(
        "\ntensors with NaN/Inf values, metrics n/a (\(nonFinite.count)): "
          + nonFinite.map {
            "\($0.name) (\($0.sums.nonFiniteReference) reference, \($0.sums.nonFiniteCandidate) candidate)"
          }.joined(separator: ", "))
    }
    if !report.missingReference.isEmpty {
      out.append(
        "\ncandidate tensors without a reference (\(report.missingReference.count)): "
          + report.missingReference.joined(separator: ", "))
    }
    if !report.unmappedReference.isEmpty {
      out.append(
        "reference tensors no rule maps (\(report.unmappedReference.count)): "
          + report.unmappedReference.prefix(20).joined(separator: ", ")
          + (report.unmappedReference.count > 20 ? ", …" : ""))
    }
    if !report.skippedReference.isEmpty {
      out.append(
        "reference tensors skipped (layers past num_hidden_layers, e.g. MTP): \(report.skippedReference.count)")
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
    var t = TextTable(
      [label.isEmpty ? "whole model" : label, "tensors", "elements", "mse", "nmse_db", "cosine", "snr_db"],
      rightAligned: Set(1...6))
    for r in rollups {
      let elements = Format.count(r.sums.count + r.sums.nonFinite)
      guard let m = r.metrics else {
        let cells = Array(repeating: style.paint(notAvailable, .red), count: 4)
        t.add([r.label, Format.count(r.tensors), elements] + cells)
        continue
      }
      t.add([
        r.label, Format.count(r.tensors), elements, Format.sci(m.mse), nmseCell(m, style),
        Format.cosine(m.cosine), Format.db(m.snrDecibels),
      ])
    }
    return t.render()
  }
}
