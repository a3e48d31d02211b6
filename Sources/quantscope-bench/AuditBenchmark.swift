import ArgumentParser
import Foundation
import QuantscopeAnalysis
import QuantscopeFormats

extension QuantscopeBench {
  /// `quantscope-bench audit`: throughput of `audit` beside `requant` regenerating the same tensors.
  struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Audit throughput (weights/s) on a generated pair at 1 thread and all cores, beside requant's.",
      discussion: """
        --pair DIR is what scripts/bench/make-diff-pair.py DIR wrote (candidate.gguf, ref/). The \
        audit is checked to find every tensor identical (the pair is made by ggml's quantizers from \
        the float32 product); requant regenerates every quantized tensor from the same reference \
        into a temporary GGUF, so both do the same quantization work. Exit 1 when the audit does \
        not pass.
        """)

    @Option(help: "A directory written by scripts/bench/make-diff-pair.py (candidate.gguf, ref/).")
    var pair: String

    @Option(name: .customLong("repeat"), help: "Runs; each figure is the fastest.")
    var repeats = 2

    func validate() throws {
      guard repeats > 0 else { throw ValidationError("--repeat must be positive") }
    }

    func run() throws {
      let candidate = try GGUFModel(path: pair + "/candidate.gguf")
      let reference = try WeightFiles.open([pair + "/ref"])
      let weights = candidate.tensors.reduce(0) { $0 + $1.elementCount }
      print("audit: \(pair), \(fixed(Double(weights) / 1e9, 3)) G weights, best of \(repeats), \(coreCount) cores")
      print(machineLine())

      var options = QuantscopeAnalysis.Audit.Options()
      options.precision = .exact
      let check = try QuantscopeAnalysis.Audit.compute(candidate: candidate, reference: reference, options: options)
      print(check.verdict)

      let model = PlanModel(collection: candidate)
      let plan = try Planner.plan(model: model, recipe: Recipe(name: "keep", rules: [], source: "bench"))
      let output = FileManager.default.temporaryDirectory
        .appendingPathComponent("quantscope-bench-audit-\(UUID().uuidString).gguf").path
      defer { try? FileManager.default.removeItem(atPath: output) }
      var requantOptions = Requantization.Options()
      requantOptions.reference = try .init(reference: reference, for: candidate, precision: .exact)
      requantOptions.regenerate = .all
      requantOptions.overwrite = true
      var requantWeights = 0

      print(pad("what", 22) + padLeft("seconds", 10) + padLeft("G weights/s", 13) + padLeft("vs requant", 17))
      for threads in Set([1, coreCount]).sorted() {
        options.threads = threads
        let audit = try bestOfThrowing(repeats) {
          _ = try QuantscopeAnalysis.Audit.compute(candidate: candidate, reference: reference, options: options)
        }
        requantOptions.threads = threads
        let requant = try bestOfThrowing(repeats) {
          let summary = try Requantization.run(input: candidate, plan: plan, output: output, options: requantOptions)
          let regenerated = Set(summary.requantized.map(\.name))
          requantWeights = candidate.tensors.filter { regenerated.contains($0.name) }.reduce(0) { $0 + $1.elementCount }
        }
        print(
          pad("audit \(threads) thr", 22) + padLeft(fixed(audit, 2), 10)
            + padLeft(fixed(Double(weights) / audit / 1e9, 3), 13) + padLeft(fixed(requant / audit, 2) + "×", 17))
        print(
          pad("requant \(threads) thr", 22) + padLeft(fixed(requant, 2), 10)
            + padLeft(fixed(Double(requantWeights) / requant / 1e9, 3), 13))
      }
      if !check.passed { throw ExitCode(1) }
    }
  }
}
