import Foundation
import QuantscopeFormats

/// What `llama-perplexity --kl-divergence` prints about a model against the base logits.
public struct KLDStatistics: Sendable, Equatable {
  /// Mean KL divergence from the base's token distribution (nats per token).
  public var meanKLD: Double
  /// The ± of the mean, as printed.
  public var meanKLDUncertainty: Double
  /// 99th percentile of the per-token KLD.
  public var kld99: Double
  /// Largest per-token KLD.
  public var maxKLD: Double
  /// Mean change of the base's top token probability, in percent (negative: the model is less sure).
  public var meanDeltaP: Double
  /// RMS change of the top token probability, in percent.
  public var rmsDeltaP: Double
  /// Share of tokens whose most likely next token is the base's, in percent.
  public var sameTopPercent: Double
  /// Mean ln(PPL(Q)/PPL(base)), when printed.
  public var logPerplexityRatio: Double?

  /// Statistics as parsed or recorded.
  public init(
    meanKLD: Double, meanKLDUncertainty: Double = 0, kld99: Double, maxKLD: Double, meanDeltaP: Double,
    rmsDeltaP: Double, sameTopPercent: Double, logPerplexityRatio: Double? = nil
  ) {
    self.meanKLD = meanKLD
    self.meanKLDUncertainty = meanKLDUncertainty
    self.kld99 = kld99
    self.maxKLD = maxKLD
    self.meanDeltaP = meanDeltaP
    self.rmsDeltaP = rmsDeltaP
    self.sameTopPercent = sameTopPercent
    self.logPerplexityRatio = logPerplexityRatio
  }

  /// Parses the closing statistics of a `llama-perplexity --kl-divergence` log; `nil` when the mean KLD, its 99th
  /// percentile, Δp or "Same top p" lines are missing (the run failed or the format changed).
  public init?(parsing log: String) {
    func value(_ prefix: String, second: Bool = false) -> Double? {
      for line in log.split(separator: "\n") where line.hasPrefix(prefix) {
        let rest = line.dropFirst(prefix.count).replacingOccurrences(of: "%", with: " ")
        let numbers = rest.split(whereSeparator: { $0 == " " || $0 == "±" }).compactMap { Double($0) }
        if second { return numbers.count > 1 ? numbers[1] : nil }
        return numbers.first
      }
      return nil
    }
    guard let mean = value("Mean    KLD:"), let p99 = value("99.0%   KLD:"), let maximum = value("Maximum KLD:"),
      let deltaP = value("Mean    Δp:"), let rms = value("RMS Δp    :"), let same = value("Same top p:")
    else { return nil }
    self.init(
      meanKLD: mean, meanKLDUncertainty: value("Mean    KLD:", second: true) ?? 0, kld99: p99, maxKLD: maximum,
      meanDeltaP: deltaP, rmsDeltaP: rms, sameTopPercent: same,
      logPerplexityRatio: value("Mean ln(PPL(Q)/PPL(base))     :"))
  }
}

/// llama.cpp's `llama-perplexity`, the engine `attribute` measures models with: quantscope never runs a forward pass.
public struct LlamaPerplexity: Sendable {
  /// The executable.
  public let executable: String
  /// Tokens per chunk (`-c`).
  public var context = 512
  /// Chunks of the text evaluated (`--chunks`); `nil`: all.
  public var chunks: Int? = nil
  /// Threads per evaluation (`-t`).
  public var threads = 1

  /// The tool at `executable`.
  public init(executable: String) {
    self.executable = executable
  }

  /// Finds `llama-perplexity` in `directory`, else on `PATH`.
  ///
  /// - Throws: ``FormatError`` (`.notFound`) naming where it looked.
  public static func locate(in directory: String?) throws -> LlamaPerplexity {
    let name = "llama-perplexity"
    if let directory {
      let path = (directory as NSString).appendingPathComponent(name)
      guard FileManager.default.isExecutableFile(atPath: path) else {
        throw FormatError(
          .notFound, path: path,
          "no executable llama-perplexity here (scripts/setup --llama builds one; give its directory with --llama-bin)")
      }
      return LlamaPerplexity(executable: path)
    }
    let searchPath = ProcessInfo.processInfo.environment["PATH"] ?? ""
    for dir in searchPath.split(separator: ":") {
      let path = (String(dir) as NSString).appendingPathComponent(name)
      if FileManager.default.isExecutableFile(atPath: path) { return LlamaPerplexity(executable: path) }
    }
    throw FormatError(
      .notFound, path: name,
      "not found on PATH; give the directory holding llama.cpp's llama-perplexity with --llama-bin "
        + "(scripts/setup --llama builds one)")
  }

  /// One finished run.
  public struct Run: Sendable {
    /// The statistics (`nil` for the base run, which only writes logits).
    public let statistics: KLDStatistics?
    /// The llama.cpp build it printed at start (older builds), when found.
    public let version: String?
    /// Wall time in seconds.
    public let seconds: Double
  }

  /// The arguments of the base run: evaluate `model` on `text` and save its log-probabilities in `logits`.
  public func baseArguments(model: String, text: String, logits: String) -> [String] {
    ["-m", model, "-f", text, "--kl-divergence-base", logits] + commonArguments
  }

  /// The arguments of a KLD run of `model` against the saved `logits`.
  public func divergenceArguments(model: String, logits: String) -> [String] {
    ["-m", model, "--kl-divergence-base", logits, "--kl-divergence"] + commonArguments
  }

  var commonArguments: [String] {
    ["-c", String(context), "-t", String(threads)] + (chunks.map { ["--chunks", String($0)] } ?? [])
  }

  /// Runs the base evaluation, writing `logits` (the base's log-probabilities of every token of `text`).
  public func runBase(model: String, text: String, logits: String, log: String) throws -> Run {
    let run = try execute(baseArguments(model: model, text: text, logits: logits), log: log, subject: model)
    guard FileManager.default.fileExists(atPath: logits) else {
      throw FormatError(.malformed, path: model, "llama-perplexity wrote no logits (\(log) has its output)")
    }
    return run
  }

  /// Runs `model` against the base's `logits` and parses its statistics.
  ///
  /// - Throws: ``FormatError`` when the tool fails or prints no statistics, naming the model and its log file.
  public func runDivergence(model: String, logits: String, log: String) throws -> Run {
    let run = try execute(divergenceArguments(model: model, logits: logits), log: log, subject: model)
    let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    guard let statistics = KLDStatistics(parsing: text) else {
      throw FormatError(
        .malformed, path: model,
        "llama-perplexity printed no KL divergence statistics (its output is in \(log)): \(Self.lastError(text))")
    }
    return Run(statistics: statistics, version: run.version, seconds: run.seconds)
  }

  /// Runs the tool with stdout and stderr into `log`.
  func execute(_ arguments: [String], log: String, subject: String) throws -> Run {
    FileManager.default.createFile(atPath: log, contents: nil)
    guard let handle = FileHandle(forWritingAtPath: log) else {
      throw FormatError(.io, path: log, "cannot create the llama-perplexity log")
    }
    defer { try? handle.close() }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = handle
    process.standardError = handle
    process.standardInput = FileHandle.nullDevice
    let start = Date()
    do {
      try process.run()
    } catch {
      throw FormatError(.io, path: executable, "cannot run: \(error.localizedDescription)")
    }
    // An interrupted quantscope takes its evaluation down with it: SIGTERM from a scheduler reaches
    // only us, and the child would go on writing into a work folder being removed.
    let child = TemporaryFileCleanup.killOnInterrupt(process.processIdentifier)
    process.waitUntilExit()
    child.release()
    let seconds = Date().timeIntervalSince(start)
    try? handle.synchronize()
    let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    guard process.terminationReason == .exit, process.terminationStatus == 0 else {
      throw FormatError(
        .malformed, path: subject,
        "llama-perplexity failed (status \(process.terminationStatus); output in \(log)): \(Self.lastError(text))")
    }
    return Run(statistics: nil, version: Self.version(in: text), seconds: seconds)
  }

  /// What `llama-perplexity --version` prints first (`0.5.0-dev (build 1, commit 0c1e570)`); `nil` when it prints
  /// no version line.
  public func version() -> String? {
    let log = (NSTemporaryDirectory() as NSString).appendingPathComponent(
      "quantscope-llama-version-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log")
    let registration = TemporaryFileCleanup.removeOnInterrupt(file: log)
    defer {
      try? FileManager.default.removeItem(atPath: log)
      registration.release()
    }
    guard (try? execute(["--version"], log: log, subject: executable)) != nil else { return nil }
    return Self.version(in: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
  }

  /// The version in a llama.cpp tool's output: the `version: …` line of `--version`, or the `build: N (commit)`
  /// line older builds print when they start.
  public static func version(in log: String) -> String? {
    for line in log.split(separator: "\n") {
      if line.hasPrefix("version: ") { return String(line.dropFirst("version: ".count)) }
      if line.hasPrefix("build: ") {
        let rest = line.dropFirst("build: ".count)
        guard let close = rest.firstIndex(of: ")") else { return String(rest) }
        return String(rest[...close])
      }
    }
    return nil
  }

  /// The last line mentioning an error, or the last line, for a one-line message.
  static func lastError(_ log: String) -> String {
    let lines = log.split(separator: "\n").map(String.init)
    let line = lines.last { $0.localizedCaseInsensitiveContains("error") || $0.contains("failed") } ?? lines.last
    return String((line ?? "no output").prefix(200))
  }
}
