import QuantscopeFormats

/// Which tensors `tune` may not change, and the type each keeps.
public enum TuneConstraints {
  /// The fixed tensors of `model`: those llama-quantize never quantizes (norms, the router,
  /// 1-D tensors: their current type, F32 from a checkpoint, as `plan` counts them), and, with a
  /// `base` recipe, every tensor one of its rules names (at the type that rule gives it after the
  /// row-length fallback).
  ///
  /// - Throws: ``RecipeError`` or ``PlanError`` when the base recipe cannot be planned.
  public static func fixed(
    model: PlanModel, base: Recipe?, options: PlanOptions = PlanOptions()
  ) throws -> [String: (type: GGMLType, reason: String)] {
    var fixed: [String: (type: GGMLType, reason: String)] = [:]
    for input in model.tensors {
      if let reason = BuiltInRules.keepReason(name: input.name, ne: input.ne) {
        fixed[input.name] = (input.currentType ?? .f32, reason)
      }
    }
    guard let base else { return fixed }
    let plan = try Planner.plan(model: model, recipe: base, options: options)
    for t in plan.tensors where fixed[t.name] == nil {
      guard let rule = t.rule else { continue }
      fixed[t.name] = (t.targetType, "base: \(rule.description)")
    }
    return fixed
  }
}
