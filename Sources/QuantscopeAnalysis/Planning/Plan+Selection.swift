import QuantscopeFormats

/// Part of a plan, for `plan --tensors`: the whole model is planned (block counters and llama's
/// per-kind mix counters need every tensor), then the selection is reported on its own.
extension Plan {
  /// The plan of the tensors `keep` accepts: their per-type totals, and every rule hit
  /// recounted over them (a recipe rule that decides none of them shows 0, as a dead rule does).
  public func selecting(_ keep: (String) -> Bool) -> Plan {
    let kept = tensors.filter { keep($0.name) }
    var totals: [GGMLType: (tensors: Int, parameters: Int, bytes: Int)] = [:]
    for t in kept {
      let old = totals[t.targetType] ?? (0, 0, 0)
      totals[t.targetType] = (old.tensors + 1, old.parameters + t.parameters, old.bytes + t.bytes)
    }
    let types = totals.keys.sorted().map { type in
      let v = totals[type, default: (0, 0, 0)]
      return TypeTotal(type: type, tensors: v.tensors, parameters: v.parameters, bytes: v.bytes)
    }
    // A fallback hit reads `fallback Q3_K → Q4_0`; the tensor's own note adds `(ne[0] = N)`.
    func fallbackHit(_ t: PlannedTensor) -> String? {
      guard let note = t.fallback else { return nil }
      let pair = note.range(of: " (ne[0]").map { String(note[..<$0.lowerBound]) } ?? note
      return "fallback " + pair
    }
    let hits = ruleHits.map { hit in
      let isFallback = hit.rule.hasPrefix("fallback ")
      let count = kept.filter { isFallback ? fallbackHit($0) == hit.rule : $0.decidedBy == hit.rule }.count
      return RuleHit(rule: hit.rule, count: count)
    }
    var copy = Plan(
      recipe: recipe, architecture: architecture, context: context, tensors: kept, warnings: warnings,
      byType: types, ruleHits: hits)
    copy.mix = mix
    copy.mixes = mixes
    copy.imatrixRequired = imatrixRequired.filter(keep)
    return copy
  }
}
