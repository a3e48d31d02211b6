import Foundation
import QuantscopeFormats

/// What `attribute` measured: the whole file's KLD, each group's alone, and what weight-space error predicted.
public struct AttributionReport: Sendable {
  /// One group's measurement.
  public struct Group: Sendable {
    /// The group's name.
    public let label: String
    /// Its tensors.
    public let tensors: [String]
    /// `llama-perplexity`'s statistics for BASE with only this group taken from CANDIDATE.
    public let statistics: KLDStatistics
    /// Squared error of CANDIDATE's values against BASE's over the group (imatrix-weighted when
    /// ``AttributionReport/weighted``).
    public let predictedError: Double
    /// Bytes of the group's tensors in BASE.
    public let baseBytes: Int
    /// Bytes of the group's tensors in CANDIDATE.
    public let candidateBytes: Int
    /// BASE's type of each tensor, in ``tensors`` order.
    public let baseTypes: [String]
    /// Wall time of its evaluation.
    public let seconds: Double

    /// A group's measurement.
    public init(
      label: String, tensors: [String], statistics: KLDStatistics, predictedError: Double, baseBytes: Int,
      candidateBytes: Int, baseTypes: [String], seconds: Double
    ) {
      self.label = label
      self.tensors = tensors
      self.statistics = statistics
      self.predictedError = predictedError
      self.baseBytes = baseBytes
      self.candidateBytes = candidateBytes
      self.baseTypes = baseTypes
      self.seconds = seconds
    }
  }

  /// The greedy restore's result.
  public struct Restore: Sendable {
    /// One measured step.
    public struct Step: Sendable {
      /// Groups restored from BASE so far, in order.
      public let restored: [String]
      /// The KLD of CANDIDATE with those groups restored.
      public let statistics: KLDStatistics

      /// A step.
      public init(restored: [String], statistics: KLDStatistics) {
        self.restored = restored
        self.statistics = statistics
      }
    }

    /// The fraction of the whole file's KLD asked for.
    public let fraction: Double
    /// `fraction` × the whole file's mean KLD.
    public let targetKLD: Double
    /// The measurements, one per group restored.
    public let steps: [Step]
    /// The groups restored, biggest KLD first.
    public let groups: [Group]
    /// Whether the last step's KLD is at most the target.
    public let reached: Bool

    /// A restore's result.
    public init(fraction: Double, targetKLD: Double, steps: [Step], groups: [Group], reached: Bool) {
      self.fraction = fraction
      self.targetKLD = targetKLD
      self.steps = steps
      self.groups = groups
      self.reached = reached
    }

    /// Extra bytes the restored tensors cost at BASE's types.
    public var sizeCost: Int { groups.reduce(0) { $0 + $1.baseBytes - $1.candidateBytes } }

    /// The recipe keeping the restored tensors at BASE's types, in llama-quantize's `--tensor-type-file` syntax
    /// (one `PATTERN=TYPE` line per tensor, the name anchored and escaped; `quantscope requant --recipe` reads it).
    public var recipeLines: [String] {
      groups.flatMap { g in
        zip(g.tensors, g.baseTypes).map { name, type in
          "^" + NSRegularExpression.escapedPattern(for: name) + "$=" + type.lowercased()
        }
      }
    }
  }

  /// BASE as given.
  public let base: String
  /// CANDIDATE as given.
  public let candidate: String
  /// How the tensors were grouped.
  public let grouping: AttributionGrouping
  /// CANDIDATE's own statistics against BASE.
  public let whole: KLDStatistics
  /// Every group, in file order.
  public let groups: [Group]
  /// Whether ``Group/predictedError`` is imatrix-weighted.
  public let weighted: Bool
  /// The llama.cpp build `llama-perplexity` printed.
  public let llamaVersion: String?
  /// Tokens per chunk.
  public let context: Int
  /// Chunks evaluated (`nil`: the whole text).
  public let chunks: Int?
  /// Evaluations run at once.
  public let parallel: Int
  /// Threads of each evaluation.
  public let threadsPerEvaluation: Int
  /// Wall time of each KLD evaluation (CANDIDATE and every group).
  public let evaluationSeconds: [Double]
  /// Wall time of the whole attribution.
  public var wallSeconds: Double
  /// The greedy restore, when asked for.
  public var restore: Restore? = nil
  /// CANDIDATE compared with BASE tensor by tensor (the predicted errors' source; an HTML report shows it).
  public var diff: Diff? = nil

  /// A report.
  public init(
    base: String, candidate: String, grouping: AttributionGrouping, whole: KLDStatistics, groups: [Group],
    weighted: Bool, llamaVersion: String?, context: Int, chunks: Int?, parallel: Int, threadsPerEvaluation: Int,
    evaluationSeconds: [Double], wallSeconds: Double
  ) {
    self.base = base
    self.candidate = candidate
    self.grouping = grouping
    self.whole = whole
    self.groups = groups
    self.weighted = weighted
    self.llamaVersion = llamaVersion
    self.context = context
    self.chunks = chunks
    self.parallel = parallel
    self.threadsPerEvaluation = threadsPerEvaluation
    self.evaluationSeconds = evaluationSeconds
    self.wallSeconds = wallSeconds
  }

  /// Groups by mean KLD, largest first (ties: file order).
  public var groupsWorstFirst: [Group] {
    groups.enumerated().sorted {
      ($0.element.statistics.meanKLD, -$0.offset) > ($1.element.statistics.meanKLD, -$1.offset)
    }.map(\.element)
  }

  /// Sum of the groups' mean KLDs: equal to the whole file's only if the groups' effects add up.
  public var sumOfGroups: Double { groups.reduce(0) { $0 + $1.statistics.meanKLD } }

  /// `whole / sum of groups`: 1 when the effects add up, above 1 when the groups degrade each other's inputs.
  public var nonAdditivity: Double? { sumOfGroups > 0 ? whole.meanKLD / sumOfGroups : nil }

  /// A group's share of the whole file's mean KLD.
  public func share(_ group: Group) -> Double? {
    whole.meanKLD > 0 ? group.statistics.meanKLD / whole.meanKLD : nil
  }

  /// Spearman's rank correlation between predicted error and measured KLD over the groups (`nil` below 2 groups).
  public var rankCorrelation: Double? {
    Self.spearman(groups.map(\.predictedError), groups.map(\.statistics.meanKLD))
  }

  /// Spearman's rank correlation between predicted error, scaled per kind by `calibration`, and measured KLD.
  /// A group's factor is its kinds' factor (groups spanning kinds sum their tensors' calibrated errors, which
  /// needs per-tensor errors, so such groups use the mean factor of their kinds).
  public func rankCorrelation(calibratedBy calibration: ProxyCalibration) -> Double? {
    let predicted = groups.map { g -> Double in
      let kinds = Set(g.tensors.map(Diff.kind))
      let factors = kinds.compactMap { calibration.factor(forKind: $0) }
      guard !factors.isEmpty else { return g.predictedError }
      return g.predictedError * factors.reduce(0, +) / Double(factors.count)
    }
    return Self.spearman(predicted, groups.map(\.statistics.meanKLD))
  }

  /// Spearman's ρ: Pearson's correlation of the ranks (ties get their mean rank).
  public static func spearman(_ x: [Double], _ y: [Double]) -> Double? {
    guard x.count == y.count, x.count >= 2 else { return nil }
    func ranks(_ v: [Double]) -> [Double] {
      let order = v.indices.sorted { v[$0] < v[$1] }
      var r = [Double](repeating: 0, count: v.count)
      var i = 0
      while i < order.count {
        var j = i
        while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
        for k in i...j { r[order[k]] = Double(i + j) / 2 + 1 }
        i = j + 1
      }
      return r
    }
    let rx = ranks(x), ry = ranks(y)
    let n = Double(x.count)
    let mx = rx.reduce(0, +) / n, my = ry.reduce(0, +) / n
    var sxy = 0.0, sxx = 0.0, syy = 0.0
    for (a, b) in zip(rx, ry) {
      sxy += (a - mx) * (b - my)
      sxx += (a - mx) * (a - mx)
      syy += (b - my) * (b - my)
    }
    guard sxx > 0, syy > 0 else { return nil }
    return sxy / (sxx * syy).squareRoot()
  }
}
