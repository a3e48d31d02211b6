import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// `--shard K/N`: the spelling, the partition every machine computes alike, the exact number
/// round trip the parts rely on, and the checks that keep a wrong set of parts from merging.
@Suite("Sharding: ShardSpec, ShardPartition, PartialResult")
struct ShardingTests {
  @Test func `K/N parses with K counted from 1, and anything else is a usage error`() throws {
    let s = try ShardSpec(parsing: "3/16")
    #expect(s.index == 3 && s.count == 16 && s.description == "3/16")
    #expect(try ShardSpec(parsing: "1/1") == ShardSpec(index: 1, count: 1))
    for bad in ["0/4", "5/4", "4", "a/b", "1/0", "-1/4", "1/4/2", "", "1/1000000"] {
      #expect(throws: FormatError.self, "\(bad)") { try ShardSpec(parsing: bad) }
      do { _ = try ShardSpec(parsing: bad) } catch let e as FormatError { #expect(e.kind == .usage, "\(bad)") }
    }
  }

  @Test func `the partition gives every item to one shard, deterministically, balanced by bytes`() {
    var rng = SplitMix(seed: 14)
    for trial in 0..<50 {
      let n = Int(rng.next() % 200)
      let sizes = (0..<n).map { _ in Int(rng.next() % 1_000_000) * (trial % 3 == 0 ? 1 : Int(rng.next() % 4)) }
      for shards in [1, 2, 3, 4, 7, 16, 300] {
        let owner = ShardPartition.assign(sizes: sizes, shards: shards)
        #expect(owner == ShardPartition.assign(sizes: sizes, shards: shards))
        #expect(owner.count == n && owner.allSatisfy { (0..<shards).contains($0) })
        var load = Array(repeating: 0, count: shards)
        for (i, s) in owner.enumerated() { load[s] += sizes[i] }
        // Greedy largest-first: no shard exceeds the average by more than the largest item.
        let total = sizes.reduce(0, +)
        let largest = sizes.max() ?? 0
        #expect(load.max()! <= total / shards + largest, "trial \(trial), \(shards) shards")
        // The shards' selections are disjoint and cover everything, in the given order.
        let picked = (1...shards).flatMap { k in try! ShardSpec(index: k, count: shards).positions(of: sizes) { $0 } }
        #expect(picked.sorted() == Array(0..<n))
      }
    }
  }

  @Test func `equal sizes are dealt in order, so ties never depend on the sort`() {
    #expect(ShardPartition.assign(sizes: [5, 5, 5, 5, 5], shards: 2) == [0, 1, 0, 1, 0])
    #expect(ShardPartition.assign(sizes: [1, 9, 1, 9], shards: 2) == [0, 0, 1, 1])
  }

  @Test func `doubles survive the JSON round trip bit for bit`() throws {
    var rng = SplitMix(seed: 7)
    var values: [Double] = [
      0, -0.0, 1, -1, .pi, 1e16, 1e300, 5e-324, .greatestFiniteMagnitude, 0.1, 2.5e15,
      .infinity, -.infinity, 9_007_199_254_740_993,
    ]
    for _ in 0..<20000 { values.append(Double(bitPattern: rng.next())) }
    for _ in 0..<2000 { values.append(Double(rng.next() % 100_000_000_000) / 1024) }
    let text = JSONValue.array(values.map { .exact($0) }).serialized
    let back = try Array(text.utf8).withUnsafeBytes { try JSONValue.parse($0, path: "t") }.array!
    for (v, b) in zip(values, back) {
      let d = try #require(b.exactDouble)
      #expect(d.bitPattern == v.bitPattern || (v.isNaN && d.isNaN), "\(v)")
    }
  }

  static func part(_ k: Int, _ n: Int, job: String = "a", version: String? = nil) throws -> PartialResult {
    let p = PartialResult(
      command: "x", job: .members([("inputs", .string(job))]), shard: try ShardSpec(index: k, count: n),
      payload: .int(k))
    guard let version else { return p }
    // Another version's part, as written by it: its document with the version replaced.
    var members = p.jsonDocument.members!
    members[1].value = .string(version)
    return try PartialResult(.object(members), path: "p")
  }

  @Test func `complete puts the parts in shard order whatever order they came in`() throws {
    let parts = try [3, 1, 4, 2].map { try Self.part($0, 4) }
    let ordered = try PartialResult.complete(parts, paths: ["c", "a", "d", "b"])
    #expect(ordered.map(\.shard.index) == [1, 2, 3, 4])
    #expect(ordered.map(\.payload) == [.int(1), .int(2), .int(3), .int(4)])
  }

  @Test func `complete refuses missing, duplicate, foreign and other-version parts, naming the file`() throws {
    func refusal(_ parts: [PartialResult], _ paths: [String]) -> FormatError? {
      do { _ = try PartialResult.complete(parts, paths: paths) } catch let e as FormatError { return e } catch {}
      return nil
    }
    let missing = refusal([try Self.part(1, 3), try Self.part(3, 3)], ["a", "c"])
    #expect(missing?.message.contains("1 of 3 shards missing (shard 2)") == true)
    let twice = refusal([try Self.part(1, 2), try Self.part(2, 2), try Self.part(2, 2)], ["a", "b", "b2"])
    #expect(twice?.path == "b2" && twice?.message.contains("is shard 2/2 again: b is") == true)
    let foreign = refusal([try Self.part(1, 2), try Self.part(2, 2, job: "b")], ["a", "b"])
    #expect(foreign?.path == "b" && foreign?.message.contains("another job") == true)
    let otherN = refusal([try Self.part(1, 2), try Self.part(2, 3)], ["a", "b"])
    #expect(otherN?.message.contains("another job") == true)
    let old = refusal([try Self.part(1, 2), try Self.part(2, 2, version: "0.0.1")], ["a", "b"])
    #expect(old?.path == "b" && old?.message.contains("quantscope 0.0.1") == true)
  }

  @Test func `a part whose job was edited, or that is not a part, is refused when read`() throws {
    var members = try Self.part(1, 2).jsonDocument.members!
    let jobAt = members.firstIndex { $0.key == "job" }!
    members[jobAt].value = .members([("inputs", .string("edited"))])
    #expect(throws: FormatError.self) { try PartialResult(.object(members), path: "p") }
    #expect(throws: FormatError.self) {
      try PartialResult(.document(schema: "quantscope.diff/2", []), path: "p")
    }
    // The document read back is the part written.
    let p = try Self.part(2, 5)
    let text = Array(p.jsonText.utf8)
    let back = try text.withUnsafeBytes { try PartialResult(JSONValue.parse($0, path: "p"), path: "p") }
    #expect(back.jobHash == p.jobHash && back.shard == p.shard && back.payload == p.payload)
  }
}
