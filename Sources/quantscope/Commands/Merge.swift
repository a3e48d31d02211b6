import ArgumentParser
import Foundation
import QuantscopeAnalysis
import QuantscopeFormats

extension Quantscope {
  /// `quantscope merge`: the parts of a sharded run (`--shard K/N`) made into the single run's
  /// output.
  struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Merge the partial results of a sharded run into the single run's output.",
      discussion: """
        PART... are the files written by 'diff', 'audit', 'hash' or 'tune' with '--shard K/N -o \
        PART', all N of one job, in any order. Every part records its job: the identity of the \
        inputs (paths, sizes, a hash of each file's header and of the tensor table), the \
        options that change the result, and the quantscope version. merge refuses, with the \
        file named, a missing or duplicate shard, a part of another job and a part written by \
        another quantscope version.

        diff: prints what the single run prints — tables, --json, --csv, and with --report \
        the HTML report — with bit-identical numbers: the parts carry every tensor's sums, and \
        the roll-ups add them in candidate order, never in the order the parts came. The \
        --sort, --top and --fail-above of the shards apply; a failed gate exits 2. --report \
        reopens the inputs (they must be unchanged).

        audit: prints what the single run prints — the table, or --json byte for byte; -o \
        writes it to a file — and exits 2 when a tensor is not reproduced; the --top of the shards applies. It reopens \
        the candidate's header (it must be unchanged) for the preset match. --report is \
        refused: the audit report re-runs a whole diff, which the parts do not hold; merge \
        'diff --shard' parts with --report instead.

        hash: prints the lines, --json the manifest, -o writes it (zstd for .zst), as 'hash' \
        does. The whole-model hash is one stream over every tensor, which no shard can share: \
        merge reopens the model and computes it, reading the data once.

        tune: -o RECIPE is required: merge solves the whole table and writes the recipe, the \
        table or --json (byte for byte the single run's), --pareto if the shards had it and \
        --report FILE, as 'tune' does, with the same error and exit status 1 for a budget below \
        the smallest mix. The budget and every measurement option are the shards'. It reopens \
        the source and reference (they must be unchanged) for the fixed tensors and the sizes, \
        and the calibration file if the shards had one; it measures nothing.

        Examples:
          quantscope merge parts/diff-*.json --json > report.json
          quantscope merge parts/diff-*.json --report report.html
          quantscope merge parts/audit-*.json --json > audit.json
          quantscope merge parts/hash-*.json -o model.manifest.json.zst
          quantscope merge parts/tune-*.json -o mix.txt --json > tune.json
        """)

    @Argument(help: ArgumentHelp("The partial results of one sharded job, in any order.", valueName: "part"))
    var parts: [String]

    @OptionGroup
    var jsonOptions: JSONOptions

    @Flag(help: "diff: print CSV (one row per tensor).") var csv = false

    @Option(help: "diff, tune: also write the HTML report to this file (reopens the inputs).")
    var report: String?

    @OptionGroup(title: "Output")
    var outputOptions: OutputOptions

    @OptionGroup(title: "Progress")
    var progressOptions: ProgressOptions

    @OptionGroup(title: "Colour")
    var colorOptions: ColorOptions

    func validate() throws {
      if jsonOptions.json && csv { throw ValidationError("--json and --csv exclude each other") }
      if parts.isEmpty { throw ValidationError("give the partial results to merge") }
    }

    func run() throws {
      let read = try parts.map { try PartialResult.read(path: $0) }
      let ordered = try PartialResult.complete(read, paths: parts)
      switch ordered[0].command {
      case "diff": try mergeDiff(ordered)
      case "audit": try mergeAudit(ordered)
      case "hash": try mergeHash(ordered)
      case "tune": try mergeTune(ordered)
      case let other:
        throw FormatError(.unsupported, path: parts[0], "is a part of '\(other)', which this quantscope cannot merge")
      }
    }

    func mergeDiff(_ ordered: [PartialResult]) throws {
      if outputOptions.output == "-" { throw ValidationError("-o -: diff output goes to standard output already") }
      let job = try DiffShardJob(job: ordered[0].job, path: parts[0])
      let diff = try QuantscopeAnalysis.Diff.merged(ordered.map(\.payload), path: parts[0])
      let result = DiffReport(diff, order: job.order, top: job.top, thresholds: try job.parsedThresholds())
      let inputs = [job.candidate] + job.reference + parts
      if let report {
        let model = try GGUFModel(path: job.candidate)
        let ref = try WeightFiles.open(job.reference)
        try checkUnchanged(model, as: [job.candidate], recorded: ordered[0].job["inputs"]?["candidate"])
        try checkUnchanged(ref, as: job.reference, recorded: ordered[0].job["inputs"]?["reference"])
        try Diff.writeReport(
          result, to: report, top: job.top, candidate: job.candidate, reference: job.reference, model: model,
          ref: ref, force: outputOptions.force, inputs: inputs)
      }
      try Diff.present(
        result, candidate: job.candidate, reference: job.reference, json: jsonOptions.json, csv: csv,
        style: colorOptions.style, progress: progressOptions, output: outputOptions.output,
        force: outputOptions.force, inputs: inputs)
    }

    func mergeAudit(_ ordered: [PartialResult]) throws {
      if csv { throw ValidationError("--csv is for diff parts") }
      if report != nil {
        throw ValidationError(
          "--report is not available for audit parts: the report re-runs a whole diff; merge 'diff --shard' parts "
            + "with --report, or run 'audit --report' unsharded")
      }
      if outputOptions.output == "-" { throw ValidationError("-o -: audit output goes to standard output already") }
      let job = try AuditShardJob(job: ordered[0].job, path: parts[0])
      let tensors = try QuantscopeAnalysis.Audit.merged(ordered.map(\.payload), path: parts[0])
      // The preset match and the architecture come from the candidate's header, as in the single run.
      let model = try GGUFModel(path: job.candidate)
      try checkUnchanged(model, as: [job.candidate], recorded: ordered[0].job["inputs"]?["candidate"])
      let audit = AuditReport(
        candidate: model, tensors: tensors, precision: job.precision, weighted: job.imatrix != nil,
        presetMatch: PresetMatch(model: model))
      try Audit.present(
        audit, candidate: job.candidate, reference: job.reference, json: jsonOptions.json, top: job.top,
        style: colorOptions.style, output: outputOptions.output, force: outputOptions.force,
        inputs: [job.candidate] + job.reference + parts)
    }

    func mergeHash(_ ordered: [PartialResult]) throws {
      if csv || report != nil { throw ValidationError("--csv and --report are for diff parts") }
      if outputOptions.output == "-" && jsonOptions.json {
        throw ValidationError("-o - and --json both print to standard output; give -o a file name")
      }
      let job = ordered[0].job
      guard let given = job["inputs"]?["model"]?["given"]?.array?.compactMap(\.string), !given.isEmpty else {
        throw FormatError(.malformed, path: parts[0], "hash job: no model paths")
      }
      let model = try WeightFiles.open(given)
      try checkUnchanged(model, as: given, recorded: job["inputs"]?["model"])
      var selected = model.tensors
      if let pattern = job["options"]?["tensors"]?.string {
        selected = try TensorNameFilter(pattern).select(selected, in: given[0])
      }
      var hashes: [[TensorHash]] = []
      for (part, path) in zip(ordered, parts) {
        guard let list = part.payload["tensors"]?.array else {
          throw FormatError(.malformed, path: path, "hash part without tensors")
        }
        hashes.append(
          try list.map {
            guard let h = TensorHash(partialJSON: $0) else {
              throw FormatError(.malformed, path: path, "malformed tensor hash")
            }
            return h
          })
      }
      let out = try outputOptions.output.map {
        try OutputFile(path: $0, overwrite: outputOptions.force, inputs: given + parts)
      }
      let files = ordered[0].payload["files"]?.array?.compactMap(\.string) ?? model.files.map(\.path)
      let manifest = try TensorHashing.merge(
        hashes, tensors: selected, files: files, path: parts[0],
        progress: progressOptions.reporter(label: "model hash"))
      if let out {
        try manifest.write(to: out)
        try out.commit()
      }
      if jsonOptions.json {
        print(manifest.jsonText(), terminator: "")
      } else if outputOptions.output == nil {
        for t in manifest.tensors { print("\(t.xxh3_128.hex)  \(t.name.terminalSafe)") }
        print("\(manifest.model.hex)  (model: \(manifest.tensors.count) tensors, \(manifest.totalBytes) bytes)")
      }
    }

    func mergeTune(_ ordered: [PartialResult]) throws {
      if csv { throw ValidationError("--csv is for diff parts") }
      guard let output = outputOptions.output else {
        throw ValidationError(
          "give the recipe file to write with -o: merge of tune parts writes the single run's recipe")
      }
      let job = try TuneShardJob(job: ordered[0].job, path: parts[0])
      let setup = try Tune.Setup(job)
      // The job recomputed from the inputs reopened is the recorded one exactly when they are the
      // files the shards read.
      let recorded = ordered[0].job
      let now = try job.jobValue(kind: setup.inputs.source.kind, options: setup.options)
      if now.serialized != recorded.serialized {
        let paths: [(String, String?)] = [
          ("source", job.source.first), ("reference", job.reference.first), ("imatrix", job.imatrix),
          ("calibration", job.calibration), ("base", job.base),
        ]
        let changed = paths.first { now["inputs"]?[$0.0]?.serialized != recorded["inputs"]?[$0.0]?.serialized }
        throw FormatError(
          .mismatch, path: changed?.1 ?? job.source[0],
          "is not the file the shards read (size, header or tensor table changed, or another path): rerun the job")
      }
      var options = setup.options
      options.only = []
      let skeleton = try TuneMeasurement.measure(
        model: setup.model, fixed: setup.fixed, mapping: setup.inputs.mapping, heads: setup.inputs.heads,
        options: options)
      let table = try TuneMeasurement.merged(skeleton: skeleton, payloads: ordered.map(\.payload), path: parts[0])
      try Tune.finish(
        table, job: job, setup: setup, output: output, report: report, json: jsonOptions.json,
        force: outputOptions.force, inputs: job.inputPaths + parts)
    }

    /// Refuses inputs reopened at merge that are not the files the shards read.
    func checkUnchanged(_ model: any TensorCollection, as given: [String], recorded: JSONValue?) throws {
      guard PartialResult.identity(of: model, as: given) == recorded else {
        throw FormatError(
          .mismatch, path: given.first ?? "",
          "is not the file the shards read (size, header or tensor table changed, or another path): rerun the job")
      }
    }
  }
}
