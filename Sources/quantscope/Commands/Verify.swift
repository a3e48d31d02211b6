import ArgumentParser
import Foundation
import QuantscopeFormats

extension Quantscope {
  /// `quantscope verify`: structural problems of GGUF files that parsing lets through, and with
  /// `--deep` non-finite values. Exit status 2 when anything is found.
  struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Check GGUF files for structural problems and, with --deep, NaN/Inf values and scales.",
      discussion: """
        Structure: tensor data out of bounds or overlapping, offsets that break ggml's rule that \
        tensors are stored contiguously in info order, misaligned offsets, a data section shorter \
        than ggml reads, unusable type ids, and for split sets missing shards, inconsistent split \
        keys and tensors in more than one shard. --deep also reads every float tensor (F32, F16, \
        BF16, F64) for NaN and infinities and every quantized block's scales (d, dmin, ...).

        Exit status: 0 clean, 2 problems found, 1 a file could not be read.

        Examples:
          quantscope verify model-Q4_K_M.gguf
          quantscope verify DeepSeek-V3-Q3_K_M-00001-of-00007.gguf --deep
        """)

    @Argument(help: "GGUF files (any shard of a split set checks the whole set).")
    var paths: [String]

    @Flag(help: "Also scan tensor data for NaN and infinities, and quantized blocks' scales.")
    var deep = false

    @OptionGroup(title: "Progress")
    var progressOptions: ProgressOptions

    @OptionGroup(title: "Colour")
    var colorOptions: ColorOptions

    func run() throws {
      var verifier = GGUFVerifier(deep: deep)
      verifier.progress = progressOptions.reporter(label: "verify")
      let style = colorOptions.style
      var covered = Set<String>()
      var total = 0
      for path in paths {
        guard !covered.contains(path) else { continue }
        let set = try GGUFSplitSet(path: path, strict: false, allowDataOutOfBounds: true)
        for shard in set.shards { covered.insert(shard.file.path) }
        let findings = try verifier.verify(set: set)
        for f in findings { print(style.paint(String(describing: f).terminalSafe, f.kind == .more ? .yellow : .red)) }
        total += findings.count
        let files = set.shards.count == 1 ? "1 file" : "\(set.shards.count) files"
        let tensors = set.shards.reduce(0) { $0 + $1.tensors.count }
        let summary = findings.isEmpty
          ? style.paint("ok", .green) : style.paint("\(findings.count) problem\(findings.count == 1 ? "" : "s")", .red)
        print("\(path): \(summary) (\(files), \(tensors) tensors\(deep ? ", values checked" : ""))")
      }
      if total > 0 { throw ExitCode(ExitStatus.findings) }
    }
  }
}
