import Foundation
import QuantscopeFormats
import Synchronization

/// Which tensors caused the accuracy drop between two GGUFs of one model, measured on the model's output.
///
/// For every group of the tensors that differ, a hybrid file (BASE with that group taken from CANDIDATE) is
/// evaluated by llama.cpp's `llama-perplexity --kl-divergence` against BASE's logits; CANDIDATE itself is the
/// "whole" measurement. quantscope writes the hybrids and reads the tool's statistics: it runs no forward pass.
public enum Attribution {
  /// What to measure and how.
  public struct Options: Sendable {
    /// How the differing tensors are grouped.
    public var grouping: AttributionGrouping = .kind
    /// The evaluation text (`-f`).
    public var text: String = ""
    /// The engine, with its context, chunk count and threads per evaluation.
    public var engine: LlamaPerplexity
    /// Evaluations run at once.
    public var parallel = 1
    /// Where hybrids, logits and logs go; `nil`: a temporary folder, removed afterwards.
    public var workDirectory: String? = nil
    /// Importance weights for the predicted (weight-space) error.
    public var importance: ImportanceMatrix? = nil
    /// Threads for the weight-space error.
    public var threads = ParallelWork.availableCores
    /// With a value: restore groups from BASE, biggest KLD first, until the measured KLD is at most this fraction
    /// of the whole file's.
    public var restoreFraction: Double? = nil
    /// Told of each evaluation started and finished.
    public var progress: (any AttributionProgress)? = nil

    /// Options for `engine`.
    public init(engine: LlamaPerplexity) {
      self.engine = engine
    }
  }

  /// Measures `candidate` against `base`.
  ///
  /// - Throws: ``FormatError`` when the files are not two quantizations of one model, nothing differs, a hybrid
  ///   cannot be written, or `llama-perplexity` fails (naming its log).
  public static func run(base basePath: String, candidate candidatePath: String, options: Options) throws
    -> AttributionReport
  {
    let base = try GGUFModel(path: basePath)
    let candidate = try GGUFModel(path: candidatePath)
    let differing = try AttributionGroup.differingTensors(base: base, candidate: candidate)
    guard !differing.isEmpty else {
      throw FormatError(
        .mismatch, path: candidatePath, "has the same tensors as BASE (\(basePath)): nothing to attribute")
    }
    let groups = try AttributionGroup.partition(differing, by: options.grouping)
    let diff = try predictedErrors(base: base, candidate: candidate, tensors: differing, options: options)
    var errors: [String: Double] = [:]
    for t in diff.tensors {
      errors[t.name] = diff.weighted && t.sums.sumWeights > 0 ? t.sums.weightedSquaredError : t.sums.sumSquaredError
    }
    let baseBytes = Dictionary(uniqueKeysWithValues: base.tensors.map { ($0.name, $0.byteCount) })
    let candidateBytes = Dictionary(uniqueKeysWithValues: candidate.tensors.map { ($0.name, $0.byteCount) })
    let baseTypes = Dictionary(uniqueKeysWithValues: base.tensors.map { ($0.name, $0.encoding.name) })

    let work = try WorkFolder(options.workDirectory)
    defer { work.close() }
    let temporary = work.temporary
    func path(_ name: String) -> String { work.path(name) }
    let logits = path("base.kld")
    let total = groups.count + 2
    let started = Date()
    options.progress?.evaluation(label: "BASE logits", done: 0, total: total, elapsed: 0)
    let baseRun = try options.engine.runBase(
      model: base.files[0].path, text: options.text, logits: logits, log: path("base.log"))
    options.progress?.evaluation(
      label: "BASE logits", done: 1, total: total, elapsed: Date().timeIntervalSince(started))

    // Every hybrid is written just before it is evaluated and removed right after (unless the work folder is
    // the user's): at most `parallel` hybrids exist at once.
    struct Job { let label: String; let file: String; let hybrid: [String]?; let log: String }
    var jobs = [Job(label: "whole", file: candidate.files[0].path, hybrid: nil, log: path("whole.log"))]
    for (i, g) in groups.enumerated() {
      let stem = "group-\(i + 1)"
      jobs.append(Job(label: g.label, file: path(stem + ".gguf"), hybrid: g.tensors, log: path(stem + ".log")))
    }
    let results = Mutex<[Int: LlamaPerplexity.Run]>([:])
    let finished = Mutex(1)
    let jobsBox = jobs
    let keep = !temporary
    try ParallelWork.run(count: jobs.count, threads: max(1, options.parallel)) { i in
      let job = jobsBox[i]
      if let tensors = job.hybrid {
        try HybridGGUF.write(base: base, candidate: candidate, taking: Set(tensors), output: job.file, overwrite: true)
      }
      defer { if job.hybrid != nil && !keep { try? FileManager.default.removeItem(atPath: job.file) } }
      let run = try options.engine.runDivergence(model: job.file, logits: logits, log: job.log)
      results.withLock { $0[i] = run }
      let done = finished.withLock { n -> Int in
        n += 1
        return n
      }
      options.progress?.evaluation(
        label: job.label, done: done, total: total, elapsed: Date().timeIntervalSince(started))
    }
    let runs = results.withLock { $0 }
    guard let whole = runs[0]?.statistics else {
      throw FormatError(.malformed, path: candidatePath, "no statistics for CANDIDATE")
    }
    var rows: [AttributionReport.Group] = []
    for (i, g) in groups.enumerated() {
      guard let run = runs[i + 1], let statistics = run.statistics else { continue }
      rows.append(
        AttributionReport.Group(
          label: g.label, tensors: g.tensors, statistics: statistics,
          predictedError: g.tensors.reduce(0) { $0 + (errors[$1] ?? 0) },
          baseBytes: g.tensors.reduce(0) { $0 + (baseBytes[$1] ?? 0) },
          candidateBytes: g.tensors.reduce(0) { $0 + (candidateBytes[$1] ?? 0) },
          baseTypes: g.tensors.map { baseTypes[$0] ?? "?" }, seconds: run.seconds))
    }
    var report = AttributionReport(
      base: basePath, candidate: candidatePath, grouping: options.grouping, whole: whole, groups: rows,
      weighted: options.importance != nil,
      llamaVersion: options.engine.version() ?? baseRun.version ?? runs[0]?.version,
      context: options.engine.context, chunks: options.engine.chunks, parallel: options.parallel,
      threadsPerEvaluation: options.engine.threads,
      evaluationSeconds: runs.keys.sorted().compactMap { runs[$0]?.seconds },
      wallSeconds: Date().timeIntervalSince(started))
    report.diff = diff

    if let fraction = options.restoreFraction {
      report.restore = try restore(
        report: report, fraction: fraction, base: base, candidate: candidate, differing: differing,
        logits: logits, work: path, keep: keep, options: options)
      report.wallSeconds = Date().timeIntervalSince(started)
    }
    return report
  }

  /// Greedy restore: takes groups back from BASE, biggest measured KLD first, measuring each step, until the KLD
  /// is at most `fraction` of the whole file's.
  static func restore(
    report: AttributionReport, fraction: Double, base: GGUFModel, candidate: GGUFModel, differing: [String],
    logits: String, work path: (String) -> String, keep: Bool, options: Options
  ) throws -> AttributionReport.Restore {
    let target = fraction * report.whole.meanKLD
    var restored: [AttributionReport.Group] = []
    var steps: [AttributionReport.Restore.Step] = []
    var restoredNames = Set<String>()
    let started = Date()
    for (n, group) in report.groupsWorstFirst.enumerated() {
      restored.append(group)
      restoredNames.formUnion(group.tensors)
      let file = path("restore-\(n + 1).gguf")
      let taking = Set(differing).subtracting(restoredNames)
      try HybridGGUF.write(base: base, candidate: candidate, taking: taking, output: file, overwrite: true)
      defer { if !keep { try? FileManager.default.removeItem(atPath: file) } }
      let run = try options.engine.runDivergence(model: file, logits: logits, log: path("restore-\(n + 1).log"))
      // The total is the worst case (every group restored); the restore usually stops well before.
      options.progress?.evaluation(
        label: "restore \(group.label)", done: n + 1, total: report.groups.count,
        elapsed: Date().timeIntervalSince(started))
      guard let statistics = run.statistics else { break }
      steps.append(.init(restored: restored.map(\.label), statistics: statistics))
      if statistics.meanKLD <= target { break }
    }
    return AttributionReport.Restore(
      fraction: fraction, targetKLD: target, steps: steps, groups: restored,
      reached: (steps.last?.statistics.meanKLD ?? .infinity) <= target)
  }

  /// CANDIDATE against BASE over `tensors`: per tensor, the squared error of CANDIDATE's decoded values against BASE's (imatrix-weighted with one), as
  /// `diff` sums it.
  static func predictedErrors(
    base: GGUFModel, candidate: GGUFModel, tensors: [String], options: Options
  ) throws -> Diff {
    var diffOptions = Diff.Options()
    diffOptions.threads = options.threads
    diffOptions.importance = options.importance
    diffOptions.tensorFilter =
      "^(" + tensors.map { NSRegularExpression.escapedPattern(for: $0) }.joined(separator: "|") + ")$"
    return try Diff.compute(candidate: candidate, reference: base, options: diffOptions)
  }
}

/// Where a run keeps its hybrids, logits and logs: the user's folder, or a temporary one that is
/// removed when the run ends — and when it is interrupted (SIGINT, SIGTERM), through
/// ``TemporaryFileCleanup``: the folder and every file named in it are registered, and the
/// llama-perplexity children writing them are killed first.
final class WorkFolder: Sendable {
  /// The folder.
  let root: String
  /// Whether it is quantscope's own, removed afterwards.
  let temporary: Bool
  private let registrations = Mutex<[TemporaryFileCleanup.Entry]>([])

  /// Creates `directory` (with its parents), or a temporary folder when it is `nil`.
  init(_ directory: String?) throws {
    temporary = directory == nil
    root =
      directory
      ?? (NSTemporaryDirectory() as NSString).appendingPathComponent(
        "quantscope-attribute-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    // Registered before it exists, and before its files: the handler removes it after them.
    if temporary { registrations.withLock { $0.append(TemporaryFileCleanup.removeOnInterrupt(directory: root)) } }
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
  }

  /// The path of `name` in the folder, registered for removal on an interrupt when temporary.
  func path(_ name: String) -> String {
    let path = (root as NSString).appendingPathComponent(name)
    if temporary { registrations.withLock { $0.append(TemporaryFileCleanup.removeOnInterrupt(file: path)) } }
    return path
  }

  /// Removes a temporary folder and forgets the registrations.
  func close() {
    if temporary { try? FileManager.default.removeItem(atPath: root) }
    registrations.withLock { entries in
      for e in entries { e.release() }
      entries.removeAll()
    }
  }
}

/// Told as `attribute`'s evaluations finish, for a progress line with ETA.
public protocol AttributionProgress: Sendable {
  /// Evaluation `label` is done: `done` of `total`, `elapsed` seconds since the first started.
  func evaluation(label: String, done: Int, total: Int, elapsed: Double)
}
