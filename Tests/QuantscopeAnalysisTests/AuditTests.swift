import Foundation
import QuantscopeAnalysis
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// The library side of `audit`: results of disjoint subsets combine into the whole run's, and do
/// not depend on threads or chunking (what `--shard K/N` and `merge` rely on).
@Suite(
  "audit results combine", .enabled(if: !EndToEnd.skipped, Comment(rawValue: EndToEnd.reason)), .serialized)
struct AuditTests {
  @Test func `disjoint subsets audited apart combine into the whole audit`() throws {
    let dir = try DiffOracleTests.fixture.get()
    let model = try GGUFModel(path: dir.appendingPathComponent("split.gguf").path)
    let reference = try WeightFiles.open([dir.appendingPathComponent("ref").path])
    var options = Audit.Options()
    options.threads = 2
    let whole = try Audit.compute(candidate: model, reference: reference, options: options)
    #expect(whole.passed)
    #expect(whole.tensors.map(\.index) == Array(model.tensors.indices))

    var small = options
    small.threads = 1
    small.chunkValues = 1000  // other chunks, one thread: the same results
    let odd = try Audit.tensors(
      Array(stride(from: 1, to: model.tensors.count, by: 2)), of: model, reference: reference, options: small)
    let even = try Audit.tensors(
      Array(stride(from: 0, to: model.tensors.count, by: 2)), of: model, reference: reference, options: options)
    let combined = AuditReport(
      candidate: model, tensors: odd + even, precision: .auto, weighted: false, presetMatch: whole.presetMatch)
    #expect(combined.tensors == whole.tensors)
    #expect(combined.verdict == whole.verdict)
  }

  @Test func `an index outside the candidate is an error naming the file`() throws {
    let dir = try DiffOracleTests.fixture.get()
    let model = try GGUFModel(path: dir.appendingPathComponent("split.gguf").path)
    let reference = try WeightFiles.open([dir.appendingPathComponent("ref").path])
    #expect(throws: FormatError.self) {
      try Audit.tensors([model.tensors.count], of: model, reference: reference)
    }
  }
}
