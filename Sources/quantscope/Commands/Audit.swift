import ArgumentParser
import Foundation
import QuantscopeAnalysis
import QuantscopeFormats

extension Quantscope {
  /// `quantscope audit`: whether a quantized GGUF is exactly what the reference weights make.
  struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Check, by reproduction, whether a GGUF is exactly what the reference weights make.",
      discussion: """
        Every tensor of CANDIDATE (a GGUF file or any shard of a split set) is made again from \
        the reference: the reference tensor is mapped as 'diff' maps it (experts stacked, kv_b \
        split or legacy, llama Q/K permutation, gemma norms plus one), quantized with the \
        candidate's own type by ggml's bit-exact quantizers (with --imatrix, sliced per expert \
        for 3-D tensors as llama-quantize does), and the bytes are compared block by block. \
        F32/F16/BF16 tensors must equal the reference converted with round-to-nearest-even, as \
        llama.cpp's converter writes them.

        Each tensor is identical, differs (with the number of differing blocks, the first \
        differing block's row and column, and the NMSE between the candidate's decode and the \
        reproduction's), or is listed as not compared: no_reference, unsupported_type (no \
        bit-exact quantizer), needs_imatrix (an IQ type without --imatrix). Nothing is passed \
        silently. The table lists the tensors worst first, then the verdict \
        ("reproducible: N/M tensors, P % of bytes"), which source precision reproduced, and \
        whether the file's types are exactly those of a shipped preset (or the rules that \
        deviate from the closest one).

        Releases are usually made FP8 -> BF16 (DeepSeek's cast script) -> BF16 GGUF -> \
        llama-quantize. --ref-precision auto (default) tries, per tensor, the exact FP8 x scale \
        product and then the product rounded to BF16, and reports which reproduced; exact or \
        bf16 try only that one.

        Exit status: 0 when every tensor is identical, 2 when any tensor differs or is not \
        compared (a release gate), 1 on errors, 64 on usage errors. Memory does not grow with \
        the model: tensors are reproduced in row chunks on every thread.

        --shard K/N -o PART audits only shard K of N of the tensors (balanced by bytes, the \
        same on every machine) and writes their results to PART; 'quantscope merge' of all N \
        parts prints what the single run prints (--json byte for byte, the table, exit 2 when \
        a tensor is not reproduced). --top is recorded in the parts; give --json to merge. \
        merge reopens the candidate's header for the preset match. --report is refused with \
        --shard and at merge: the report re-runs a whole diff, which no part holds (run 'diff \
        --shard' and merge --report for it). A shard exits 0 whatever the verdict.

        Examples:
          quantscope audit R1-Q3_K_M-00001-of-00007.gguf --ref DeepSeek-R1/
          quantscope audit q4.gguf --ref fp8/ --imatrix imatrix.gguf --json
          quantscope audit q4.gguf --ref fp8/ --report audit.html
          quantscope audit q4.gguf --ref fp8/ --shard 2/8 -o part2.json
        """)

    @Argument(help: "The quantized GGUF (any shard of a split set).")
    var candidate: String

    @Option(
      name: .customLong("ref"), parsing: .upToNextOption,
      help: "Reference: safetensors file, checkpoint directory, shards, or a GGUF.")
    var reference: [String]

    @Option(
      name: .customLong("ref-precision"),
      help: "auto: per tensor exact, then BF16-rounded (default); exact: FP8 * scale in double; bf16: rounded to bf16.")
    var precision: QuantscopeAnalysis.Audit.PrecisionChoice = .auto

    @Option(help: "Importance matrix the release was quantized with (llama.cpp GGUF imatrix or legacy .dat).")
    var imatrix: String?

    @OptionGroup
    var tensorFilter: TensorFilterOptions

    @Option(help: "Show only the N first tensors of the table (worst first); the verdict covers all.")
    var top: Int?

    @OptionGroup
    var jsonOptions: JSONOptions

    @OptionGroup
    var threadOptions: ThreadOptions

    @Option(help: "Also write a self-contained HTML report (the diff report with an audit section) to this file.")
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

    func validate() throws {
      if let top, top < 1 { throw ValidationError("--top must be at least 1 (got \(top))") }
      try shardOptions.validate(
        output: output,
        conflict: report != nil ? "--report re-runs a whole diff, which a shard cannot: run it without --shard" : nil,
        outputWithoutShard: "-o is for --shard (the partial result); audit prints to standard output")
    }

    func run() throws {
      try DiffInputs.check(candidate: candidate, reference: reference)
      let model = try GGUFModel(path: candidate)
      let ref = try WeightFiles.open(reference)
      var options = QuantscopeAnalysis.Audit.Options()
      options.precision = precision
      options.threads = threadOptions.count
      if let imatrix { options.importance = try ImportanceMatrix(path: imatrix) }
      options.progress = progressOptions.reporter(label: "audit")
      var indices: [Int]? = nil
      if let filter = tensorFilter.filter {
        let kept = Set(try filter.select(model.tensors, in: candidate).map(\.name))
        indices = model.tensors.indices.filter { kept.contains(model.tensors[$0].name) }
      }
      if let shard = try shardOptions.spec(), let output {
        let out = try OutputFile(
          path: output, overwrite: forceOptions.force, inputs: [candidate] + reference + (imatrix.map { [$0] } ?? []))
        let mine = QuantscopeAnalysis.Audit.shardIndices(indices, of: model, shard: shard)
        let results = try QuantscopeAnalysis.Audit.tensors(mine, of: model, reference: ref, options: options)
        let part = PartialResult(
          command: "audit", job: try job.jobValue(candidate: model, reference: ref, options: options), shard: shard,
          payload: QuantscopeAnalysis.Audit.partialPayload(results))
        try out.write(part.jsonText)
        try out.commit()
        return
      }
      let results = try QuantscopeAnalysis.Audit.tensors(indices, of: model, reference: ref, options: options)
      let audit = AuditReport(
        candidate: model, tensors: results, precision: precision, weighted: imatrix != nil,
        presetMatch: PresetMatch(model: model))

      if let report {
        // The diff report of the same pair, at the precision that reproduced most, with the audit section.
        var diffOptions = QuantscopeAnalysis.Diff.Options()
        diffOptions.precision = audit.reproducedByPrecision.max { $0.count < $1.count }?.precision ?? .exact
        diffOptions.tensorFilter = tensorFilter.pattern
        diffOptions.threads = options.threads
        diffOptions.importance = options.importance
        let diff = try QuantscopeAnalysis.Diff.compute(candidate: model, reference: ref, options: diffOptions)
        var html = HTMLReport(
          diff: diff, candidate: model, commandLine: CommandLine.arguments.joined(separator: " "),
          inputs: HTMLReport.describe(files: model.files + ref.files))
        html.compared = (candidate, reference.joined(separator: " "))
        html.audit = audit
        let out = try OutputFile(
          path: report, overwrite: forceOptions.force, inputs: [candidate] + reference + (imatrix.map { [$0] } ?? []))
        try out.write(html.render())
        try out.commit()
      }

      try Self.present(
        audit, candidate: candidate, reference: reference, json: jsonOptions.json, top: top, style: colorOptions.style)
    }

    /// The job the parts record: inputs as given and every option that shapes the output.
    var job: AuditShardJob {
      var job = AuditShardJob(candidate: candidate, reference: reference)
      job.precision = precision
      job.tensorFilter = tensorFilter.pattern
      job.imatrix = imatrix
      job.top = top
      return job
    }

    /// Prints the audit (JSON or the table), or writes it to `output`, and exits 2 when it
    /// failed: the single run's output, and `merge`'s of audit parts.
    static func present(
      _ audit: AuditReport, candidate: String, reference: [String], json: Bool, top: Int?, style: Style,
      output: String? = nil, force: Bool = false, inputs: [String] = []
    ) throws {
      let text =
        json
        ? audit.jsonDocument(candidate: candidate, reference: reference).prettySerialized
        : AuditTable.render(audit, top: top, style: style) + "\n"
      if let output {
        let out = try OutputFile(path: output, overwrite: force, inputs: inputs)
        try out.write(text)
        try out.commit()
      } else {
        print(text, terminator: "")
      }
      if !audit.passed {
        let failing = audit.tensors.count - audit.reproduced.count
        let line =
          audit.tensors.isEmpty
          ? "no tensor audited" : "\(failing) of \(audit.tensors.count) tensor(s) not reproduced"
        FileHandle.standardError.write(Data("quantscope: audit failed: \(line)\n".utf8))
        throw ExitCode(ExitStatus.findings)
      }
    }
  }
}

extension QuantscopeAnalysis.Audit.PrecisionChoice: ExpressibleByArgument {}

/// Renders an ``AuditReport`` for the terminal (JSON comes from the library).
enum AuditTable {
  /// The per-tensor table (worst first, the first `top` rows), then the verdict, the precision
  /// line and the preset match.
  static func render(_ audit: AuditReport, top: Int? = nil, style: Style = .plain) -> String {
    var t = TextTable(
      ["name", "type", "status", "precision", "differing", "blocks", "first diff (row,col)", "nmse_vs_repro"],
      rightAligned: [4, 5, 7])
    let rows = audit.worstFirst
    for r in rows.prefix(top ?? rows.count) {
      let status: String
      switch r.status {
      case .identical: status = style.paint(r.status.rawValue, .green)
      case .differs: status = style.paint(r.status.rawValue, .red)
      default: status = style.paint(r.status.rawValue, .yellow)
      }
      t.add([
        r.name.terminalSafe, r.type, status, r.precision?.rawValue ?? "-",
        r.status == .differs ? Format.count(r.differingBlocks) : (r.blocks > 0 ? "0" : "-"),
        r.blocks > 0 ? Format.count(r.blocks) : "-",
        r.firstDifference.map { "\($0.row),\($0.column)" } ?? "-",
        r.status == .differs ? (r.nmseVsReproduction.map(Format.sci) ?? "n/a") : "-",
      ])
    }
    var out = [t.render()]
    if let top, top < rows.count { out.append("(\(rows.count - top) more tensors not shown)") }
    out.append("")
    let notes = rows.filter { $0.note != nil && !$0.status.isReproduced }
    for r in notes.prefix(10) { out.append("\(r.name.terminalSafe): \(r.note!.terminalSafe)") }
    if notes.count > 10 { out.append("… and \(notes.count - 10) more not compared") }
    if !notes.isEmpty { out.append("") }
    out.append(style.paint(audit.verdict, audit.passed ? .green : .red))
    out.append(audit.precisionLine)
    out.append(
      audit.statusCounts.map { "\($0.status.rawValue) \(Format.count($0.count))" }.joined(separator: ", "))
    if let match = audit.presetMatch { out.append(match.summary.terminalSafe) }
    return out.joined(separator: "\n")
  }
}
