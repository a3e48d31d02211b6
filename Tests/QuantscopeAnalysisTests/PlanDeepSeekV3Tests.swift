import Foundation
import QuantscopeAnalysis
import QuantscopeFormats
import Testing

/// The DeepSeek-V3/R1 GGUF tensor list (deepseek2), built from the architecture in the reference
/// (dq3_k_m-and-llama-mixes.md; shapes from safetensors-fp8-deepseek.md §4.2): 61 blocks, blocks 0–2 dense.
enum DeepSeekV3 {
  static let blocks = 61
  static let dense = 3
  static let hidden = 7168
  static let vocab = 129280
  static let heads = 128
  static let qLora = 1536
  static let kvLora = 512
  static let nope = 128
  static let rope = 64
  static let vHead = 128
  static let experts = 256
  static let expertInner = 2048
  static let denseInner = 18432

  /// The tensor list; `split` gives the current MLA layout (attn_k_b + attn_v_b) instead of legacy attn_kv_b.
  static func tensors(split: Bool = false, blocks: Int = blocks, dense: Int = dense) -> [PlanInput] {
    func w(_ name: String, _ ne: [Int]) -> PlanInput { PlanInput(name: name, ne: ne, currentType: .bf16) }
    func f(_ name: String, _ ne: [Int]) -> PlanInput { PlanInput(name: name, ne: ne, currentType: .f32) }
    var out = [w("token_embd.weight", [hidden, vocab])]
    for i in 0..<blocks {
      let b = "blk.\(i)."
      out += [
        f(b + "attn_norm.weight", [hidden]),
        f(b + "attn_q_a_norm.weight", [qLora]),
        f(b + "attn_kv_a_norm.weight", [kvLora]),
        w(b + "attn_q_a.weight", [hidden, qLora]),
        w(b + "attn_q_b.weight", [qLora, heads * (nope + rope)]),
        w(b + "attn_kv_a_mqa.weight", [hidden, kvLora + rope]),
      ]
      if split {
        out += [w(b + "attn_k_b.weight", [nope, kvLora, heads]), w(b + "attn_v_b.weight", [kvLora, vHead, heads])]
      } else {
        out.append(w(b + "attn_kv_b.weight", [kvLora, heads * (nope + vHead)]))
      }
      out += [w(b + "attn_output.weight", [heads * vHead, hidden]), f(b + "ffn_norm.weight", [hidden])]
      if i < dense {
        out += [
          w(b + "ffn_gate.weight", [hidden, denseInner]), w(b + "ffn_up.weight", [hidden, denseInner]),
          w(b + "ffn_down.weight", [denseInner, hidden]),
        ]
      } else {
        out += [
          f(b + "ffn_gate_inp.weight", [hidden, experts]),
          f(b + "exp_probs_b.bias", [experts]),
          w(b + "ffn_gate_exps.weight", [hidden, expertInner, experts]),
          w(b + "ffn_up_exps.weight", [hidden, expertInner, experts]),
          w(b + "ffn_down_exps.weight", [expertInner, hidden, experts]),
          w(b + "ffn_gate_shexp.weight", [hidden, expertInner]),
          w(b + "ffn_up_shexp.weight", [hidden, expertInner]),
          w(b + "ffn_down_shexp.weight", [expertInner, hidden]),
        ]
      }
    }
    out += [f("output_norm.weight", [hidden]), w("output.weight", [hidden, vocab])]
    return out
  }

  static func model(split: Bool = false) -> PlanModel {
    PlanModel(tensors: tensors(split: split), architecture: "deepseek2", blockCount: blocks, leadingDenseBlocks: dense)
  }

  /// The plan under `preset`; by default with the paper's mix rules (`--mixes paper`), which Table 1 follows.
  static func plan(_ preset: String, split: Bool = false, options: PlanOptions = PlanOptions(mixes: .paper)) throws
    -> Plan
  {
    let p = try #require(Presets.named(preset))
    return try Planner.plan(model: model(split: split), preset: p, options: options)
  }
}

@Suite struct `Plan DeepSeek-V3 sizes (paper Table 1)` {
  /// GiB to 2 decimals, as the reference prints them.
  func gib(_ plan: Plan) -> String { String(format: "%.2f", plan.gibibytes) }

  /// The parameter count is the one safetensors-fp8-deepseek.md §2 counts from the checkpoint's headers
  /// (671,026,419,200 main-model parameters). dq3_k_m-and-llama-mixes.md states 671,026,440,704, 21,504
  /// (= 3 × 7168) more, which no tensor of the reference's shape list accounts for; the difference changes no
  /// GiB or bits figure at the precision the reference gives them.
  @Test func `tensor list has the reference counts and 671,026,419,200 parameters`() throws {
    #expect(DeepSeekV3.tensors().count == 1025)
    #expect(DeepSeekV3.tensors(split: true).count == 1086)
    let plan = try DeepSeekV3.plan("q4_k_m")
    #expect(plan.totalParameters == 671_026_419_200)
    #expect(try DeepSeekV3.plan("q4_k_m", split: true).totalParameters == 671_026_419_200)
    #expect(abs(plan.totalParameters - 671_026_440_704) == 3 * 7168)
  }

  @Test func `Q4_K_M is 376.65 GiB and 4.822 bits`() throws {
    let plan = try DeepSeekV3.plan("q4_k_m")
    #expect(gib(plan) == "376.65")
    #expect(abs(plan.bitsPerWeight - 4.822) < 0.0006)
  }

  @Test func `Q3_K_M is 297.27 GiB and 3.805 bits`() throws {
    let plan = try DeepSeekV3.plan("q3_k_m")
    #expect(gib(plan) == "297.27")
    #expect(abs(plan.bitsPerWeight - 3.805) < 0.0006)
  }

  @Test func `DQ3_K_M is 280.42 GiB and 3.590 bits, inside the paper's window`() throws {
    let plan = try DeepSeekV3.plan("dq3_k_m")
    #expect(gib(plan) == "280.42")
    #expect(abs(plan.bitsPerWeight - 3.590) < 0.0006)
    // "281G" rounded up and "3.59" bits bound the file to 280.04–280.82 GiB.
    #expect(plan.gibibytes > 280.04 && plan.gibibytes < 280.82)
    #expect(String(format: "%.2f", Double(plan.totalBytes) * 8 / 671e9) == "3.59")
  }

  @Test func `Q2_K_L is 227.47 GiB and 2.912 bits; plain Q2_K is 227.26 GiB`() throws {
    let plan = try DeepSeekV3.plan("q2_k_l")
    #expect(gib(plan) == "227.47")
    #expect(abs(plan.bitsPerWeight - 2.912) < 0.0006)
    #expect(gib(try DeepSeekV3.plan("q2_k")) == "227.26")
  }

  @Test func `model sizes round up to the paper's 377G / 298G / 281G / 228G`() throws {
    for (preset, size) in [("q4_k_m", 377.0), ("q3_k_m", 298.0), ("dq3_k_m", 281.0), ("q2_k_l", 228.0)] {
      #expect(try DeepSeekV3.plan(preset).gibibytes.rounded(.up) == size, "\(preset)")
    }
  }
}

@Suite struct `Plan DeepSeek-V3 per-tensor choices` {
  func types(_ plan: Plan, _ suffix: String) -> [Int: GGMLType] {
    var out: [Int: GGMLType] = [:]
    for t in plan.tensors where t.name.hasSuffix(suffix) {
      if let i = PlanInput(name: t.name, ne: t.ne, currentType: nil).blockIndex { out[i] = t.targetType }
    }
    return out
  }

  func type(_ plan: Plan, _ name: String) -> GGMLType? { plan.tensors.first { $0.name == name }?.targetType }

  @Test func `dq3_k_m splits ffn_down_exps 2 / 12 / 44 over blocks 3–60`() throws {
    let plan = try DeepSeekV3.plan("dq3_k_m")
    let down = types(plan, ".ffn_down_exps.weight")
    #expect(down.count == 58)
    #expect(down.filter { $0.value == .q6_K }.keys.sorted() == [3, 4])
    #expect(down.filter { $0.value == .q4_K }.keys.sorted() == Array(stride(from: 5, through: 60, by: 5)))
    #expect(down.filter { $0.value == .q3_K }.count == 44)
    #expect(Set(types(plan, ".ffn_gate_exps.weight").values) == [.q3_K])
    #expect(Set(types(plan, ".ffn_up_exps.weight").values) == [.q3_K])
    #expect(Set(types(plan, "_shexp.weight").values) == [.q6_K])
    for n in ["ffn_gate", "ffn_up", "ffn_down"] { #expect(Set(types(plan, ".\(n).weight").values) == [.q6_K]) }
    for n in ["attn_q_a", "attn_q_b", "attn_kv_a_mqa", "attn_kv_b", "attn_output"] {
      #expect(Set(types(plan, ".\(n).weight").values) == [.q4_K], "\(n)")
    }
    #expect(type(plan, "token_embd.weight") == .q4_K)
    #expect(type(plan, "output.weight") == .q6_K)
    #expect(type(plan, "blk.7.ffn_gate_inp.weight") == .f32)
    #expect(type(plan, "blk.7.exp_probs_b.bias") == .f32)
    #expect(type(plan, "blk.0.attn_kv_a_norm.weight") == .f32)
  }

  @Test func `dq3_k_m on the split layout: attn_k_b takes q4_k's fallback q5_0, attn_v_b q4_k`() throws {
    for fallback in RowFallback.allCases {
      let plan = try DeepSeekV3.plan("dq3_k_m", split: true, options: PlanOptions(fallback: fallback))
      let kb = try #require(plan.tensors.first { $0.name == "blk.0.attn_k_b.weight" })
      #expect(kb.ruleType == .q4_K && kb.targetType == .q5_0 && kb.fallback != nil)
      #expect(type(plan, "blk.0.attn_v_b.weight") == .q4_K)
    }
  }

  @Test func `q3_k_m attn_k_b falls back to Q4_0 (current llama.cpp) or IQ4_NL (2025 llama.cpp)`() throws {
    let current = try DeepSeekV3.plan("q3_k_m", split: true, options: PlanOptions(mixes: .newest))
    #expect(Set(types(current, ".attn_k_b.weight").values) == [.q4_0])
    let paper = try DeepSeekV3.plan("q3_k_m", split: true)
    #expect(Set(types(paper, ".attn_k_b.weight").values) == [.iq4_nl], "--mixes paper has the 2025 fallbacks")
    let old = try DeepSeekV3.plan("q3_k_m", split: true, options: PlanOptions(fallback: .llama2025))
    #expect(Set(types(old, ".attn_k_b.weight").values) == [.iq4_nl])
    #expect(current.totalBytes == old.totalBytes)
    #expect(current.ruleHits.contains { $0.rule == "fallback Q3_K → Q4_0" && $0.count == 61 })
  }

  @Test func `q4_k_m follows llama.cpp: 27 / 31 ffn_down_exps split, dense ffn_down q6_k`() throws {
    let plan = try DeepSeekV3.plan("q4_k_m")
    let down = types(plan, ".ffn_down_exps.weight")
    let more = (0..<61).filter { RecipeContext.useMoreBits($0, 61) }
    #expect(more.count == 30)
    #expect(down.filter { $0.value == .q6_K }.keys.sorted() == more.filter { $0 >= 3 })
    #expect(down.filter { $0.value == .q6_K }.count == 27)
    #expect(down.filter { $0.value == .q4_K }.count == 31)
    #expect(types(plan, ".ffn_down_shexp.weight") == down)
    #expect(Set(types(plan, ".ffn_down.weight").values) == [.q6_K])
    #expect(Set(types(plan, ".attn_kv_b.weight").values) == [.q4_K])
    #expect(type(plan, "output.weight") == .q6_K)
    #expect(type(plan, "token_embd.weight") == .q4_K)
  }

  @Test func `q3_k_m follows llama.cpp: dense ffn_down q5_k, every ffn_down_exps q4_k, attn_output q4_k`() throws {
    let plan = try DeepSeekV3.plan("q3_k_m")
    #expect(Set(types(plan, ".ffn_down.weight").values) == [.q5_K])
    #expect(Set(types(plan, ".ffn_down_exps.weight").values) == [.q4_K])
    #expect(Set(types(plan, ".ffn_down_shexp.weight").values) == [.q4_K])
    #expect(Set(types(plan, ".attn_output.weight").values) == [.q4_K])
    #expect(Set(types(plan, ".attn_q_b.weight").values) == [.q3_K])
    #expect(type(plan, "token_embd.weight") == .q3_K)
  }

  @Test func `llama.cpp 0c1e570 gives the legacy attn_kv_b the attn_v rules, which changes Table 1`() throws {
    let newest = PlanOptions(mixes: .newest)
    let q4 = try DeepSeekV3.plan("q4_k_m", options: newest)
    let more = (0..<61).filter { RecipeContext.useMoreBits($0, 61) }
    #expect(types(q4, ".attn_kv_b.weight").filter { $0.value == .q6_K }.keys.sorted() == more)
    #expect(String(format: "%.2f", q4.gibibytes) == "376.77")
    let q3 = try DeepSeekV3.plan("q3_k_m", options: newest)
    #expect(types(q3, ".attn_kv_b.weight").filter { $0.value == .q5_K }.keys.sorted() == [0, 1])
    #expect(Set(types(q3, ".attn_kv_b.weight").filter { $0.key >= 2 }.values) == [.q4_K])
    #expect(String(format: "%.2f", q3.gibibytes) == "297.40")
    // Q2_K: attn_v-like tensors get Q3_K when n_gqa < 4 (no head counts here: n_gqa = 1).
    let q2l = try DeepSeekV3.plan("q2_k_l", options: newest)
    #expect(Set(types(q2l, ".attn_kv_b.weight").values) == [.q3_K])
    #expect(String(format: "%.2f", q2l.gibibytes) == "227.56")
    // dq3_k_m is a recipe of rules alone: the mix rules' version does not touch it.
    #expect(try DeepSeekV3.plan("dq3_k_m", options: newest).totalBytes == (try DeepSeekV3.plan("dq3_k_m")).totalBytes)
    // The split layout has no attn_v-like tensor: both versions agree on its sizes.
    for preset in ["q4_k_m", "q3_k_m", "q2_k"] {
      #expect(
        try DeepSeekV3.plan(preset, split: true, options: newest).totalBytes
          == (try DeepSeekV3.plan(preset, split: true)).totalBytes, "\(preset)")
    }
  }

  @Test func `q2_k follows llama.cpp: ffn_down q3_k, attn_output q3_k, rest q2_k`() throws {
    let plan = try DeepSeekV3.plan("q2_k")
    #expect(Set(types(plan, ".ffn_down_exps.weight").values) == [.q3_K])
    #expect(Set(types(plan, ".attn_output.weight").values) == [.q3_K])
    #expect(Set(types(plan, ".ffn_gate_exps.weight").values) == [.q2_K])
    #expect(type(plan, "token_embd.weight") == .q2_K)
    #expect(type(plan, "token_embd.weight") == .q2_K)
    #expect(type(try DeepSeekV3.plan("q2_k_l"), "token_embd.weight") == .q4_K)
  }
}
