import Foundation
import QuantscopeTestSupport
import Testing

/// The same usage mistake gets the same answer in every subcommand (issue 17 §1): exit status 64
/// and exactly one stderr line, `quantscope: error: MESSAGE (see 'quantscope help SUB')`, whose
/// message names the option. Each mistake is a table of subcommands that have the option; the
/// binary runs on the samples, and nothing is written (every mistake is found before any work).
@Suite("usage errors: one answer in every subcommand")
struct UsageErrorCLITests {
  static let q4 = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q4_K_M.gguf").path
  static let q3 = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q3_K_M.gguf").path
  static let fp8 = TestPaths.samples.appendingPathComponent("deepseek-tiny-fp8").path
  /// An output name in a directory that does not exist: a run that got as far as writing would
  /// fail with exit status 1, so 64 proves the mistake was caught first.
  static let nowhere = "/nonexistent-quantscope-usage-test/out"

  /// Arguments that run each subcommand correctly, before a mistake is appended.
  static let valid: [String: [String]] = [
    "inspect": [q4],
    "diff": [q3, "--ref", fp8],
    "audit": [q3, "--ref", fp8],
    "compare": [q3, q4],
    "requant": [q3, "-o", nowhere + ".gguf", "--rule", "blk\\.0\\.ffn_up\\.weight=q4_k"],
    "recipes": ["show", "q4_k_m"],
    "plan": [q3, "--recipe", "q4_k_m"],
    "decode": [q3, "--tensor", "token_embd.weight", "-o", nowhere + ".npy"],
    "stats": [q3],
    "hash": [q3],
    "verify": [q3],
    "merge": [nowhere + ".part.json"],
    "attribute": [q4, q3, "--text", nowhere + ".txt"],
    "tune": [q3, "--ref", fp8, "--target-size", "1M", "-o", nowhere + ".txt"],
  ]

  /// Every subcommand; a test checks this against `quantscope --help`, so a new one cannot be
  /// forgotten here.
  static let subcommands = [
    "inspect", "diff", "audit", "compare", "requant", "recipes", "plan", "decode", "stats", "hash", "verify",
    "merge", "attribute", "tune",
  ]

  /// Subcommands that take `--tensors REGEX` (a test checks this against each subcommand's help).
  static let withTensors = ["inspect", "diff", "audit", "compare", "plan", "decode", "stats", "hash"]
  /// Subcommands that take `--threads N` (a test checks this against each subcommand's help).
  static let withThreads = ["diff", "audit", "compare", "requant", "stats", "hash", "attribute", "tune"]
  /// Options that take a quantization type name, by subcommand.
  static let withTypes: [(subcommand: String, option: String, arguments: [String])] = [
    ("requant", "--rule", [q3, "-o", nowhere + ".gguf", "--rule", "blk\\.0\\.ffn_up\\.weight=q6k"]),
    ("plan", "--rule", [q3, "--recipe", "q4_k_m", "--rule", "ffn_up=q6k"]),
    ("plan", "--output-tensor-type", [q3, "--recipe", "q4_k_m", "--output-tensor-type", "q6k"]),
    (
      "requant", "--token-embedding-type",
      [
        q3, "-o", nowhere + ".gguf", "--recipe", "q4_k_m", "--token-embedding-type", "q6k",
      ]
    ),
  ]
  /// Mistakes whose option the subcommand does not have yet on this branch (the shared option
  /// groups add them): today they are "unknown option" errors, already 64 and one line. After the
  /// merge, move each row into the tables above so its message is checked too.

  /// Runs `arguments` and checks the contract: exit 64, nothing on stdout, one stderr line with
  /// the prefix and the help hint; returns the message between them.
  static func usageMessage(
    _ subcommand: String, _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> String {
    let run = try CLI.quantscope([subcommand] + arguments)
    let label = "quantscope \(subcommand) \(arguments.joined(separator: " "))"
    #expect(run.status == 64, "\(label): status \(run.status): \(run.stderr)", sourceLocation: sourceLocation)
    #expect(run.stdout.isEmpty, "\(label): printed \(run.stdout)", sourceLocation: sourceLocation)
    let lines = run.stderr.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(
      lines.count == 2 && lines[1].isEmpty, "\(label): not one line: \(run.stderr)", sourceLocation: sourceLocation)
    let line = String(lines.first ?? "")
    let prefix = "quantscope: error: ", suffix = " (see 'quantscope help \(subcommand)')"
    #expect(line.hasPrefix(prefix) && line.hasSuffix(suffix), "\(label): \(line)", sourceLocation: sourceLocation)
    guard line.hasPrefix(prefix), line.hasSuffix(suffix) else { return line }
    return String(line.dropFirst(prefix.count).dropLast(suffix.count))
  }

  @Test func `the tables cover every subcommand`() throws {
    let help = try CLI.quantscope(["--help"]).stdout
    let listed =
      help.components(separatedBy: "SUBCOMMANDS:").last?.split(separator: "\n")
      .filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }
      .compactMap { $0.split(separator: " ").first.map(String.init) }
      .filter { $0.first?.isLowercase == true } ?? []  // not "See 'quantscope help …'"
    #expect(Set(listed) == Set(Self.subcommands), "\(listed)")
    #expect(Set(Self.valid.keys) == Set(Self.subcommands))
  }

  @Test(arguments: subcommands)
  func `an unknown option`(subcommand: String) throws {
    let message = try Self.usageMessage(subcommand, Self.valid[subcommand]! + ["--no-such-option"])
    #expect(message == "unknown option '--no-such-option'")
  }

  @Test(arguments: withTensors)
  func `a bad --tensors pattern`(subcommand: String) throws {
    var arguments = Self.valid[subcommand]!
    if subcommand == "decode" { arguments = [Self.q3, "-o", Self.nowhere + ".safetensors"] }
    let message = try Self.usageMessage(subcommand, arguments + ["--tensors", "("])
    #expect(
      message.hasPrefix("the value '(' is invalid for '--tensors <regex>': not a valid regular expression: "),
      "\(message)")
  }

  @Test(arguments: withThreads)
  func `--threads 0`(subcommand: String) throws {
    let message = try Self.usageMessage(subcommand, Self.valid[subcommand]! + ["--threads", "0"])
    #expect(message.hasPrefix("--threads must be at least 1"), "\(message)")
  }

  @Test(arguments: withThreads)
  func `--threads that is not a number`(subcommand: String) throws {
    let message = try Self.usageMessage(subcommand, Self.valid[subcommand]! + ["--threads", "many"])
    #expect(message.contains("'many'") && message.contains("--threads"), "\(message)")
  }

  @Test func `an unknown quantization type lists the valid names, nearest first`() throws {
    for row in Self.withTypes {
      let message = try Self.usageMessage(row.subcommand, row.arguments)
      #expect(message.hasPrefix("\(row.option): invalid quantization type 'q6k' (valid: q6_k, "), "\(message)")
      #expect(message.contains(" q4_k, ") && message.hasSuffix(")"), "\(message)")
    }
  }

  @Test(arguments: ["--tensors <regex>", "--threads <n>"])
  func `the option tables list exactly the subcommands whose help offers the option`(option: String) throws {
    let expected = Set(option.hasPrefix("--tensors") ? Self.withTensors : Self.withThreads)
    var offering = Set<String>()
    for subcommand in Self.subcommands {
      let help = try quantscope("help", subcommand)
      if help.stdout.contains(option) { offering.insert(subcommand) }
    }
    #expect(offering == expected)
  }

  @Test func `an unknown recipe name lists the presets, nearest first`() throws {
    let plan = try Self.usageMessage("plan", [Self.q3, "--recipe", "q4km"])
    let expected = "q4km: no such recipe file or preset (presets, nearest first: q4_0, q4_1, q4_k_m, "
    #expect(plan.hasPrefix(expected), "\(plan)")
    let show = try Self.usageMessage("recipes", ["show", "q4km"])
    #expect(show == plan, "\(show)")
  }

  @Test func `an unknown metric names the option and the choices on one line`() throws {
    let sort = try Self.usageMessage("diff", Self.valid["diff"]! + ["--sort", "bogus"])
    #expect(sort.hasPrefix("the value 'bogus' is invalid for '--sort <key>'. "), "\(sort)")
    #expect(sort.contains(": nmse, mse, cosine, "), "\(sort)")
    let gate = try Self.usageMessage("diff", Self.valid["diff"]! + ["--fail-above", "bogus=1"])
    #expect(gate.hasPrefix("--fail-above 'bogus=1' is not METRIC=VALUE"), "\(gate)")
  }

  @Test func `a missing argument and an unknown subcommand`() throws {
    #expect(try Self.usageMessage("diff", []) == "missing expected argument '<candidate>'")
    let run = try CLI.quantscope(["nosuch"])
    #expect(run.status == 64)
    #expect(run.stderr == "quantscope: error: unexpected argument 'nosuch' (see 'quantscope help')\n")
  }

  @Test func `help and version are not errors`() throws {
    let help = try CLI.quantscope(["diff", "--help"])
    #expect(help.status == 0 && help.stderr.isEmpty)
    #expect(help.stdout.hasPrefix("OVERVIEW: "), "\(help.stdout)")
    let version = try CLI.quantscope(["--version"])
    #expect(version.status == 0 && version.stderr.isEmpty && !version.stdout.isEmpty)
  }

  @Test func `a file error is one line with exit status 1 and no usage hint`() throws {
    let run = try CLI.quantscope(["inspect", "/nonexistent-quantscope-usage-test.gguf"])
    #expect(run.status == 1)
    #expect(run.stderr == "quantscope: error: /nonexistent-quantscope-usage-test.gguf: no such file or directory\n")
  }

  // MARK: Hints where a user needs them

  @Test func `an existing output mentions --force`() throws {
    let dir = try TestPaths.temporaryDirectory("usage-force")
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("t.npy").path
    try Data("keep".utf8).write(to: URL(fileURLWithPath: out))
    let run = try CLI.quantscope(["decode", Self.q3, "--tensor", "token_embd.weight", "-o", out])
    #expect(run.status == 1)
    #expect(run.stderr == "quantscope: error: \(out): already exists (not overwriting); --force replaces it\n")
    #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data("keep".utf8))
  }

  @Test func `an unknown --tensor name suggests the nearest names`() throws {
    // A name missing from this file is a finding about the file (status 1), as for --tensors.
    let run = try CLI.quantscope(["decode", Self.q3, "--tensor", "tokn_embd.weight", "-o", Self.nowhere + ".npy"])
    #expect(run.status == 1)
    let expected = "quantscope: error: \(Self.q3): no tensor named tokn_embd.weight (nearest: token_embd.weight"
    #expect(run.stderr.hasPrefix(expected), "\(run.stderr)")
    #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
  }

  @Test func `swapped diff arguments say so`() throws {
    let message = try Self.usageMessage("diff", [Self.fp8, "--ref", Self.q3])
    #expect(message.contains("the arguments are swapped"), "\(message)")
    #expect(message.hasSuffix("run 'quantscope diff \(Self.q3) --ref \(Self.fp8)'"), "\(message)")
  }

  @Test func `one shard of a sharded checkpoint as --ref points to the directory`() throws {
    let shard = Self.fp8 + "/model-00001-of-00002.safetensors"
    let message = try Self.usageMessage("diff", [Self.q3, "--ref", shard])
    #expect(message.hasPrefix("\(shard): is one shard of a sharded checkpoint"), "\(message)")
    #expect(message.hasSuffix("give the directory: --ref \(Self.fp8)"), "\(message)")
    let requant = try Self.usageMessage("requant", Self.valid["requant"]! + ["--ref", shard])
    #expect(requant == message, "\(requant)")
  }

  @Test func `a reference of another architecture says so before any shape`() throws {
    let dir = try TestPaths.temporaryDirectory("usage-arch")
    defer { try? FileManager.default.removeItem(at: dir) }
    let ref = dir.appendingPathComponent("ref")
    try FileManager.default.copyItem(atPath: Self.fp8, toPath: ref.path)
    let configURL = ref.appendingPathComponent("config.json")
    let config = try String(contentsOf: configURL, encoding: .utf8)
    #expect(config.contains("\"deepseek_v3\""))
    try config.replacingOccurrences(of: "\"deepseek_v3\"", with: "\"gemma3_text\"")
      .write(to: configURL, atomically: true, encoding: .utf8)
    let run = try CLI.quantscope(["diff", Self.q3, "--ref", ref.path])
    #expect(run.status == 1)
    let line = run.stderr.split(separator: "\n").first.map(String.init) ?? ""
    #expect(line.hasPrefix("quantscope: error: \(ref.path)/"), "\(run.stderr)")
    #expect(line.contains(": architecture deepseek2 vs gemma3: "), "\(run.stderr)")
    #expect(line.hasSuffix("has model_type gemma3_text in config.json"), "\(run.stderr)")
    #expect(!run.stderr.contains("shape"), "\(run.stderr)")
  }
}
