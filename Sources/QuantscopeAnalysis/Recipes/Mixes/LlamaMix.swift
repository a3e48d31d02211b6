import QuantscopeFormats

/// A llama-quantize invocation's type choice: the file type and the options that change per-tensor types.
///
/// A recipe with a mix (every llama-quantize preset, and any recipe file with `# base: PRESET`) is planned as
/// `llama-quantize [--pure] [--leave-output-tensor] [--token-embedding-type T] [--output-tensor-type T]
/// [--tensor-type RULE …] [--imatrix F] IN OUT FTYPE` would type it, with the recipe's own rules as the
/// `--tensor-type` rules.
public struct LlamaMix: Sendable, Hashable {
  /// The file type (`Q4_K_M`).
  public var fileType: LlamaFileType
  /// `--token-embedding-type`: the type of `token_embd` (and Gemma-3n's `per_layer_token_embd`), if set.
  public var tokenEmbeddingType: GGMLType?
  /// `--output-tensor-type`: the type of `output.weight`, if set.
  public var outputTensorType: GGMLType?
  /// `--pure`: every quantizable tensor gets the file type's default type (rules and the two options above
  /// still apply).
  public var pure: Bool
  /// `--leave-output-tensor`: `output.weight` keeps its type.
  public var leaveOutputTensor: Bool

  /// Creates a mix.
  public init(
    fileType: LlamaFileType, tokenEmbeddingType: GGMLType? = nil, outputTensorType: GGMLType? = nil,
    pure: Bool = false, leaveOutputTensor: Bool = false
  ) {
    self.fileType = fileType
    self.tokenEmbeddingType = tokenEmbeddingType
    self.outputTensorType = outputTensorType
    self.pure = pure
    self.leaveOutputTensor = leaveOutputTensor
  }

  /// The options as llama-quantize's command line spells them (for `plan` and the output's metadata).
  public var commandLine: String {
    var parts: [String] = []
    if pure { parts.append("--pure") }
    if leaveOutputTensor { parts.append("--leave-output-tensor") }
    if let t = tokenEmbeddingType { parts.append("--token-embedding-type \(t.name.lowercased())") }
    if let t = outputTensorType { parts.append("--output-tensor-type \(t.name.lowercased())") }
    parts.append(fileType.llamaName)
    return parts.joined(separator: " ")
  }
}

/// What llama-quantize's mix rules need to know about a model (`llama_hparams`, `llm_type`).
public struct MixModel: Sendable {
  /// `general.architecture`.
  public var architecture: String
  /// `n_layer_all` (`<arch>.block_count`).
  public var blockCount: Int
  /// `n_expert` (`<arch>.expert_count`); 0 for a dense model.
  public var expertCount: Int
  /// `n_head` of layer 0, when known.
  public var headCount: Int?
  /// `n_head_kv` of layer 0, when known (llama.cpp defaults it to `n_head`).
  public var headCountKV: Int?

  /// Creates a model description.
  public init(architecture: String, blockCount: Int, expertCount: Int, headCount: Int? = nil, headCountKV: Int? = nil) {
    self.architecture = architecture
    self.blockCount = blockCount
    self.expertCount = expertCount
    self.headCount = headCount
    self.headCountKV = headCountKV
  }

  /// `hparams.n_gqa()`: query heads per key/value head (1 when unknown).
  var gqa: Int {
    guard let h = headCount else { return 1 }
    let kv = headCountKV ?? h
    return kv == 0 ? 0 : h / kv
  }

  /// Whether llama.cpp types the model `LLM_TYPE_70B` (the only model type its mix rules look at).
  var is70B: Bool {
    switch architecture {
    case "llama": return blockCount == 80 && headCount != nil && headCount != (headCountKV ?? headCount)
    case "qwen2", "deci", "olmo": return blockCount == 80
    case "jais2": return blockCount == 68
    default: return false
    }
  }
}

/// What decided one tensor's type under a mix.
public enum MixDecision: Sendable, Hashable {
  /// Not quantized by llama-quantize (the built-in keep rules, or `--leave-output-tensor`).
  case kept(String)
  /// `--token-embedding-type` or `--output-tensor-type`.
  case option(String)
  /// The recipe rule with this index (a `--tensor-type` rule).
  case rule(Int)
  /// The file type's default type, `--pure`.
  case pure
  /// The file type's float default type (F16, BF16, F32 files take no rules).
  case float
  /// llama-quantize's mix rules (`llama_tensor_get_type`).
  case mix
}

/// One tensor's type under a mix.
public struct MixAssignment: Sendable {
  /// The type before the row-length fallback.
  public var chosen: GGMLType
  /// The planned type.
  public var type: GGMLType
  /// What decided.
  public var decision: MixDecision
  /// Whether llama-quantize would refuse to write this tensor without an imatrix.
  public var requiresImatrix: Bool
}

/// llama-quantize's per-tensor type choice (`llama_tensor_get_type` and its wrapper in `src/llama-quant.cpp`),
/// written in Swift for the versions in ``MixRules``.
public enum LlamaMixEngine {
  /// The tensor order llama.cpp's model loader iterates in (`weight_name_comparer`): by block number (−1 for
  /// names without `blk.N.`), then by name. The mix rules count `attn_v` and `ffn_*` tensors in this order.
  public static func loaderOrder(_ a: String, _ b: String) -> Bool {
    let la = layer(of: a) ?? -1, lb = layer(of: b) ?? -1
    if la != lb { return la < lb }
    return Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
  }

  /// `sscanf(name, "blk.%d.")`.
  static func layer(of name: String) -> Int? {
    guard name.hasPrefix("blk.") else { return nil }
    let digits = name.dropFirst(4).prefix(while: \.isNumber)
    guard !digits.isEmpty, name.dropFirst(4 + digits.count).hasPrefix(".") else { return nil }
    return Int(digits)
  }

  /// The type of every tensor, in input order.
  ///
  /// - Parameters:
  ///   - tensors: name, `ne` and current type (nil for a checkpoint not yet converted: then kept tensors are
  ///     F32, as the converter writes them).
  ///   - rule: the index of the first recipe rule (`--tensor-type`) matching a name, if any, and its type.
  ///   - hasImatrix: whether an imatrix is given (some mixes choose differently with one).
  ///   - fallback: the row-length fallback table (by default the version's).
  public static func assign(
    tensors: [PlanInput], model: MixModel, mix: LlamaMix, rules version: MixRules, hasImatrix: Bool,
    fallback: RowFallback? = nil, rule: (String) -> (index: Int, type: GGMLType)?
  ) throws(PlanError) -> [MixAssignment] {
    let fallback = fallback ?? version.fallback
    let ftype = mix.fileType
    if version.missingFileTypes.contains(ftype) {
      throw PlanError(tensor: "-", "file type \(ftype.llamaName) does not exist in the \(version.name) mix rules")
    }
    let defaultType = ftype.defaultType
    var state = State(
      version: version, model: model, ftype: ftype, hasImatrix: hasImatrix,
      nFFN: model.blockCount,
      nAttentionWV: tensors.filter { version.attnVCounted.contains(version.category(of: $0.name)) }.count,
      tied: !tensors.contains { $0.name == "output.weight" })
    var result = [MixAssignment?](repeating: nil, count: tensors.count)
    let order = tensors.indices.sorted { loaderOrder(tensors[$0].name, tensors[$1].name) }
    for i in order {
      let t = tensors[i]
      let category = version.category(of: t.name)
      let rowLength = t.ne.first ?? 1
      let current = t.currentType ?? .f32
      if let reason = BuiltInRules.keepReason(name: t.name, ne: t.ne) {
        result[i] = MixAssignment(chosen: current, type: current, decision: .kept(reason), requiresImatrix: false)
        continue
      }
      if mix.leaveOutputTensor && t.name == "output.weight" {
        result[i] = MixAssignment(
          chosen: current, type: current, decision: .kept("keep: --leave-output-tensor"), requiresImatrix: false)
        continue
      }
      var chosen = defaultType
      var type = defaultType
      var decision = MixDecision.float
      if let e = mix.tokenEmbeddingType, category == .tokenEmbedding {
        // llama.cpp lets an explicit --tensor-type name Gemma-3n's per_layer_token_embd instead.
        if t.name == "per_layer_token_embd.weight", version.rulesReplaceMix, let r = rule(t.name) {
          (chosen, decision) = (r.type, .rule(r.index))
          type = fallback.resolve(r.type, rowLength: rowLength)
        } else {
          (chosen, type, decision) = (e, e, .option("--token-embedding-type \(e.name.lowercased())"))
          // April 2025 applied the option after the mix rules, which still ran (and counted).
          if !version.rulesReplaceMix && !mix.pure && defaultType.isQuantized {
            _ = state.mixType(defaultType, t, category)
          }
        }
      } else if let o = mix.outputTensorType, category == .output {
        (chosen, type, decision) = (o, o, .option("--output-tensor-type \(o.name.lowercased())"))
      } else if defaultType.isQuantized {
        let manual = rule(t.name)
        if version.rulesReplaceMix {
          if let manual {
            (chosen, decision) = (manual.type, .rule(manual.index))
          } else if mix.pure {
            decision = .pure
          } else {
            chosen = state.mixType(defaultType, t, category)
            decision = .mix
          }
          type = fallback.resolve(chosen, rowLength: rowLength)
        } else if mix.pure {
          // April 2025: --pure skipped the mix rules, the --tensor-type rules and the fallback.
          (chosen, type, decision) = (defaultType, defaultType, .pure)
        } else {
          chosen = state.mixType(defaultType, t, category)
          type = fallback.resolve(chosen, rowLength: rowLength)
          decision = .mix
          if let manual { (chosen, type, decision) = (manual.type, manual.type, .rule(manual.index)) }
        }
      }
      let changes = t.currentType != type
      let needs =
        version.requiresImatrix(name: t.name, target: type, fileType: ftype)
        && (version.imatrixCheckedWhenUnchanged || changes)
      result[i] = MixAssignment(chosen: chosen, type: type, decision: decision, requiresImatrix: needs)
    }
    return result.map { $0! }
  }

  /// The counters and facts `llama_tensor_get_type_impl` keeps while it walks the tensors.
  struct State {
    let version: MixRules
    let model: MixModel
    let ftype: LlamaFileType
    let hasImatrix: Bool
    let nFFN: Int
    let nAttentionWV: Int
    let tied: Bool
    var iAttentionWV = 0
    var iFFNDown = 0
    var iFFNGate = 0
    var iFFNUp = 0

    static func useMoreBits(_ i: Int, _ n: Int) -> Bool { RecipeContext.useMoreBits(i, n) }

    /// The layer a ffn tensor belongs to: its counter for a dense model, its `blk.N` for a MoE model
    /// (Mixtral's experts are not in block order).
    func layerInfo(_ counter: Int, _ name: String) -> (Int, Int) {
      guard max(1, model.expertCount) > 1 else { return (counter, nFFN) }
      return (LlamaMixEngine.layer(of: name) ?? counter, nFFN)
    }

    // The branches below follow llama_tensor_get_type_impl of llama.cpp 0c1e570 line by line (April 2025's
    // function is the same but for the category tests, which MixRules holds); ftype names are llama.cpp's.
    // swiftlint:disable:next cyclomatic_complexity function_body_length
    mutating func mixType(_ defaultType: GGMLType, _ t: PlanInput, _ category: MixCategory) -> GGMLType {
      var newType = defaultType
      let arch = model.architecture
      let nExpert = model.expertCount
      let gqa = model.gqa
      let name = t.name
      let lowIQ: Set<LlamaFileType> = [.iq2_XXS, .iq2_XS, .iq1_S, .iq2_S, .iq2_M, .iq1_M]
      let isAttnV = version.attnVLike.contains(category)
      if category == .output || (tied && category == .tokenEmbedding) {
        let nx = t.ne.first ?? 1
        if ftype == .mxfp4_MOE {
          newType = .q8_0
        } else if arch == "falcon" || nx % newType.blockElements != 0 {
          newType = .q8_0
        } else if [.iq2_XXS, .iq2_XS, .iq3_XXS, .iq1_S, .iq2_S, .iq2_M, .iq1_M].contains(ftype) {
          newType = .q5_K
        } else if newType != .q8_0 {
          newType = .q6_K
        }
      } else if ftype == .mxfp4_MOE {
        // Routed experts (3-D) MXFP4, everything else Q8_0 (bailingmoe3's MLA projections excepted).
        let expert = [.ffnUp, .ffnGate, .ffnDown].contains(category)
        newType = (t.ne.count > 2 && t.ne[2] > 1 && (arch != "bailingmoe3" || expert)) ? .mxfp4 : .q8_0
      } else if category == .tokenEmbedding {
        if [.iq2_XXS, .iq2_XS, .iq1_S, .iq1_M].contains(ftype) {
          newType = .q2_K
        } else if [.iq2_S, .iq2_M, .iq3_XXS].contains(ftype) {
          newType = .iq3_s
        } else if [.tq1_0, .tq2_0, .q2_0].contains(ftype) {
          newType = .q4_K
        }
      } else if lowIQ.contains(ftype) {
        let iq2SM = ftype == .iq2_S || ftype == .iq2_M
        if isAttnV {
          newType = (gqa >= 4 || nExpert >= 4) ? .q4_K : (iq2SM ? .iq3_s : .q2_K)
          iAttentionWV += 1
        } else if nExpert == 8 && category == .attnK {
          newType = .q4_K
        } else if category == .ffnDown {
          if iFFNDown < nFFN / 8 { newType = iq2SM ? .iq3_s : .q2_K }
          iFFNDown += 1
        } else if category == .attnOutput {
          if nExpert == 8 {
            newType = .q5_K
          } else if ftype == .iq1_S || ftype == .iq1_M {
            newType = .iq2_xxs
          } else if iq2SM {
            newType = .iq3_s
          }
        }
      } else if isAttnV {
        switch ftype {
        case .q2_K: newType = gqa >= 4 ? .q4_K : .q3_K
        case .q2_K_S where gqa >= 4: newType = .q4_K
        case .iq3_XXS: newType = gqa >= 4 ? .q4_K : (!hasImatrix ? .iq3_s : .iq3_xxs)
        case .iq3_XS where gqa >= 4, .iq3_S where gqa >= 4: newType = .q4_K
        case .iq3_M: newType = .q4_K
        case .q3_K_M: newType = iAttentionWV < 2 ? .q5_K : .q4_K
        case .q3_K_L: newType = .q5_K
        case .iq4_NL where gqa >= 4, .iq4_XS where gqa >= 4: newType = .q5_K
        case .q4_K_M where Self.useMoreBits(iAttentionWV, nAttentionWV),
          .q5_K_M where Self.useMoreBits(iAttentionWV, nAttentionWV):
          newType = .q6_K
        case .q4_K_S where iAttentionWV < 4: newType = .q5_K
        default: break
        }
        // 70B models share attn_v between 8 heads: more bits cost little.
        if model.is70B && (newType == .q3_K || newType == .q4_K) { newType = .q5_K }
        if nExpert == 8 { newType = .q8_0 }
        iAttentionWV += 1
      } else if category == .attnK {
        if nExpert == 8 {
          newType = .q8_0
        } else if ftype == .iq3_XS {
          newType = .iq3_xxs
        } else if ftype == .iq3_XXS {
          newType = .iq2_s
        }
      } else if category == .attnQ {
        if ftype == .iq3_XS {
          newType = .iq3_xxs
        } else if ftype == .iq3_XXS {
          newType = .iq2_s
        }
      } else if category == .ffnDown {
        let (i, n) = layerInfo(iFFNDown, name)
        if ftype == .q2_K {
          newType = .q3_K
        } else if ftype == .q2_K_S {
          if i < n / 8 { newType = .q4_K }
        } else if ftype == .iq3_XXS && !hasImatrix {
          newType = i < n / 8 ? .q4_K : .q3_K
        } else if ftype == .q3_K_M {
          newType = i < n / 16 ? .q5_K : (arch != "falcon" || Self.useMoreBits(i, n)) ? .q4_K : .q3_K
        } else if ftype == .iq3_M && (i < n / 8 || (nExpert == 8 && Self.useMoreBits(i, n))) {
          newType = .q4_K
        } else if ftype == .q3_K_L {
          newType = arch == "falcon" ? .q4_K : .q5_K
        } else if ftype == .q4_K_M {
          if arch == "falcon" {
            newType = i < n / 16 ? .q6_K : Self.useMoreBits(i, n) ? .q5_K : .q4_K
          } else if Self.useMoreBits(i, n) {
            newType = .q6_K
          }
        } else if i < n / 8 && (ftype == .iq4_NL || ftype == .iq4_XS) && !hasImatrix {
          newType = .q5_K
        } else if ftype == .q5_K_M && Self.useMoreBits(i, n) {
          newType = .q6_K
        } else if ftype == .q4_K_S && arch != "falcon" && i < n / 8 {
          newType = .q5_K
        } else if (ftype == .q4_0 || ftype == .q5_0) && hasImatrix && i < n / 8 {
          // Guards the first ffn_down layers of Q4_0/Q5_0, only with an imatrix (so that a file without one
          // stays what it always was).
          newType = ftype == .q4_0 ? .q4_1 : .q5_1
        }
        iFFNDown += 1
      } else if category == .attnOutput {
        if arch != "falcon" {
          if nExpert == 8 {
            let bumped: Set<LlamaFileType> = [
              .q2_K, .iq3_XS, .iq3_XXS, .q3_K_S, .q3_K_M, .iq4_NL, .q4_K_S, .q4_K_M, .iq3_S, .iq3_M, .iq4_XS,
            ]
            if bumped.contains(ftype) { newType = .q5_K }
          } else {
            switch ftype {
            case .q2_K: newType = .q3_K
            case .iq3_XXS: newType = .iq3_s
            case .q3_K_M, .iq3_M: newType = .q4_K
            case .q3_K_L: newType = .q5_K
            default: break
            }
          }
        } else if ftype == .q3_K_L {
          newType = .q4_K
        }
      } else if category == .attnQKV {
        // Reached only when attn_qkv is not attn_v-like (April 2025; 0c1e570 sends it down the attn_v branch).
        if ftype == .q3_K_M || ftype == .q3_K_L || ftype == .iq3_M {
          newType = .q4_K
        } else if ftype == .q4_K_M {
          newType = .q5_K
        } else if ftype == .q5_K_M {
          newType = .q6_K
        }
      } else if category == .ffnGate {
        let (i, n) = layerInfo(iFFNGate, name)
        if ftype == .iq3_XS && i >= n / 8 && i < 7 * n / 8 { newType = .iq3_xxs }
        iFFNGate += 1
      } else if category == .ffnUp {
        let (i, n) = layerInfo(iFFNUp, name)
        if ftype == .iq3_XS && i >= n / 8 && i < 7 * n / 8 { newType = .iq3_xxs }
        iFFNUp += 1
      }
      return newType
    }
  }
}
