import Foundation
import QuantscopeFormats

/// Per tensor kind, the measured KLD per unit of weight-space error: a first-order model that turns `diff`'s
/// (imatrix-weighted) squared error into an estimate of the output's KL divergence.
///
/// Fitted by `attribute --calibrate` from one-group-at-a-time measurements. It assumes each kind's KLD grows in
/// proportion to its error and that kinds add up; both fail when one group's error changes what another's
/// tensors see (the measured whole is then larger than the sum of the groups: see
/// ``AttributionReport/nonAdditivity``), and far from the error level it was fitted at.
public struct ProxyCalibration: Sendable, Equatable {
  /// One kind's fit.
  public struct Entry: Sendable, Equatable {
    /// `kld / error`.
    public var kldPerError: Double
    /// The mean KLD measured with only this kind degraded (summed over its groups).
    public var kld: Double
    /// The predicted error of those groups.
    public var error: Double

    /// An entry.
    public init(kldPerError: Double, kld: Double, error: Double) {
      self.kldPerError = kldPerError
      self.kld = kld
      self.error = error
    }
  }

  /// The schema name of the saved document.
  public static let schema = "quantscope.calibration/1"

  /// Fits by kind name.
  public var kinds: [String: Entry]
  /// Whether the errors were imatrix-weighted.
  public var weighted: Bool

  /// A calibration.
  public init(kinds: [String: Entry], weighted: Bool) {
    self.kinds = kinds
    self.weighted = weighted
  }

  /// KLD per unit of error for tensors of `kind`; `nil` when the kind was not measured.
  public func factor(forKind kind: String) -> Double? { kinds[kind]?.kldPerError }

  /// Fits a calibration from `report`: each group's KLD and error are added to its kind's.
  ///
  /// - Throws: ``FormatError`` (`.usage`) when a group holds tensors of several kinds (group by `kind` or
  ///   `kind,layer`), or when no group has a positive error.
  public init(fitting report: AttributionReport) throws {
    var kld: [String: Double] = [:], error: [String: Double] = [:]
    for g in report.groups {
      let kinds = Set(g.tensors.map(Diff.kind))
      guard kinds.count == 1, let kind = kinds.first else {
        throw FormatError(
          .usage, path: report.candidate,
          "group '\(g.label)' mixes tensor kinds (\(kinds.sorted().joined(separator: ", "))): calibrate with "
            + "--groups kind or kind,layer")
      }
      kld[kind, default: 0] += g.statistics.meanKLD
      error[kind, default: 0] += g.predictedError
    }
    var kinds: [String: Entry] = [:]
    for (kind, e) in error where e > 0 && e.isFinite {
      kinds[kind] = Entry(kldPerError: kld[kind, default: 0] / e, kld: kld[kind, default: 0], error: e)
    }
    guard !kinds.isEmpty else {
      throw FormatError(.malformed, path: report.candidate, "no group has a positive predicted error to calibrate")
    }
    self.init(kinds: kinds, weighted: report.weighted)
  }

  /// The `quantscope.calibration/1` document: `kinds: {kind: {kld_per_error, kld, error}}`, kinds by name.
  public func jsonDocument(source: AttributionReport? = nil) -> JSONValue {
    let entries: [(String, JSONValue)] = kinds.keys.sorted().map { kind in
      let e = kinds[kind]!
      return (
        kind,
        .members([("kld_per_error", .finite(e.kldPerError)), ("kld", .finite(e.kld)), ("error", .finite(e.error))])
      )
    }
    var members: [(String, JSONValue)] = [("weighted", .bool(weighted))]
    if let source {
      members += [
        ("base", .string(source.base)), ("candidate", .string(source.candidate)),
        ("llama_cpp", .optional(source.llamaVersion)),
      ]
    }
    members.append(("kinds", .members(entries)))
    return .document(schema: Self.schema, members)
  }

  /// Reads a saved calibration.
  ///
  /// - Throws: ``FormatError`` naming the file for a wrong schema or a malformed entry.
  public static func load(path: String) throws -> ProxyCalibration {
    let file = try MappedFile(path: path)
    let json = try JSONValue.parse(UnsafeRawBufferPointer(start: file.base, count: file.size), path: path)
    guard json["schema"]?.string == schema else {
      throw FormatError(
        .malformed, path: path, "not a \(schema) document (schema \(json["schema"]?.string ?? "missing"))")
    }
    guard let members = json["kinds"]?.members else {
      throw FormatError(.malformed, path: path, "no 'kinds' object")
    }
    var kinds: [String: Entry] = [:]
    for m in members {
      guard let factor = m.value["kld_per_error"]?.double, factor.isFinite, factor >= 0 else {
        throw FormatError(.malformed, path: path, "kind '\(m.key)' has no finite, non-negative kld_per_error")
      }
      kinds[m.key] = Entry(
        kldPerError: factor, kld: m.value["kld"]?.double ?? 0, error: m.value["error"]?.double ?? 0)
    }
    return ProxyCalibration(kinds: kinds, weighted: json["weighted"]?.bool ?? false)
  }

  /// Writes the document to `path` atomically.
  public func save(path: String, overwrite: Bool, inputs: [String] = [], source: AttributionReport? = nil) throws {
    try OutputFile.write(
      jsonDocument(source: source).prettySerialized + "\n", to: path, overwrite: overwrite, inputs: inputs)
  }
}
