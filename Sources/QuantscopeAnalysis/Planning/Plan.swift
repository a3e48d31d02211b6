import QuantscopeFormats

/// One tensor to plan: its GGUF name, its GGUF dimensions and its current type.
///
/// This is all the planner needs, so any source can be planned once its tensors are named the GGUF way:
/// a GGUF file (``PlanModel/init(collection:)``) or a safetensors checkpoint through the HF→GGUF mapping.
public struct PlanInput: Sendable, Hashable {
  /// GGUF tensor name (`blk.3.ffn_down_exps.weight`).
  public var name: String
  /// Dimensions in ggml order, row length first (GGUF `ne`).
  public var ne: [Int]
  /// The type the tensor has now, or nil when the source has no ggml type (a safetensors checkpoint).
  public var currentType: GGMLType?

  /// Creates a plan input.
  public init(name: String, ne: [Int], currentType: GGMLType?) {
    self.name = name
    self.ne = ne
    self.currentType = currentType
  }

  /// The block index of a `blk.N.` name, if any.
  public var blockIndex: Int? {
    guard name.hasPrefix("blk.") else { return nil }
    let digits = name.dropFirst(4).prefix(while: \.isNumber)
    guard !digits.isEmpty, name.dropFirst(4 + digits.count).hasPrefix(".") else { return nil }
    return Int(digits)
  }
}

/// A model to plan: its tensors and what the recipe templates need to know about it.
public struct PlanModel: Sendable {
  /// The tensors, in file order.
  public var tensors: [PlanInput]
  /// `general.architecture` (`deepseek2`), when known.
  public var architecture: String?
  /// `<arch>.block_count`; nil to count the `blk.N.` prefixes.
  public var blockCount: Int?
  /// `<arch>.leading_dense_block_count`; nil to find the first block with a `_exps` tensor.
  public var leadingDenseBlocks: Int?
  /// `<arch>.expert_count`; nil to read it from the outermost dimension of an `_exps` tensor (0 when none).
  public var expertCount: Int?
  /// `<arch>.attention.head_count` (of layer 0), when known; llama-quantize's mixes look at the GQA ratio.
  public var headCount: Int?
  /// `<arch>.attention.head_count_kv` (of layer 0), when known.
  public var headCountKV: Int?

  /// Creates a model description.
  public init(
    tensors: [PlanInput], architecture: String? = nil, blockCount: Int? = nil, leadingDenseBlocks: Int? = nil,
    expertCount: Int? = nil
  ) {
    self.tensors = tensors
    self.architecture = architecture
    self.blockCount = blockCount
    self.leadingDenseBlocks = leadingDenseBlocks
    self.expertCount = expertCount
  }

  /// The model of a GGUF file or split set: names as stored, `ne` from the tensor infos, current type from the
  /// encoding; architecture, block count and leading dense blocks from the metadata.
  public init(collection: any TensorCollection) {
    let metadata = Dictionary(collection.metadataEntries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
    let arch = metadata["general.architecture"]?.string
    self.init(
      tensors: collection.tensors.map { t in
        let type: GGMLType? = if case .ggml(let g) = t.encoding { g } else { nil }
        return PlanInput(name: t.name, ne: t.ne, currentType: type)
      },
      architecture: arch,
      blockCount: arch.flatMap { metadata["\($0).block_count"]?.integer },
      leadingDenseBlocks: arch.flatMap { metadata["\($0).leading_dense_block_count"]?.integer },
      expertCount: arch.flatMap { metadata["\($0).expert_count"]?.integer })
    // Head counts may be per-layer arrays; llama.cpp's n_gqa() without a layer reads layer 0.
    func firstInteger(_ key: String) -> Int? {
      guard let value = metadata[key] else { return nil }
      if let n = value.integer { return n }
      if case .array(_, let items) = value { return items.first?.integer }
      return nil
    }
    headCount = arch.flatMap { firstInteger("\($0).attention.head_count") }
    headCountKV = arch.flatMap { firstInteger("\($0).attention.head_count_kv") }
  }

  /// What llama-quantize's mix rules need to know about the model.
  public var mixModel: MixModel {
    let c = context
    return MixModel(
      architecture: architecture ?? "", blockCount: c.blockCount, expertCount: c.expertCount, headCount: headCount,
      headCountKV: headCountKV)
  }

  /// The template context: the given block count or one more than the highest `blk.N`; the given leading dense
  /// block count or the first block holding an `_exps` tensor (0 when none); whether `output.weight` exists;
  /// the given expert count or the `ne[2]` of the first 3-D `_exps` tensor.
  public var context: RecipeContext {
    let blocks = tensors.compactMap(\.blockIndex)
    let experts = tensors.filter { $0.name.contains("_exps") }
    return RecipeContext(
      blockCount: blockCount ?? blocks.max().map { $0 + 1 } ?? 0,
      leadingDenseBlocks: leadingDenseBlocks ?? experts.compactMap(\.blockIndex).min() ?? 0,
      hasOutputTensor: tensors.contains { $0.name == "output.weight" },
      expertCount: expertCount ?? experts.first { $0.ne.count == 3 }?.ne[2] ?? 0)
  }
}

/// Settings of the planner that are not part of a recipe.
public struct PlanOptions: Sendable {
  /// Which llama.cpp row-length fallback table to follow.
  public var fallback: RowFallback
  /// The type an unmatched tensor gets when it has no current type. BF16, because llama.cpp's converter picks
  /// BF16 output for checkpoints whose first ≥ 2-D tensor is BF16 (DeepSeek's embedding is).
  public var unmatchedSourceType: GGMLType
  /// The version of llama-quantize's mix rules that types recipes with a mix (the llama-quantize presets).
  public var mixes: MixRules
  /// Whether an imatrix will be used (some mixes choose differently with one, and some types need one).
  public var hasImatrix: Bool

  /// Creates options; without `fallback`, the fallback table of `mixes`.
  public init(
    fallback: RowFallback? = nil, unmatchedSourceType: GGMLType = .bf16, mixes: MixRules = .newest,
    hasImatrix: Bool = false
  ) {
    self.fallback = fallback ?? mixes.fallback
    self.unmatchedSourceType = unmatchedSourceType
    self.mixes = mixes
    self.hasImatrix = hasImatrix
  }
}

/// The planned type and size of one tensor and what decided it.
public struct PlannedTensor: Sendable {
  /// GGUF name.
  public let name: String
  /// GGUF dimensions, row length first.
  public let ne: [Int]
  /// The type the tensor has now, if known.
  public let currentType: GGMLType?
  /// The type the recipe rule chose, before the row-length fallback; nil when no rule decided.
  public let ruleType: GGMLType?
  /// The planned type.
  public let targetType: GGMLType
  /// What decided the type: a rule's `pattern=type (source:line)`, a built-in `keep: …`, or `unmatched: …`.
  public let decidedBy: String
  /// The rule, when a recipe rule decided.
  public let rule: RecipeRule?
  /// `Q3_K → Q4_0 (ne[0] = 128)` when the row-length fallback changed the rule's type.
  public let fallback: String?
  /// Number of values.
  public let parameters: Int
  /// Bytes of tensor data at the planned type.
  public let bytes: Int

  /// Dimensions in row-major order, outermost first (as `inspect` prints shapes).
  public var shape: [Int] { ne.reversed() }
}

/// The planned size of a model under a recipe.
public struct Plan: Sendable {
  /// Per-type totals.
  public struct TypeTotal: Sendable {
    /// The planned type.
    public let type: GGMLType
    /// How many tensors get it.
    public let tensors: Int
    /// Their values.
    public let parameters: Int
    /// Their bytes.
    public let bytes: Int
  }

  /// How often one rule (or built-in rule, or fallback) decided.
  public struct RuleHit: Sendable {
    /// `pattern=type (source:line)`, `keep: …`, `unmatched: …` or `fallback Q3_K → Q4_0`.
    public let rule: String
    /// Number of tensors.
    public let count: Int
  }

  /// The recipe's name.
  public let recipe: String
  /// The model's architecture, when known.
  public let architecture: String?
  /// The context the recipe was expanded for.
  public let context: RecipeContext
  /// Every tensor, in input order.
  public let tensors: [PlannedTensor]
  /// Problems that did not stop planning (a recipe meant for another architecture).
  public let warnings: [String]
  /// Per-type totals, by type id.
  public let byType: [TypeTotal]
  /// Recipe rules in priority order with their hit counts (0 included, which shows dead rules), then the
  /// built-in rules and fallbacks that fired.
  public let ruleHits: [RuleHit]
  /// The llama-quantize mix that typed the tensors no rule matched, if the recipe has one.
  public var mix: LlamaMix? = nil
  /// The version of the mix rules, when the recipe has a mix.
  public var mixes: MixRules? = nil
  /// Tensors llama-quantize would refuse to write without an imatrix (empty without a mix).
  public var imatrixRequired: [String] = []

  /// Sum of tensor data bytes (GGUF header and alignment padding excluded).
  public var totalBytes: Int { tensors.reduce(0) { $0 + $1.bytes } }
  /// Sum of values.
  public var totalParameters: Int { tensors.reduce(0) { $0 + $1.parameters } }
  /// `totalBytes` in GiB (2^30 bytes).
  public var gibibytes: Double { Double(totalBytes) / 1_073_741_824 }
  /// Bits of tensor data per value over the whole model.
  public var bitsPerWeight: Double {
    totalParameters == 0 ? 0 : Double(totalBytes) * 8 / Double(totalParameters)
  }
}

/// A tensor the planner cannot size.
public struct PlanError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The tensor.
  public var tensor: String
  /// What is wrong.
  public var message: String

  /// Creates an error.
  public init(tensor: String, _ message: String) {
    self.tensor = tensor
    self.message = message
  }

  /// `what (tensor NAME)`.
  public var description: String { "\(message) (tensor \(tensor))" }
}

/// Applies a recipe to a model's tensors.
public enum Planner {
  /// Plans `model` under `recipe`, expanding preset templates for the model.
  ///
  /// `recipe` must already be parsed for the model's ``PlanModel/context`` when its text has macros
  /// (``Recipe/load(_:context:)`` does that); its `# base:` preset is expanded here.
  public static func plan(model: PlanModel, recipe: Recipe, options: PlanOptions = PlanOptions()) throws -> Plan {
    let context = model.context
    let resolved = try Presets.resolved(recipe, context: context)
    var warnings: [String] = []
    if let arch = model.architecture, !resolved.supports(architecture: arch) {
      warnings.append(
        "recipe \(resolved.name) is meant for \(resolved.architectures.joined(separator: ", ")), not \(arch)")
    }
    // Compiled here, per call: Regex is not Sendable, so rules carry only their pattern text.
    let regexes = try resolved.rules.map { try Regex($0.pattern) }
    var ruleCounts = [Int](repeating: 0, count: resolved.rules.count)
    var otherCounts: [String: Int] = [:]
    var otherOrder: [String] = []
    func count(_ label: String) {
      if otherCounts[label] == nil { otherOrder.append(label) }
      otherCounts[label, default: 0] += 1
    }

    var planned: [PlannedTensor] = []
    planned.reserveCapacity(model.tensors.count)
    if let mix = resolved.mix {
      if mix.fileType.isFloat && !resolved.rules.isEmpty {
        warnings.append(
          "\(mix.fileType.llamaName) is not a quantized type: llama-quantize ignores --tensor-type rules for it, "
            + "and so does quantscope")
      }
      let assignments = try LlamaMixEngine.assign(
        tensors: model.tensors, model: model.mixModel, mix: mix, rules: options.mixes, hasImatrix: options.hasImatrix,
        fallback: options.fallback
      ) { name in
        regexes.firstIndex { name.contains($0) }.map { ($0, resolved.rules[$0].type) }
      }
      var required: [String] = []
      for (input, a) in zip(model.tensors, assignments) {
        guard input.ne.allSatisfy({ $0 >= 0 }) else {
          throw PlanError(tensor: input.name, "negative dimension in \(input.ne)")
        }
        let rowLength = input.ne.first ?? 1
        var target = a.type
        var rule: RecipeRule?
        var decidedBy: String
        switch a.decision {
        case .kept(let reason):
          if input.currentType == nil { target = .f32 }
          decidedBy = input.currentType == nil ? "\(reason) (converter writes F32)" : reason
          count(decidedBy)
        case .option(let text):
          decidedBy = text
          count(decidedBy)
        case .rule(let index):
          rule = resolved.rules[index]
          decidedBy = resolved.rules[index].description
          ruleCounts[index] += 1
        case .pure:
          decidedBy = "\(mix.fileType.llamaName) --pure"
          count(decidedBy)
        case .float:
          decidedBy = "\(mix.fileType.llamaName)"
          count(decidedBy)
        case .mix:
          decidedBy = "\(mix.fileType.llamaName) mix (llama.cpp \(options.mixes.name))"
          count(decidedBy)
        }
        var fallback: String?
        var isKept = false
        if case .kept = a.decision { isKept = true }
        if !isKept && target != a.chosen {
          fallback = "\(a.chosen.name) → \(target.name) (ne[0] = \(rowLength))"
          count("fallback \(a.chosen.name) → \(target.name)")
        }
        if a.requiresImatrix { required.append(input.name) }
        let (parameters, bytes) = try size(of: input, as: target)
        planned.append(
          PlannedTensor(
            name: input.name, ne: input.ne, currentType: input.currentType, ruleType: a.chosen, targetType: target,
            decidedBy: decidedBy, rule: rule, fallback: fallback, parameters: parameters, bytes: bytes))
      }
      var plan = finish(
        recipe: resolved, model: model, context: context, planned: planned, warnings: warnings,
        ruleCounts: ruleCounts, otherOrder: otherOrder, otherCounts: otherCounts)
      plan.mix = mix
      plan.mixes = options.mixes
      plan.imatrixRequired = required
      return plan
    }
    for input in model.tensors {
      guard input.ne.allSatisfy({ $0 >= 0 }) else {
        throw PlanError(tensor: input.name, "negative dimension in \(input.ne)")
      }
      var ruleType: GGMLType?
      var rule: RecipeRule?
      var fallback: String?
      let target: GGMLType
      let decidedBy: String
      let rowLength = input.ne.first ?? 1
      if let reason = BuiltInRules.keepReason(name: input.name, ne: input.ne) {
        target = input.currentType ?? .f32
        decidedBy = input.currentType == nil ? "\(reason) (converter writes F32)" : reason
        count(decidedBy)
      } else if let index = regexes.firstIndex(where: { input.name.contains($0) }) {
        let r = resolved.rules[index]
        rule = r
        ruleType = r.type
        target = options.fallback.resolve(r.type, rowLength: rowLength)
        decidedBy = r.description
        ruleCounts[index] += 1
        if target != r.type {
          fallback = "\(r.type.name) → \(target.name) (ne[0] = \(rowLength))"
          count("fallback \(r.type.name) → \(target.name)")
        }
      } else if let current = input.currentType {
        target = current
        decidedBy = "unmatched: keep current type"
        count(decidedBy)
      } else {
        target = options.unmatchedSourceType
        decidedBy = "unmatched: converter output \(target.name)"
        count(decidedBy)
      }
      let (parameters, bytes) = try size(of: input, as: target)
      planned.append(
        PlannedTensor(
          name: input.name, ne: input.ne, currentType: input.currentType, ruleType: ruleType, targetType: target,
          decidedBy: decidedBy, rule: rule, fallback: fallback, parameters: parameters, bytes: bytes))
    }

    return finish(
      recipe: resolved, model: model, context: context, planned: planned, warnings: warnings,
      ruleCounts: ruleCounts, otherOrder: otherOrder, otherCounts: otherCounts)
  }

  /// Totals and rule hits of planned tensors.
  static func finish(
    recipe resolved: Recipe, model: PlanModel, context: RecipeContext, planned: [PlannedTensor], warnings: [String],
    ruleCounts: [Int], otherOrder: [String], otherCounts: [String: Int]
  ) -> Plan {
    var totals: [GGMLType: (tensors: Int, parameters: Int, bytes: Int)] = [:]
    for t in planned {
      let old = totals[t.targetType] ?? (0, 0, 0)
      totals[t.targetType] = (old.tensors + 1, old.parameters + t.parameters, old.bytes + t.bytes)
    }
    let byType = totals.keys.sorted().map { type in
      let v = totals[type, default: (0, 0, 0)]
      return Plan.TypeTotal(type: type, tensors: v.tensors, parameters: v.parameters, bytes: v.bytes)
    }
    let hits =
      zip(resolved.rules, ruleCounts).map { Plan.RuleHit(rule: $0.description, count: $1) }
      + otherOrder.map { Plan.RuleHit(rule: $0, count: otherCounts[$0] ?? 0) }
    return Plan(
      recipe: resolved.name, architecture: model.architecture, context: context, tensors: planned,
      warnings: warnings, byType: byType, ruleHits: hits)
  }

  /// Plans `model` under a shipped preset, with `extraRules` tried first (`--rule`).
  public static func plan(
    model: PlanModel, preset: RecipePreset, extraRules: [RecipeRule] = [], options: PlanOptions = PlanOptions()
  ) throws -> Plan {
    let recipe = try preset.recipe(for: model.context).prepending(extraRules)
    return try plan(model: model, recipe: recipe, options: options)
  }

  /// Values and bytes of a tensor at `type`, with overflow and block-divisibility checks.
  public static func size(of input: PlanInput, as type: GGMLType) throws(PlanError) -> (parameters: Int, bytes: Int) {
    var parameters = 1
    for d in input.ne {
      let (p, overflow) = parameters.multipliedReportingOverflow(by: d)
      guard !overflow else { throw PlanError(tensor: input.name, "element count overflows") }
      parameters = p
    }
    let rowLength = input.ne.first ?? 1
    guard type.isUsable else { throw PlanError(tensor: input.name, "type \(type.name) has no block geometry") }
    guard let rowBytes = type.byteCount(elements: rowLength) else {
      throw PlanError(
        tensor: input.name, "row length \(rowLength) is not a multiple of \(type.name)'s block of \(type.blockElements)"
      )
    }
    let rows = rowLength == 0 ? 0 : parameters / rowLength
    let (bytes, overflow) = rows.multipliedReportingOverflow(by: rowBytes)
    guard !overflow else { throw PlanError(tensor: input.name, "byte count overflows") }
    return (parameters, bytes)
  }
}
