import Foundation
import QuantscopeTestSupport
import Testing

/// The `--tensor-type-file` outputs of plan, recipes show and compare, read back as
/// llama-quantize reads them (tools/quantize/quantize.cpp): whitespace-separated tokens, each
/// split at its first `=`, the pattern lowercased and searched in tensor names.
@Suite("llama-quantize tensor-type files")
struct TensorTypeFileCLITests {
  static let q3 = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q3_K_M.gguf").path
  static let q4 = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q4_K_M.gguf").path
  /// ggml type names llama-quantize's parse_ggml_type knows, in lower case (those the samples use and more).
  static let typeNames: Set<String> = [
    "f32", "f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q2_k", "q3_k", "q4_k", "q5_k", "q6_k",
    "iq2_xxs", "iq2_xs", "iq3_xxs", "iq1_s", "iq4_nl", "iq3_s", "iq2_s", "iq4_xs", "iq1_m", "tq1_0", "tq2_0", "mxfp4",
  ]

  struct Rule {
    let pattern: String
    let type: String
    let regex: Regex<AnyRegexOutput>
    func matches(_ name: String) -> Bool { name.firstMatch(of: regex) != nil }
  }

  /// Parses `text` as llama-quantize does, recording an issue for any token it would refuse.
  static func parse(_ text: String) throws -> [Rule] {
    try text.split(whereSeparator: \.isWhitespace).map { token in
      let parts = token.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      #expect(parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty, "malformed token \(token)")
      let pattern = String(parts[0]).lowercased()
      #expect(pattern == String(parts[0]), "pattern \(parts[0]) changes when lowercased")
      let type = String(parts.count == 2 ? parts[1] : "").lowercased()
      #expect(typeNames.contains(type), "unknown type \(type)")
      return Rule(pattern: pattern, type: type, regex: try Regex(pattern))
    }
  }

  static func json(_ run: CLI.Run) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: run.data) as? [String: Any], "\(run.stderr)")
  }

  @Test(arguments: ["dq3_k_m", "q4_k_m"])
  func `plan's file types exactly the planned tensors, one pattern each`(recipe: String) throws {
    let dir = try TestPaths.temporaryDirectory("tensor-type-file")
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = dir.appendingPathComponent("types.txt").path
    let run = try CLI.quantscope(["plan", Self.q3, "--recipe", recipe, "--json", "--tensor-type-file", file])
    #expect(run.status == 0, "\(run.stderr)")
    let tensors = try #require(try Self.json(run)["tensors"] as? [[String: Any]])
    let rules = try Self.parse(try String(contentsOfFile: file, encoding: .utf8))
    #expect(!rules.isEmpty)
    var used = 0
    for t in tensors {
      let name = try #require(t["name"] as? String)
      let target = try #require(t["target"] as? String).lowercased()
      let hits = rules.filter { $0.matches(name) }
      if target == "f32" {
        #expect(hits.isEmpty, "\(name) is F32 but matched \(hits.map(\.pattern))")
      } else {
        #expect(hits.map(\.type) == [target], "\(name): \(hits.map(\.pattern))")
        used += hits.count
      }
    }
    #expect(used == rules.count)

    // '-' prints only the file.
    let printed = try CLI.quantscope(["plan", Self.q3, "--recipe", recipe, "--tensor-type-file", "-"])
    #expect(printed.status == 0)
    #expect(printed.stdout == (try String(contentsOfFile: file, encoding: .utf8)))
  }

  @Test func `recipes show --format llama-quantize prints the expanded rules and nothing else`() throws {
    let arguments = ["recipes", "show", "dq3_k_m", "--blocks", "61", "--dense-blocks", "3"]
    let run = try CLI.quantscope(arguments + ["--format", "llama-quantize"])
    #expect(run.status == 0, "\(run.stderr)")
    #expect(!run.stdout.contains("#") && !run.stdout.contains("{{"))
    let rules = try Self.parse(run.stdout)
    let expected = try #require(try Self.json(try CLI.quantscope(arguments + ["--json"]))["rules"] as? [[String: Any]])
    #expect(rules.map(\.pattern) == expected.compactMap { $0["pattern"] as? String })
    #expect(rules.map(\.type) == expected.compactMap { ($0["type"] as? String)?.lowercased() })
    // The MoE block sets expanded for 61 blocks, 3 of them dense: block 3 is the first MoE block.
    #expect(rules.contains { $0.matches("blk.3.ffn_down_exps.weight") && !$0.matches("blk.2.ffn_down_exps.weight") })

    let unexpanded = try CLI.quantscope(["recipes", "show", "dq3_k_m", "--format", "llama-quantize"])
    #expect(unexpanded.status != 0)
    #expect(unexpanded.stderr.contains("--blocks"))
  }

  @Test func `compare's file turns A's types into B's and touches nothing else`() throws {
    let run = try CLI.quantscope(["compare", Self.q3, Self.q4, "--tensor-type-file", "-"])
    #expect(run.status == 0, "\(run.stderr)")
    let rules = try Self.parse(run.stdout)
    #expect(!rules.isEmpty)
    let json = try Self.json(try CLI.quantscope(["compare", Self.q3, Self.q4, "--json"]))
    let changed = try #require(json["type_changed"] as? [[String: Any]])
    let changedNames = Set(changed.compactMap { $0["name"] as? String })
    for c in changed {
      let name = try #require(c["name"] as? String)
      let hits = rules.filter { $0.matches(name) }
      #expect(hits.map(\.type) == [try #require(c["type_b"] as? String).lowercased()], "\(name)")
    }
    let inspect = try #require(
      try JSONSerialization.jsonObject(with: try CLI.quantscope(["inspect", Self.q3, "--json"]).data) as? [String: Any])
    for t in try #require(inspect["tensors"] as? [[String: Any]]) {
      let name = try #require(t["name"] as? String)
      if !changedNames.contains(name) { #expect(!rules.contains { $0.matches(name) }, "\(name) is unchanged") }
    }
  }
}
