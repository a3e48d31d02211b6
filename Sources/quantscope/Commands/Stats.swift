import ArgumentParser
import Foundation
import QuantscopeAnalysis
import QuantscopeCodecs
import QuantscopeFormats

extension Quantscope {
  /// `quantscope stats`: per-tensor value statistics and the largest-magnitude weights.
  struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Per-tensor statistics: min, max, mean, std, RMS, kurtosis, zeros, NaN/Inf, super weights.",
      discussion: """
        Values are decoded to float32 (FP8 weights multiplied by their scale partner) and \
        summarized in float64. Moments and extremes cover finite values; NaN and Inf are \
        counted. Kurtosis is excess (Fisher) kurtosis, as scipy.stats.kurtosis reports it. \
        Super weights are the largest |values| with their (row, column) in the \
        rows x row-length view.

        Examples:
          quantscope stats model.gguf --tensors 'blk\\.0\\.'
          quantscope stats DeepSeek-V3/ --tensors 'layers\\.3\\.mlp\\.experts\\.0\\.' \\
              --super-weights 16
          quantscope stats model.gguf --json --quiet > stats.json
        """)

    @Argument(help: "GGUF file (any shard of a split set), safetensors file, checkpoint directory or shards.")
    var paths: [String]

    @OptionGroup
    var tensorFilter: TensorFilterOptions

    @OptionGroup
    var jsonOptions: JSONOptions

    @Option(
      help: ArgumentHelp("How many largest-magnitude weights (super weights) to report per tensor.", valueName: "n"))
    var superWeights: Int?

    /// The old name of `--super-weights`: `--top` means "the N first tensors" everywhere else.
    @Option(name: .customLong("top"), help: .hidden)
    var deprecatedTop: Int?

    @OptionGroup
    var threadOptions: ThreadOptions

    @OptionGroup(title: "Progress")
    var progressOptions: ProgressOptions

    @OptionGroup(title: "Colour")
    var colorOptions: ColorOptions

    /// Super weights per tensor: `--super-weights`, else the deprecated `--top`, else 8.
    var superWeightCount: Int { superWeights ?? deprecatedTop ?? 8 }

    func validate() throws {
      if superWeights != nil && deprecatedTop != nil {
        throw ValidationError("--top is the old name of --super-weights; give only --super-weights")
      }
      if superWeightCount < 0 {
        throw ValidationError("--super-weights must be at least 0 (got \(superWeightCount))")
      }
    }

    func run() throws {
      if deprecatedTop != nil {
        progressOptions.warn("stats --top is deprecated: it is now --super-weights (--top means N tensors elsewhere)")
      }
      let model = try WeightFiles.open(paths)
      let index = model.tensorsByName
      let blockSize = try ScalePartners.blockSize(of: model)
      let selected = try tensorFilter.select(model.tensors, in: paths[0])
      let json = jsonOptions.json, style = colorOptions.style
      var failures = 0
      let progress = progressOptions.reporter(label: "stats")
      // With a progress line on the terminal, lines are held until the end so they never tangle
      // with it; otherwise each is printed as soon as it is known, so memory stays flat however
      // many tensors there are (1.6 M tensors held ~1.5 GB of lines).
      var held: [(text: String, error: Bool)] = []
      func emit(_ text: String, error: Bool = false, terminator: String = "\n") {
        if progress != nil {
          held.append((text + terminator, error))
        } else if error {
          FileHandle.standardError.write(Data((text + terminator).utf8))
        } else {
          print(text, terminator: terminator)
        }
      }
      var document: JSONDocumentStream?
      if json {
        document = JSONDocumentStream(schema: "quantscope.stats/2", arrayKey: "tensors") { emit($0, terminator: "") }
      } else {
        emit(
          [
            Self.pad("name", 40), Self.pad("type", 8), Self.pad("shape", 16), Self.pad("min", 12),
            Self.pad("max", 12), Self.pad("mean", 12), Self.pad("std", 12), Self.pad("rms", 12),
            Self.pad("kurtosis", 12), Self.pad("zeros", 8), "nan/inf",
          ].joined(separator: " "))
      }
      progress?.start(total: selected.reduce(0) { $0 + $1.byteCount })
      for t in selected {
        let stats: TensorStatistics
        let decoder: TensorDecoder
        do {
          decoder = try TensorDecoder(t, partnersIn: index, blockSize: blockSize)
          stats = try TensorStatistics.compute(
            decoder, topK: superWeightCount, threads: threadOptions.threads, progress: progress)
        } catch {
          failures += 1
          progress?.advance(by: t.byteCount)
          emit("quantscope: error: \(String(describing: error).terminalSafe)", error: true)
          continue
        }
        if document != nil {
          document?.append(stats.jsonObject(tensor: t, decoder: decoder))
        } else {
          emit(Self.tableLine(t, decoder, stats, style: style))
        }
      }
      progress?.finish()
      document?.finish()
      for line in held {
        if line.error {
          FileHandle.standardError.write(Data(line.text.utf8))
        } else {
          print(line.text, terminator: "")
        }
      }
      if failures > 0 { throw ExitCode(ExitStatus.error) }
    }

    static func pad(_ s: String, _ width: Int) -> String {
      s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    /// `%.6g`, through C's `snprintf` for finite values: Foundation's `String(format:)` cost
    /// 40% of `stats` on 1.6 M small tensors. Non-finite values keep Foundation's spelling.
    static func number(_ v: Double) -> String {
      guard v.isFinite else { return String(format: "%.6g", v) }
      return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 40) { buffer in
        _ = withVaList([v]) { vsnprintf(buffer.baseAddress, 40, "%.6g", $0) }
        return String(cString: buffer.baseAddress!)
      }
    }

    static func tableLine(_ t: TensorInfo, _ d: TensorDecoder, _ s: TensorStatistics, style: Style = .plain) -> String {
      var type = t.encoding.name
      if let scale = d.scale { type += "×" + scale.kind }
      var line = [
        pad(t.name.terminalSafe, 40), pad(type, 8), pad(Format.shape(t.shape), 16),
        pad(number(s.min), 12), pad(number(s.max), 12), pad(number(s.mean), 12),
        pad(number(s.standardDeviation), 12), pad(number(s.rms), 12), pad(number(s.kurtosis), 12),
        pad(String(format: "%.4f%%", s.zeroFraction * 100), 8), nonFiniteCell(s, style),
      ].joined(separator: " ")
      if !s.top.isEmpty {
        line +=
          "\n    super weights: "
          + s.top.map { "(\($0.row),\($0.column))=\(number(Double($0.value)))" }.joined(separator: " ")
      }
      return line
    }

    /// `nan/inf` counts, red when there are any (the last cell, so colour cannot upset padding).
    static func nonFiniteCell(_ s: TensorStatistics, _ style: Style) -> String {
      let infinities = s.positiveInfinityCount + s.negativeInfinityCount
      let text = "\(Format.count(s.nanCount))/\(Format.count(infinities))"
      return s.nanCount + infinities > 0 ? style.paint(text, .red) : text
    }
  }
}
