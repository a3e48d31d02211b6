import Foundation
import QuantscopeAnalysis
import QuantscopeFormats
import Testing

/// `diff` reads FP8 references as codes inside the metric loop; its sums must be the very bits of
/// the decoded path (each reference row decoded to `Double`, then summed), chunk by chunk.
@Suite("diff reads FP8 codes in place", .serialized)
struct DiffFusedReferenceTests {
  @Test func `sums are bit-identical to decoding the reference first`() throws {
    let dir = try DiffOracleTests.fixture.get()
    let reference = try WeightFiles.open([dir.appendingPathComponent("ref").path])
    let candidate = try GGUFModel(path: dir.appendingPathComponent("split.gguf").path)
    var options = Diff.Options()
    options.threads = 2
    options.chunkValues = 1 << 12  // several chunks per tensor, merged in order
    let diff = try Diff.compute(candidate: candidate, reference: reference, options: options)

    let (mapping, heads) = try ReferenceMapping.resolve(reference: reference, for: candidate)
    var fused = 0
    for result in diff.tensors {
      let tensor = try #require(candidate.tensors.first { $0.name == result.name })
      let view = try #require(
        try mapping.rows(for: tensor.name, candidateShape: tensor.shape, precision: .exact, heads: heads))
      if view.scaledCodeRow(0) != nil { fused += 1 }
      let source = try SourceRows(tensor: tensor, scale: nil, precision: .exact)
      let rowLength = view.rowLength
      let per = max(1, options.chunkValues / rowLength)
      let cand = UnsafeMutablePointer<Float>.allocate(capacity: rowLength)
      let ref = UnsafeMutablePointer<Double>.allocate(capacity: rowLength)
      defer {
        cand.deallocate()
        ref.deallocate()
      }
      var total = ErrorAccumulator()
      var start = 0
      repeat {
        var chunk = ErrorAccumulator()
        for row in start..<min(view.rowCount, start + per) {
          try source.decoder.decodeRows(row..<row + 1, into: cand)
          try view.decodeRows(row..<row + 1, into: ref)
          chunk.add(candidate: UnsafePointer(cand), reference: ref, count: rowLength, firstIndex: row * rowLength)
        }
        total.merge(chunk)
        start += per
      } while start < view.rowCount
      #expect(total == result.sums, "\(result.name)")
    }
    #expect(fused > 0, "no tensor took the FP8 path")
  }
}
