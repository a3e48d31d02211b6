import QuantscopeFormats

/// The rules every mix follows, before and after a recipe's own rules.
///
/// Before: tensors llama-quantize never quantizes keep their type (``keepReason(name:ne:)``). When there is
/// no current type (a safetensors source planned through the HF→GGUF mapping), they become F32, because
/// llama.cpp's converter (`convert_hf_to_gguf.py`) forces F32 for tensors with ≤ 1 dimension, names ending
/// `_norm.weight`, `ffn_gate_inp` and names not ending `.weight`.
///
/// After: the chosen type must divide the row length `ne[0]`; otherwise ``RowFallback`` picks another.
public enum BuiltInRules {
  /// Why llama-quantize leaves a tensor as it is, or nil when the tensor is quantized.
  ///
  /// Follows llama.cpp's `llama-quant.cpp` (quantize only names ending in `weight`, with ≥ 2 dims, not
  /// `*_norm.weight`, not `ffn_gate_inp.weight`, not positional / token-type embeddings, not the small
  /// SSM/RWKV/conv tensors), plus `exp_probs_b` (DeepSeek's router bias; 1-D and named `.bias` anyway).
  public static func keepReason(name: String, ne: [Int]) -> String? {
    // llama.cpp tests ggml_n_dims, which ignores trailing dimensions of size 1.
    if nDims(ne) < 2 { return "keep: fewer than 2 dims" }
    if name.contains("exp_probs_b") { return "keep: exp_probs_b" }
    if !name.hasSuffix("weight") { return "keep: not a weight" }
    if name.contains("_norm.weight") { return "keep: norm" }
    if name.contains("ffn_gate_inp.weight") { return "keep: ffn_gate_inp (router)" }
    for fragment in smallTensorFragments where name.contains(fragment) { return "keep: \(fragment)" }
    if name == "position_embd.weight" || name == "token_types.weight" { return "keep: \(name)" }
    return nil
  }

  /// Name fragments llama.cpp never quantizes: small 2-D tensors of SSM, RWKV, conv and Gemma-3n layers.
  static let smallTensorFragments = [
    "ssm_conv1d.weight", "shortconv.conv.weight", "altup", "laurel", "per_layer_model_proj",
    "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight",
    "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight",
    "time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight",
    "time_mix_decay_w1.weight", "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight", "attn_rel_b.weight",
    // Added by llama.cpp 0c1e570: DeepSeek-V4's routing table, MiniMax's indexer, multimodal and audio parts.
    "ffn_gate_tid2eid.weight", "indexer.k_proj.weight", "indexer.q_proj.weight", ".position_embd", "sam.pos_embd",
    "sam.neck.", "sam.net_", ".rel_pos", ".patch_embd", ".patch_merger", "a.rvq.codebook", "mm.a.code_embd",
  ]

  /// ggml_n_dims: the number of dimensions up to the last one that is not 1 (at least 1).
  public static func nDims(_ ne: [Int]) -> Int {
    var n = ne.count
    while n > 1 && ne[n - 1] == 1 { n -= 1 }
    return max(1, n)
  }
}

/// What happens when a type's block does not divide a tensor's row length (`ne[0]`).
///
/// llama.cpp swaps in a type with 32-element blocks; if that does not divide either, F16. The Q2_K/Q3_K
/// entry changed over time, so it is a choice:
///
/// * ``current`` (the default; newest upstream `llama-quant.cpp`): Q2_K, Q3_K, TQ1_0, TQ2_0, Q2_0 → **Q4_0**;
///   IQ1_*, IQ2_*, IQ3_*, IQ4_XS → IQ4_NL.
/// * ``llama2025`` (April 2025 – February 2026, the code contemporary with the DQ3_K_M paper): Q2_K, Q3_K and the
///   IQ types → **IQ4_NL**; TQ1_0, TQ2_0 → Q4_0.
///
/// In both: Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0, anything else → F16 (llama.cpp throws for a type it has
/// no fallback for; quantscope plans F16 instead). Q4_0 and IQ4_NL have the same size (4.5 bits), so the
/// choice never changes a planned size. For DeepSeek, `attn_k_b` (ne[0] = 128) is the only tensor affected;
/// the `dq3_k_m` preset gives it Q4_K, whose fallback (Q5_0) is the same in both versions.
public enum RowFallback: String, Sendable, CaseIterable {
  /// Newest llama.cpp: Q2_K/Q3_K → Q4_0.
  case current
  /// llama.cpp April 2025 – February 2026: Q2_K/Q3_K → IQ4_NL.
  case llama2025

  /// The type llama.cpp uses instead of `type` when `type`'s block does not divide the row.
  public func replacement(for type: GGMLType) -> GGMLType {
    switch type {
    case .q2_K, .q3_K:
      return self == .current ? .q4_0 : .iq4_nl
    case .tq1_0, .tq2_0, .q2_0:
      return .q4_0
    case .iq1_s, .iq1_m, .iq2_xxs, .iq2_xs, .iq2_s, .iq3_xxs, .iq3_s, .iq4_xs:
      return .iq4_nl
    case .q4_K: return .q5_0
    case .q5_K: return .q5_1
    case .q6_K: return .q8_0
    default: return .f16
    }
  }

  /// The type a tensor with row length `rowLength` gets when a rule chose `type`: `type` itself when its block
  /// divides the row, else the replacement, else F16.
  public func resolve(_ type: GGMLType, rowLength: Int) -> GGMLType {
    guard type.blockElements > 0, rowLength % type.blockElements != 0 else { return type }
    let replacement = replacement(for: type)
    guard replacement.blockElements > 0, rowLength % replacement.blockElements == 0 else { return .f16 }
    return replacement
  }
}
