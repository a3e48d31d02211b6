import Foundation
import QuantscopeAnalysis
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// `audit --shard K/N` at the library level: every tensor value survives the part's JSON text
/// exactly, and the shards' tensors cover the selection exactly once.
@Suite("Audit sharding: exact per-tensor values, a partition of the tensors")
struct AuditShardTests {
  static let candidate = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q3_K_M.gguf").path

  /// Through the text a part file carries.
  static func roundTrip(_ t: TensorAudit) throws -> TensorAudit? {
    let text = Audit.partialPayload([t]).serialized
    let back = try Array(text.utf8).withUnsafeBytes { try JSONValue.parse($0, path: "part") }
    return try Audit.merged([back], path: "part").first
  }

  @Test(arguments: [
    0.0, -0.0, 1e-300, 5e-324, 0.1 + 0.2, 3.0e38, .infinity, -.infinity, .nan, Double.greatestFiniteMagnitude,
  ])
  func `a differing tensor's NMSE reads back bit for bit`(nmse: Double) throws {
    let t = TensorAudit(
      index: 7, name: "blk.3.ffn_down_exps.weight", type: "Q3_K", shape: [4, 256, 512], bytes: 123_456,
      status: .differs, referenceOrigin: "model.layers.3.mlp.experts.*.down_proj.weight", precision: .bf16,
      blocks: 4096, differingBlocks: 3, firstDifference: .init(row: 17, column: 256, block: 35),
      nmseVsReproduction: nmse, note: nil)
    let back = try #require(try Self.roundTrip(t))
    #expect(back.nmseVsReproduction?.bitPattern == nmse.bitPattern)
    #expect(back.name == t.name && back.index == t.index && back.shape == t.shape && back.status == t.status)
    #expect(back.firstDifference == t.firstDifference && back.precision == t.precision)
    #expect(back.referenceOrigin == t.referenceOrigin && back.blocks == t.blocks && back.bytes == t.bytes)
  }

  @Test func `a tensor not compared keeps its nulls and its note`() throws {
    let t = TensorAudit(
      index: 0, name: "token_embd.weight", type: "IQ2_XXS", shape: [7168, 129_280], bytes: 1, status: .needsImatrix,
      referenceOrigin: nil, precision: nil, blocks: 0, differingBlocks: 0, firstDifference: nil,
      nmseVsReproduction: nil, note: "IQ2_XXS needs an importance matrix: no --imatrix given")
    #expect(try Self.roundTrip(t) == t)
  }

  @Test func `a tensor in two parts and a malformed entry are refused`() throws {
    let t = TensorAudit(
      index: 2, name: "a", type: "F32", shape: [4], bytes: 16, status: .identical, referenceOrigin: "a",
      precision: .exact, blocks: 4, differingBlocks: 0, firstDifference: nil, nmseVsReproduction: 0, note: nil)
    let payload = Audit.partialPayload([t])
    #expect(throws: FormatError.self) { try Audit.merged([payload, payload], path: "p") }
    let broken = JSONValue.members([("tensors", .array([.members([("index", .int(1))])]))])
    #expect(throws: FormatError.self) { try Audit.merged([broken], path: "p") }
  }

  @Test func `the shards of 1 to 7 cover the selected tensors exactly once`() throws {
    let model = try GGUFModel(path: Self.candidate)
    let subset = Array(stride(from: 1, to: model.tensors.count, by: 2))
    for selection in [nil, subset] {
      for n in 1...7 {
        let all = try (1...n).flatMap { k in
          Audit.shardIndices(selection, of: model, shard: try ShardSpec(index: k, count: n))
        }
        #expect(all.sorted() == (selection ?? Array(model.tensors.indices)), "\(n) shards")
      }
    }
  }
}
