import QuantscopeAnalysis
import QuantscopeFormats
import Testing

@Suite struct `Recipe presets` {
  @Test func `every preset has a name, architectures and a description, and expands for 0 to 100 blocks`() throws {
    #expect(Presets.all.map(\.name) == ["q4_k_m", "q3_k_m", "q2_k", "q2_k_l", "dq3_k_m"])
    for preset in Presets.all {
      let header = preset.header
      #expect(header.name == preset.name)
      #expect(!header.description.isEmpty)
      #expect(header.architectures.contains("deepseek2"))
      for n in [0, 1, 4, 32, 61, 80, 100] {
        for tied in [false, true] {
          let recipe = try preset.recipe(for: RecipeContext(blockCount: n, leadingDenseBlocks: min(3, n), hasOutputTensor: !tied))
          #expect(recipe.rules.last?.pattern == ".*", "\(preset.name) ends with a catch-all")
        }
      }
    }
    #expect(Presets.named("Q4_K_M")?.name == "q4_k_m")
    #expect(Presets.named("q5_k_m") == nil)
    for arch in ["llama", "qwen2", "qwen3", "gemma3"] {
      #expect(Presets.named("q4_k_m")!.header.supports(architecture: arch))
      #expect(Presets.named("q3_k_m")!.header.supports(architecture: arch))
      #expect(!Presets.named("dq3_k_m")!.header.supports(architecture: arch))
    }
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

  @Test func `q4_k_m and q3_k_m expanded for 61 and 4 blocks`() throws {
    let q4 = try Presets.named("q4_k_m")!.recipe(for: RecipeContext(blockCount: 61, leadingDenseBlocks: 3))
    let down = try #require(q4.rules.first { $0.pattern.hasSuffix(#"\.ffn_down"#) })
    #expect(down.text == #"blk\.(0|1|2|3|4|5|6|9|12|15|18|21|24|27|30|33|36|39|42|45|48|51|53|54|55|56|57|58|59|60)\.ffn_down=q6_k"#)
    #expect(!q4.rules.contains { $0.pattern.hasPrefix("^token_embd") && $0.type == .q6_K })  // untied
    let q4small = try Presets.named("q4_k_m")!.recipe(for: RecipeContext(blockCount: 4))
    // n = 4: n/8 = 0, 7n/8 = 3, (i - 0) % 3 == 2 → blocks 2 and 3.
    #expect(q4small.rules.contains { $0.text == #"blk\.(2|3)\.ffn_down=q6_k"# })
    let q3 = try Presets.named("q3_k_m")!.recipe(for: RecipeContext(blockCount: 61, leadingDenseBlocks: 3))
    #expect(q3.rules.contains { $0.text == #"blk\.(0|1|2)\.ffn_down=q5_k"# })
    let q3small = try Presets.named("q3_k_m")!.recipe(for: RecipeContext(blockCount: 4))
    #expect(!q3small.rules.contains { $0.type == .q5_K && $0.pattern.contains("ffn_down") })  // 4/16 = 0
    #expect(q3small.rules.contains { $0.text == #"blk\.(0|1)\.attn_v\.weight=q5_k"# })
  }

  @Test func `the expanded text of a preset reparses to the same rules`() throws {
    for preset in Presets.all {
      let c = RecipeContext(blockCount: 61, leadingDenseBlocks: 3)
      let text = try preset.expandedText(for: c)
      #expect(!text.contains("{{") || text.split(separator: "\n").allSatisfy { !$0.contains("{{") || $0.hasPrefix("#") })
      let reparsed = try Recipe.parse(text, source: preset.source)
      #expect(reparsed.rules.map(\.text) == (try preset.recipe(for: c)).rules.map(\.text))
    }
  }
}
