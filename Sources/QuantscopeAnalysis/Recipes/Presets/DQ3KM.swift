extension Presets {
  /// DQ3_K_M (arXiv 2505.02390, "Quantitative Analysis of Performance Drop in DeepSeek Model Quantization") as
  /// quantscope reconstructs it. Only the `ffn_down_exps` rule is stated by the paper (through a review
  /// summary); every other line is inferred so that the mix matches the published size (281G, 3.59 bits).
  static let dq3KM = RecipePreset(
    name: "dq3_k_m",
    text: #"""
      # name: dq3_k_m
      # architecture: deepseek2
      # description: DQ3_K_M of arXiv 2505.02390 (UnicomAI) for DeepSeek-V3/R1, as reconstructed by quantscope.
      # description: Only the ffn_down_exps rule is stated by the paper; the rest is inferred to match the
      # description: published size (281G, 3.59 bits per weight).
      #
      # STATED (paper, via a review summary): q6_k for the first two ffn_down_exps layers, q3_k after them with
      # q4_k "inserted every fourth layer", giving 75.9 % q3_k / 20.7 % q4_k / 3.4 % q6_k of ffn_down_exps.
      # For DeepSeek-V3 (61 blocks, MoE from block 3) these percentages pin the counts to 44 / 12 / 2 of the 58
      # ffn_down_exps: q6_k on blocks 3 and 4, q4_k on blocks 5, 10, 15, ..., 60 (one q4_k after each run of four
      # q3_k layers), q3_k on the other 44. The macros below generalise that to any block count.
      #
      # INFERRED (not stated anywhere; chosen so that the legacy attn_kv_b layout totals 280.42 GiB and 3.590
      # bits per weight over 671,026,419,200 parameters, inside the 280.04-280.82 GiB that "281G, 3.59" allows;
      # other combinations fit too): routed gate/up experts q3_k (the Q3_K_M default; the size rules out more),
      # shared experts and the dense FFN of the leading dense blocks q6_k, every attention matrix q4_k
      # (attn_k_b, row length 128, takes q4_k's row-length fallback q5_0), token_embd q4_k, output q6_k.
      # Norms, ffn_gate_inp and exp_probs_b stay as they are (built-in rules).
      blk\.{{moe_first:2}}\.ffn_down_exps=q6_k
      blk\.{{moe_every:5:2}}\.ffn_down_exps=q4_k
      ffn_down_exps=q3_k
      ffn_gate_exps=q3_k
      ffn_up_exps=q3_k
      _shexp=q6_k
      ffn_(gate|up|down)\.weight=q6_k
      ^output\.weight$=q6_k
      ^token_embd\.weight$=q4_k
      attn_(q_a|q_b|kv_a_mqa|kv_b|k_b|v_b|output)\.weight=q4_k
      .*=q4_k
      """#)
}
