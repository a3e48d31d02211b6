import Foundation
import QuantscopeTestSupport
import Testing

/// `tune --shard` and `merge` end to end: three parts merged with `-o RECIPE` write the single
/// run's recipe and print its `--json` byte for byte (its HTML report but for the command line),
/// an infeasible budget fails at merge as it fails the single run, and a wrong set of parts is
/// refused with one line naming the file.
@Suite(
  "merge of sharded tune runs", .enabled(if: !EndToEnd.skipped, Comment(rawValue: EndToEnd.reason)), .serialized)
struct TuneShardCLITests {
  static let q3 = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q3_K_M.gguf").path
  static let fp8 = TestPaths.samples.appendingPathComponent("deepseek-tiny-fp8").path
  /// A `--base` recipe fixing all but layer 1's attention and the output, and two quick candidate
  /// types, keep the debug build's measurement well under a second.
  static let base = #"""
    ^token_embd\.weight$=q8_0
    ^blk\.[023]\..*=q4_k
    ^blk\.1\.ffn_.*=q4_k

    """#

  /// The single run's arguments, the base recipe written to `dir`, the budget between the smallest
  /// and the largest mix.
  static func args(in dir: URL, budget: String = "4290000") throws -> [String] {
    let path = dir.appendingPathComponent("base.txt")
    try base.write(to: path, atomically: true, encoding: .utf8)
    return ["tune", q3, "--ref", fp8, "--types", "q4_0,q8_0", "--base", path.path, "--target-size", budget]
  }

  /// The lines of an HTML report but the command line it records.
  static func reportLines(_ path: String) throws -> [Substring] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").filter { !$0.contains("<pre>") }
  }

  @Test func `merged parts write the single run's recipe, JSON and report`() throws {
    let dir = try TestPaths.temporaryDirectory("tune-shard-cli")
    defer { try? FileManager.default.removeItem(at: dir) }
    let recipe = dir.appendingPathComponent("mix.txt").path
    let report = dir.appendingPathComponent("report.html").path
    let outputs = ["-o", recipe, "--report", report, "--json", "--quiet"]
    let args = try Self.args(in: dir) + ["--pareto"]
    let single = try CLI.quantscope(args + outputs)
    #expect(single.status == 0, "\(single.stderr)")
    #expect(single.stdout.contains("\"pareto\": [\n"))
    let singleRecipe = try Data(contentsOf: URL(fileURLWithPath: recipe))
    let singleReport = try Self.reportLines(report)
    // The budget binds: both candidate types are chosen.
    let text = String(decoding: singleRecipe, as: UTF8.self)
    #expect(text.contains("=q4_0\n") && text.contains("=q8_0\n"), "\(text)")
    try FileManager.default.removeItem(atPath: recipe)
    try FileManager.default.removeItem(atPath: report)

    let parts = try MergeCLITests.shards(args, 3, in: dir, name: "t")
    let merged = try CLI.quantscope(["merge"] + parts.reversed() + outputs)
    #expect(merged.status == 0, "\(merged.stderr)")
    #expect(merged.data == single.data)
    #expect(try Data(contentsOf: URL(fileURLWithPath: recipe)) == singleRecipe)
    #expect(try Self.reportLines(report) == singleReport)

    // The table too, and '-o -' prints the recipe alone.
    let table = try CLI.quantscope(args + ["-o", "-", "--quiet"])
    let mergedTable = try CLI.quantscope(["merge"] + parts + ["-o", "-"])
    #expect(mergedTable.status == 0 && mergedTable.data == table.data && table.data == singleRecipe)
  }

  @Test func `a budget below the smallest mix fails at merge as in the single run`() throws {
    let dir = try TestPaths.temporaryDirectory("tune-shard-infeasible")
    defer { try? FileManager.default.removeItem(at: dir) }
    let args = try Self.args(in: dir, budget: "1000") + ["--sample", "0.02"]
    let recipe = dir.appendingPathComponent("mix.txt").path
    let single = try CLI.quantscope(args + ["-o", recipe, "--quiet"])
    #expect(single.status == 1)
    #expect(single.stderr.contains("below the smallest possible mix"), "\(single.stderr)")
    let parts = try MergeCLITests.shards(args, 2, in: dir, name: "i")
    let merged = try CLI.quantscope(["merge"] + parts + ["-o", recipe])
    #expect(merged.status == 1 && merged.stderr == single.stderr, "\(merged.stderr)")
    #expect(!FileManager.default.fileExists(atPath: recipe))
  }

  @Test func `missing and foreign parts are refused; shard usage errors exit 64`() throws {
    let dir = try TestPaths.temporaryDirectory("tune-shard-refuse")
    defer { try? FileManager.default.removeItem(at: dir) }
    let args = try Self.args(in: dir)
    let parts = try MergeCLITests.shards(args, 3, in: dir, name: "a")
    let other = try MergeCLITests.shards(try Self.args(in: dir, budget: "4300000"), 3, in: dir, name: "b")
    let recipe = dir.appendingPathComponent("never.txt").path
    let cases: [([String], String)] = [
      ([parts[0], parts[2]], "1 of 3 shards missing (shard 2)"),
      ([parts[0], parts[1], other[2]], "another job"),
    ]
    for (given, message) in cases {
      let r = try CLI.quantscope(["merge"] + given + ["-o", recipe, "--json"])
      #expect(r.status == 1, "\(message)")
      #expect(r.data.isEmpty)
      #expect(r.stderr.contains(message), "\(r.stderr)")
      #expect(r.stderr.contains(given.last!) || r.stderr.contains(given[0]), "\(r.stderr)")
      #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }
    #expect(!FileManager.default.fileExists(atPath: recipe))
    #expect(try CLI.quantscope(["merge"] + parts + ["--json"]).status == 64)
    let part = dir.appendingPathComponent("x.json").path
    #expect(try CLI.quantscope(args + ["--shard", "1/3"]).status == 64)
    #expect(try CLI.quantscope(args + ["--shard", "1/3", "-o", part, "--report", "r.html"]).status == 64)
    #expect(try CLI.quantscope(args + ["--shard", "4/3", "-o", part]).status == 64)
  }
}
