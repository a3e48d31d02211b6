import QuantscopeAnalysis
import QuantscopeFormats
import Testing

/// llama-quantize's mix rules (LlamaMixEngine) on small synthetic models; the real tool is compared in
/// LlamaParityTests.
@Suite struct `llama-quantize mix rules` {
  /// A dense llama-style model: `n` blocks, rows of `width`, optional tied output, optional fused attn_qkv.
  static func dense(
    _ n: Int, width: Int = 256, tied: Bool = false, qkv: Bool = false, arch: String = "llama",
    heads: (Int, Int) = (8, 2)
  ) -> PlanModel {
    var t = [PlanInput(name: "token_embd.weight", ne: [width, 1000], currentType: .f16)]
    for i in 0..<n {
      let attention = qkv ? ["attn_qkv"] : ["attn_q", "attn_k", "attn_v"]
      let names = attention + ["attn_output", "ffn_gate", "ffn_up", "ffn_down"]
      t += names.map { PlanInput(name: "blk.\(i).\($0).weight", ne: [width, width], currentType: .f16) }
      t.append(PlanInput(name: "blk.\(i).attn_norm.weight", ne: [width], currentType: .f32))
    }
    if !tied { t.append(PlanInput(name: "output.weight", ne: [width, 1000], currentType: .f16)) }
    var model = PlanModel(tensors: t, architecture: arch, blockCount: n)
    model.headCount = heads.0
    model.headCountKV = heads.1
    return model
  }

  static func plan(
    _ model: PlanModel, _ mix: LlamaMix, rules: [String] = [], mixes: MixRules = .newest, imatrix: Bool = false
  ) throws -> Plan {
    var recipe = Recipe(
      name: mix.fileType.rawValue, rules: try rules.map { try RecipeRule(parsing: $0) }, source: "test", mix: mix)
    recipe.mix = mix
    return try Planner.plan(model: model, recipe: recipe, options: PlanOptions(mixes: mixes, hasImatrix: imatrix))
  }

  static func type(_ plan: Plan, _ name: String) -> GGMLType? { plan.tensors.first { $0.name == name }?.targetType }

  @Test func `tensors are counted in the loader's order: block number, then name`() {
    let names = [
      "output.weight", "blk.10.attn_v.weight", "blk.2.attn_v.weight", "blk.2.attn_k.weight", "token_embd.weight",
    ]
    #expect(
      names.sorted(by: LlamaMixEngine.loaderOrder)
        == ["output.weight", "token_embd.weight", "blk.2.attn_k.weight", "blk.2.attn_v.weight", "blk.10.attn_v.weight"])
  }

  @Test func `Q4_K_M: use_more_bits over the attn_v counter and ffn_down layers; output Q6_K`() throws {
    let plan = try Self.plan(Self.dense(16), LlamaMix(fileType: .q4_K_M))
    let more = (0..<16).filter { RecipeContext.useMoreBits($0, 16) }
    for i in 0..<16 {
      #expect(Self.type(plan, "blk.\(i).attn_v.weight") == (more.contains(i) ? .q6_K : .q4_K))
      #expect(Self.type(plan, "blk.\(i).ffn_down.weight") == (more.contains(i) ? .q6_K : .q4_K))
    }
    #expect(Self.type(plan, "output.weight") == .q6_K && Self.type(plan, "token_embd.weight") == .q4_K)
    #expect(plan.mixes == .newest && plan.imatrixRequired.isEmpty)
  }

  @Test func `Q2_K: attn_v Q4_K with GQA >= 4, Q3_K without; tied embedding of odd width Q8_0`() throws {
    let gqa = try Self.plan(Self.dense(4, width: 640, tied: true, heads: (4, 1)), LlamaMix(fileType: .q2_K))
    // 640 is no multiple of 256: Q4_K falls back to Q5_0, Q2_K to Q4_0; the tied embedding becomes Q8_0.
    #expect(Self.type(gqa, "blk.0.attn_v.weight") == .q5_0)
    #expect(Self.type(gqa, "blk.0.attn_q.weight") == .q4_0)
    #expect(Self.type(gqa, "token_embd.weight") == .q8_0)
    let mha = try Self.plan(Self.dense(4, heads: (8, 8)), LlamaMix(fileType: .q2_K))
    #expect(Self.type(mha, "blk.0.attn_v.weight") == .q3_K && Self.type(mha, "blk.0.attn_output.weight") == .q3_K)
    #expect(Self.type(mha, "blk.0.ffn_down.weight") == .q3_K && Self.type(mha, "token_embd.weight") == .q2_K)
  }

  @Test func `attn_qkv takes the attn_v branch in 0c1e570, its own Q5_K branch in the paper rules`() throws {
    let model = Self.dense(8, qkv: true)
    let newest = try Self.plan(model, LlamaMix(fileType: .q4_K_M))
    let paper = try Self.plan(model, LlamaMix(fileType: .q4_K_M), mixes: .paper)
    #expect(Self.type(newest, "blk.0.attn_qkv.weight") == .q6_K && Self.type(newest, "blk.1.attn_qkv.weight") == .q4_K)
    #expect((0..<8).allSatisfy { Self.type(paper, "blk.\($0).attn_qkv.weight") == .q5_K })
  }

  @Test func `types that need an imatrix are listed; token_embd and output never need one`() throws {
    let model = Self.dense(8)
    let iq2 = try Self.plan(model, LlamaMix(fileType: .iq2_XXS))
    #expect(iq2.imatrixRequired.contains("blk.3.attn_q.weight"))
    #expect(!iq2.imatrixRequired.contains("token_embd.weight") && !iq2.imatrixRequired.contains("output.weight"))
    #expect(Self.type(iq2, "token_embd.weight") == .q2_K && Self.type(iq2, "output.weight") == .q5_K)
    // An IQ3_XXS tensor needs one in 0c1e570 only (the paper rules want one for IQ3_XXS's IQ2_S attn_q/attn_k);
    // Q2_K needs one in a Q2_K_S file only.
    #expect((try Self.plan(model, LlamaMix(fileType: .iq3_XXS))).imatrixRequired.contains("blk.0.ffn_up.weight"))
    let paperIQ3 = try Self.plan(model, LlamaMix(fileType: .iq3_XXS), mixes: .paper)
    #expect(!paperIQ3.imatrixRequired.contains("blk.0.ffn_up.weight"))
    #expect(paperIQ3.imatrixRequired.contains("blk.0.attn_q.weight"))
    #expect(!(try Self.plan(model, LlamaMix(fileType: .q2_K_S))).imatrixRequired.isEmpty)
    #expect((try Self.plan(model, LlamaMix(fileType: .q2_K))).imatrixRequired.isEmpty)
    // With an imatrix, IQ3_XXS keeps attn_v IQ3_XXS (without one: IQ3_S) and ffn_down follows the imatrix rule.
    let withI = try Self.plan(Self.dense(8, heads: (8, 8)), LlamaMix(fileType: .iq3_XXS), imatrix: true)
    #expect(Self.type(withI, "blk.0.attn_v.weight") == .iq3_xxs)
    let without = try Self.plan(Self.dense(8, heads: (8, 8)), LlamaMix(fileType: .iq3_XXS))
    #expect(Self.type(without, "blk.0.attn_v.weight") == .iq3_s && Self.type(without, "blk.0.ffn_down.weight") == .q4_K)
  }

  @Test func `--pure, --leave-output-tensor, --token-embedding-type, --output-tensor-type`() throws {
    let model = Self.dense(4)
    let pure = try Self.plan(model, LlamaMix(fileType: .q4_K_M, pure: true))
    #expect(pure.tensors.filter { $0.ne.count == 2 }.allSatisfy { $0.targetType == .q4_K })
    let options = try Self.plan(
      model, LlamaMix(fileType: .q4_K_M, tokenEmbeddingType: .q8_0, outputTensorType: .f16, leaveOutputTensor: false))
    #expect(Self.type(options, "token_embd.weight") == .q8_0 && Self.type(options, "output.weight") == .f16)
    let leave = try Self.plan(model, LlamaMix(fileType: .q4_K_M, leaveOutputTensor: true))
    #expect(Self.type(leave, "output.weight") == .f16)
  }

  @Test func `rules act as --tensor-type; float file types take none`() throws {
    let model = Self.dense(4)
    let ruled = try Self.plan(model, LlamaMix(fileType: .q4_K_M), rules: ["ffn_up=q8_0"])
    #expect((0..<4).allSatisfy { Self.type(ruled, "blk.\($0).ffn_up.weight") == .q8_0 })
    let f16 = try Self.plan(model, LlamaMix(fileType: .bf16), rules: ["ffn_up=q8_0"])
    #expect(f16.tensors.filter { $0.ne.count == 2 }.allSatisfy { $0.targetType == .bf16 })
    #expect(f16.warnings.contains { $0.contains("ignores --tensor-type") })
    #expect(Self.type(f16, "blk.0.attn_norm.weight") == .f32)
  }

  @Test func `MXFP4_MOE: 3-D experts MXFP4, the rest Q8_0; the paper rules have no such type`() throws {
    var tensors = Self.dense(2).tensors
    tensors.append(PlanInput(name: "blk.1.ffn_down_exps.weight", ne: [256, 256, 4], currentType: .f16))
    let model = PlanModel(tensors: tensors, architecture: "qwen3moe", blockCount: 2, expertCount: 4)
    let plan = try Self.plan(model, LlamaMix(fileType: .mxfp4_MOE))
    #expect(Self.type(plan, "blk.1.ffn_down_exps.weight") == .mxfp4 && Self.type(plan, "blk.0.attn_q.weight") == .q8_0)
    #expect(Self.type(plan, "output.weight") == .q8_0)
    #expect(throws: PlanError.self) { try Self.plan(model, LlamaMix(fileType: .mxfp4_MOE), mixes: .paper) }
  }

  @Test func `rule versions are named by name or commit`() {
    #expect(MixRules.named("paper") == .paper && MixRules.named("8733e0c") == .paper)
    #expect(MixRules.named("0C1E570") == .v0c1e570 && MixRules.newest == .v0c1e570)
    #expect(MixRules.named("b1234") == nil)
  }
}
