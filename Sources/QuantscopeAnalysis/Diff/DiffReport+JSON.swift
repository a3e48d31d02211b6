import QuantscopeFormats

extension DiffReport {
  /// The `quantscope.diff/2` document: the shown rows, every roll-up, the unmatched tensors and the
  /// gate (`null` without thresholds). Metrics a tensor does not have are `null`, never a number.
  ///
  /// - Parameters:
  ///   - candidate: the candidate path as the user gave it.
  ///   - reference: the reference paths as the user gave them.
  public func jsonDocument(candidate: String, reference: [String]) -> JSONValue {
    func ints(_ list: [Int]) -> JSONValue { .array(list.map { .int($0) }) }
    func strings(_ list: [String]) -> JSONValue { .array(list.map { .string($0) }) }
    let tensors: [JSONValue] = rows.map { r in
      var o: [(String, JSONValue)] = [
        ("name", .string(r.name)), ("type", .string(r.type)), ("bpw", .finite(r.bitsPerWeight)),
        ("shape", ints(r.shape)), ("kind", .string(r.kind)), ("layer", r.layer.map { .int($0) } ?? .null),
        ("reference", .string(r.referenceOrigin)),
      ]
      o += Self.metricsMembers(r.sums)
      o.append(("max_abs_at", r.metrics == nil ? .null : ints(r.maxErrorPosition)))
      if r.sums.nonFinite > 0 { o.append(("first_non_finite_at", ints(r.firstNonFinitePosition))) }
      return .members(o)
    }
    func rollup(_ r: Diff.Rollup) -> JSONValue {
      .members([("label", .string(r.label)), ("tensors", .int(r.tensors))] + Self.metricsMembers(r.sums))
    }
    return .document(
      schema: "quantscope.diff/2",
      [
        ("candidate", .string(candidate)), ("reference", strings(reference)),
        ("reference_precision", .string(diff.precision.rawValue)), ("architecture", .optional(diff.architecture)),
        ("tensors", .array(tensors)), ("layers", .array(layers.map(rollup))),
        ("kinds", .array(kinds.map(rollup))), ("model", rollup(model)),
        ("missing_reference", strings(missingReference)), ("unmapped_reference", strings(unmappedReference)),
        ("skipped_reference", strings(skippedReference)), ("gate", gate.map(\.jsonValue) ?? .null),
      ])
  }

  /// The metric members of a tensor or roll-up: `null` metrics when it has none (NaN/Inf values),
  /// never a score over the remaining values.
  static func metricsMembers(_ sums: ErrorAccumulator) -> [(String, JSONValue)] {
    let m = sums.metrics
    var o: [(String, JSONValue)] = [
      ("elements", .int(sums.count + sums.nonFinite)), ("mse", .finite(m?.mse)), ("rmse", .finite(m?.rmse)),
      ("nmse", .finite(m?.nmse)), ("nmse_db", .finite(m?.nmseDecibels)), ("cosine", .finite(m?.cosine)),
      ("snr_db", .finite(m?.snrDecibels)), ("max_abs", .finite(m?.maxAbsoluteError)),
      ("mean_abs", .finite(m?.meanAbsoluteError)), ("rel_frobenius", .finite(m?.relativeFrobenius)),
    ]
    if sums.sumWeights > 0 || m?.weightedNMSE != nil { o.append(("weighted_nmse", .finite(m?.weightedNMSE))) }
    o += [
      ("non_finite", .int(sums.nonFinite)), ("non_finite_reference", .int(sums.nonFiniteReference)),
      ("non_finite_candidate", .int(sums.nonFiniteCandidate)),
    ]
    return o
  }
}

extension DiffGate {
  /// The `gate` object: thresholds, each failing threshold with its worst tensor (in the
  /// metric's order) and failing tensors, the tensors with NaN/Inf values, and the verdict.
  public var jsonValue: JSONValue {
    .members([
      (
        "thresholds",
        .array(
          thresholds.map { t in
            .members([
              ("metric", .string(t.metric.rawValue)), ("limit", .finite(t.limit)),
              ("fails_when", .string(t.metric.higherIsWorse ? "above" : "below")),
            ])
          })
      ),
      (
        "failures",
        .array(
          failures.map { f in
            .members([
              ("metric", .string(f.threshold.metric.rawValue)), ("limit", .finite(f.threshold.limit)),
              ("worst", .optional(f.worst?.name)), ("worst_value", .finite(f.worst?.value)),
              (
                "tensors",
                .array(f.tensors.map { .members([("name", .string($0.name)), ("value", .finite($0.value))]) })
              ),
              ("non_finite_tensors", .array(f.nonFinite.map { .string($0) })),
            ])
          })
      ),
      (
        "non_finite_tensors",
        .array(
          nonFiniteTensors.map { t in
            .members([
              ("name", .string(t.name)), ("non_finite_reference", .int(t.reference)),
              ("non_finite_candidate", .int(t.candidate)),
            ])
          })
      ),
      ("tensors_compared", .int(tensorsCompared)),
      ("not_compared", .array(notCompared.map { .string($0) })),
      ("passed", .bool(passed)),
    ])
  }
}
