import ArgumentParser
import Foundation
import QuantscopeAnalysis
import QuantscopeFormats

extension Quantscope {
  /// `quantscope attribute`: which tensors caused an accuracy drop, measured on the model's output.
  struct Attribute: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Find which tensors cause a quantized model's accuracy drop, measured by llama-perplexity's KLD.",
      discussion: """
        BASE and CANDIDATE are GGUFs of one model (same tensor names and shapes; types differ, e.g. \
        a Q8_0 release and a Q2_K one). The tensors that differ are split into groups (--groups \
        kind, layer, kind,layer, or regular expressions: a tensor joins the first that matches, the \
        rest form 'other'). For each group quantscope writes a hybrid file: BASE with that group's \
        tensors copied byte for byte from CANDIDATE (nothing requantized; streamed; written under a \
        temporary name in the work folder and removed after its evaluation unless --keep-work). \
        SIGINT or SIGTERM stops the running evaluations and removes the temporary work folder.

        The engine is llama.cpp's llama-perplexity (from --llama-bin, else PATH; its build is \
        recorded): once on BASE with --kl-divergence-base over --chunks chunks of --ctx tokens of \
        --text, then with --kl-divergence on CANDIDATE and on every hybrid. quantscope never runs a \
        forward pass. --parallel K runs K evaluations at once with --threads split between them.

        The report lists groups worst first: the mean KLD when only that group is degraded, its \
        99th percentile, the mean and RMS change of the top token's probability (Δp), the share \
        of tokens whose top token is BASE's, the group's share of CANDIDATE's own KLD, and \
        quantscope's predicted weight-space error for the group (squared error of CANDIDATE's \
        values against BASE's, imatrix-weighted with --imatrix), with Spearman's rank correlation \
        between prediction and measurement. The sum of the groups' KLDs beside the whole file's \
        shows how far the effects fail to add up.

        --restore F takes groups back from BASE, biggest KLD first, measuring after each, until \
        the KLD is at most F times CANDIDATE's; it prints the rules, in llama-quantize's \
        --tensor-type-file syntax (also a 'quantscope requant --recipe' file), that keep those \
        tensors at BASE's types, and what they cost in size.

        --calibrate -o FILE fits, per tensor kind, the measured KLD per unit of predicted error \
        (quantscope.calibration/1). It is a first-order model: it assumes each kind's KLD is \
        proportional to its error and that kinds add up; both fail when the groups interact \
        (non-additivity above 1) and far from the error level it was fitted at.

        Examples:
          quantscope attribute gemma-Q8_0.gguf gemma-Q2_K.gguf --text wiki.txt
          quantscope attribute base.gguf cand.gguf --text wiki.txt --chunks 20 \\
              --parallel 2 --restore 0.5 --report attribution.html
          quantscope attribute base.gguf cand.gguf --text wiki.txt \\
              --imatrix imatrix.gguf --calibrate -o calibration.json
        """)

    @Argument(help: "The better GGUF (the reference logits).")
    var base: String

    @Argument(help: "The degraded GGUF of the same model.")
    var candidate: String

    @Option(help: ArgumentHelp("The evaluation text given to llama-perplexity (-f).", valueName: "file"))
    var text: String

    @Option(
      name: .customLong("llama-bin"),
      help: ArgumentHelp("Directory holding llama-perplexity (default: PATH).", valueName: "dir"))
    var llamaBin: String?

    @Option(
      parsing: .upToNextOption,
      help: ArgumentHelp("kind (default), layer, kind,layer, or regular expressions.", valueName: "groups"))
    var groups: [String] = []

    @Option(help: ArgumentHelp("Tokens per chunk (llama-perplexity -c).", valueName: "n"))
    var ctx = 512

    @Option(help: ArgumentHelp("Chunks of the text to evaluate (default: all).", valueName: "n"))
    var chunks: Int?

    @OptionGroup
    var threadOptions: ThreadOptions

    @Option(help: ArgumentHelp("Evaluations run at once; --threads is split between them.", valueName: "k"))
    var parallel = 1

    @Option(help: ArgumentHelp("Importance matrix: weights the predicted error.", valueName: "path"))
    var imatrix: String?

    @Option(
      help: ArgumentHelp(
        "Restore groups from BASE until the KLD is at most this fraction of CANDIDATE's.", valueName: "f"))
    var restore: Double?

    @Flag(help: "Fit the KLD per unit of predicted error for each tensor kind and write it to -o.")
    var calibrate = false

    @OptionGroup(title: "Output")
    var outputOptions: OutputOptions

    @Option(help: ArgumentHelp("Write an HTML report with a bar chart and a scatter plot.", valueName: "file.html"))
    var report: String?

    @Option(
      name: .customLong("keep-work"),
      help: ArgumentHelp("Keep hybrids, logits and llama-perplexity logs in this directory.", valueName: "dir"))
    var keepWork: String?

    @OptionGroup
    var jsonOptions: JSONOptions

    @OptionGroup(title: "Progress")
    var progressOptions: ProgressOptions

    func validate() throws {
      if ctx < 8 { throw ValidationError("--ctx must be at least 8 (got \(ctx))") }
      if let chunks, chunks < 1 { throw ValidationError("--chunks must be at least 1 (got \(chunks))") }
      if parallel < 1 || parallel > 256 { throw ValidationError("--parallel must be 1 to 256 (got \(parallel))") }
      if let restore, !(restore > 0 && restore < 1) {
        throw ValidationError("--restore takes a fraction between 0 and 1, like 0.5 (got \(restore))")
      }
      if calibrate && outputOptions.output == nil {
        throw ValidationError("--calibrate writes its fit to a file: give it with -o/--output")
      }
      if !calibrate && outputOptions.output != nil {
        throw ValidationError("-o/--output names the --calibrate file: give --calibrate too")
      }
    }

    func run() throws {
      for path in [base, candidate, text] {
        guard FileManager.default.fileExists(atPath: path) else {
          throw FormatError(.notFound, path: path, "no such file")
        }
      }
      var engine = try LlamaPerplexity.locate(in: llamaBin)
      engine.context = ctx
      engine.chunks = chunks
      engine.threads = max(1, threadOptions.count / parallel)
      var options = Attribution.Options(engine: engine)
      options.grouping = try AttributionGrouping(arguments: groups)
      options.text = text
      options.parallel = parallel
      options.threads = threadOptions.count
      options.restoreFraction = restore
      if let imatrix { options.importance = try ImportanceMatrix(path: imatrix) }
      if let keepWork { options.workDirectory = keepWork }
      if progressOptions.effectiveMode != .none {
        options.progress = EvaluationProgress(json: progressOptions.effectiveMode == .json)
      }
      let result = try Attribution.run(base: base, candidate: candidate, options: options)
      let inputs = [base, candidate, text] + (imatrix.map { [$0] } ?? [])

      if calibrate, let output = outputOptions.output {
        let calibration = try ProxyCalibration(fitting: result)
        try calibration.save(path: output, overwrite: outputOptions.force, inputs: inputs, source: result)
      }
      if let report {
        let candidateModel = try GGUFModel(path: candidate), baseModel = try GGUFModel(path: base)
        guard let diff = result.diff else { throw CommandFailure("no tensor comparison to report") }
        var html = HTMLReport(
          diff: diff, candidate: candidateModel, commandLine: CommandLine.arguments.joined(separator: " "),
          inputs: HTMLReport.describe(files: candidateModel.files + baseModel.files))
        html.compared = (candidate, base)
        html.attribution = result
        let out = try OutputFile(path: report, overwrite: outputOptions.force, inputs: inputs)
        try out.write(html.render())
        try out.commit()
      }
      if jsonOptions.json {
        printJSON(result.jsonDocument())
      } else {
        print(Self.render(result), terminator: "")
      }
    }

    /// The text report: the whole file, the groups worst first, the sums, the restore.
    static func render(_ r: AttributionReport) -> String {
      func f(_ v: Double?, _ digits: Int = 4) -> String { v.map { String(format: "%.\(digits)f", $0) } ?? "n/a" }
      var out = "base: \(TerminalText.escape(r.base))\ncandidate: \(TerminalText.escape(r.candidate))\n"
      out +=
        "engine: llama-perplexity \(r.llamaVersion ?? "(version not printed)"), \(r.chunks.map(String.init) ?? "all") "
      out += "chunks x \(r.context) tokens\n"
      let w = r.whole
      out += "whole file: mean KLD \(f(w.meanKLD)) ± \(f(w.meanKLDUncertainty)), 99% KLD \(f(w.kld99)), "
      out += "same top \(f(w.sameTopPercent, 2))%\n\n"
      var table = TextTable(
        [
          "group", "tensors", "mean KLD", "99% KLD", "Δp mean %", "Δp RMS %", "same top %", "share",
          r.weighted ? "weighted error" : "squared error", "rank",
        ],
        rightAligned: Set(1...9))
      let errorRank = Dictionary(
        uniqueKeysWithValues: r.groups.sorted { $0.predictedError > $1.predictedError }.enumerated().map {
          ($1.label, $0 + 1)
        })
      for g in r.groupsWorstFirst {
        let s = g.statistics
        table.add([
          TerminalText.escape(g.label), String(g.tensors.count), f(s.meanKLD), f(s.kld99), f(s.meanDeltaP, 3),
          f(s.rmsDeltaP, 3), f(s.sameTopPercent, 2), r.share(g).map { String(format: "%.1f%%", $0 * 100) } ?? "n/a",
          Format.sci(g.predictedError), String(errorRank[g.label] ?? 0),
        ])
      }
      out += table.render() + "\n\n"
      out += "sum of groups: \(f(r.sumOfGroups)) vs whole \(f(w.meanKLD)) "
      out += "(whole / sum = \(f(r.nonAdditivity, 2)): 1 means the groups' effects add up)\n"
      out += "rank correlation (Spearman) of predicted error and KLD: \(f(r.rankCorrelation, 3))\n"
      if let restore = r.restore {
        out += "\nrestore to \(f(restore.fraction, 2)) x whole = KLD \(f(restore.targetKLD)): "
        out += restore.reached ? "reached" : "not reached"
        out += " by restoring \(restore.groups.map(\.label).joined(separator: ", "))\n"
        for step in restore.steps {
          out += "  + \(step.restored.last ?? "?"): mean KLD \(f(step.statistics.meanKLD))\n"
        }
        out += "size cost: \(Format.sizeChange(restore.sizeCost))\n"
        out += "recipe (llama-quantize --tensor-type-file; quantscope requant --recipe):\n"
        out += restore.recipeLines.map { "  \($0)\n" }.joined()
      }
      return out
    }
  }
}

/// One stderr line per finished evaluation, with the elapsed time and an ETA from the mean so far.
final class EvaluationProgress: AttributionProgress {
  let json: Bool

  init(json: Bool) { self.json = json }

  func evaluation(label: String, done: Int, total: Int, elapsed: Double) {
    let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
    let line: String
    if json {
      line =
        JSONValue.members([
          ("label", .string(label)), ("done", .int(done)), ("total", .int(total)), ("elapsed", .finite(elapsed)),
          ("eta", .finite(eta)),
        ]).serialized + "\n"
    } else {
      line =
        "attribute: \(done)/\(total) \(TerminalText.escape(label)) "
        + String(format: "(%.0f s elapsed, ETA %.0f s)\n", elapsed, eta)
    }
    FileHandle.standardError.write(Data(line.utf8))
  }
}
