import QuantscopeFormats

/// Whether a GGUF's tensor types are exactly those a shipped preset (a llama-quantize mix, or
/// dq3_k_m) gives its tensors, or else the closest preset and the rules that deviate from it.
public struct PresetMatch: Sendable, Equatable {
  /// The closest preset (`q3_k_m`).
  public let preset: String
  /// Whether the imatrix-aware variant of the mix rules matched (some mixes type differently with one).
  public let withImatrix: Bool
  /// Tensors whose type is not the preset's.
  public let deviatingTensors: Int
  /// The deviations as llama-quantize `--tensor-type` rules (preset type → file type).
  public let rules: [LayoutComparison.RuleChange]

  /// Whether every tensor has the preset's type.
  public var isExact: Bool { deviatingTensors == 0 }

  /// `types match q3_k_m`, or `types closest to q3_k_m, 2 rule(s) deviate: …`.
  public var summary: String {
    if isExact { return "types match \(preset)" + (withImatrix ? " (as typed with an imatrix)" : "") }
    return "types closest to \(preset) (\(deviatingTensors) tensor(s) deviate): "
      + rules.map(\.description).joined(separator: "; ")
  }

  /// Plans `model` under every preset (with and without an imatrix) and keeps the one whose types
  /// deviate least; ties go to the preset named by `general.file_type`, then to the list order.
  /// `nil` when no preset can be planned for the model.
  public init?(model: GGUFModel) {
    let planModel = PlanModel(collection: model)
    let fileType = model["general.file_type"]?.integer
    let actual = Dictionary(
      model.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    var best: (score: (Int, Int), preset: String, imatrix: Bool, changes: [LayoutComparison.Change])? = nil
    for preset in Presets.all {
      guard let recipe = try? preset.recipe(for: planModel.context) else { continue }
      let named = preset.mix.map { Int($0.fileType.id) == fileType } ?? false
      for imatrix in [false, true] {
        guard let plan = try? Planner.plan(model: planModel, recipe: recipe, options: PlanOptions(hasImatrix: imatrix))
        else { continue }
        var changes: [LayoutComparison.Change] = []
        for p in plan.tensors {
          guard let t = actual[p.name], t.encoding != .ggml(p.targetType) else { continue }
          changes.append(
            LayoutComparison.Change(
              name: p.name, typeA: p.targetType.name, typeB: t.encoding.name, shapeA: t.shape, shapeB: t.shape,
              bytesA: 0, bytesB: t.byteCount))
        }
        let score = (changes.count, named ? 0 : 1)
        if best == nil || score < best!.score {
          best = (score, preset.name, imatrix, changes)
        }
      }
    }
    guard let best else { return nil }
    preset = best.preset
    withImatrix = best.imatrix
    deviatingTensors = best.changes.count
    rules = LayoutComparison.groupRules(best.changes)
  }
}
