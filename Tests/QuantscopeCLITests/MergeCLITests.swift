import Foundation
import QuantscopeTestSupport
import Testing

/// `diff --shard`, `hash --shard` and `merge` end to end: the merged output is the single run's
/// output byte for byte (JSON, tables, CSV, manifest, exit status), and a wrong set of parts is
/// refused with one line naming the file.
@Suite(
  "merge of sharded diff and hash runs", .enabled(if: !EndToEnd.skipped, Comment(rawValue: EndToEnd.reason)))
struct MergeCLITests {
  static let q3 = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q3_K_M.gguf").path
  static let fp8 = TestPaths.samples.appendingPathComponent("deepseek-tiny-fp8").path
  static let q8 = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q8_0-00001-of-00002.gguf").path

  /// Runs `args + --shard k/n -o PART` for every k; returns the parts' paths.
  static func shards(_ args: [String], _ n: Int, in dir: URL, name: String) throws -> [String] {
    try (1...n).map { k in
      let path = dir.appendingPathComponent("\(name)-\(k)-of-\(n).json").path
      let r = try CLI.quantscope(args + ["--shard", "\(k)/\(n)", "-o", path, "--quiet"])
      #expect(r.status == 0, "\(args[0]) shard \(k)/\(n): \(r.stderr)")
      return path
    }
  }

  @Test func `merged diff parts print the single run's JSON, tables, CSV and gate status`() throws {
    let dir = try TestPaths.temporaryDirectory("merge-diff")
    defer { try? FileManager.default.removeItem(at: dir) }
    let args = ["diff", Self.q3, "--ref", Self.fp8, "--sort", "cosine", "--top", "7", "--fail-above", "nmse_db=-25"]
    let single = try CLI.quantscope(args + ["--json"])
    #expect(single.status == 2)
    let table = try CLI.quantscope(args)
    let csv = try CLI.quantscope(args + ["--csv"])
    let parts = try Self.shards(args, 3, in: dir, name: "d")
    let merged = try CLI.quantscope(["merge"] + parts.reversed() + ["--json"])
    #expect(merged.status == 2, "\(merged.stderr)")
    #expect(merged.data == single.data)
    #expect(merged.stderr == single.stderr)
    let mergedTable = try CLI.quantscope(["merge"] + parts)
    #expect(mergedTable.data == table.data && mergedTable.status == 2)
    let mergedCSV = try CLI.quantscope(["merge"] + parts + ["--csv"])
    #expect(mergedCSV.data == csv.data)
    // -o writes the same bytes.
    let out = dir.appendingPathComponent("merged.json").path
    #expect(try CLI.quantscope(["merge"] + parts + ["--json", "-o", out]).status == 2)
    #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == single.data)
  }

  @Test func `the merged HTML report is the single run's but for the command line`() throws {
    let dir = try TestPaths.temporaryDirectory("merge-report")
    defer { try? FileManager.default.removeItem(at: dir) }
    let args = ["diff", Self.q3, "--ref", Self.fp8, "--tensors", #"blk\.[01]\."#]
    let single = dir.appendingPathComponent("single.html").path
    #expect(try CLI.quantscope(args + ["--report", single]).status == 0)
    let parts = try Self.shards(args, 2, in: dir, name: "r")
    let merged = dir.appendingPathComponent("merged.html").path
    let r = try CLI.quantscope(["merge"] + parts + ["--report", merged])
    #expect(r.status == 0, "\(r.stderr)")
    func lines(_ p: String) throws -> [Substring] {
      try String(contentsOfFile: p, encoding: .utf8).split(separator: "\n").filter { !$0.contains("<code>") }
    }
    #expect(try lines(single) == lines(merged))
  }

  @Test func `merged hash parts give the single run's manifest, for 1 to 7 shards`() throws {
    let dir = try TestPaths.temporaryDirectory("merge-hash")
    defer { try? FileManager.default.removeItem(at: dir) }
    let single = try CLI.quantscope(["hash", Self.q8, "--json"])
    #expect(single.status == 0)
    for n in 1...7 {
      let parts = try Self.shards(["hash", Self.q8], n, in: dir, name: "h")
      let merged = try CLI.quantscope(["merge"] + parts.shuffled() + ["--json"])
      #expect(merged.status == 0, "\(merged.stderr)")
      #expect(merged.data == single.data, "\(n) shards")
    }
  }

  @Test func `missing, duplicate and foreign parts are refused with one line naming the file`() throws {
    let dir = try TestPaths.temporaryDirectory("merge-refuse")
    defer { try? FileManager.default.removeItem(at: dir) }
    let args = ["diff", Self.q3, "--ref", Self.fp8, "--tensors", #"blk\.0\."#]
    let parts = try Self.shards(args, 3, in: dir, name: "a")
    let other = try Self.shards(args + ["--ref-precision", "bf16"], 3, in: dir, name: "b")
    let hashes = try Self.shards(["hash", Self.q3], 3, in: dir, name: "h")
    let cases: [([String], String)] = [
      ([parts[0], parts[2]], "1 of 3 shards missing (shard 2)"),
      ([parts[0], parts[1], parts[2], parts[1]], "is shard 2/3 again"),
      ([parts[0], parts[1], other[2]], "another job"),
      ([parts[0], parts[1], hashes[2]], "is a part of 'hash'"),
      ([Self.q3], "not a part written by --shard"),
    ]
    for (given, message) in cases {
      let r = try CLI.quantscope(["merge"] + given + ["--json"])
      #expect(r.status == 1, "\(message)")
      #expect(r.data.isEmpty)
      #expect(r.stderr.contains(message), "\(r.stderr)")
      #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }
    #expect(try CLI.quantscope(args + ["--shard", "4/3", "-o", dir.appendingPathComponent("x").path]).status == 64)
    #expect(try CLI.quantscope(args + ["--shard", "1/3"]).status == 64)
  }
}
