import ArgumentParser
import Foundation
import QuantscopeAnalysis
import QuantscopeCodecs
import QuantscopeFormats

extension Quantscope {
  /// `quantscope tune`: the mix with the least measured error for a size budget.
  struct Tune: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Choose each tensor's type to minimize the measured error within a size budget; write the recipe.",
      discussion: """
        SOURCE gives the layout, as 'plan' reads it: a GGUF, a safetensors checkpoint, or a \
        DeepSeek-V2/V3 directory holding only config.json. The values come from --ref (a \
        safetensors checkpoint or a GGUF, mapped as 'diff' maps it), or from SOURCE itself when \
        it holds weights.

        Measure: every tensor the recipe may change is quantized to every candidate type (--types, \
        default q2_k,q3_k,q4_k,q5_k,q6_k,q8_0) and decoded exactly as 'requant' writes it \
        (llama.cpp's row-length fallback, the importance matrix with each expert's slice), and \
        the squared error against the reference is summed, as 'diff' sums it. With --imatrix \
        the error is weighted by the importance matrix: that is the usual proxy for the error of \
        the layer's output, not that error itself. One pass reads the reference once; each tile \
        is quantized to every candidate on all cores; memory does not grow with the model. \
        --calibration FILE (from 'attribute --calibrate') multiplies each tensor's error by its \
        kind's measured KLD per unit of error (kinds it did not measure get the median factor), \
        so the mix minimizes estimated KLD: a first-order model that ignores how kinds interact.

        --sample F quantizes a deterministic stratified sample of rows instead: each 128-row \
        tile of every matrix and every expert contributes max(4, ceil(F*rows)) rows, drawn \
        (systematically, in a hashed order) with probability proportional to a proxy of their \
        error: over the row's 32-value blocks, the block maximum squared times its value count \
        (its imatrix weight with --imatrix), mixed 9:1 with an even share; a row whose \
        probability would reach 1 is taken for certain. Every row is still read and decoded \
        (cheap, for the proxy); only the sample is quantized. Each tensor's error is the \
        Horvitz-Thompson estimate, reported with its standard error (widened by the Student t \
        factor for its degrees of freedom). The stated interval is +/- 3 standard errors: at \
        least 95 % of a model's estimates hold the full pass's value, heavy-tailed rows \
        included (a nominal 95 % interval would fall short for about half of all models).

        Solve: the total error is minimized within the budget (a multiple-choice knapsack): each \
        tensor's options are reduced to their lower convex hull, a Lagrange multiplier prices \
        bytes, and the bytes left are filled greedily. The gap to the Lagrangian bound (no mix \
        within the budget has less predicted error) is reported.

        The budget is --target-size (tensor data as 'plan' counts it: 250G = 250*10^9 bytes, \
        250GiB = 250*2^30 bytes, or plain bytes) or --target-bpw (bits per weight over all \
        tensors). Norms, the router (ffn_gate_inp), exp_probs_b and 1-D tensors keep their type; \
        --base RECIPE fixes every tensor a rule of that recipe names and tunes the rest.

        -o writes the recipe as a llama-quantize --tensor-type-file (one pattern=type token per \
        line, no comments) that 'requant --recipe' reads too: a kind whose tensors all get one \
        type gets one regex, every other tensor an anchored exact-name rule; each tensor matches \
        exactly one rule. '-' prints it instead of the table.

        --shard K/N -o PART measures only shard K of N of the tuned tensors (balanced by values \
        times candidate types, the same on every machine) and writes their error and variance \
        sums, bit for bit, to PART; it does not solve and exits 0. 'quantscope merge' of all N \
        parts, with -o RECIPE, solves and writes and prints what the single run does: the same \
        recipe, --json byte for byte, --pareto if the shards had it, --report, the same error \
        for a budget below the smallest mix. The budget, --types, --imatrix, --sample, \
        --calibration, --base and the other options are the shards'; merge reopens the inputs \
        (they must be unchanged) for the fixed tensors and the sizes.

        Examples:
          quantscope tune DeepSeek-V3/ --target-size 250GiB -o best-250.txt
          quantscope tune R1-Q3_K_M-00001-of-00007.gguf --ref DeepSeek-R1/ \\
              --target-bpw 3.5 --sample 0.02 -o mix.txt --pareto
          quantscope requant R1-Q3_K_M-00001-of-00007.gguf --ref DeepSeek-R1/ \\
              --recipe mix.txt -o R1-tuned.gguf
          quantscope tune R1-Q3_K_M-00001-of-00007.gguf --ref DeepSeek-R1/ \\
              --target-bpw 3.5 --sample 0.02 --shard 2/8 -o part2.json
        """)

    @Argument(help: "GGUF file, safetensors checkpoint (file, directory or shards) or config.json directory.")
    var source: [String]

    @Option(
      name: .customLong("ref"), parsing: .upToNextOption,
      help: "Reference checkpoint with the values: safetensors file, directory or shards, or a GGUF.")
    var reference: [String] = []

    @Option(
      name: .customLong("target-size"),
      help: "Budget of tensor data: 250G = 250*10^9 bytes, 250GiB = 250*2^30 bytes, or bytes.")
    var targetSize: String?

    @Option(name: .customLong("target-bpw"), help: "Budget in bits per weight over all tensors.")
    var targetBPW: Double?

    @Option(help: "Candidate types, comma-separated (default q2_k,q3_k,q4_k,q5_k,q6_k,q8_0).")
    var types: String?

    @Option(help: "Importance matrix: used by the quantizers and to weight the error.")
    var imatrix: String?

    @Option(help: "Quantize this fraction of rows (stratified sample, e.g. 0.02) instead of every row.")
    var sample: Double?

    @Option(
      help: ArgumentHelp(
        "Per-kind KLD per unit of error from 'attribute --calibrate': minimize estimated KLD, not raw error.",
        valueName: "file"))
    var calibration: String?

    @Option(help: "Recipe (preset or file) whose rules fix the tensors they name; the rest are tuned.")
    var base: String?

    @Option(help: "Row-length fallback table: current (Q2_K/Q3_K -> Q4_0) or llama2025 (-> IQ4_NL).")
    var fallback: RowFallbackArgument?

    @Option(name: .customLong("ref-precision"), help: "exact (default) or bf16: how FP8 * scale is evaluated.")
    var precision: ReferencePrecision = .exact

    @OptionGroup
    var kvBOptions: KVBOptions

    @Option(help: "Architecture, instead of general.architecture or model_type.")
    var arch: String?

    @Flag(help: "Also print the Pareto frontier (size against predicted error) at many budgets.")
    var pareto = false

    @Option(name: .customLong("pareto-points"), help: "Budgets on the --pareto frontier (default 24).")
    var paretoPoints = 24

    @Option(help: "Also write an HTML report: the Pareto curve with the presets marked, the chosen type map.")
    var report: String?

    @OptionGroup(title: "Output")
    var outputOptions: OutputOptions

    @OptionGroup(title: "Sharding")
    var shardOptions: ShardOptions

    @OptionGroup
    var threadOptions: ThreadOptions

    @OptionGroup
    var jsonOptions: JSONOptions

    @OptionGroup(title: "Progress")
    var progressOptions: ProgressOptions

    func validate() throws {
      if source.isEmpty { throw ValidationError("give the model to tune") }
      if (targetSize == nil) == (targetBPW == nil) {
        throw ValidationError("give one of --target-size or --target-bpw")
      }
      if let targetSize {
        do { _ = try ByteSize(parsing: targetSize) } catch {
          throw ValidationError(
            "--target-size takes a size like 250G (10^9 bytes) or 250GiB (2^30 bytes), not '\(targetSize)': "
              + error.reason)
        }
      }
      if let targetBPW, !(targetBPW > 0 && targetBPW < 64) {
        throw ValidationError("--target-bpw must be above 0 and below 64")
      }
      if let sample, !(sample > 0 && sample <= 1) { throw ValidationError("--sample takes a fraction in (0, 1]") }
      try shardOptions.validate(
        output: outputOptions.output,
        conflict: report != nil ? "--shard writes a partial result; give --report to 'quantscope merge'" : nil)
      if outputOptions.output == nil { throw ValidationError("give the recipe file to write with -o/--output") }
      if paretoPoints < 2 || paretoPoints > 10_000 { throw ValidationError("--pareto-points must be 2...10000") }
      _ = try candidateTypes()
    }

    func candidateTypes() throws -> [GGMLType] {
      guard let types else { return TuneMeasurement.defaultTypes }
      return try types.split(separator: ",").map { name in
        let lowered = String(name).trimmingCharacters(in: .whitespaces).lowercased()
        guard let t = GGMLType(name: lowered), t.isUsable, RecipeRule.isTargetType(t),
          Codecs.codec(for: t)?.quantize != nil
        else { throw ValidationError("--types: '\(name)' is not a ggml type quantscope can quantize") }
        return t
      }
    }

    func run() throws {
      if !reference.isEmpty { try DiffInputs.check(reference: reference) }
      let job = try self.job
      let setup = try Setup(job)
      var options = setup.options
      options.threads = threadOptions.count
      options.progress = progressOptions.reporter(label: "tune")
      let output = outputOptions.output!
      let inputPaths = job.inputPaths
      if let shard = try shardOptions.spec() {
        // Opened first: an existing part is refused before the measurement, not after it.
        let out = try OutputFile(path: output, overwrite: outputOptions.force, inputs: inputPaths)
        let recorded = try job.jobValue(kind: setup.inputs.source.kind, options: options)
        if let calibration {
          // Applied only at merge; a calibration that cannot apply fails every shard at once instead.
          _ = try TuneTable(items: []).calibrated(
            by: ProxyCalibration.load(path: calibration), path: calibration, weighted: options.importance != nil)
        }
        let mine = TuneMeasurement.shardTensors(model: setup.model, fixed: setup.fixed, options: options, shard: shard)
        options.only = mine
        let table = try TuneMeasurement.measure(
          model: setup.model, fixed: setup.fixed, mapping: setup.inputs.mapping, heads: setup.inputs.heads,
          options: options)
        let part = PartialResult(
          command: "tune", job: recorded, shard: shard, payload: TuneMeasurement.partialPayload(table, only: mine))
        try out.write(part.jsonText)
        try out.commit()
        return
      }
      let table = try TuneMeasurement.measure(
        model: setup.model, fixed: setup.fixed, mapping: setup.inputs.mapping, heads: setup.inputs.heads,
        options: options)
      try Self.finish(
        table, job: job, setup: setup, output: output, report: report, json: jsonOptions.json,
        force: outputOptions.force, inputs: inputPaths)
    }

    /// The job: the inputs as given and every option that shapes the result, what a shard records
    /// and what `merge` of its parts runs from.
    var job: TuneShardJob {
      get throws {
        var job = TuneShardJob(source: source)
        job.reference = reference
        job.targetSize = targetSize
        job.targetBPW = targetBPW
        job.types = try candidateTypes()
        job.imatrix = imatrix
        job.sample = sample
        job.calibration = calibration
        job.base = base
        job.fallback = fallback?.value ?? RowFallback.current
        job.precision = precision
        job.kvB = kvBOptions.kvB
        job.architecture = arch
        job.pareto = pareto
        job.paretoPoints = paretoPoints
        return job
      }
    }

    /// What a measurement of `job` starts from: the inputs read, the fixed tensors and the
    /// measurement options (threads and progress aside). The single run, a shard and `merge` (for
    /// the table's every tensor and option, measured by none) build it alike.
    struct Setup {
      /// The layout and the reference mapped onto it.
      let inputs: TuneInputs
      /// The tensors the recipe may not change.
      let fixed: [String: (type: GGMLType, reason: String)]
      /// The job's measurement options, with its importance matrix read.
      let options: TuneMeasurement.Options

      /// The layout tuned.
      var model: PlanModel { inputs.source.model }

      /// Reads `job`'s inputs.
      init(_ job: TuneShardJob) throws {
        let inputs = try TuneInputs.load(
          source: job.source, reference: job.reference, architecture: job.architecture, kvB: job.kvB)
        let model = inputs.source.model
        let baseRecipe = try job.base.map { b in try recipeCall { try Recipe.load(b, context: model.context) } }
        let fixed: [String: (type: GGMLType, reason: String)]
        do {
          fixed = try TuneConstraints.fixed(
            model: model, base: baseRecipe, options: PlanOptions(fallback: job.fallback, hasImatrix: job.imatrix != nil)
          )
        } catch let error as PlanError {
          throw CommandFailure("\(job.source[0]): \(error)")
        }
        var options = job.measurementOptions
        if let imatrix = job.imatrix { options.importance = try ImportanceMatrix(path: imatrix) }
        self.inputs = inputs
        self.fixed = fixed
        self.options = options
      }
    }

    /// Calibrates `table` if the job asks, solves it for the job's budget and writes and prints
    /// what `tune` does: the recipe to `output` ('-' prints it instead), the HTML report, and the
    /// table or `--json`. The single run and `merge` of its parts end here alike.
    static func finish(
      _ measured: TuneTable, job: TuneShardJob, setup: Setup, output: String, report: String?, json: Bool,
      force: Bool, inputs inputPaths: [String]
    ) throws {
      var table = measured
      let weighted = setup.options.importance != nil
      if let calibration = job.calibration {
        table = try table.calibrated(
          by: ProxyCalibration.load(path: calibration), path: calibration, weighted: weighted)
      }
      let budget: Int
      if let targetSize = job.targetSize {
        budget = try ByteSize(parsing: targetSize).bytes
      } else {
        budget = Int((job.targetBPW! * Double(table.parameters) / 8).rounded(.down))
      }
      let solution: TuneSolver.Solution
      do {
        solution = try TuneSolver.solve(table, budget: budget)
      } catch let error as TuneSolver.Infeasible {
        throw CommandFailure("\(job.source[0]): \(error)")
      }
      let result = TuneResult(
        table: table, solution: solution, sampleFraction: setup.options.sample ?? 1, weighted: weighted,
        calibration: job.calibration)
      let frontier = job.pareto || report != nil ? TuneSolver.frontier(table, count: job.paretoPoints) : []
      try OutputFile.write(result.recipeText, to: output, overwrite: force, inputs: inputPaths)
      if let report {
        var presets: [HTMLReport.TunePreset] = []
        let planOptions = PlanOptions(fallback: job.fallback, hasImatrix: job.imatrix != nil)
        for name in ["q2_k", "q2_k_l", "q3_k_m", "dq3_k_m", "q4_k_m"] {
          guard let preset = Presets.named(name),
            let plan = try? Planner.plan(model: setup.model, preset: preset, options: planOptions)
          else { continue }
          presets.append(
            .init(name: name, bytes: plan.totalBytes, error: HTMLReport.presetError(plan: plan, table: table)))
        }
        let html = HTMLReport.tuneDocument(
          result: result, frontier: frontier, presets: presets,
          commandLine: CommandLine.arguments.map(\.terminalSafe).joined(separator: " "))
        try OutputFile.write(html, to: report, overwrite: force, inputs: inputPaths + [output])
      }
      if output == "-" { return }
      if json {
        printJSON(
          result.jsonDocument(source: job.source[0], reference: job.reference, recipe: output, frontier: frontier))
        return
      }
      print(TuneReport.text(result, frontier: frontier, recipe: output))
    }
  }
}

extension TuneShardJob {
  /// The files a run of the job reads, which its outputs may not replace.
  var inputPaths: [String] { source + reference + (imatrix.map { [$0] } ?? []) + (base.map { [$0] } ?? []) }
}

/// The text `tune` prints.
enum TuneReport {
  static func text(_ result: TuneResult, frontier: [TuneSolver.Solution], recipe: String) -> String {
    let sampled = result.sampleFraction < 1
    var table = TextTable(
      ["tensor", "type", "bytes", "error", sampled ? "s.e." : "", "share", "how"],
      rightAligned: [2, 3, 4, 5])
    let total = result.solution.error
    for r in result.rows where r.fixedBy == nil || !r.fixedBy!.hasPrefix("keep:") {
      table.add([
        r.name, r.type.name, Format.size(r.bytes), Format.sci(r.error), sampled ? Format.sci(r.standardError) : "",
        String(format: "%.2f%%", total > 0 ? 100 * r.error / total : 0), r.fixedBy ?? "tuned",
      ])
    }
    var out = table.render()
    let s = result.solution
    out += "\n\nbudget \(Format.size(s.budget)) (\(s.budget) bytes); mix \(Format.size(s.bytes)) (\(s.bytes) bytes), "
    out += "\(Format.bpw(result.bitsPerWeight)) bits per weight\n"
    out += "predicted error \(Format.sci(s.error))"
    if sampled {
      out += " ± \(Format.sci(TuneSampling.statedInterval * result.totalStandardError))"
      out +=
        " (± \(String(format: "%g", TuneSampling.statedInterval)) standard errors; sample of \(result.sampleFraction))"
    }
    out += "; Lagrangian bound \(Format.sci(s.bound)), gap \(String(format: "%.3g%%", 100 * s.relativeGap))\n"
    out += result.weighted || result.calibration != nil ? "error: \(result.errorMeasure)\n" : ""
    out += "recipe written to \(recipe)"
    if !frontier.isEmpty {
      var f = TextTable(["size", "bytes", "bpw", "predicted error", "bound"], rightAligned: [1, 2, 3, 4])
      for p in frontier {
        let bpw = result.table.parameters == 0 ? 0 : Double(p.bytes) * 8 / Double(result.table.parameters)
        f.add([Format.size(p.bytes), "\(p.bytes)", Format.bpw(bpw), Format.sci(p.error), Format.sci(p.bound)])
      }
      out += "\n\nPareto frontier\n" + f.render()
    }
    return out
  }
}
