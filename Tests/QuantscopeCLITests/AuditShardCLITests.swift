import Foundation
import QuantscopeTestSupport
import Testing

/// `audit --shard` and `merge`: N parts merged in any order print the single run's output byte
/// for byte (JSON, table, stderr, exit status), and a wrong set of parts is refused.
@Suite(
  "merge of sharded audit runs", .enabled(if: !EndToEnd.skipped, Comment(rawValue: EndToEnd.reason)))
struct AuditShardCLITests {
  static let q3 = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q3_K_M.gguf").path
  static let fp8 = TestPaths.samples.appendingPathComponent("deepseek-tiny-fp8").path

  /// Checks that merging 1…`maxShards` shards of `args` (shuffled) gives the single run's JSON,
  /// stderr and exit status, and with `table` also its table.
  func expectMergeEqualsSingle(_ args: [String], status: Int32, maxShards: Int, name: String, table: Bool) throws {
    let dir = try TestPaths.temporaryDirectory("audit-shard-\(name)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let single = try CLI.quantscope(args + ["--json"])
    #expect(single.status == status, "\(single.stderr)")
    let singleTable = table ? try CLI.quantscope(args) : nil
    for n in 1...maxShards {
      let parts = try MergeCLITests.shards(args, n, in: dir, name: name)
      let merged = try CLI.quantscope(["merge"] + parts.shuffled() + ["--json"])
      #expect(merged.status == status, "\(n) shards: \(merged.stderr)")
      #expect(merged.data == single.data, "\(n) shards")
      #expect(merged.stderr == single.stderr, "\(n) shards")
      if let singleTable {
        let mergedTable = try CLI.quantscope(["merge"] + parts.shuffled())
        #expect(mergedTable.data == singleTable.data && mergedTable.status == status, "\(n) shards: table")
      }
    }
  }

  @Test func `merged audit parts of the sample equal the single run, for 1 to 7 shards`() throws {
    try expectMergeEqualsSingle(
      ["audit", Self.q3, "--ref", Self.fp8, "--top", "9"], status: 0, maxShards: 7, name: "pass", table: true)
  }

  @Test func `merged parts keep every differing tensor's figures bit for bit and exit 2`() throws {
    // Exact FP8 x scale does not reproduce the sample's BF16-path tensors: many differ, each with an NMSE.
    try expectMergeEqualsSingle(
      ["audit", Self.q3, "--ref", Self.fp8, "--ref-precision", "exact"], status: 2, maxShards: 4, name: "exact",
      table: true)
  }

  @Test func `a release with one flipped byte: merged parts exit 2 naming the one tensor`() throws {
    let candidate = try AuditCLITests.path("tampered.gguf")
    let args = ["audit", candidate, "--ref", try AuditCLITests.path("ref")]
    try expectMergeEqualsSingle(args, status: 2, maxShards: 7, name: "tampered", table: true)
    let single = try CLI.quantscope(args + ["--json"])
    #expect(single.stderr.contains("audit failed: 1 of "), "\(single.stderr)")
  }

  @Test func `foreign, duplicate and diff parts are refused; --report is a usage error`() throws {
    let dir = try TestPaths.temporaryDirectory("audit-shard-refuse")
    defer { try? FileManager.default.removeItem(at: dir) }
    let args = ["audit", Self.q3, "--ref", Self.fp8, "--tensors", #"blk\.[01]\."#]
    let parts = try MergeCLITests.shards(args, 3, in: dir, name: "a")
    let other = try MergeCLITests.shards(args + ["--ref-precision", "bf16"], 3, in: dir, name: "b")
    let diffs = try MergeCLITests.shards(["diff"] + args.dropFirst(), 3, in: dir, name: "d")
    let cases: [([String], String)] = [
      ([parts[0], parts[2]], "1 of 3 shards missing (shard 2)"),
      ([parts[0], parts[1], parts[2], parts[1]], "is shard 2/3 again"),
      ([parts[0], parts[1], other[2]], "another job"),
      ([parts[0], parts[1], diffs[2]], "is a part of 'diff'"),
    ]
    for (given, message) in cases {
      let r = try CLI.quantscope(["merge"] + given + ["--json"])
      #expect(r.status == 1, "\(message)")
      #expect(r.data.isEmpty)
      #expect(r.stderr.contains(message), "\(r.stderr)")
      #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }
    let report = dir.appendingPathComponent("r.html").path
    let merged = try CLI.quantscope(["merge"] + parts + ["--report", report])
    #expect(merged.status == 64 && merged.stderr.contains("--report"), "\(merged.stderr)")
    #expect(!FileManager.default.fileExists(atPath: report))
    #expect(try CLI.quantscope(args + ["--shard", "1/3"]).status == 64)
    #expect(try CLI.quantscope(args + ["--shard", "1/3", "-o", report, "--report", report]).status == 64)
    #expect(try CLI.quantscope(args + ["-o", report]).status == 64)
  }
}
