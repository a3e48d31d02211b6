import Foundation
import QuantscopeCodecs
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

@Suite("model verification runs")
struct ModelVerificationTests {
  static let shard1 = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q8_0-00001-of-00002.gguf").path
  static let shard2 = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q8_0-00002-of-00002.gguf").path

  @Test func `a shard of a set already verified is skipped`() throws {
    var run = ModelVerification(deep: false)
    let set = try #require(try run.verify(path: Self.shard2))
    #expect(set.files.count == 2 && set.findings.isEmpty && !set.isCheckpoint)
    #expect(!set.valuesChecked && set.tensorsChecked == nil && set.checkedNotes.isEmpty)
    #expect(try run.verify(path: Self.shard1) == nil)
    let json = ModelVerification.jsonDocument([set]).serialized
    #expect(json.contains("\"problems\":0") && json.contains("\"values_checked\":false"), "\(json)")
  }

  @Test func `a deep check counts the tensors whose values it read`() throws {
    var run = ModelVerification(deep: true)
    let set = try #require(try run.verify(path: Self.shard1))
    let coverage = try #require(set.valueCoverage)
    #expect(coverage.checked == coverage.eligible && coverage.checked > 0)
    #expect(set.valuesChecked && set.tensorsChecked == coverage.checked)
    #expect(set.checkedNotes == ["values checked"])
  }
}
