import Foundation
import QuantscopeAnalysis
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

@Suite struct `Plan rules` {
  func plan(_ inputs: [PlanInput], _ rules: String, options: PlanOptions = PlanOptions()) throws -> Plan {
    try Planner.plan(
      model: PlanModel(tensors: inputs), recipe: Recipe.parse(rules, source: "t.txt"), options: options)
  }

  func target(_ plan: Plan, _ name: String) -> GGMLType? { plan.tensors.first { $0.name == name }?.targetType }

  @Test func `first match wins and the deciding rule is recorded`() throws {
    let inputs = [
      PlanInput(name: "blk.1.ffn_down.weight", ne: [256, 4], currentType: .f16),
      PlanInput(name: "blk.11.ffn_down.weight", ne: [256, 4], currentType: .f16),
    ]
    let p = try plan(inputs, "blk\\.1\\.ffn_down=q8_0\nffn_down=q4_k\nblk\\.11=q6_k\n")
    #expect(target(p, "blk.1.ffn_down.weight") == .q8_0)
    #expect(target(p, "blk.11.ffn_down.weight") == .q4_K)
    #expect(p.tensors[1].decidedBy == "ffn_down=q4_k (t.txt:2)")
    #expect(p.tensors[1].rule?.line == 2)
    #expect(p.ruleHits.map(\.count) == [1, 1, 0])  // dead rules are listed with 0
  }

  @Test func `built-in rules keep 1-D tensors, norms, routers, exp_probs_b and non-weights`() throws {
    let inputs = [
      PlanInput(name: "blk.0.attn_norm.weight", ne: [256], currentType: .f32),
      PlanInput(name: "blk.0.attn_q_a_norm.weight", ne: [1536, 1], currentType: .f16),  // ggml_n_dims = 1
      PlanInput(name: "blk.3.ffn_gate_inp.weight", ne: [256, 8], currentType: .f32),
      PlanInput(name: "blk.3.exp_probs_b.bias", ne: [8, 2], currentType: .f32),  // (really 1-D)
      PlanInput(name: "blk.0.ffn_norm.weight", ne: [256, 2], currentType: .bf16),  // 2-D norm
      PlanInput(name: "blk.0.attn_output.bias", ne: [256, 2], currentType: .f16),
      PlanInput(name: "position_embd.weight", ne: [256, 2], currentType: .f16),
      PlanInput(name: "blk.0.attn_q.weight", ne: [256, 2], currentType: .f16),
    ]
    let p = try plan(inputs, ".*=q2_k")
    #expect(p.tensors.map(\.targetType) == [.f32, .f16, .f32, .f32, .bf16, .f16, .f16, .q2_K])
    #expect(p.tensors.map(\.decidedBy).dropLast().allSatisfy { $0.hasPrefix("keep: ") })
    #expect(p.tensors[2].decidedBy == "keep: ffn_gate_inp (router)")
    #expect(p.tensors[3].decidedBy == "keep: exp_probs_b")
    #expect(p.ruleHits.first?.count == 1)
  }

  @Test func `without a current type kept tensors become F32 and unmatched ones BF16`() throws {
    let inputs = [
      PlanInput(name: "blk.0.attn_norm.weight", ne: [256], currentType: nil),
      PlanInput(name: "blk.3.ffn_gate_inp.weight", ne: [256, 8], currentType: nil),
      PlanInput(name: "blk.0.attn_q.weight", ne: [256, 2], currentType: nil),
      PlanInput(name: "blk.0.attn_k.weight", ne: [256, 2], currentType: .q8_0),
    ]
    let p = try plan(inputs, "attn_v=q4_k")
    #expect(p.tensors.map(\.targetType) == [.f32, .f32, .bf16, .q8_0])
    #expect(p.tensors[2].decidedBy == "unmatched: converter output BF16")
    #expect(p.tensors[3].decidedBy == "unmatched: keep current type")
    let f16 = try plan(inputs, "attn_v=q4_k", options: PlanOptions(unmatchedSourceType: .f16))
    #expect(f16.tensors[2].targetType == .f16)
  }

  @Test func `row-length fallbacks follow llama.cpp, and F16 when the fallback does not divide either`() throws {
    let cases: [(GGMLType, Int, RowFallback, GGMLType)] = [
      (.q2_K, 128, .current, .q4_0), (.q3_K, 128, .current, .q4_0),
      (.q2_K, 128, .llama2025, .iq4_nl), (.q3_K, 128, .llama2025, .iq4_nl),
      (.q4_K, 128, .current, .q5_0), (.q5_K, 128, .current, .q5_1), (.q6_K, 128, .current, .q8_0),
      (.q4_K, 128, .llama2025, .q5_0), (.q6_K, 128, .llama2025, .q8_0),
      (.iq2_xxs, 128, .current, .iq4_nl), (.iq4_xs, 96, .current, .iq4_nl), (.tq1_0, 64, .llama2025, .q4_0),
      (.q4_K, 48, .current, .f16), (.q6_K, 80, .current, .f16), (.q3_K, 16, .llama2025, .f16),
      (.mxfp4, 16, .current, .f16), (.q8_0, 40, .current, .f16),
      (.q4_K, 512, .current, .q4_K), (.q8_0, 96, .current, .q8_0),
    ]
    for (type, row, policy, expected) in cases {
      let p = try plan(
        [PlanInput(name: "w.weight", ne: [row, 3], currentType: .f32)], "w=\(type.name)",
        options: PlanOptions(fallback: policy))
      let t = p.tensors[0]
      #expect(t.targetType == expected, "\(type) row \(row) \(policy)")
      #expect(t.ruleType == type)
      #expect((t.fallback != nil) == (expected != type))
      #expect(t.bytes == 3 * (row / expected.blockElements) * expected.blockBytes)
    }
  }

  @Test func `sizes come from the block geometry; totals, GiB, bits per weight, per-type breakdown`() throws {
    let inputs = [
      PlanInput(name: "a.weight", ne: [512, 10, 2], currentType: .f16),  // q4_k: 2 blocks × 144 × 20 rows
      PlanInput(name: "b.weight", ne: [64, 4], currentType: .f16),  // q8_0: 2 blocks × 34 × 4 rows
      PlanInput(name: "c_norm.weight", ne: [64], currentType: .f32),  // 256 bytes
    ]
    let p = try plan(inputs, "a=q4_k b=q8_0")
    #expect(p.tensors.map(\.bytes) == [5760, 272, 256])
    #expect(p.totalBytes == 6288)
    #expect(p.totalParameters == 10240 + 256 + 64)
    #expect(p.bitsPerWeight == 6288.0 * 8 / 10560)
    #expect(p.gibibytes == 6288.0 / 1_073_741_824)
    #expect(p.byType.map(\.type) == [.f32, .q8_0, .q4_K])
    #expect(p.byType.map(\.bytes) == [256, 272, 5760])
    #expect(p.tensors[0].shape == [2, 10, 512])
  }

  @Test func `bad inputs are errors, not traps`() throws {
    #expect(throws: PlanError.self) {
      try plan([PlanInput(name: "x.weight", ne: [256, -1], currentType: .f16)], ".*=q4_k")
    }
    #expect(throws: PlanError.self) {
      try plan([PlanInput(name: "x.weight", ne: [Int.max, 4], currentType: .f16)], ".*=f32")
    }
    // A kept tensor whose current type does not divide its row cannot be sized.
    #expect(throws: PlanError.self) {
      try plan([PlanInput(name: "x_norm.weight", ne: [100], currentType: .q8_0)], ".*=q4_k")
    }
  }

  @Test func `--rule style extra rules take precedence; base presets follow the file's rules`() throws {
    let inputs = DeepSeekV3.tensors(blocks: 4, dense: 1)
    let model = PlanModel(tensors: inputs, architecture: "deepseek2")
    #expect(
      model.context == RecipeContext(blockCount: 4, leadingDenseBlocks: 1, hasOutputTensor: true, expertCount: 256))
    let extra = try RecipeRule(parsing: "ffn_down_exps=q8_0")
    let p = try Planner.plan(model: model, preset: Presets.named("dq3_k_m")!, extraRules: [extra])
    #expect(Set(p.tensors.filter { $0.name.hasSuffix("ffn_down_exps.weight") }.map(\.targetType)) == [.q8_0])
    #expect(p.ruleHits[0].rule == "ffn_down_exps=q8_0 (--rule)" && p.ruleHits[0].count == 3)

    let file = try Recipe.parse("# base: q3_k_m\nattn_output=q8_0\n", source: "over.txt", context: model.context)
    let q = try Planner.plan(model: model, recipe: file)
    #expect(Set(q.tensors.filter { $0.name.hasSuffix("attn_output.weight") }.map(\.targetType)) == [.q8_0])
    #expect(q.tensors.first { $0.name == "blk.0.ffn_down.weight" }?.targetType == .q4_K)  // q3_k_m, 4/16 = 0
    #expect(q.tensors.first { $0.name == "output.weight" }?.targetType == .q6_K)
    #expect(q.warnings.isEmpty)
    let cyclic = try Recipe.parse("# name: q4_k_m\n# base: q4_k_m\nx=q8_0\n", source: "c.txt")
    #expect(throws: RecipeError.self) { try Planner.plan(model: model, recipe: cyclic) }
  }

  @Test func `dq3_k_m on a 4-block DeepSeek model (1 dense block)`() throws {
    let model = PlanModel(tensors: DeepSeekV3.tensors(split: true, blocks: 4, dense: 1), architecture: "deepseek2")
    let p = try Planner.plan(model: model, preset: Presets.named("dq3_k_m")!)
    func t(_ n: String) -> GGMLType? { p.tensors.first { $0.name == n }?.targetType }
    #expect(t("blk.1.ffn_down_exps.weight") == .q6_K)
    #expect(t("blk.2.ffn_down_exps.weight") == .q6_K)
    #expect(t("blk.3.ffn_down_exps.weight") == .q4_K)
    #expect(t("blk.0.ffn_down.weight") == .q6_K)
    #expect(t("blk.2.attn_k_b.weight") == .q5_0)
    #expect(p.warnings.isEmpty)
  }

  @Test func `llama-style model: q4_k_m and q3_k_m choose as llama.cpp does, tied embeddings included`() throws {
    // A 32-block llama without output.weight (tied), 4096 hidden, GQA attention.
    var inputs = [PlanInput(name: "token_embd.weight", ne: [4096, 32000], currentType: .f16)]
    for i in 0..<32 {
      for (n, ne) in [
        ("attn_q", [4096, 4096]), ("attn_k", [4096, 1024]), ("attn_v", [4096, 1024]), ("attn_output", [4096, 4096]),
        ("ffn_gate", [4096, 14336]), ("ffn_up", [4096, 14336]), ("ffn_down", [14336, 4096]),
      ] {
        inputs.append(PlanInput(name: "blk.\(i).\(n).weight", ne: ne, currentType: .f16))
      }
      inputs.append(PlanInput(name: "blk.\(i).attn_norm.weight", ne: [4096], currentType: .f32))
    }
    let model = PlanModel(tensors: inputs, architecture: "llama")
    let q4 = try Planner.plan(model: model, preset: Presets.named("q4_k_m")!)
    func types(_ p: Plan, _ n: String) -> [GGMLType] {
      (0..<32).compactMap { i in p.tensors.first { $0.name == "blk.\(i).\(n).weight" }?.targetType }
    }
    let more: Set = [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31]
    #expect(types(q4, "attn_v") == (0..<32).map { more.contains($0) ? .q6_K : .q4_K })
    #expect(types(q4, "ffn_down") == (0..<32).map { more.contains($0) ? .q6_K : .q4_K })
    #expect(Set(types(q4, "attn_q") + types(q4, "attn_output") + types(q4, "ffn_up")) == [.q4_K])
    #expect(q4.tensors[0].targetType == .q6_K)  // tied: token_embd is quantized like the output
    let q3 = try Planner.plan(model: model, preset: Presets.named("q3_k_m")!)
    #expect(types(q3, "attn_v") == [.q5_K, .q5_K] + Array(repeating: .q4_K, count: 30))
    #expect(types(q3, "ffn_down") == [.q5_K, .q5_K] + Array(repeating: .q4_K, count: 30))  // 32/16 = 2
    #expect(Set(types(q3, "attn_output")) == [.q4_K])
    #expect(Set(types(q3, "attn_k") + types(q3, "ffn_gate")) == [.q3_K])
    #expect(q3.tensors[0].targetType == .q6_K)
  }

  @Test func `models with exactly 8 experts get llama.cpp's Mixtral rules`() throws {
    func model(experts: Int) -> PlanModel {
      var inputs = [PlanInput(name: "output.weight", ne: [256, 100], currentType: .f16)]
      for i in 0..<8 {
        for n in ["attn_q", "attn_k", "attn_v", "attn_output"] {
          inputs.append(PlanInput(name: "blk.\(i).\(n).weight", ne: [256, 256], currentType: .f16))
        }
        for n in ["ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"] {
          inputs.append(PlanInput(name: "blk.\(i).\(n).weight", ne: [256, 512, experts], currentType: .f16))
        }
      }
      return PlanModel(tensors: inputs, architecture: "llama")
    }
    #expect(model(experts: 8).context.expertCount == 8)
    for name in ["q4_k_m", "q3_k_m"] {
      let p = try Planner.plan(model: model(experts: 8), preset: Presets.named(name)!)
      func t(_ n: String) -> GGMLType? { p.tensors.first { $0.name == n }?.targetType }
      #expect(t("blk.1.attn_v.weight") == .q8_0 && t("blk.1.attn_k.weight") == .q8_0, "\(name)")
      #expect(t("blk.1.attn_output.weight") == .q5_K, "\(name)")
      let q = try Planner.plan(model: model(experts: 16), preset: Presets.named(name)!)
      #expect(q.tensors.first { $0.name == "blk.1.attn_k.weight" }?.targetType != .q8_0, "\(name)")
    }
  }

  @Test func `PlanModel from a GGUF reads names, ne and types`() throws {
    let gguf = try GGUFModel(path: PlanGolden.file("ggml-quants.gguf"))
    let model = PlanModel(collection: gguf)
    #expect(model.architecture == "golden")
    #expect(model.tensors.count == gguf.tensors.count)
    let t = try #require(model.tensors.first { $0.name == "gauss.q4_k" })
    #expect(t.ne == [512, 8] && t.currentType == .q4_K)
    // Planning every tensor as it is reproduces the file's own byte counts.
    let p = try Planner.plan(model: model, recipe: Recipe(name: "none", rules: [], source: "none"))
    #expect(p.totalBytes == gguf.tensors.reduce(0) { $0 + $1.byteCount })
    #expect(zip(p.tensors, gguf.tensors).allSatisfy { $0.bytes == $1.byteCount })
  }
}

/// The golden files (``TestPaths/goldenFile(_:)`` finds them, from a worktree too).
enum PlanGolden {
  static func file(_ name: String) -> String { TestPaths.goldenFile(name) }
}
