import Testing

@testable import QuantscopeAnalysis

@Suite("requant summary")
struct RequantizationSummaryTests {
  @Test func `requant warnings group by message, in message order`() {
    var summary = Requantization.Summary()
    summary.warnings = [
      .init(tensor: "b", kind: .requantizedQuantized, message: "requantized"),
      .init(tensor: "a", kind: .nonFiniteSource, message: "non-finite"),
      .init(tensor: "c", kind: .requantizedQuantized, message: "requantized"),
    ]
    #expect(summary.warningsByMessage.map(\.message) == ["non-finite", "requantized"])
    #expect(summary.warningsByMessage.map(\.tensors) == [1, 2])
    let json = summary.jsonDocument(bitsPerWeight: 4.5, recipe: nil).serialized
    #expect(json.contains("\"recipe\":null") && json.contains("\"kind\":\"non_finite_source\""), "\(json)")
  }
}
