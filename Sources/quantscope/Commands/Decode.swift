import ArgumentParser
import Foundation
import QuantscopeCodecs
import QuantscopeFormats

#if canImport(Glibc)
import Glibc
#endif

extension Quantscope {
  /// `quantscope decode`: write tensors' decoded values (dequantized FP8 included) as npy, raw
  /// little-endian floats or a safetensors file.
  struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Decode tensors to float32 and write them as .npy, raw floats or safetensors.",
      discussion: """
        One tensor is written as NPY (numpy.load reads it) unless --format says otherwise; \
        several tensors (--tensors REGEX or repeated --tensor) are written as one F32 \
        safetensors file. `-o -` writes raw little-endian floats (f32 unless --format) to \
        standard output. FP8 weights with a scale partner (`X.weight_scale_inv`, \
        `X.weight_scale`) are written dequantized: value × scale in float32, and scales \
        selected by --tensors alongside their weight are not written separately. Files are \
        written under a temporary name and renamed when complete. zstd output (`.zst`) is \
        not available yet.
        """)

    /// Output encodings.
    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
      case npy, f32, f16, bf16, safetensors

      var fileExtension: String { rawValue }
    }

    @Argument(help: "GGUF file (any shard of a split set), safetensors file, checkpoint directory or shards.")
    var paths: [String]

    @Option(name: .customLong("tensor"), help: ArgumentHelp("A tensor to decode, by exact name (repeatable).", valueName: "name"))
    var tensorNames: [String] = []

    @Option(name: .customLong("tensors"), help: ArgumentHelp("Decode every tensor whose name matches this regular expression (anywhere in the name).", valueName: "regex"))
    var pattern: String?

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Output file; `-` for standard output. Default: the tensor name with the format's extension.", valueName: "file"))
    var output: String?

    @Option(help: "Output format: npy, f32, f16, bf16 (raw little-endian) or safetensors (F32).")
    var format: OutputFormat?

    @Option(help: ArgumentHelp("Decode only rows A:B (of the rows × row-length view; A: and :B allowed). One tensor only.", valueName: "A:B"))
    var rows: String?

    @Flag(help: "Write FP8 weights as stored, without multiplying by their scale partner.")
    var noScale = false

    func validate() throws {
      if tensorNames.isEmpty && pattern == nil {
        throw ValidationError("give --tensor NAME or --tensors REGEX")
      }
    }

    func run() throws {
      let model = try WeightFiles.open(paths)
      let index = model.tensorsByName
      var selected: [TensorInfo] = []
      var seen = Set<String>()
      for name in tensorNames {
        guard let t = index[name] else { throw FormatError(path: paths[0], "no tensor named \(name)") }
        if seen.insert(name).inserted { selected.append(t) }
      }
      if let pattern {
        let regex: Regex<AnyRegexOutput>
        do { regex = try Regex(pattern) } catch { throw CommandFailure("invalid --tensors pattern: \(error)") }
        var matched = model.tensors.filter { $0.name.contains(regex) && !seen.contains($0.name) }
        if !noScale {
          // A scale that multiplies a selected weight is consumed by it (as fp8_cast_bf16.py
          // drops `*_scale_inv`), so it is not written again on its own.
          let consumed = Set(matched.compactMap { ScalePartners.scale(for: $0, in: index)?.name })
          matched.removeAll { consumed.contains($0.name) }
        }
        for t in matched where seen.insert(t.name).inserted { selected.append(t) }
      }
      guard !selected.isEmpty else { throw CommandFailure("no tensor matches \(pattern ?? "")") }

      let toStdout = output == "-"
      let chosen: OutputFormat
      if let format {
        chosen = format
      } else if selected.count > 1 || output?.hasSuffix(".safetensors") == true {
        chosen = .safetensors
      } else if toStdout {
        chosen = .f32
      } else if let output, let f = OutputFormat(rawValue: (output as NSString).pathExtension) {
        chosen = f
      } else {
        chosen = .npy
      }
      if selected.count > 1 && chosen != .safetensors {
        throw CommandFailure("\(selected.count) tensors selected: only --format safetensors holds several")
      }
      if rows != nil && selected.count > 1 { throw CommandFailure("--rows needs exactly one tensor") }
      let destination: String
      if let output {
        destination = output
      } else if selected.count == 1 {
        destination = selected[0].name.replacingOccurrences(of: "/", with: "_") + "." + chosen.fileExtension
      } else {
        throw CommandFailure("several tensors selected: name the output file with -o")
      }
      if destination.hasSuffix(".zst") {
        throw CommandFailure("zstd-compressed output is not available yet; write \(destination.dropLast(4)) instead")
      }

      let decoders = try selected.map { t in
        noScale ? try TensorDecoder(t) : try TensorDecoder(t, partnersIn: index)
      }
      var rowRange: Range<Int>? = nil
      if let rows { rowRange = try Self.parseRows(rows, count: decoders[0].rowCount) }

      // Written under a temporary name and renamed when complete (the library's output layer).
      let output = try OutputFile(path: destination, overwrite: true, compression: OutputFile.Compression.none)
      try DecodedTensorWriter.write(
        decoders, rows: rowRange, format: DecodedTensorWriter.Format(rawValue: chosen.rawValue) ?? .f32, to: output)
    }

    /// Parses `A:B`, `A:`, `:B` or `A` against `count` rows.
    static func parseRows(_ text: String, count: Int) throws -> Range<Int> {
      let parts = text.split(separator: ":", omittingEmptySubsequences: false)
      guard parts.count <= 2 else { throw CommandFailure("--rows wants A:B, got \(text)") }
      func bound(_ s: Substring, _ fallback: Int) throws -> Int {
        if s.isEmpty { return fallback }
        guard let v = Int(s) else { throw CommandFailure("--rows wants integers, got \(text)") }
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

/// JSON string quoting for the commands' JSON output (shared with the decode writer).
enum SafetensorsHeader {
  static func quote(_ s: String) -> String { DecodedTensorWriter.jsonString(s) }
}
