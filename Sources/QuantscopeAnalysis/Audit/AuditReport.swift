import Foundation
import QuantscopeFormats

/// The audit of a whole release: every tensor's result in candidate order, the verdict, which
/// source precision reproduced, and how the file's types compare with the shipped presets.
public struct AuditReport: Sendable {
  /// Per-tensor results in candidate order.
  public let tensors: [TensorAudit]
  /// The source precision asked for.
  public let precision: Audit.PrecisionChoice
  /// Whether an importance matrix was given.
  public let weighted: Bool
  /// The closest preset, if any could be planned.
  public let presetMatch: PresetMatch?
  /// `general.architecture` of the candidate.
  public let architecture: String?

  /// A report of `tensors` (results of one or several ``Audit/tensors(_:of:reference:options:)``
  /// calls over disjoint subsets, in any order: they are put in candidate order).
  ///
  /// - Precondition: no tensor index appears twice.
  public init(
    candidate: GGUFModel, tensors: [TensorAudit], precision: Audit.PrecisionChoice, weighted: Bool,
    presetMatch: PresetMatch?
  ) {
    let sorted = tensors.sorted { $0.index < $1.index }
    precondition(zip(sorted, sorted.dropFirst()).allSatisfy { $0.index != $1.index }, "a tensor audited twice")
    self.tensors = sorted
    self.precision = precision
    self.weighted = weighted
    self.presetMatch = presetMatch
    self.architecture = candidate["general.architecture"]?.string
  }

  /// Tensors reproduced byte for byte.
  public var reproduced: [TensorAudit] { tensors.filter(\.status.isReproduced) }
  /// Bytes of the tensors reproduced.
  public var reproducedBytes: Int { reproduced.reduce(0) { $0 + $1.bytes } }
  /// Bytes of every tensor audited.
  public var totalBytes: Int { tensors.reduce(0) { $0 + $1.bytes } }
  /// Share of the bytes reproduced, in percent (0 without tensors).
  public var reproducedPercent: Double {
    totalBytes == 0 ? 0 : 100 * Double(reproducedBytes) / Double(totalBytes)
  }
  /// Whether every tensor is identical (and there is at least one): the release gate.
  public var passed: Bool { !tensors.isEmpty && tensors.allSatisfy(\.status.isReproduced) }

  /// Tensors per status, in ``TensorAudit/Status`` order, only statuses that occur.
  public var statusCounts: [(status: TensorAudit.Status, count: Int)] {
    TensorAudit.Status.allCases.compactMap { s in
      let n = tensors.filter { $0.status == s }.count
      return n == 0 ? nil : (s, n)
    }
  }

  /// Reproduced tensors per source precision (`exact`, then `bf16`), only those that occur.
  public var reproducedByPrecision: [(precision: ReferencePrecision, count: Int)] {
    ReferencePrecision.allCases.compactMap { p in
      let n = reproduced.filter { $0.precision == p }.count
      return n == 0 ? nil : (p, n)
    }
  }

  /// `reproducible: 1,025/1,025 tensors, 100.00 % of bytes`.
  public var verdict: String {
    "reproducible: \(Self.count(reproduced.count))/\(Self.count(tensors.count)) tensors, "
      + String(format: "%.2f", Self.floorTwoDecimals(reproducedPercent)) + " % of bytes"
  }

  /// Which precision reproduced: `source precision: exact 3, bf16 1,021`.
  public var precisionLine: String {
    let parts = reproducedByPrecision.map { "\($0.precision.rawValue) \(Self.count($0.count))" }
    return "source precision: " + (parts.isEmpty ? "none reproduced" : parts.joined(separator: ", "))
  }

  /// Non-identical tensors first (differing ones by NMSE then share of differing blocks, worst
  /// first; then the ones not compared), then identical ones, each group in candidate order.
  public var worstFirst: [TensorAudit] {
    func rank(_ t: TensorAudit) -> Int {
      switch t.status {
      case .differs: 0
      case .needsImatrix: 1
      case .unsupportedType: 2
      case .noReference: 3
      case .identical: 4
      }
    }
    return tensors.sorted { a, b in
      if rank(a) != rank(b) { return rank(a) < rank(b) }
      if a.status == .differs {
        let na = a.nmseVsReproduction ?? .infinity, nb = b.nmseVsReproduction ?? .infinity
        if na != nb { return na > nb }
        let fa = Double(a.differingBlocks) / Double(max(1, a.blocks))
        let fb = Double(b.differingBlocks) / Double(max(1, b.blocks))
        if fa != fb { return fa > fb }
      }
      return a.index < b.index
    }
  }

  /// 100.00 only when everything is reproduced: a share just short of it never rounds up.
  static func floorTwoDecimals(_ percent: Double) -> Double { (percent * 100).rounded(.down) / 100 }

  /// `1,025`.
  static func count(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
      out.append(c)
    }
    return (n < 0 ? "-" : "") + out
  }
}
