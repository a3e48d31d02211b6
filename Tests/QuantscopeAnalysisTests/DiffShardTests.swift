import Foundation
import QuantscopeAnalysis
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// `diff --shard K/N` and its merge at the library level: on the bundled samples, the parts of
/// every split from 1 to 7 shards, merged in any order, give the single run's document byte for
/// byte — every per-tensor figure and every roll-up.
@Suite("Diff sharding: partial sums merge to the single run")
struct DiffShardTests {
  static let candidate = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q3_K_M.gguf").path
  static let reference = TestPaths.samples.appendingPathComponent("deepseek-tiny-fp8").path

  static func job(_ model: GGUFModel, _ ref: any TensorCollection) throws -> JSONValue {
    try DiffShardJob(candidate: candidate, reference: [reference]).jobValue(
      candidate: model, reference: ref, options: Diff.Options())
  }

  /// The parts of an `n`-shard run, each through its JSON text as a file would carry it.
  static func parts(_ n: Int, _ model: GGUFModel, _ ref: any TensorCollection) throws -> [PartialResult] {
    let job = try job(model, ref)
    return try (1...n).map { k in
      var options = Diff.Options()
      options.shard = try ShardSpec(index: k, count: n)
      options.threads = 1 + k % 2  // threads never change the sums
      let diff = try Diff.compute(candidate: model, reference: ref, options: options)
      let part = PartialResult(
        command: "diff", job: job, shard: options.shard!, payload: diff.partialPayload(candidate: model))
      let text = Array(part.jsonText.utf8)
      return try text.withUnsafeBytes { try PartialResult(JSONValue.parse($0, path: "part"), path: "part") }
    }
  }

  static func document(_ diff: Diff, thresholds: [DiffGate.Threshold] = []) -> String {
    DiffReport(diff, order: .nmse, thresholds: thresholds).jsonDocument(candidate: candidate, reference: [reference])
      .prettySerialized
  }

  @Test func `merged parts equal the single run byte for byte, for 1 to 7 shards in any order`() throws {
    let model = try GGUFModel(path: Self.candidate)
    let ref = try WeightFiles.open([Self.reference])
    let single = try Diff.compute(candidate: model, reference: ref)
    let gate = [try DiffGate.Threshold(parsing: "nmse_db=-25")]
    let expected = Self.document(single, thresholds: gate)
    #expect(single.tensors.count > 20)
    var rng = SplitMix(seed: 3)
    for n in 1...7 {
      let parts = try Self.parts(n, model, ref)
      // Every tensor in exactly one part; a part may be empty only when there are more shards than tensors.
      let counts = parts.map { $0.payload["tensors"]!.array!.count }
      #expect(counts.reduce(0, +) == single.tensors.count, "\(n) shards")
      for _ in 0..<3 {
        let shuffled = parts.shuffled(using: &rng)
        let ordered = try PartialResult.complete(shuffled, paths: shuffled.map { "part\($0.shard.index)" })
        let merged = try Diff.merged(ordered.map(\.payload), path: "part1")
        #expect(Self.document(merged, thresholds: gate) == expected, "\(n) shards")
        #expect(merged.tensors.map(\.sums) == single.tensors.map(\.sums))
        // Payloads in arrival order (not shard order) merge the same: positions restore candidate order.
        let arrival = try Diff.merged(shuffled.map(\.payload), path: "part1")
        #expect(Self.document(arrival, thresholds: gate) == expected, "\(n) shards, arrival order")
      }
    }
  }

  @Test func `the shards balance the bytes read`() throws {
    let model = try GGUFModel(path: Self.candidate)
    let weights = model.tensors.map(Diff.shardWeight)
    let owner = ShardPartition.assign(sizes: weights, shards: 4)
    var load = [0, 0, 0, 0]
    for (i, s) in owner.enumerated() { load[s] += weights[i] }
    #expect(load.max()! - load.min()! <= weights.max()!)
  }

  @Test func `a part's tensor in two parts is refused`() throws {
    let model = try GGUFModel(path: Self.candidate)
    let ref = try WeightFiles.open([Self.reference])
    let parts = try Self.parts(2, model, ref)
    #expect(throws: FormatError.self) { try Diff.merged([parts[0].payload, parts[0].payload], path: "p") }
  }
}
