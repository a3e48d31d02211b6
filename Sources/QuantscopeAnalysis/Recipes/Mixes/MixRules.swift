import QuantscopeFormats

/// The broad tensor categories llama-quantize's mix rules tell apart (`tensor_category` in `llama-quant.cpp`).
///
/// `output.weight`, the token embeddings, the attention projections (`attn_kv_b` is DeepSeek's legacy fused
/// k/v decompression), the feed-forward projections (routed and shared experts included) and everything else.
public enum MixCategory: String, Sendable, Hashable, CaseIterable {
  case output, tokenEmbedding, attnQKV, attnKVB, attnV, attnK, attnQ, attnOutput, ffnUp, ffnGate, ffnDown, other
}

/// One version of llama-quantize's mix rules, as data: everything in which two llama.cpp releases differ.
///
/// The branches of `llama_tensor_get_type` that are the same in every supported version are code
/// (``LlamaMixEngine``); what changed between versions is a row of this table. A new llama.cpp release becomes a
/// new value here plus a parity run (`scripts/llama-parity`), not a rewrite.
public struct MixRules: Sendable, Hashable, CustomStringConvertible {
  /// The name given to `--mixes` (`0c1e570`, `paper`).
  public let name: String
  /// The llama.cpp commit whose `src/llama-quant.cpp` these rules follow.
  public let llamaCppCommit: String
  /// Where that llama.cpp comes from (the PyPI sdist that vendors it) and its ggml version.
  public let origin: String
  /// Name fragments that decide a tensor's category, tried in order (the first fragment found wins); `output`
  /// and the token embeddings are matched by whole name first (``tokenEmbeddingNames``, `output.weight`).
  public let categoryFragments: [(fragment: String, category: MixCategory)]
  /// Categories that take the `attn_v` branch (and count as `attn_v` for `use_more_bits`).
  public let attnVLike: Set<MixCategory>
  /// Categories counted in `n_attention_wv` (which can differ from ``attnVLike``: April 2025 counted
  /// `attn_kv_b` without giving it the `attn_v` branch).
  public let attnVCounted: Set<MixCategory>
  /// Whole names in the token-embedding category.
  public let tokenEmbeddingNames: Set<String>
  /// The row-length fallback table.
  public let fallback: RowFallback
  /// Whether a `--tensor-type` rule (quantscope: a recipe or `--rule` rule on top of a mix) replaces the mix rules
  /// for its tensor (0c1e570: the mix rules are not consulted, their counters do not advance, the row-length
  /// fallback applies to the rule's type) or overrides their result afterwards (April 2025: the mix rules run and
  /// advance their counters, the rule's type is taken as is, without fallback).
  public let rulesReplaceMix: Bool
  /// Whether `--pure` and rule types get the row-length fallback (0c1e570) or not (April 2025).
  public let fallbackOutsideMix: Bool
  /// Whether an imatrix is required for every quantizable tensor whose planned type needs one, even when
  /// its type does not change (0c1e570), or only for tensors actually requantized (April 2025).
  public let imatrixCheckedWhenUnchanged: Bool
  /// Types that need an imatrix (outside `token_embd` and `output`); Q2_K needs one only in a Q2_K_S mix.
  public let imatrixTypes: Set<GGMLType>
  /// File types this version does not have.
  public let missingFileTypes: Set<LlamaFileType>

  /// `name (llama.cpp commit, origin)`.
  public var description: String { "\(name) (llama.cpp \(llamaCppCommit.prefix(9)), \(origin))" }

  /// Versions are the same when their names are.
  public static func == (a: MixRules, b: MixRules) -> Bool { a.name == b.name }
  /// Hashes the name.
  public func hash(into hasher: inout Hasher) { hasher.combine(name) }

  /// llama.cpp 0c1e570 (ggml 0.25.3), vendored by the llama-cpp-python 0.3.36 sdist: the default.
  public static let v0c1e570 = MixRules(
    name: "0c1e570",
    llamaCppCommit: "0c1e57098bba43ac29e6e3b677cdceebdd22334f",
    origin: "llama-cpp-python 0.3.36 sdist, ggml 0.25.3",
    categoryFragments: [
      ("attn_qkv.weight", .attnQKV), ("attn_kv_b.weight", .attnKVB), ("attn_v.weight", .attnV),
      ("attn_k.weight", .attnK), ("attn_q.weight", .attnQ), ("attn_output.weight", .attnOutput),
      ("ffn_up", .ffnUp), ("ffn_gate", .ffnGate), ("ffn_down", .ffnDown),
    ],
    attnVLike: [.attnV, .attnQKV, .attnKVB],
    attnVCounted: [.attnV, .attnQKV, .attnKVB],
    tokenEmbeddingNames: ["token_embd.weight", "per_layer_token_embd.weight"],
    fallback: .current,
    rulesReplaceMix: true,
    fallbackOutsideMix: true,
    imatrixCheckedWhenUnchanged: true,
    imatrixTypes: [.iq3_xxs, .iq2_xxs, .iq2_xs, .iq2_s, .iq1_m, .iq1_s],
    missingFileTypes: [])

  /// llama.cpp 8733e0c (April 2025), vendored by the llama-cpp-python 0.3.9 sdist: the rules of the DQ3_K_M
  /// paper's time, which reproduce its Table 1 (with `--kv-b legacy`).
  public static let paper = MixRules(
    name: "paper",
    llamaCppCommit: "8733e0cf6eefc7c7752297cc22d0836706f4222c",
    origin: "llama-cpp-python 0.3.9 sdist, April 2025",
    // April 2025 tested the names in this order (attn_qkv after attn_output, ffn_gate before ffn_up) and had
    // no attn_kv_b category: DeepSeek's attn_kv_b took the default type.
    categoryFragments: [
      ("attn_v.weight", .attnV), ("attn_k.weight", .attnK), ("attn_q.weight", .attnQ), ("ffn_down", .ffnDown),
      ("attn_output.weight", .attnOutput), ("attn_qkv.weight", .attnQKV), ("ffn_gate", .ffnGate),
      ("ffn_up", .ffnUp), ("attn_kv_b.weight", .attnKVB),
    ],
    attnVLike: [.attnV],
    attnVCounted: [.attnV, .attnQKV, .attnKVB],
    tokenEmbeddingNames: ["token_embd.weight"],
    fallback: .llama2025,
    rulesReplaceMix: false,
    fallbackOutsideMix: false,
    imatrixCheckedWhenUnchanged: false,
    imatrixTypes: [.iq2_xxs, .iq2_xs, .iq2_s, .iq1_s, .iq1_m],
    missingFileTypes: [.mxfp4_MOE, .q1_0, .q2_0])

  /// Every version, newest first; the first is the default.
  public static let all: [MixRules] = [v0c1e570, paper]

  /// The default: the newest llama.cpp release verified against quantscope.
  public static var newest: MixRules { all[0] }

  /// The version named `name` (case-insensitive; `newest` and the full or short commit also work).
  public static func named(_ name: String) -> MixRules? {
    let lower = name.lowercased()
    if lower == "newest" || lower == "default" { return newest }
    return all.first { $0.name == lower || (lower.count >= 7 && $0.llamaCppCommit.hasPrefix(lower)) }
  }

  /// The category of a tensor name.
  public func category(of name: String) -> MixCategory {
    if name == "output.weight" { return .output }
    if tokenEmbeddingNames.contains(name) { return .tokenEmbedding }
    for (fragment, category) in categoryFragments where name.contains(fragment) { return category }
    return .other
  }

  /// Whether a tensor of the given target type needs an imatrix (`tensor_requires_imatrix`).
  public func requiresImatrix(name: String, target: GGMLType, fileType: LlamaFileType) -> Bool {
    if name == "output.weight" || tokenEmbeddingNames.contains(name) || name == "token_embd.weight" { return false }
    if target == .q2_K { return fileType == .q2_K_S }
    return imatrixTypes.contains(target)
  }
}
