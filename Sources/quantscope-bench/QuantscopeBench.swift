// quantscope-bench: throughput benchmarks that print only what they measured in the same run.
//
// Every kernel is taken from `Codecs.all`, so codec families added later show up without
// changes here. Peer figures come only from a peer run in this process (`--ggml-lib`), never
// from numbers kept in the source.
import ArgumentParser
import Foundation
import QuantscopeFormats

/// The `quantscope-bench` command: one small subcommand per benchmark.
@main
struct QuantscopeBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "quantscope-bench",
    abstract: "Throughput benchmarks; every figure printed is measured in the same run.",
    discussion: """
      Build with -c release. Figures are best-of-N with competitors alternating round by round; \
      with --ggml-lib, ggml's own kernels run on the same bytes in the same process and the \
      outputs are checked bit for bit. See scripts/bench/README.md.

      Exit status: 0; 1 when ggml and quantscope disagree on any output, when --ggml-lib is \
      refused, when diff's MSE disagrees with the Python pipeline, when a build of the metric kernel \
      gives other bits than the baseline build, or when the quantscope binary \
      that requant runs fails; 64 on bad usage.
      """,
    subcommands: [
      Decode.self, Quantize.self, DiffCommand.self, Metric.self, Requant.self, Audit.self, TuneCommand.self, JSON.self,
    ])
}

/// Options the decode and quantize benchmarks share: which types, and the peer library.
struct KernelOptions: ParsableArguments {
  @Option(
    name: .customLong("types"), parsing: .upToNextOption,
    help: "Types to run, comma- or space-separated (q4_k,q8_0); default: every registered kernel.")
  var typeNames: [String] = []

  @Option(
    name: .customLong("ggml-lib"),
    help: "A libggml-base.so to measure beside quantscope (scripts/bench/README.md); without it, no baseline column.")
  var ggmlLibrary: String?

  /// The parsed `--types`, or `nil` for all.
  var types: [GGMLType]? {
    let names = typeNames.flatMap { $0.split(separator: ",").map(String.init) }
    return names.isEmpty ? nil : names.compactMap { GGMLType(name: $0) }
  }

  /// Rejects unknown type names before anything is measured.
  func validate() throws {
    for name in typeNames.flatMap({ $0.split(separator: ",") }) where GGMLType(name: String(name)) == nil {
      throw ValidationError("unknown type '\(name)'")
    }
  }

  /// The opened library, or `nil` without `--ggml-lib`; a refusal ends the run (status 1) with
  /// its reason rather than falling back to a table without the baseline the user asked for.
  func openLibrary() throws -> GGMLLibrary? {
    try ggmlLibrary.map { try GGMLLibrary(path: $0) }
  }
}

extension QuantscopeBench {
  /// `quantscope-bench decode`.
  struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "GB/s of f32 output per type: 1 thread, a cache-resident tile, N threads; memcpy and memset beside.")

    @OptionGroup var kernels: KernelOptions

    @Option(name: .customLong("repeat"), help: "Alternating rounds; each figure is the fastest.")
    var rounds = 10

    @Option(help: "MiB of f32 output per pass (both sides).")
    var megabytes = 64

    @Option(help: "Threads of the multi-threaded columns (default: all cores).")
    var threads: Int?

    func validate() throws {
      guard rounds > 0, megabytes > 0 else { throw ValidationError("--repeat and --megabytes must be positive") }
      if let threads, threads < 1 { throw ValidationError("--threads must be positive") }
    }

    func run() throws {
      let benchmark = DecodeBenchmark(
        types: kernels.types, rounds: rounds, megabytes: megabytes, ggml: try kernels.openLibrary(),
        threads: threads ?? coreCount)
      if try !benchmark.run() { throw ExitCode(1) }
    }
  }

  /// `quantscope-bench quantize`.
  struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Weights/s per quantizer, 1 thread and all cores, without and with an importance vector.")

    @OptionGroup var kernels: KernelOptions

    @Option(help: "Minimum timed seconds per figure.")
    var seconds = 0.4

    @Option(name: .customLong("repeat"), help: "Minimum alternating rounds per figure.")
    var rounds = 3

    func validate() throws {
      guard seconds > 0, rounds > 0 else { throw ValidationError("--seconds and --repeat must be positive") }
    }

    func run() throws {
      let benchmark = QuantizeBenchmark(
        types: kernels.types, seconds: seconds, rounds: rounds, ggml: try kernels.openLibrary())
      if try !benchmark.run() { throw ExitCode(1) }
    }
  }

  /// `quantscope-bench metric`.
  struct Metric: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "The metric kernel of diff alone, in every build this CPU runs, on FP8 rows; bits compared.")

    @Option(help: "Rows of 7168 values (32: cache-resident in a 2 MB L2).")
    var rows = 32

    @Option(name: .customLong("repeat"), help: "Runs; each figure is the fastest.")
    var repeats = 20

    func validate() throws {
      guard rows > 0, repeats > 0 else { throw ValidationError("--rows and --repeat must be positive") }
    }

    func run() throws {
      if !MetricBenchmark(rows: rows, repeats: repeats).run() { throw ExitCode(1) }
    }
  }

  /// `quantscope-bench diff`.
  struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "diff",
      abstract: "Diff throughput on the samples (and a generated pair) beside decode-only and the numpy pipeline.")

    @Option(help: "A directory written by scripts/bench/make-diff-pair.py (candidate.gguf, ref/).")
    var pair: String?

    @Option(name: .customLong("repeat"), help: "Runs; each figure is the fastest.")
    var repeats = 3

    @Flag(name: .customLong("no-python"), help: "Skip the Python pipeline.")
    var skipPython = false

    @Option(name: .customLong("python"), help: "The Python pipeline script.")
    var pythonScript = "scripts/bench/python_diff.py"

    func validate() throws {
      guard repeats > 0 else { throw ValidationError("--repeat must be positive") }
    }

    func run() throws {
      var bench = DiffBenchmark(repeats: repeats, runPython: !skipPython, pythonScript: pythonScript)
      bench.inputs.append(
        .init(
          label: "samples Q3_K_M", candidate: "samples/deepseek-tiny-Q3_K_M.gguf",
          reference: "samples/deepseek-tiny-fp8"))
      if let pair {
        bench.inputs.append(
          .init(
            label: "pair " + URL(fileURLWithPath: pair).lastPathComponent, candidate: pair + "/candidate.gguf",
            reference: pair + "/ref"))
      }
      if try !bench.run() { throw ExitCode(1) }
    }
  }

  /// `quantscope-bench requant`.
  struct Requant: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "End-to-end requant from an FP8 reference: weights/s and peak RSS of the release binary, 1 and all cores.")

    @Option(help: "A directory written by scripts/bench/make-diff-pair.py (candidate.gguf, ref/).")
    var pair: String

    @Option(help: "The quantscope binary to run.")
    var binary = ".build/release/quantscope"

    @Option(help: "The recipe to requantize to.")
    var recipe = "dq3_k_m"

    @Flag(name: .customLong("regenerate-all"), help: "Pass --regenerate all: quantize every tensor the reference has.")
    var regenerateAll = false

    @Option(name: .customLong("repeat"), help: "Runs; each figure is the fastest.")
    var repeats = 2

    func validate() throws {
      guard repeats > 0 else { throw ValidationError("--repeat must be positive") }
    }

    func run() throws {
      try RequantBenchmark(
        pair: pair, binary: binary, recipe: recipe, repeats: repeats, regenerateAll: regenerateAll
      ).run()
    }
  }

  /// `quantscope-bench json`.
  struct JSON: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "quantscope's JSON reader against Foundation's on a generated safetensors-like header.")

    @Option(help: "MiB of generated header.")
    var megabytes = 64

    @Option(name: .customLong("repeat"), help: "Alternating rounds; each figure is the fastest.")
    var rounds = 3

    func validate() throws {
      guard rounds > 0, megabytes > 0 else { throw ValidationError("--repeat and --megabytes must be positive") }
    }

    func run() throws {
      try JSONBenchmark(megabytes: megabytes, rounds: rounds).run()
    }
  }
}
