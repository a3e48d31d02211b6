extension Presets {
  /// llama.cpp's Q4_K_M mix as a template: the branches of `llama_tensor_get_type` (`src/llama-quant.cpp`)
  /// for `LLAMA_FTYPE_MOSTLY_Q4_K_M` that can fire for the listed architectures, in llama.cpp's order.
  static let q4KM = RecipePreset(
    name: "q4_k_m",
    text: #"""
      # name: q4_k_m
      # architecture: deepseek2, llama, qwen2, qwen3, gemma3
      # description: llama.cpp's Q4_K_M mix (llama-quantize Q4_K_M, rules of llama-quant.cpp from April 2025 on).
      #
      # Each rule mirrors one branch of llama_tensor_get_type for LLAMA_FTYPE_MOSTLY_Q4_K_M:
      #   output.weight -> q6_k; token_embd keeps the ftype default unless the model has no output.weight
      #   (tied embeddings), in which case llama.cpp quantizes it like the output;
      #   attn_v and ffn_down -> q6_k on the use_more_bits(i, n) blocks; attn_qkv -> q5_k; everything else q4_k.
      # For MoE models llama.cpp reads the block number from the name, so ffn_down, ffn_down_exps and
      # ffn_down_shexp of a block share the rule. attn_v is counted per attn_v tensor, which equals the block
      # index for these architectures.
      # Models with exactly 8 experts (Mixtral) get attn_v and attn_k q8_0 and attn_output q5_k.
      # Not modelled: for deepseek2, the newest llama.cpp's ATTENTION_KV_B category (legacy attn_kv_b files get
      # q6_k on use_more_bits positions there; this preset follows the April-2025 code: attn_kv_b keeps q4_k).
      # The row-length fallback (attn_k_b: q4_k -> q5_0) is applied by quantscope after the rules.
      ^output\.weight$=q6_k
      {{if:tied}}^token_embd\.weight$=q6_k
      ^token_embd\.weight$=q4_k
      {{if:experts=8}}attn_(v|k)\.weight=q8_0
      {{if:experts=8}}attn_output\.weight=q5_k
      blk\.{{more_bits}}\.attn_v\.weight=q6_k
      # llama.cpp's LLM_TYPE_70B (80 blocks for llama and qwen2) raises attn_v from q4_k to q5_k.
      {{if:n=80}}attn_v\.weight=q5_k
      blk\.{{more_bits}}\.ffn_down=q6_k
      attn_qkv\.weight=q5_k
      .*=q4_k
      """#)

  /// llama.cpp's Q3_K_M mix as a template (`LLAMA_FTYPE_MOSTLY_Q3_K_M`).
  static let q3KM = RecipePreset(
    name: "q3_k_m",
    text: #"""
      # name: q3_k_m
      # architecture: deepseek2, llama, qwen2, qwen3, gemma3
      # description: llama.cpp's Q3_K_M mix (llama-quantize Q3_K_M, rules of llama-quant.cpp from April 2025 on).
      #
      # Each rule mirrors one branch of llama_tensor_get_type for LLAMA_FTYPE_MOSTLY_Q3_K_M:
      #   output.weight -> q6_k (token_embd too when the embeddings are tied); token_embd q3_k;
      #   attn_v -> q5_k on the first two attn_v tensors, q4_k after (q5_k everywhere for 70B models);
      #   ffn_down -> q5_k on blocks i < n/16, else q4_k (non-Falcon); attn_output -> q4_k; attn_qkv -> q4_k;
      #   everything else q3_k.
      # For deepseek2 (61 blocks) this gives q5_k on the dense ffn_down of blocks 0-2 and q4_k on every
      # ffn_down_exps and ffn_down_shexp. Models with exactly 8 experts (Mixtral) get attn_v and attn_k q8_0
      # and attn_output q5_k. Not modelled: the newest llama.cpp's ATTENTION_KV_B category (legacy attn_kv_b:
      # q5_k on blocks 0-1, q4_k after); here attn_kv_b keeps q3_k as in April-2025 llama.cpp. attn_k_b (row
      # length 128) falls back from q3_k (see RowFallback).
      ^output\.weight$=q6_k
      {{if:tied}}^token_embd\.weight$=q6_k
      ^token_embd\.weight$=q3_k
      {{if:experts=8}}attn_(v|k)\.weight=q8_0
      {{if:experts=8}}attn_output\.weight=q5_k
      {{if:n=80}}attn_v\.weight=q5_k
      blk\.{{first:2}}\.attn_v\.weight=q5_k
      attn_v\.weight=q4_k
      blk\.{{first_sixteenth}}\.ffn_down=q5_k
      ffn_down=q4_k
      attn_output\.weight=q4_k
      attn_qkv\.weight=q4_k
      .*=q3_k
      """#)

  /// llama.cpp's Q2_K mix for deepseek2 (`LLAMA_FTYPE_MOSTLY_Q2_K`).
  static let q2K = RecipePreset(
    name: "q2_k",
    text: #"""
      # name: q2_k
      # architecture: deepseek2
      # description: llama.cpp's Q2_K mix for DeepSeek-V3/R1 (deepseek2).
      #
      # Rules of llama_tensor_get_type for LLAMA_FTYPE_MOSTLY_Q2_K that fire for deepseek2: output.weight -> q6_k;
      # every ffn_down (dense, _exps, _shexp) -> q3_k; attn_output -> q3_k (non-8-expert branch); token_embd and
      # everything else q2_k. The attn_v rule (q4_k if n_gqa >= 4 else q3_k) is dead for deepseek2, which has no
      # attn_v (attn_v_b is not attn_v), so this preset is only offered for deepseek2.
      ^output\.weight$=q6_k
      ^token_embd\.weight$=q2_k
      ffn_down=q3_k
      attn_output\.weight=q3_k
      .*=q2_k
      """#)

  /// Unsloth's Q2_K_L for DeepSeek: llama.cpp Q2_K with `--token-embedding-type q4_k`.
  static let q2KL = RecipePreset(
    name: "q2_k_l",
    text: #"""
      # name: q2_k_l
      # architecture: deepseek2
      # description: Q2_K with a q4_k token embedding (Unsloth's DeepSeek Q2_K_L: "Q3 down_proj Q2 rest, Q4 embed,
      # description: Q6 lm_head"), the Q2_K_L of the DQ3_K_M paper's Table 1 (228G, 2.91 bits).
      #
      # Same as q2_k except token_embd, which llama-quantize's --token-embedding-type q4_k sets. (bartowski's
      # "_L" convention, q8_0 embedding and output, is a different mix: 229G / 2.92 bits for R1.)
      ^output\.weight$=q6_k
      ^token_embd\.weight$=q4_k
      ffn_down=q3_k
      attn_output\.weight=q3_k
      .*=q2_k
      """#)
}
