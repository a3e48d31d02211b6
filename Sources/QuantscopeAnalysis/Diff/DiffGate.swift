import Foundation

/// A release gate over a ``Diff``: limits on error metrics (`--fail-above METRIC=VALUE`), judged so
/// that it can only pass on evidence.
///
/// A tensor whose metrics are undefined because it holds NaN or infinite values fails every
/// threshold (its error is unknown, so it cannot be shown to be within any limit); a comparison
/// of no tensor at all fails (nothing was shown); a metric value that is itself NaN fails. The
/// worst tensor of each failing threshold is found in that metric's own order (highest NMSE,
/// lowest cosine, …), not in file order.
public struct DiffGate: Sendable {
  /// A metric a threshold can limit.
  public enum Metric: String, Sendable, CaseIterable {
    case mse, rmse, nmse, nmse_db, max_abs, cosine, snr_db

    /// Spellings accepted for backward compatibility: `maxabs` was `max_abs`'s name before the
    /// metric got one name in JSON, CSV, `--sort` and `--fail-above`.
    public static let deprecatedNames: [String: Metric] = ["maxabs": .max_abs]

    /// The metric named `name` (case-insensitive), deprecated spellings included.
    public init?(named name: String) {
      let lower = name.lowercased()
      guard let metric = Metric(rawValue: lower) ?? Self.deprecatedNames[lower] else { return nil }
      self = metric
    }

    /// Whether a larger value is worse (the error metrics); cosine and SNR are worse when lower.
    public var higherIsWorse: Bool { self != .cosine && self != .snr_db }

    /// The metric's value in `m`.
    public func value(_ m: ErrorMetrics) -> Double {
      switch self {
      case .mse: m.mse
      case .rmse: m.rmse
      case .nmse: m.nmse
      case .nmse_db: m.nmseDecibels
      case .max_abs: m.maxAbsoluteError
      case .cosine: m.cosine
      case .snr_db: m.snrDecibels
      }
    }

    /// The limits that can both pass and fail: a limit outside them (`cosine=2`, `mse=-1`) or
    /// not a number would make the gate a constant.
    var meaningfulLimits: ClosedRange<Double>? {
      switch self {
      case .mse, .rmse, .nmse, .max_abs: 0...Double.greatestFiniteMagnitude
      case .cosine: -1...1
      case .nmse_db, .snr_db: nil
      }
    }
  }

  /// A rejected threshold: the text and why.
  public struct ThresholdError: Error, Sendable, CustomStringConvertible {
    /// What was wrong, for the user.
    public let description: String
  }

  /// One limit: `metric` may not be worse than `limit`.
  public struct Threshold: Sendable, Equatable {
    /// The metric limited.
    public let metric: Metric
    /// The limit.
    public let limit: Double

    /// A threshold; the limit must be finite and able to both pass and fail.
    ///
    /// - Throws: ``ThresholdError`` for NaN, infinities and limits no value can cross.
    public init(metric: Metric, limit: Double) throws(ThresholdError) {
      guard limit.isFinite else {
        throw ThresholdError(description: "\(metric.rawValue)=\(limit): the limit must be a finite number")
      }
      if let range = metric.meaningfulLimits, !range.contains(limit) {
        throw ThresholdError(
          description: "\(metric.rawValue)=\(limit): \(metric.rawValue) lies in \(Self.describe(range)), "
            + "so this limit could never \((limit < range.lowerBound) == metric.higherIsWorse ? "pass" : "fail")")
      }
      self.metric = metric
      self.limit = limit
    }

    /// Parses `METRIC=VALUE` (metric names as in ``Metric``, case-insensitive).
    ///
    /// - Throws: ``ThresholdError`` naming the text and what is wrong with it.
    public init(parsing text: String) throws(ThresholdError) {
      let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
      let names = Metric.allCases.map(\.rawValue).joined(separator: ", ")
      guard parts.count == 2, let metric = Metric(named: parts[0]) else {
        throw ThresholdError(description: "'\(text)' is not METRIC=VALUE with METRIC one of \(names)")
      }
      guard let value = Double(parts[1].trimmingWhitespace()) else {
        throw ThresholdError(description: "'\(text)': '\(parts[1])' is not a number")
      }
      try self.init(metric: metric, limit: value)
    }

    /// Whether `m` is past the limit. A NaN value is past every limit.
    public func isViolated(by m: ErrorMetrics) -> Bool {
      let v = metric.value(m)
      // Negated comparisons, so that NaN (no answer) counts as a violation.
      return metric.higherIsWorse ? !(v <= limit) : !(v >= limit)
    }

    /// `nmse_db > -15`, `cosine < 0.999`: the condition that fails.
    public var failingCondition: String {
      "\(metric.rawValue) \(metric.higherIsWorse ? ">" : "<") \(Self.number(limit))"
    }

    static func number(_ v: Double) -> String {
      v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
    }

    static func describe(_ r: ClosedRange<Double>) -> String {
      let upper = r.upperBound == .greatestFiniteMagnitude ? "∞)" : "\(number(r.upperBound))]"
      return "[\(number(r.lowerBound)), " + upper
    }
  }

  /// A tensor and its value of one metric.
  public struct Offender: Sendable, Equatable {
    /// GGUF tensor name.
    public let name: String
    /// The metric's value (may be NaN).
    public let value: Double
  }

  /// A tensor whose metrics are undefined because of NaN or infinite values.
  public struct NonFiniteTensor: Sendable, Equatable {
    /// GGUF tensor name.
    public let name: String
    /// Reference values that were NaN or infinite.
    public let reference: Int
    /// Candidate values that were NaN or infinite.
    public let candidate: Int
  }

  /// One threshold that failed.
  public struct Failure: Sendable {
    /// The threshold.
    public let threshold: Threshold
    /// Tensors past the limit, worst first in the metric's own order (ties in file order).
    public let tensors: [Offender]
    /// Tensors that fail because their metrics are undefined (NaN or infinite values).
    public let nonFinite: [String]

    /// The worst tensor by this metric, or `nil` when only tensors without metrics fail.
    public var worst: Offender? { tensors.first }
  }

  /// The thresholds judged.
  public let thresholds: [Threshold]
  /// Thresholds that failed, in the order given.
  public let failures: [Failure]
  /// Tensors with NaN or infinite values (they fail every threshold).
  public let nonFiniteTensors: [NonFiniteTensor]
  /// Tensors with values compared (or non-finite values found).
  public let tensorsCompared: Int
  /// Candidate tensors with no reference: not judged. They do not fail the gate (a GGUF can hold
  /// tensors a checkpoint has no counterpart for), but the verdict says it did not cover them.
  public let notCompared: [String]

  /// Whether the gate passed: at least one tensor compared and no threshold failed.
  public var passed: Bool { tensorsCompared > 0 && failures.isEmpty }

  /// Judges `diff` against `thresholds`.
  public init(_ diff: Diff, thresholds: [Threshold]) {
    self.thresholds = thresholds
    var nonFinite: [NonFiniteTensor] = []
    var compared = 0
    for t in diff.tensors {
      if t.sums.count > 0 || t.sums.nonFinite > 0 { compared += 1 }
      if t.sums.nonFinite > 0 {
        nonFinite.append(
          NonFiniteTensor(name: t.name, reference: t.sums.nonFiniteReference, candidate: t.sums.nonFiniteCandidate))
      }
    }
    nonFiniteTensors = nonFinite
    tensorsCompared = compared
    notCompared = diff.missingReference
    failures = thresholds.compactMap { threshold in
      var offenders: [Offender] = []
      for t in diff.tensors {
        guard let m = t.metrics, threshold.isViolated(by: m) else { continue }
        offenders.append(Offender(name: t.name, value: threshold.metric.value(m)))
      }
      // Worst first in this metric's order; NaN (no answer) first of all. Stable, so ties keep
      // file order.
      let higher = threshold.metric.higherIsWorse
      offenders = offenders.enumerated().sorted { a, b in
        let x = a.element.value, y = b.element.value
        if x.isNaN != y.isNaN { return x.isNaN }
        if x != y && !x.isNaN { return higher ? x > y : x < y }
        return a.offset < b.offset
      }.map(\.element)
      guard !offenders.isEmpty || !nonFinite.isEmpty else { return nil }
      return Failure(threshold: threshold, tensors: offenders, nonFinite: nonFinite.map(\.name))
    }
  }

  /// A note for stderr when the verdict leaves tensors out, else `nil`.
  public var coverageNote: String? {
    guard !notCompared.isEmpty, !thresholds.isEmpty else { return nil }
    return "the gate judged \(tensorsCompared) tensor(s); \(notCompared.count) candidate tensor(s) have no reference "
      + "and were not judged: " + notCompared.prefix(5).joined(separator: ", ") + (notCompared.count > 5 ? ", …" : "")
  }

  /// One line per reason the gate failed (empty when it passed), for stderr.
  public var messages: [String] {
    var lines: [String] = []
    if tensorsCompared == 0 {
      lines.append("no tensor was compared, so no threshold can be shown to hold")
    }
    for f in failures {
      let count = f.tensors.count + f.nonFinite.count
      var line = "\(count) tensor(s) exceed the threshold (\(f.threshold.failingCondition))"
      if let w = f.worst {
        line += ", worst: \(w.name) (\(f.threshold.metric.rawValue) \(Self.format(w.value)))"
      }
      if !f.nonFinite.isEmpty { line += "; \(f.nonFinite.count) of them have NaN/Inf values and no metrics" }
      lines.append(line)
    }
    if !nonFiniteTensors.isEmpty && !thresholds.isEmpty {
      let list = nonFiniteTensors.prefix(5).map { "\($0.name) (\($0.reference) reference, \($0.candidate) candidate)" }
      lines.append(
        "\(nonFiniteTensors.count) tensor(s) with NaN/Inf values fail every threshold: "
          + list.joined(separator: ", ") + (nonFiniteTensors.count > 5 ? ", …" : ""))
    }
    return lines
  }

  static func format(_ v: Double) -> String {
    guard v.isFinite else { return String(v) }
    let a = abs(v)
    if a != 0 && (a < 1e-3 || a >= 1e6) {
      return String(format: "%.4e", v)
    }
    return String(format: "%.6g", v)
  }
}

extension String {
  fileprivate func trimmingWhitespace() -> String {
    String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
  }
}
