import ArgumentParser
import Foundation
import QuantscopeAnalysis
import QuantscopeCodecs
import QuantscopeFormats

extension Quantscope {
  /// `quantscope decode`: write tensors' decoded values (dequantized FP8 included) as npy, raw
  /// little-endian floats or a safetensors file, optionally zstd-compressed.
  struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Decode tensors to float32 and write them as .npy, raw floats or safetensors.",
      discussion: """
        One tensor is written as NPY (numpy.load reads it) unless --format says otherwise; \
        several tensors (--tensors REGEX or repeated --tensor) are written as one F32 \
        safetensors file. `-o -` writes raw little-endian floats (f32 unless --format) to \
        standard output. Without -o the file is named after the tensor ('/' becomes '_') with \
        the format's extension. FP8 weights with a scale partner (`X.weight_scale_inv`, \
        `X.weight_scale`) are written dequantized: value * scale in float32, and scales \
        selected by --tensors alongside their weight are not written separately.

        A name ending in .zst, or --zstd, compresses the output with zstd (one frame with a \
        checksum; `zstd -d` restores the plain file); the format is taken from the name \
        without .zst. A name ending in .npy, .f32, .f16, .bf16 or .safetensors decides the \
        format: several tensors under a one-array name are refused, not written as something \
        else, and so is a tensor with more dimensions than numpy reads (64). Files are written \
        under a temporary name and renamed when complete; an existing file is kept unless \
        --force.

        --ref REF writes the reference side instead: the values of REF (safetensors \
        checkpoint, FP8 dequantized with its scales, or a GGUF) that `quantscope diff` \
        compares with each selected tensor of the GGUF, mapped to it exactly as diff maps \
        them (experts stacked, kv_b split, Q/K heads un-permuted) and written under the \
        GGUF tensor's name and shape. So mean((decode - decode --ref)^2) is the MSE diff \
        reports for that tensor.

        Examples:
          quantscope decode model.gguf --tensor blk.0.attn_q.weight
          quantscope decode model.gguf --tensor blk.0.ffn_down.weight --rows 0:16 \\
              -o rows.npy.zst
          quantscope decode DeepSeek-V3/ --tensors 'layers\\.3\\.mlp\\.experts\\.0\\.' \\
              -o expert0.safetensors
          quantscope decode model.gguf --tensor output.weight -o - --format bf16
          quantscope decode q3.gguf --ref DeepSeek-V3/ \\
              --tensor blk.3.ffn_down_exps.weight -o ref.npy
        """)

    @Argument(help: "GGUF file (any shard of a split set), safetensors file, checkpoint directory or shards.")
    var paths: [String]

    @Option(
      name: .customLong("tensor"),
      help: ArgumentHelp("A tensor to decode, by exact name (repeatable).", valueName: "name"))
    var tensorNames: [String] = []

    @OptionGroup
    var tensorFilter: TensorFilterOptions

    @OptionGroup(title: "Output")
    var outputOptions: OutputOptions

    @Option(
      help: ArgumentHelp(
        "Output format: npy, f32, f16, bf16 (raw little-endian) or safetensors (F32). Default: from the output name, else npy (one tensor) or safetensors (several).",
        valueName: "format"))
    var format: TensorExport.Format?

    @Flag(help: "Compress the output with zstd (implied by a name ending in .zst).")
    var zstd = false

    @Option(
      help: ArgumentHelp(
        "Decode only rows A:B (of the rows x row-length view; A: and :B allowed). One tensor only.", valueName: "A:B"))
    var rows: String?

    @Flag(help: "Write FP8 weights as stored, without multiplying by their scale partner.")
    var noScale = false

    @Option(
      name: .customLong("ref"), parsing: .upToNextOption,
      help: ArgumentHelp(
        "Write the reference values diff compares with the selected GGUF tensors, laid out as them "
          + "(safetensors file, checkpoint directory, shards, or a GGUF).", valueName: "ref"))
    var reference: [String] = []

    @OptionGroup(title: "Progress")
    var progressOptions: ProgressOptions

    func validate() throws {
      if tensorNames.isEmpty && tensorFilter.filter == nil {
        throw ValidationError("give --tensor NAME or --tensors REGEX")
      }
      if !reference.isEmpty && noScale {
        throw ValidationError("--ref writes the reference as diff compares it (FP8 times its scale); drop --no-scale")
      }
    }

    func run() throws {
      let model = try WeightFiles.open(paths)
      var request = TensorExport.Request()
      request.names = tensorNames
      request.filter = tensorFilter.filter
      request.applyScales = !noScale
      request.output = outputOptions.output
      request.format = format
      request.compress = zstd
      request.partialRows = rows != nil
      let selection = try TensorExport.select(request, in: model, path: paths[0])
      let (selected, chosen, destination) = (selection.tensors, selection.format, selection.destination)
      let index = model.tensorsByName
      let blockSize = try ScalePartners.blockSize(of: model)

      if !reference.isEmpty {
        try writeReference(selected.map(\.name), model: model, as: chosen, to: destination)
        return
      }
      let decoders = try selected.map { t in
        noScale ? try TensorDecoder(t) : try TensorDecoder(t, partnersIn: index, blockSize: blockSize)
      }
      var rowRange: Range<Int>? = nil
      if let rows { rowRange = try Self.parseRows(rows, count: decoders[0].rowCount) }

      let out = try OutputFile(
        path: destination, overwrite: outputOptions.force, compression: zstd ? .zstdDefault : nil, inputs: paths)
      do {
        try TensorExport.write(
          decoders, rows: rowRange, as: chosen, to: out, path: destination,
          progress: progressOptions.reporter(label: "decode"))
        try out.commit()
      } catch {
        out.abandon()
        throw error
      }
    }

    /// Writes the reference side of `names` (tensors of the GGUF `model`) to `destination`.
    func writeReference(
      _ names: [String], model: any TensorCollection, as format: TensorExport.Format, to destination: String
    ) throws {
      guard let candidate = model as? GGUFModel else {
        throw CommandFailure("--ref needs a GGUF to decode the reference for; \(paths[0]) is safetensors")
      }
      let export = try ReferenceExport(
        candidate: candidate, reference: try WeightFiles.open(reference), names: names)
      var rowRange: Range<Int>? = nil
      if let rows { rowRange = try Self.parseRows(rows, count: export.items[0].rows.rowCount) }
      let out = try OutputFile(
        path: destination, overwrite: outputOptions.force, compression: zstd ? .zstdDefault : nil,
        inputs: paths + reference)
      do {
        try export.write(
          rows: rowRange, as: format, to: out, path: destination, progress: progressOptions.reporter(label: "decode"))
        try out.commit()
      } catch {
        out.abandon()
        throw error
      }
    }

    /// Parses `A:B`, `A:`, `:B` or `A` against `count` rows.
    static func parseRows(_ text: String, count: Int) throws -> Range<Int> {
      let parts = text.split(separator: ":", omittingEmptySubsequences: false)
      guard parts.count <= 2 else { throw CommandFailure.usage("--rows wants A:B, got \(text)") }
      func bound(_ s: Substring, _ fallback: Int) throws -> Int {
        if s.isEmpty { return fallback }
        guard let v = Int(s) else { throw CommandFailure.usage("--rows wants integers, got \(text)") }
        return v
      }
      let a = try bound(parts[0], 0)
      let b = parts.count == 2 ? try bound(parts[1], count) : a + 1
      guard 0 <= a, a <= b, b <= count else {
        throw CommandFailure("--rows \(text) is outside 0:\(count)")
      }
      return a..<b
    }
  }
}

extension TensorExport.Format: ExpressibleByArgument {}
