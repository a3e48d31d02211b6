import QuantscopeAnalysis
import QuantscopeFormats
import Testing

@Suite struct `Recipe presets` {
  @Test func `every llama-quantize file type is a preset, then q2_k_l and dq3_k_m`() throws {
    let names = Presets.all.map(\.name)
    #expect(names == LlamaFileType.allCases.map(\.rawValue) + ["q2_k_l", "dq3_k_m"])
    #expect(names.count == 37)
    for preset in Presets.all {
      let header = preset.header
      #expect(header.name == preset.name)
      #expect(!header.description.isEmpty)
      for n in [0, 1, 4, 32, 61, 80, 100] {
        for tied in [false, true] {
          let recipe = try preset.recipe(
            for: RecipeContext(blockCount: n, leadingDenseBlocks: min(3, n), hasOutputTensor: !tied))
          if preset.mix != nil {
            #expect(recipe.rules.isEmpty && recipe.mix == preset.mix, "\(preset.name): typed by the mix rules")
          } else {
            #expect(recipe.rules.last?.pattern == ".*", "\(preset.name) ends with a catch-all")
          }
        }
      }
    }
    #expect(Presets.named("Q4_K_M")?.name == "q4_k_m")
    #expect(Presets.named("q5_k_m")?.mix == LlamaMix(fileType: .q5_K_M))
    #expect(Presets.named("q2_k_l")?.mix == LlamaMix(fileType: .q2_K, tokenEmbeddingType: .q4_K))
    #expect(Presets.named("q7_k") == nil)
    for arch in ["llama", "qwen2", "qwen3", "gemma3", "deepseek2"] {
      #expect(Presets.named("q4_k_m")!.header.supports(architecture: arch))
      #expect(Presets.named("q3_k_m")!.header.supports(architecture: arch))
    }
    #expect(!Presets.named("dq3_k_m")!.header.supports(architecture: "llama"))
    // llama-quantize's numbers and aliases.
    #expect(LlamaFileType(name: "Q4_K")?.id == 15 && LlamaFileType(name: "q5_k") == .q5_K_M)
    #expect(
      LlamaFileType.mxfp4_MOE.id == 38 && LlamaFileType.q2_0.id == 41 && LlamaFileType.iq2_S.defaultType == .iq2_xs)
  }

  @Test func `dq3_k_m expanded for 61 blocks (3 dense) gives the paper's blocks`() throws {
    let recipe = try Presets.named("dq3_k_m")!.recipe(for: RecipeContext(blockCount: 61, leadingDenseBlocks: 3))
    #expect(recipe.rules[0].text == #"blk\.(3|4)\.ffn_down_exps=q6_k"#)
    #expect(recipe.rules[1].text == #"blk\.(5|10|15|20|25|30|35|40|45|50|55|60)\.ffn_down_exps=q4_k"#)
    #expect(recipe.rules[2].text == "ffn_down_exps=q3_k")
  }

  @Test func `dq3_k_m expanded for a 4-block model with 1 dense block`() throws {
    let recipe = try Presets.named("dq3_k_m")!.recipe(for: RecipeContext(blockCount: 4, leadingDenseBlocks: 1))
    #expect(recipe.rules[0].text == #"blk\.(1|2)\.ffn_down_exps=q6_k"#)
    #expect(recipe.rules[1].text == #"blk\.(3)\.ffn_down_exps=q4_k"#)
    // With 3 dense blocks of 4 only block 3 is MoE: the q4_k line has no blocks and is dropped.
    let small = try Presets.named("dq3_k_m")!.recipe(for: RecipeContext(blockCount: 4, leadingDenseBlocks: 3))
    #expect(small.rules[0].text == #"blk\.(3)\.ffn_down_exps=q6_k"#)
    #expect(small.rules[1].text == "ffn_down_exps=q3_k")
  }

  @Test func `dq3_k_m says which part is stated and which is inferred`() {
    let text = Presets.named("dq3_k_m")!.text
    #expect(text.contains("Only the ffn_down_exps rule is stated by the paper"))
    #expect(text.contains("INFERRED"))
    #expect(Presets.named("dq3_k_m")!.header.description.contains("the rest is inferred to match"))
  }

  @Test func `the expanded text of a preset reparses to the same rules`() throws {
    for preset in Presets.all {
      let c = RecipeContext(blockCount: 61, leadingDenseBlocks: 3)
      let text = try preset.expandedText(for: c)
      #expect(
        !text.contains("{{") || text.split(separator: "\n").allSatisfy { !$0.contains("{{") || $0.hasPrefix("#") })
      let reparsed = try Recipe.parse(text, source: preset.source)
      #expect(reparsed.rules.map(\.text) == (try preset.recipe(for: c)).rules.map(\.text))
    }
  }
}
