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
              --top 16
          quantscope stats model.gguf --json --quiet > stats.json
        """)

    @Argument(help: "GGUF file (any shard of a split set), safetensors file, checkpoint directory or shards.")
    var paths: [String]

    @Option(name: .customLong("tensors"), help: ArgumentHelp("Only tensors whose name matches this regular expression (anywhere in the name).", valueName: "regex"))
    var pattern: String?

    @Flag(help: "Print JSON (one array of objects) instead of a table.")
    var json = false

    @Option(help: "How many largest-magnitude weights to report per tensor.")
    var top: Int = 8

    @Option(help: "Threads (default: all cores). The results do not depend on it.")
    var threads: Int?

    @OptionGroup(title: "Progress")
    var progressOptions: ProgressOptions

    func validate() throws {
      if top < 0 { throw ValidationError("--top must be at least 0") }
      if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
      if let threads, threads > Limits.maximumThreads {
        throw ValidationError("--threads must be at most \(Limits.maximumThreads)")
      }
    }

    func run() throws {
      let model = try WeightFiles.open(paths)
      let index = model.tensorsByName
      var regex: Regex<AnyRegexOutput>? = nil
      if let pattern {
        do { regex = try Regex(pattern) } catch { throw CommandFailure("invalid --tensors pattern: \(error)") }
      }
      let selected = model.tensors.filter { t in regex.map { t.name.contains($0) } ?? true }
      var failures = 0
      let progress = progressOptions.reporter(label: "stats")
      // With a progress line on the terminal, lines are held until the end so they never tangle
      // with it; otherwise each is printed as soon as it is known, so memory stays flat however
      // many tensors there are (1.6 M tensors held ~1.5 GB of lines).
      var held: [(text: String, error: Bool)] = []
      var objectCount = 0
      func emit(_ text: String, error: Bool = false) {
        if progress != nil {
          held.append((text, error))
        } else if error {
          FileHandle.standardError.write(Data((text + "\n").utf8))
        } else {
          print(text)
        }
      }
      if json {
        emit("[", error: false)
      } else {
        emit(
          [
            Self.pad("tensor", 40), Self.pad("type", 8), Self.pad("shape", 16), Self.pad("min", 12),
            Self.pad("max", 12), Self.pad("mean", 12), Self.pad("std", 12), Self.pad("rms", 12),
            Self.pad("kurtosis", 12), Self.pad("zeros", 8), "nan/inf",
          ].joined(separator: " "))
      }
      progress?.start(total: selected.reduce(0) { $0 + $1.byteCount })
      for t in selected {
        let stats: TensorStatistics
        let decoder: TensorDecoder
        do {
          decoder = try TensorDecoder(t, partnersIn: index)
          stats = try TensorStatistics.compute(decoder, topK: top, threads: threads, progress: progress)
        } catch {
          failures += 1
          progress?.advance(by: t.byteCount)
          emit("quantscope: error: \(String(describing: error).terminalSafe)", error: true)
          continue
        }
        if json {
          // One object per line, comma-terminated except the last: the comma goes before the next.
          emit((objectCount > 0 ? "," : "") + Self.jsonObject(t, decoder, stats))
          objectCount += 1
        } else {
          emit(Self.tableLine(t, decoder, stats))
        }
      }
      progress?.finish()
      if json { emit("]") }
      for line in held {
        if line.error {
          FileHandle.standardError.write(Data((line.text + "\n").utf8))
        } else {
          print(line.text)
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

    static func tableLine(_ t: TensorInfo, _ d: TensorDecoder, _ s: TensorStatistics) -> String {
      var type = t.encoding.name
      if let scale = d.scale { type += "×" + scale.kind }
      var line = [
        pad(t.name.terminalSafe, 40), pad(type, 8), pad(t.shape.map(String.init).joined(separator: "×"), 16),
        pad(number(s.min), 12), pad(number(s.max), 12), pad(number(s.mean), 12),
        pad(number(s.standardDeviation), 12), pad(number(s.rms), 12), pad(number(s.kurtosis), 12),
        pad(String(format: "%.4f%%", s.zeroFraction * 100), 8), "\(s.nanCount)/\(s.positiveInfinityCount + s.negativeInfinityCount)",
      ].joined(separator: " ")
      if !s.top.isEmpty {
        line += "\n    top |w|: " + s.top.map { "(\($0.row),\($0.column))=\(number(Double($0.value)))" }.joined(separator: " ")
      }
      return line
    }

    /// A JSON number, or `null` for NaN and ±Inf (which JSON cannot represent).
    static func jsonNumber(_ v: Double) -> String {
      guard v.isFinite else { return "null" }
      return "\(v)"
    }

    /// A JSON string literal.
  static func quote(_ s: String) -> String { JSONValue.string(s).serialized }

  static func jsonObject(_ t: TensorInfo, _ d: TensorDecoder, _ s: TensorStatistics) -> String {
      var fields: [(String, String)] = [
        ("name", Self.quote(t.name)),
        ("type", Self.quote(t.encoding.name)),
        ("shape", "[" + t.shape.map(String.init).joined(separator: ",") + "]"),
      ]
      if let scale = d.scale {
        fields.append(("scale", Self.quote(scale.tensor.name)))
        fields.append(("scale_layout", Self.quote(scale.kind)))
      }
      fields += [
        ("count", "\(s.count)"), ("finite", "\(s.finiteCount)"), ("nan", "\(s.nanCount)"),
        ("pos_inf", "\(s.positiveInfinityCount)"), ("neg_inf", "\(s.negativeInfinityCount)"),
        ("zeros", "\(s.zeroCount)"), ("zero_fraction", jsonNumber(s.zeroFraction)),
        ("min", jsonNumber(s.min)), ("max", jsonNumber(s.max)), ("mean", jsonNumber(s.mean)),
        ("std", jsonNumber(s.standardDeviation)), ("rms", jsonNumber(s.rms)), ("absmax", jsonNumber(s.absMax)),
        ("excess_kurtosis", jsonNumber(s.kurtosis)),
        (
          "top",
          "[" + s.top.map { "{\"row\":\($0.row),\"column\":\($0.column),\"index\":\($0.index),\"value\":\(jsonNumber(Double($0.value)))}" }
            .joined(separator: ",") + "]"
        ),
      ]
      return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }
  }
}
