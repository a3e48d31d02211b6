import QuantscopeFormats

/// How Hugging Face tensor names and layouts become GGUF ones for one architecture, as
/// llama.cpp's converter (`convert_hf_to_gguf.py`) writes them.
///
/// The map is data: a table of global names, a table of per-layer name suffixes (under
/// `model.layers.N.`), and a table of per-expert suffixes (under `model.layers.N.mlp.experts.E.`)
/// whose tensors are stacked, expert index outermost. Each entry names the GGUF tensor and the
/// layout change (``Layout``) the converter applies.
public struct ArchitectureMap: Sendable {
  /// The GGUF architecture name (`deepseek2`, `llama`, `qwen3`, …).
  public let architecture: String
  /// Hugging Face `model_type` values that use this map.
  public let modelTypes: [String]
  /// Whole-model tensors: HF name → GGUF target.
  public let globals: [String: Target]
  /// Per-layer tensors: HF suffix after `model.layers.N.` → GGUF suffix after `blk.N.`.
  public let perLayer: [String: Target]
  /// Per-expert tensors: HF suffix after `mlp.experts.E.` → GGUF suffix of the stacked tensor.
  public let perExpert: [String: String]

  /// A GGUF tensor name and how its values are laid out relative to the HF tensor.
  public struct Target: Sendable, ExpressibleByStringLiteral {
    /// GGUF name (for per-layer targets, the part after `blk.N.`).
    public let name: String
    /// The layout change.
    public let layout: Layout

    /// A target with a layout change.
    public init(_ name: String, _ layout: Layout) {
      self.name = name
      self.layout = layout
    }

    /// A target with the same layout as the HF tensor.
    public init(stringLiteral name: String) { self.init(name, .same) }
  }

  /// A layout change the converter applies to a tensor.
  public enum Layout: Sendable, Equatable {
    /// Same values in the same order.
    case same
    /// llama's rotary Q/K row permutation with the query head count.
    case permuteQueryHeads
    /// llama's rotary Q/K row permutation with the key/value head count.
    case permuteKeyHeads
    /// Stored plus one (gemma's RMS-norm weights).
    case plusOne
    /// DeepSeek's `kv_b_proj`, written as `attn_k_b` + `attn_v_b` (current) or `attn_kv_b` (legacy).
    case splitKVB
  }

  /// Names of the tensors DeepSeek's `kv_b_proj` becomes, per layout.
  public enum KVBLayout: String, Sendable, CaseIterable {
    /// `attn_k_b` (transposed) and `attn_v_b`: what the converter writes today.
    case split
    /// One `attn_kv_b`: GGUFs converted before April 2025.
    case legacy
  }
}

extension ArchitectureMap {
  /// Every architecture quantscope maps.
  public static let all: [ArchitectureMap] = [.deepseek2, .llama, .qwen2, .qwen3, .gemma, .gemma3]

  /// The map for a GGUF architecture name or a Hugging Face `model_type`.
  public static func named(_ name: String) -> ArchitectureMap? {
    all.first { $0.architecture == name || $0.modelTypes.contains(name) }
  }

  static let attentionAndNorms: [String: Target] = [
    "input_layernorm.weight": "attn_norm.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
  ]

  static let commonGlobals: [String: Target] = [
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
  ]

  /// DeepSeek-V2/V3/R1 (`deepseek2`): MLA attention, routed + shared experts, `kv_b_proj` split.
  public static let deepseek2 = ArchitectureMap(
    architecture: "deepseek2",
    modelTypes: ["deepseek_v3", "deepseek_v2", "DeepseekV3ForCausalLM", "DeepseekV2ForCausalLM"],
    globals: commonGlobals,
    perLayer: attentionAndNorms.merging([
      "self_attn.q_a_proj.weight": "attn_q_a.weight",
      "self_attn.q_a_layernorm.weight": "attn_q_a_norm.weight",
      "self_attn.q_b_proj.weight": "attn_q_b.weight",
      "self_attn.q_proj.weight": "attn_q.weight",
      "self_attn.kv_a_proj_with_mqa.weight": "attn_kv_a_mqa.weight",
      "self_attn.kv_a_layernorm.weight": "attn_kv_a_norm.weight",
      "self_attn.kv_b_proj.weight": Target("attn_kv_b.weight", .splitKVB),
      "mlp.gate.weight": "ffn_gate_inp.weight",
      "mlp.gate.e_score_correction_bias": "exp_probs_b.bias",
      "mlp.shared_experts.gate_proj.weight": "ffn_gate_shexp.weight",
      "mlp.shared_experts.up_proj.weight": "ffn_up_shexp.weight",
      "mlp.shared_experts.down_proj.weight": "ffn_down_shexp.weight",
    ]) { _, new in new },
    perExpert: [
      "gate_proj.weight": "ffn_gate_exps.weight",
      "up_proj.weight": "ffn_up_exps.weight",
      "down_proj.weight": "ffn_down_exps.weight",
    ])

  static let plainAttention: [String: Target] = [
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.q_proj.bias": "attn_q.bias",
    "self_attn.k_proj.bias": "attn_k.bias",
    "self_attn.v_proj.bias": "attn_v.bias",
  ]

  /// Llama and Mistral (`llama`): Q and K rows permuted for the rotary embedding.
  public static let llama = ArchitectureMap(
    architecture: "llama", modelTypes: ["llama", "mistral", "LlamaForCausalLM", "MistralForCausalLM"],
    globals: commonGlobals,
    perLayer: attentionAndNorms.merging(plainAttention) { _, n in n }.merging([
      "self_attn.q_proj.weight": Target("attn_q.weight", .permuteQueryHeads),
      "self_attn.k_proj.weight": Target("attn_k.weight", .permuteKeyHeads),
    ]) { _, n in n },
    perExpert: [:])

  /// Qwen2 (`qwen2`): no permutation, Q/K/V biases.
  public static let qwen2 = ArchitectureMap(
    architecture: "qwen2", modelTypes: ["qwen2", "Qwen2ForCausalLM"],
    globals: commonGlobals,
    perLayer: attentionAndNorms.merging(plainAttention) { _, n in n }.merging([
      "self_attn.q_proj.weight": "attn_q.weight",
      "self_attn.k_proj.weight": "attn_k.weight",
    ]) { _, n in n },
    perExpert: [:])

  /// Qwen3 (`qwen3`): Qwen2 plus per-head Q/K norms.
  public static let qwen3 = ArchitectureMap(
    architecture: "qwen3", modelTypes: ["qwen3", "Qwen3ForCausalLM"],
    globals: commonGlobals,
    perLayer: qwen2.perLayer.merging([
      "self_attn.q_norm.weight": "attn_q_norm.weight",
      "self_attn.k_norm.weight": "attn_k_norm.weight",
    ]) { _, n in n },
    perExpert: [:])

  /// Gemma (`gemma`): RMS-norm weights stored plus one; tied output.
  public static let gemma = ArchitectureMap(
    architecture: "gemma", modelTypes: ["gemma", "GemmaForCausalLM"],
    globals: [
      "model.embed_tokens.weight": "token_embd.weight",
      "model.norm.weight": Target("output_norm.weight", .plusOne),
    ],
    perLayer: attentionAndNorms.merging(plainAttention) { _, n in n }.merging([
      "input_layernorm.weight": Target("attn_norm.weight", .plusOne),
      "post_attention_layernorm.weight": Target("ffn_norm.weight", .plusOne),
      "self_attn.q_proj.weight": "attn_q.weight",
      "self_attn.k_proj.weight": "attn_k.weight",
    ]) { _, n in n },
    perExpert: [:])

  /// Gemma 3 (`gemma3`): Gemma with sandwich norms and Q/K norms, all stored plus one.
  public static let gemma3 = ArchitectureMap(
    architecture: "gemma3",
    modelTypes: ["gemma3", "gemma3_text", "Gemma3ForCausalLM", "Gemma3ForConditionalGeneration"],
    globals: gemma.globals,
    perLayer: gemma.perLayer.merging([
      "post_attention_layernorm.weight": Target("post_attention_norm.weight", .plusOne),
      "pre_feedforward_layernorm.weight": Target("ffn_norm.weight", .plusOne),
      "post_feedforward_layernorm.weight": Target("post_ffw_norm.weight", .plusOne),
      "self_attn.q_norm.weight": Target("attn_q_norm.weight", .plusOne),
      "self_attn.k_norm.weight": Target("attn_k_norm.weight", .plusOne),
    ]) { _, n in n },
    perExpert: [:])
}
