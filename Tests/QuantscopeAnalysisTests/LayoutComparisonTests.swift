import Testing

@testable import QuantscopeAnalysis

@Suite("layout comparison rules")
struct LayoutComparisonTests {
  func change(_ name: String, _ a: String, _ b: String) -> LayoutComparison.Change {
    .init(name: name, typeA: a, typeB: b, shapeA: [1], shapeB: [1], bytesA: 0, bytesB: 0)
  }

  @Test func `type changes group into exact rules per kind`() {
    let rules = LayoutComparison.groupRules([
      change("blk.5.ffn_down_exps.weight", "Q4_K", "Q3_K"),
      change("blk.3.ffn_down_exps.weight", "Q4_K", "Q6_K"),
      change("blk.10.ffn_down_exps.weight", "Q4_K", "Q3_K"),
      change("token_embd.weight", "Q3_K", "Q4_K"),
    ])
    #expect(
      rules.map(\.description) == [
        "blk\\.(5|10)\\.ffn_down_exps\\.weight: q4_k → q3_k",
        "blk\\.3\\.ffn_down_exps\\.weight: q4_k → q6_k",
        "^token_embd\\.weight$: q3_k → q4_k",
      ])
    #expect(rules[0].rule == "blk\\.(5|10)\\.ffn_down_exps\\.weight=q3_k")
    #expect(rules[0].tensors == ["blk.5.ffn_down_exps.weight", "blk.10.ffn_down_exps.weight"])
  }
}
