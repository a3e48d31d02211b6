extension Presets {
  /// The preset of a llama-quantize file type: no rules of its own, typed by the mix rules (``LlamaMixEngine``).
  static func llamaQuantize(_ fileType: LlamaFileType) -> RecipePreset {
    RecipePreset(
      name: fileType.rawValue,
      text: """
        # name: \(fileType.rawValue)
        # description: llama-quantize \(fileType.llamaName): \(fileType.summary).
        #
        # Typed as llama-quantize types \(fileType.llamaName) (default tensor type \(fileType.defaultType.name)): the
        # per-tensor rules of llama_tensor_get_type in the llama.cpp version --mixes names (see MixRules), with
        # its row-length fallbacks, --token-embedding-type, --output-tensor-type, --pure, --leave-output-tensor,
        # tied embeddings and imatrix requirements. Rules given with --rule, or in a recipe file with
        # "# base: \(fileType.rawValue)", act as llama-quantize's --tensor-type rules.
        """,
      mix: LlamaMix(fileType: fileType))
  }

  /// Unsloth's Q2_K_L for DeepSeek: llama.cpp Q2_K with `--token-embedding-type q4_k`.
  static let q2KL = RecipePreset(
    name: "q2_k_l",
    text: #"""
      # name: q2_k_l
      # architecture: deepseek2
      # description: Q2_K with a q4_k token embedding (Unsloth's DeepSeek Q2_K_L: "Q3 down_proj Q2 rest, Q4 embed,
      # description: Q6 lm_head"), the Q2_K_L of the DQ3_K_M paper's Table 1 (228G, 2.91 bits).
      #
      # llama-quantize --token-embedding-type q4_k ... Q2_K. (bartowski's "_L" convention, q8_0 embedding and
      # output, is a different mix: 229G / 2.92 bits for R1.)
      """#,
    mix: LlamaMix(fileType: .q2_K, tokenEmbeddingType: .q4_K))
}
