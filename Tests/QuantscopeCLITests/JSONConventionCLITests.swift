import Foundation
import QuantscopeTestSupport
import Testing

/// Every command that prints a result prints it as one JSON document with `--json`: an object
/// whose `schema` names the document and its major version, whose `quantscope_version` is the
/// release, and whose keys (at every depth) are snake_case.
@Suite("JSON convention")
struct JSONConventionCLITests {
  static let samples = TestPaths.samples.path
  static let q3 = samples + "/deepseek-tiny-Q3_K_M.gguf"
  static let q4 = samples + "/deepseek-tiny-Q4_K_M.gguf"
  static let fp8 = samples + "/deepseek-tiny-fp8"
  static let q8 = samples + "/deepseek-tiny-Q8_0-00001-of-00002.gguf"

  /// A command line, the schema it must name, and the exit status it must end with.
  struct Case: CustomTestStringConvertible, Sendable {
    var arguments: [String]
    var schema: String
    var status: Int32 = 0
    var testDescription: String { arguments.prefix(2).joined(separator: " ") + " → " + schema }
  }

  static let cases: [Case] = [
    Case(arguments: ["inspect", q3, "--json"], schema: "quantscope.inspect/1"),
    Case(arguments: ["inspect", fp8, "--json", "--by-layer"], schema: "quantscope.inspect/1"),
    Case(arguments: ["diff", q3, "--ref", fp8, "--json"], schema: "quantscope.diff/2"),
    Case(arguments: ["stats", q3, "--json", "--tensors", #"blk\.1\."#], schema: "quantscope.stats/2"),
    Case(arguments: ["stats", fp8, "--json", "--tensors", #"layers\.0\.self_attn"#], schema: "quantscope.stats/2"),
    Case(arguments: ["compare", q3, q4, "--json"], schema: "quantscope.compare/1"),
    Case(arguments: ["plan", q3, "--recipe", "dq3_k_m", "--json"], schema: "quantscope.plan/1"),
    Case(arguments: ["plan", fp8, "--recipe", "q4_k_m", "--json"], schema: "quantscope.plan/1"),
    Case(arguments: ["verify", q8, "--deep", "--json"], schema: "quantscope.verify/1"),
    Case(arguments: ["hash", q3, "--json"], schema: "quantscope.hash/1"),
    Case(arguments: ["recipes", "list", "--json"], schema: "quantscope.recipes/1"),
    Case(
      arguments: ["recipes", "show", "dq3_k_m", "--blocks", "61", "--dense-blocks", "3", "--json"],
      schema: "quantscope.recipe/1"),
  ]

  /// Whether `key` is snake_case: lower-case words of letters and digits joined by `_`.
  static func isSnakeCase(_ key: String) -> Bool {
    let words = key.split(separator: "_", omittingEmptySubsequences: false)
    return key.first?.isLowercase == true
      && words.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber) } }
  }

  /// Every key of `value`, at every depth, with the path that leads to it.
  static func keys(_ value: Any, path: String = "$") -> [(path: String, key: String)] {
    if let object = value as? [String: Any] {
      return object.flatMap { key, v in [(path, key)] + keys(v, path: path + "." + key) }
    }
    if let array = value as? [Any] {
      return array.enumerated().flatMap { keys($1, path: path + "[\($0)]") }
    }
    return []
  }

  static func checkDocument(_ data: Data, schema: String, _ label: String) throws {
    let parsed = try JSONSerialization.jsonObject(with: data)
    let object = try #require(parsed as? [String: Any], "\(label): the document is not an object")
    #expect(object["schema"] as? String == schema, "\(label): schema")
    let version = try #require(object["quantscope_version"] as? String, "\(label): quantscope_version")
    #expect(version.contains(try Regex(#"^\d+\.\d+\.\d+"#)), "\(label): version \(version)")
    let bad = keys(object).filter { !isSnakeCase($0.key) }
    #expect(bad.isEmpty, "\(label): keys not in snake_case: \(bad.prefix(10).map { "\($0.path).\($0.key)" })")
    #expect(keys(object).count > 4, "\(label): the document holds almost nothing")
  }

  @Test(arguments: cases)
  func `every --json document names its schema and version and uses snake_case keys`(_ c: Case) throws {
    let r = try CLI.quantscope(c.arguments)
    #expect(r.status == c.status, "\(c.arguments): \(r.stderr)")
    try Self.checkDocument(r.data, schema: c.schema, c.arguments.joined(separator: " "))
  }

  @Test func `hash --check and requant print documents too`() throws {
    let dir = try TestPaths.temporaryDirectory("json-convention")
    defer { try? FileManager.default.removeItem(at: dir) }
    let manifest = dir.appendingPathComponent("m.json").path
    let written = try CLI.quantscope(["hash", Self.q3, "-o", manifest])
    #expect(written.status == 0, "\(written.stderr)")
    try Self.checkDocument(Data(contentsOf: URL(fileURLWithPath: manifest)), schema: "quantscope.hash/1", "manifest")
    let check = try CLI.quantscope(["hash", Self.q3, "--check", manifest, "--json"])
    #expect(check.status == 0, "\(check.stderr)")
    try Self.checkDocument(check.data, schema: "quantscope.hash-check/1", "hash --check")
    let changed = try CLI.quantscope(["hash", Self.q4, "--check", manifest, "--json"])
    #expect(changed.status == 2, "\(changed.stderr)")
    let comparison = try #require(try JSONSerialization.jsonObject(with: changed.data) as? [String: Any])
    #expect(comparison["identical"] as? Bool == false)
    #expect((comparison["changed"] as? [Any])?.isEmpty == false)

    let output = dir.appendingPathComponent("out.gguf").path
    let requant = try CLI.quantscope(["requant", Self.q3, "-o", output, "--rule", "ffn_up_exps=q4_k", "--json"])
    #expect(requant.status == 0, "\(requant.stderr)")
    try Self.checkDocument(requant.data, schema: "quantscope.requant/2", "requant")
    let summary = try #require(try JSONSerialization.jsonObject(with: requant.data) as? [String: Any])
    #expect(summary["outputs"] as? [String] == [output])
    #expect((summary["requantized"] as? [[String: Any]])?.count == 3)
  }

  @Test func `verify --json lists findings with their kind and location`() throws {
    let dir = try TestPaths.temporaryDirectory("json-verify")
    defer { try? FileManager.default.removeItem(at: dir) }
    // The second shard alone: its set is incomplete, which verify reports as a split finding.
    let shard = dir.appendingPathComponent("deepseek-tiny-Q8_0-00001-of-00002.gguf")
    try FileManager.default.copyItem(atPath: Self.q8, toPath: shard.path)
    let r = try CLI.quantscope(["verify", shard.path, "--json"])
    try Self.checkDocument(r.data, schema: "quantscope.verify/1", "verify")
    let object = try #require(try JSONSerialization.jsonObject(with: r.data) as? [String: Any])
    let problems = try #require(object["problems"] as? Int)
    #expect(r.status == (problems > 0 ? 2 : 0), "\(r.stderr)")
    let sets = try #require(object["sets"] as? [[String: Any]])
    let findings = try #require(sets.first?["findings"] as? [[String: Any]])
    #expect(findings.count == problems)
    #expect(problems > 0 && findings.allSatisfy { $0["kind"] is String && $0["message"] is String })
  }

  @Test func `--version names the release and the commit it was built from`() throws {
    let r = try CLI.quantscope(["--version"])
    #expect(r.status == 0)
    let line = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(line.contains(try Regex(#"^\d+\.\d+\.\d+ \(commit ([0-9a-f]{12}(-dirty)?|unknown)\)$"#)), "\(line)")
  }
}
