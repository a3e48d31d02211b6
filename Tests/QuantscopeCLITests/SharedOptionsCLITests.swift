import Foundation
import QuantscopeTestSupport
import Testing

/// The shared options answer the same way in every subcommand: `--quiet` is accepted
/// everywhere, `--threads 0` and a bad `--tensors` pattern are the same usage error, and
/// metric, column and size spellings are one per thing.
@Suite("shared options and one name per thing")
struct SharedOptionsCLITests {
  static let samples = TestPaths.samples.path
  static let q3 = samples + "/deepseek-tiny-Q3_K_M.gguf"
  static let q4 = samples + "/deepseek-tiny-Q4_K_M.gguf"
  static let fp8 = samples + "/deepseek-tiny-fp8"

  /// A working invocation of every subcommand, without the shared option under test.
  static func invocations(in dir: URL) -> [[String]] {
    [
      ["inspect", q3],
      ["diff", q3, "--ref", fp8, "--tensors", #"blk\.0\."#],
      ["compare", q3, q4],
      [
        "requant", q3, "-o", dir.appendingPathComponent("out.gguf").path, "--rule", #"blk\.0\.attn_k_b=q8_0"#,
        "--force",
      ],
      ["recipes", "list"],
      ["recipes", "show", "q4_k_m"],
      ["plan", q3, "--recipe", "q4_k_m"],
      ["decode", q3, "--tensor", "blk.0.attn_k_b.weight", "-o", dir.appendingPathComponent("t.npy").path, "--force"],
      ["stats", q3, "--tensors", #"blk\.0\.attn_k_b"#],
      ["hash", q3],
      ["verify", q3],
    ]
  }

  @Test func `every subcommand accepts --quiet and then prints nothing on stderr`() throws {
    let dir = try TestPaths.temporaryDirectory("quiet")
    defer { try? FileManager.default.removeItem(at: dir) }
    for args in Self.invocations(in: dir) {
      let r = try CLI.quantscope(args + ["--quiet"])
      #expect(r.status == 0, "\(args.prefix(2)) --quiet: \(r.stderr)")
      #expect(r.stderr.isEmpty, "\(args.prefix(2)) --quiet: \(r.stderr)")
      let short = try CLI.quantscope(args + ["-q"])
      #expect(short.status == 0, "\(args.prefix(2)) -q: \(short.stderr)")
    }
  }

  @Test func `every table-printing subcommand accepts --color`() throws {
    let dir = try TestPaths.temporaryDirectory("color")
    defer { try? FileManager.default.removeItem(at: dir) }
    let tables = ["inspect", "diff", "compare", "plan", "stats", "hash", "verify"]
    for args in Self.invocations(in: dir) where tables.contains(args[0]) || args == ["recipes", "list"] {
      let never = try CLI.quantscope(args + ["--color", "never"])
      #expect(never.status == 0, "\(args[0]) --color never: \(never.stderr)")
      #expect(!never.stdout.contains("\u{1B}["), "\(args[0]) --color never")
    }
    // Something that needs a look is painted when asked: plan's changed types.
    let plan = try CLI.quantscope(["plan", Self.q3, "--recipe", "q4_k_m", "--color", "always"])
    #expect(plan.stdout.contains("\u{1B}[33m"))
  }

  @Test func `--threads 0 is the same usage error in every command that takes --threads`() throws {
    let dir = try TestPaths.temporaryDirectory("threads")
    defer { try? FileManager.default.removeItem(at: dir) }
    let commands = Self.invocations(in: dir).filter { ["diff", "compare", "requant", "stats", "hash"].contains($0[0]) }
    #expect(commands.count == 5)
    for args in commands {
      for (value, message) in [
        ("0", "--threads must be at least 1 (got 0)"), ("5000", "--threads must be at most 4096 (got 5000)"),
      ] {
        let r = try CLI.quantscope(args + ["--threads", value])
        #expect(r.status == 64, "\(args[0]) --threads \(value)")
        #expect(r.stderr.contains(message), "\(args[0]): \(r.stderr)")
      }
    }
  }

  @Test func `a bad --tensors pattern is the same usage error naming the option everywhere`() throws {
    var messages: Set<String> = []
    for command in [
      ["inspect", Self.q3], ["diff", Self.q3, "--ref", Self.fp8], ["compare", Self.q3, Self.q4],
      ["plan", Self.q3, "--recipe", "q4_k_m"], ["stats", Self.q3], ["hash", Self.q3], ["decode", Self.q3],
    ] {
      let r = try CLI.quantscope(command + ["--tensors", "("])
      #expect(r.status == 64, "\(command[0]): \(r.stderr)")
      let first = String(r.stderr.split(separator: "\n").first ?? "")
      #expect(
        first.contains("--tensors") && first.contains("not a valid regular expression"), "\(command[0]): \(first)")
      // The same words everywhere; only the help hint names the subcommand.
      #expect(first.hasSuffix(" (see 'quantscope help \(command[0])')"), "\(first)")
      messages.insert(first.replacingOccurrences(of: " (see 'quantscope help \(command[0])')", with: ""))
    }
    #expect(messages.count == 1, "\(messages)")
  }

  @Test func `plan and compare narrow to --tensors; a pattern matching nothing names the nearest`() throws {
    let c = try CLI.quantscope(["compare", Self.q3, Self.q4, "--tensors", #"^blk\.1\."#, "--json"])
    #expect(c.status == 0, "\(c.stderr)")
    let o = try #require(try JSONSerialization.jsonObject(with: c.data) as? [String: Any])
    let changed = try #require(o["type_changed"] as? [[String: Any]])
    #expect(!changed.isEmpty)
    #expect(changed.allSatisfy { ($0["name"] as? String)?.hasPrefix("blk.1.") == true })
    let none = try CLI.quantscope(["compare", Self.q3, Self.q4, "--tensors", "blk.0.attn_q_x"])
    #expect(none.status == 1 && none.stderr.contains("nearest"), "\(none.stderr)")
  }

  @Test func `requant takes --kv-b as plan does`() throws {
    let dir = try TestPaths.temporaryDirectory("kvb")
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("o.gguf").path
    let rule = #"blk\.0\.attn_k_b=q8_0"#
    let ok = try CLI.quantscope(["requant", Self.q3, "-o", out, "--rule", rule, "--kv-b", "split", "-q"])
    #expect(ok.status == 0, "\(ok.stderr)")
    let plan = try CLI.quantscope(["plan", Self.q3, "--recipe", "q4_k_m", "--kv-b", "legacy"])
    let requant = try CLI.quantscope(["requant", Self.q3, "-o", out, "--rule", rule, "--kv-b", "legacy", "--force"])
    #expect(plan.status == 1 && requant.status == 1)
    #expect(requant.stderr.contains("has no attn_kv_b tensors"), "\(requant.stderr)")
    #expect(plan.stderr.contains("has no attn_kv_b tensors"), "\(plan.stderr)")
  }

  @Test func `diff: max_abs is the metric's one name; layer and kind tables follow --sort, worst first`() throws {
    let csv = try CLI.quantscope(["diff", Self.q3, "--ref", Self.fp8, "--csv", "--sort", "max_abs"])
    #expect(csv.status == 0, "\(csv.stderr)")
    #expect(csv.stderr.isEmpty)
    #expect(csv.stdout.hasPrefix("name,type,bpw,"))
    let old = try CLI.quantscope(["diff", Self.q3, "--ref", Self.fp8, "--csv", "--sort", "maxabs"])
    #expect(old.status == 0 && old.stdout == csv.stdout)
    #expect(old.stderr.contains("'maxabs' is deprecated: the metric is called max_abs"), "\(old.stderr)")
    let gate = try CLI.quantscope(["diff", Self.q3, "--ref", Self.fp8, "--json", "--fail-above", "max_abs=1e9"])
    #expect(gate.status == 0, "\(gate.stderr)")
    #expect(gate.stdout.contains("\"metric\": \"max_abs\""))

    // The layer table in worst-first NMSE order equals the JSON roll-ups sorted by NMSE.
    let json = try CLI.quantscope(["diff", Self.q3, "--ref", Self.fp8, "--json"])
    let o = try #require(try JSONSerialization.jsonObject(with: json.data) as? [String: Any])
    let layers = try #require(o["layers"] as? [[String: Any]])
    let expected = layers.sorted { ($0["nmse"] as? Double ?? 0) > ($1["nmse"] as? Double ?? 0) }
      .map { $0["label"] as? String ?? "" }
    #expect(expected.count > 1)
    for (sort, wanted) in [("nmse", expected), ("file", layers.map { $0["label"] as? String ?? "" })] {
      let text = try CLI.quantscope(["diff", Self.q3, "--ref", Self.fp8, "--sort", sort])
      let lines = text.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      let start = try #require(lines.firstIndex { $0.hasPrefix("layer ") })
      let shown = lines[(start + 2)...].prefix { !$0.isEmpty }.map { String($0.split(separator: " ")[0]) }
      #expect(shown == wanted, "--sort \(sort)")
    }
  }

  @Test func `sizes pick a binary unit that fits; counts have separators; one shape spelling`() throws {
    let c = try CLI.quantscope(["compare", Self.q3, Self.q4])
    #expect(c.status == 0, "\(c.stderr)")
    #expect(!c.stdout.contains("0.00 GiB") && !c.stdout.contains("GB"))
    #expect(c.stdout.contains(" KiB") || c.stdout.contains(" MiB"))
    let s = try CLI.quantscope(["stats", Self.q3, "--tensors", #"blk\.0\.attn_k_b"#])
    #expect(s.stdout.contains("[2, 256, 64]"), "\(s.stdout)")
    let i = try CLI.quantscope(["inspect", Self.q3, "--tensors", #"blk\.0\.attn_k_b"#])
    #expect(i.stdout.contains("[2, 256, 64]") && i.stdout.contains("32,768"), "\(i.stdout)")
  }

  @Test func `stats --super-weights; --top is its deprecated spelling`() throws {
    let args = ["stats", Self.q3, "--tensors", #"blk\.0\.attn_k_b"#, "--json"]
    let new = try CLI.quantscope(args + ["--super-weights", "3"])
    #expect(new.status == 0 && new.stderr.isEmpty, "\(new.stderr)")
    let old = try CLI.quantscope(args + ["--top", "3"])
    #expect(old.status == 0 && old.stderr.contains("--super-weights"))
    #expect(old.stdout == new.stdout)
    let o = try #require(try JSONSerialization.jsonObject(with: new.data) as? [String: Any])
    let first = try #require((o["tensors"] as? [[String: Any]])?.first)
    #expect((first["super_weights"] as? [Any])?.count == 3)
    // The largest |value| is max_abs, as diff calls its metric; no second spelling.
    #expect(first["max_abs"] is Double && first["absmax"] == nil && first["top"] == nil)
  }
}
