import ArgumentParser
import Foundation
import QuantscopeCodecs
import QuantscopeFormats

extension Quantscope {
  /// `quantscope verify`: structural problems of GGUF files that parsing lets through, and with
  /// `--deep` non-finite values. Exit status 2 when anything is found.
  struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Check GGUF files and safetensors checkpoints for structural problems and, with --deep, NaN/Inf values.",
      discussion: """
        Structure: tensor data out of bounds or overlapping, offsets that break ggml's rule that \
        tensors are stored contiguously in info order, misaligned offsets, a data section shorter \
        than ggml reads, unusable type ids, and for split sets missing shards, inconsistent split \
        keys and tensors in more than one shard. --deep also reads every float tensor (F32, F16, \
        BF16, F64) for NaN and infinities and every quantized block's scales (d, dmin, ...).

        A safetensors checkpoint (file, directory or shards) is validated as the safetensors \
        crate validates it when opened; verify adds that every FP8 scale partner fits its weight \
        (weight_scale_inv exactly ceil(rows/b) x ceil(cols/b) for config.json's \
        weight_block_size, 128x128 when absent) and holds no NaN/Inf entry (a NaN entry poisons \
        a whole tile). --deep also scans every F32, F16, BF16, F64 and FP8 tensor for NaN and \
        infinities (FP8 E4M3 codes 0x7F and 0xFF are NaN).

        A GGUF cut off before its end (a download stopped midway) is reported, not refused: \
        one out-of-bounds finding per tensor whose data is partial or missing, and the summary \
        says "N of M bytes present". --deep checks the values of the tensors that are present \
        and says how many ("values checked in 53 of 66 tensors"), or "no values checked" when \
        no tensor data is there.

        Exit status: 0 clean, 2 problems found, 1 a file could not be read.

        --json prints one document (schema quantscope.verify/1): for each set checked, its \
        files, tensor count, whether values were checked and in how many tensors, each \
        truncated file with its size and expected size, and every finding with its kind, \
        file, tensor, block and byte offset.

        Examples:
          quantscope verify model-Q4_K_M.gguf
          quantscope verify DeepSeek-V3-Q3_K_M-00001-of-00007.gguf --deep
          quantscope verify DeepSeek-V3/ --deep
          quantscope verify model.gguf --json | jq '.sets[].findings[].kind'
        """)

    @Argument(help: "GGUF files (any shard of a split set checks the whole set) or safetensors checkpoints.")
    var paths: [String]

    @Flag(help: "Also scan tensor data for NaN and infinities, and quantized blocks' scales.")
    var deep = false

    @OptionGroup
    var jsonOptions: JSONOptions

    @OptionGroup(title: "Progress")
    var progressOptions: ProgressOptions

    @OptionGroup(title: "Colour")
    var colorOptions: ColorOptions

    func run() throws {
      var verification = ModelVerification(deep: deep, progress: progressOptions.reporter(label: "verify"))
      let style = colorOptions.style
      var sets: [ModelVerification.Outcome] = []
      for path in paths {
        guard let set = try verification.verify(path: path) else { continue }
        sets.append(set)
        if jsonOptions.json { continue }
        let findings = set.findings
        for f in findings { print(style.paint(String(describing: f).terminalSafe, f.kind == .more ? .yellow : .red)) }
        let fileCount = set.files.count == 1 ? "1 file" : "\(set.files.count) files"
        let summary =
          findings.isEmpty
          ? style.paint("ok", .green) : style.paint("\(findings.count) problem\(findings.count == 1 ? "" : "s")", .red)
        let notes = [fileCount, "\(set.tensors) tensors"] + set.checkedNotes
        print("\(path): \(summary) (\(notes.joined(separator: ", ")))")
      }
      if jsonOptions.json { printJSON(ModelVerification.jsonDocument(sets)) }
      if sets.contains(where: { !$0.findings.isEmpty }) { throw ExitCode(ExitStatus.findings) }
    }
  }
}
