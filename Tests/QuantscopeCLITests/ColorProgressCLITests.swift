import Foundation
import QuantscopeTestSupport
import Testing

/// `text` without ANSI escape sequences (the test's own stripper, independent of the CLI's).
func withoutEscapes(_ text: String) -> String {
  text.replacing(#/\x1B\[[0-9;]*[A-Za-z]/#, with: "")
}

/// Runs quantscope under a pseudo-terminal (util-linux `script`), so stdout and stderr are a
/// terminal; returns what the terminal got.
func quantscopeOnTerminal(_ arguments: [String], environment: [String: String] = [:]) throws -> CLI.Run {
  func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
  let command = ([CLI.binary] + arguments).map(shellQuote).joined(separator: " ")
  var env = environment
  env["TERM"] = env["TERM"] ?? "xterm"
  return try CLI.run("/usr/bin/script", ["-qec", command, "/dev/null"], environment: env)
}

/// The last JSON progress line on stderr, decoded.
func lastProgress(_ stderr: String) throws -> [String: Any] {
  let line = try #require(stderr.split(separator: "\n").last, "no progress lines")
  return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
}

@Suite("colour and progress")
struct ColorProgressCLITests {
  static let q3 = TestPaths.samples.path + "/deepseek-tiny-Q3_K_M.gguf"
  static let q4 = TestPaths.samples.path + "/deepseek-tiny-Q4_K_M.gguf"
  static let fp8 = TestPaths.samples.path + "/deepseek-tiny-fp8"
  static let golden = TestPaths.goldenFile("ggml-quants.gguf")
  static let esc = "\u{1B}["

  @Test func `diff colours NMSE dB by severity and stays aligned`() throws {
    let always = try CLI.quantscope(["diff", Self.q3, "--ref", Self.fp8, "--color", "always"])
    let never = try CLI.quantscope(["diff", Self.q3, "--ref", Self.fp8, "--color", "never"])
    let auto = try CLI.quantscope(["diff", Self.q3, "--ref", Self.fp8])
    #expect(always.status == 0 && never.status == 0 && auto.status == 0)
    #expect(always.stdout.contains(Self.esc))
    #expect(!never.stdout.contains("\u{1B}"))
    // Not a terminal: auto means no colour.
    #expect(!auto.stdout.contains("\u{1B}"))
    // The coloured table is the plain one plus escapes: every column still lines up.
    #expect(withoutEscapes(always.stdout) == never.stdout)

    // Each coloured NMSE cell has the colour of its severity.
    var checked = 0
    for match in always.stdout.matches(of: #/\x1B\[(\d+)m(-?[0-9.]+|-?inf)\x1B\[0m/#) {
      let code = String(match.output.1)
      let db = Double(match.output.2) ?? (match.output.2.hasPrefix("-") ? -.infinity : .infinity)
      let expected = db < -30 ? "32" : (db > -15 ? "31" : "33")
      #expect(code == expected, "\(db) dB coloured \(code)")
      checked += 1
    }
    #expect(checked > 20)
  }

  @Test func `NO_COLOR turns auto off on a terminal; --color always overrides it`() throws {
    let args = ["diff", Self.q3, "--ref", Self.fp8, "--top", "3", "--quiet"]
    // NO_COLOR is cleared explicitly: the test runner's own environment may set it.
    let tty = try quantscopeOnTerminal(args, environment: ["NO_COLOR": ""])
    #expect(tty.status == 0, "\(tty.stdout)")
    #expect(tty.stdout.contains(Self.esc + "3"), "auto on a terminal colours")
    let noColor = try quantscopeOnTerminal(args, environment: ["NO_COLOR": "1"])
    #expect(noColor.status == 0)
    #expect(!noColor.stdout.contains("\u{1B}"))
    // Any non-empty value counts; an empty one does not (no-color.org), as above.
    #expect(!(try quantscopeOnTerminal(args, environment: ["NO_COLOR": "0"])).stdout.contains("\u{1B}"))
    // The documented choice: an explicit --color always wins over NO_COLOR.
    let forced = try CLI.quantscope(args + ["--color", "always"], environment: ["NO_COLOR": "1"])
    #expect(forced.stdout.contains(Self.esc))
    #expect(!(try CLI.quantscope(args + ["--color", "never"])).stdout.contains("\u{1B}"))
  }

  @Test func `hash --check, verify and compare colour what needs a look`() throws {
    let dir = try TestPaths.temporaryDirectory("cli-colour")
    defer { try? FileManager.default.removeItem(at: dir) }
    #expect(
      try CLI.quantscope(["hash", Self.golden, "--tensors", #"^in\."#, "-o", "in.json", "-q"], in: dir).status == 0)
    let check = try CLI.quantscope(["hash", Self.golden, "--check", "in.json", "-q", "--color", "always"], in: dir)
    #expect(check.status == 2)
    #expect(check.stdout.contains("\u{1B}[36mextra\u{1B}[0m    edge.iq1_m\n"))
    #expect(check.stdout.contains("\u{1B}[31mDIFFERENT\u{1B}[0m: "))
    let plainCheck = try CLI.quantscope(["hash", Self.golden, "--check", "in.json", "-q"], in: dir)
    #expect(withoutEscapes(check.stdout) == plainCheck.stdout)

    let bad = dir.appendingPathComponent("nan.gguf").path
    _ = try python(pyWriter, [bad, "nan-f32"])
    let verify = try CLI.quantscope(["verify", "--deep", bad, "--color", "always", "-q"])
    #expect(verify.status == 2)
    #expect(verify.stdout.contains("\u{1B}[31m\(bad): [non-finite-value]"))
    #expect(verify.stdout.contains("\u{1B}[31m1 problem\u{1B}[0m"))
    let clean = try CLI.quantscope(["verify", Self.golden, "--color", "always"])
    #expect(clean.stdout.contains("\u{1B}[32mok\u{1B}[0m"))

    let compare = try CLI.quantscope(["compare", Self.q3, Self.q4, "--color", "always"])
    let plainCompare = try CLI.quantscope(["compare", Self.q3, Self.q4])
    #expect(compare.status == 0)
    #expect(compare.stdout.contains("\u{1B}[33mq3_k\u{1B}[0m → \u{1B}[33m"))
    #expect(withoutEscapes(compare.stdout) == plainCompare.stdout)
  }

  @Test func `stats, decode and verify --deep report progress; --quiet silences it`() throws {
    let regex = #"^in\."#
    // The bytes stats reads: the selected tensors' stored bytes, as inspect totals them.
    let inspect = try CLI.quantscope(["inspect", Self.golden, "--tensors", regex, "--json", "--no-tensors"])
    let totals = try #require(
      (try JSONSerialization.jsonObject(with: inspect.data) as? [String: Any])?["totals"] as? [String: Any])
    let bytes = try #require(totals["bytes"] as? Int)
    let stats = try CLI.quantscope(["stats", Self.golden, "--tensors", regex, "--progress", "json"])
    #expect(stats.status == 0)
    let s = try lastProgress(stats.stderr)
    #expect(s["done"] as? Int == bytes && s["total"] as? Int == bytes)
    #expect(stats.stdout.split(separator: "\n").first?.hasPrefix("name") == true)

    let decode = try CLI.quantscope(["decode", Self.golden, "--tensor", "in.large", "-o", "-", "--progress", "json"])
    #expect(decode.status == 0)
    let d = try lastProgress(decode.stderr)
    #expect(d["done"] as? Int == 8 * 512 * 4 && d["total"] as? Int == 8 * 512 * 4)
    #expect(decode.data.count == 8 * 512 * 4)

    let verify = try CLI.quantscope(["verify", "--deep", Self.golden, "--progress", "json"])
    #expect(verify.status == 0)
    let v = try lastProgress(verify.stderr)
    let all = try #require(
      (try JSONSerialization.jsonObject(
        with: try CLI.quantscope(["inspect", Self.golden, "--json", "--no-tensors"]).data) as? [String: Any])?["totals"]
        as? [String: Any])
    #expect(v["done"] as? Int == v["total"] as? Int)
    #expect((v["total"] as? Int ?? 0) > 0 && (v["total"] as? Int ?? .max) <= all["bytes"] as? Int ?? 0)

    for args in [
      ["stats", Self.golden, "--tensors", regex, "--progress", "always", "--quiet"],
      ["decode", Self.golden, "--tensor", "in.large", "-o", "-", "--progress", "always", "-q"],
      ["verify", "--deep", Self.golden, "--progress", "always", "--quiet"],
    ] {
      #expect(try CLI.quantscope(args).stderr.isEmpty, "\(args[0]) --quiet")
    }
    // A redrawn, finally cleared line when asked for.
    let line = try CLI.quantscope(["stats", Self.golden, "--tensors", regex, "--progress", "always"])
    #expect(line.stderr.hasPrefix("\rstats  0 B / "))
    #expect(line.stderr.hasSuffix("\r\u{1B}[K"))
  }
}
