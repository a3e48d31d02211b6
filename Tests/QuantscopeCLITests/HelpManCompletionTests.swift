import Foundation
import QuantscopeTestSupport
import Testing

/// One command of `quantscope --experimental-dump-help`, with its path (`["quantscope", "recipes", "show"]`).
struct DumpedCommand {
  var path: [String]
  var abstract: String
  var discussion: String
  var arguments: [[String: Any]]

  /// The man page `scripts/gen-man` writes for it: `man/quantscope.recipes.show.1`.
  var manPage: URL { TestPaths.repository.appendingPathComponent("man/" + path.joined(separator: ".") + ".1") }

  /// Arguments shown in help (hidden ones, if any, excluded).
  var shownArguments: [[String: Any]] { arguments.filter { $0["shouldDisplay"] as? Bool != false } }

  /// Whether swift-argument-parser added it (the `help` subcommand, whose text is not ours).
  var isGenerated: Bool { path.count == 2 && path[1] == "help" }
}

/// The command tree as the CLI describes itself (the same JSON the man page generator reads).
func dumpedCommands() throws -> [DumpedCommand] {
  let r = try CLI.quantscope(["--experimental-dump-help"])
  #expect(r.status == 0, "\(r.stderr)")
  let root = try #require(try JSONSerialization.jsonObject(with: r.data) as? [String: Any])
  var out: [DumpedCommand] = []
  func walk(_ c: [String: Any], _ parent: [String]) {
    let path = parent + [c["commandName"] as? String ?? "?"]
    out.append(
      DumpedCommand(
        path: path, abstract: c["abstract"] as? String ?? "", discussion: c["discussion"] as? String ?? "",
        arguments: c["arguments"] as? [[String: Any]] ?? []))
    for s in c["subcommands"] as? [[String: Any]] ?? [] { walk(s, path) }
  }
  walk(try #require(root["command"] as? [String: Any]), [])
  return out
}

/// Text as the man page generator writes it: only ASCII survives, a backslash becomes `\e`.
func mdoc(_ text: String) -> String {
  String(String.UnicodeScalarView(text.unicodeScalars.filter(\.isASCII))).replacingOccurrences(of: "\\", with: "\\e")
}

@Suite("help, man pages and completions")
struct HelpManCompletionTests {
  static let subcommands = [
    "inspect", "diff", "audit", "compare", "requant", "recipes", "plan", "decode", "stats", "hash", "verify",
    "merge", "attribute", "tune",
  ]

  @Test func `every command has an abstract, a discussion with examples, and help for every argument`() throws {
    let commands = try dumpedCommands()
    // The root, fourteen subcommands, recipes list/show and the generated help.
    #expect(commands.count == 18)
    #expect(Set(commands.filter { $0.path.count == 2 }.map { $0.path[1] }) == Set(Self.subcommands + ["help"]))
    for c in commands where !c.isGenerated {
      let name = c.path.joined(separator: " ")
      #expect(!c.abstract.isEmpty, "\(name): no abstract")
      #expect(!c.discussion.isEmpty, "\(name): no discussion")
      #expect(c.discussion.contains("Example"), "\(name): no examples in the discussion")
      // Each example line runs this very command.
      let examples = c.discussion.split(separator: "\n").filter { $0.hasPrefix("  quantscope ") }
      #expect(!examples.isEmpty, "\(name): no example lines")
      // Indented lines (examples and their continuations) are not rewrapped by --help: they
      // must fit an 80-column terminal.
      for line in c.discussion.split(separator: "\n") where line.hasPrefix("  ") {
        #expect(line.count <= 78, "\(name): example line of \(line.count) characters: \(line)")
      }
      for arg in c.shownArguments {
        let label = (arg["preferredName"] as? [String: Any])?["name"] as? String ?? arg["valueName"] as? String ?? "?"
        #expect(!((arg["abstract"] as? String) ?? "").isEmpty, "\(name) \(label): no help")
      }
    }
  }

  @Test func `a man page per command, mentioning every option and the help text`() throws {
    for c in try dumpedCommands() {
      let page = try String(contentsOf: c.manPage, encoding: .utf8)
      let name = c.path.joined(separator: " ")
      // Words of the mdoc macro lines (`.Op Fl -deep`, `.It Fl q , -quiet`, `.It Ar paths...`).
      let macroWords = Set(
        page.split(separator: "\n").filter { $0.hasPrefix(".") }.flatMap { $0.split(separator: " ").map(String.init) })
      #expect(
        page.contains(".Nm \"\(name)\"") || page.contains(".Nm \(name)\n"),
        "\(c.manPage.lastPathComponent): not the page of \(name)")
      #expect(page.contains(mdoc(c.abstract)), "\(c.manPage.lastPathComponent): abstract differs from --help")
      for line in c.discussion.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).isEmpty {
        #expect(page.contains(mdoc(String(line))), "\(c.manPage.lastPathComponent): discussion line missing: \(line)")
      }
      for arg in c.shownArguments {
        if let names = arg["names"] as? [[String: Any]] {
          for n in names where n["kind"] as? String == "long" {
            let long = try #require(n["name"] as? String)
            #expect(macroWords.contains("-\(long)"), "\(c.manPage.lastPathComponent) does not mention --\(long)")
          }
        } else if let value = arg["valueName"] as? String {
          #expect(
            macroWords.contains(value) || macroWords.contains(value + "..."),
            "\(c.manPage.lastPathComponent) does not mention <\(value)>")
        }
        if let abstract = arg["abstract"] as? String {
          #expect(
            page.contains(mdoc(abstract)), "\(c.manPage.lastPathComponent): help of an argument differs: \(abstract)")
        }
      }
    }
    // No stale pages of commands that no longer exist.
    let expected = Set(try dumpedCommands().map(\.manPage.lastPathComponent))
    let present = Set(try CLI.listing(TestPaths.repository.appendingPathComponent("man")).filter { $0.hasSuffix(".1") })
    #expect(present == expected)
  }

  @Test func `the DQ3_K_M pages say what the paper states and what is inferred`() throws {
    let shown = try CLI.quantscope(["recipes", "show", "dq3_k_m"])
    #expect(shown.status == 0)
    #expect(
      shown.stdout.contains("Only the ffn_down_exps rule is stated by the paper; the rest is inferred to match the"))
    for page in ["quantscope.recipes.1", "quantscope.recipes.show.1", "quantscope.requant.1", "quantscope.plan.1"] {
      let text = try String(contentsOf: TestPaths.repository.appendingPathComponent("man/" + page), encoding: .utf8)
      #expect(text.contains("only the ffn_down_exps rule is stated by the paper"), "\(page)")
      #expect(text.contains("inferred to match the published size"), "\(page)")
    }
  }

  @Test(arguments: ["bash", "zsh", "fish"])
  func `completion scripts name every subcommand and match the committed ones`(shell: String) throws {
    let r = try CLI.quantscope(["--generate-completion-script", shell])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.data.count > 1000)
    for sub in Self.subcommands + ["list", "show"] {
      #expect(r.stdout.contains(sub), "\(shell) completion lacks \(sub)")
    }
    for option in ["ref", "recipe", "progress", "color", "zstd", "deep"] {
      // fish names long options `-l 'NAME'`; bash and zsh spell them `--NAME`.
      let spelled = shell == "fish" ? "-l '\(option)'" : "--\(option)"
      #expect(r.stdout.contains(spelled), "\(shell) completion lacks --\(option)")
    }
    let file = ["bash": "quantscope.bash", "zsh": "_quantscope", "fish": "quantscope.fish"][shell] ?? ""
    let committed = try Data(contentsOf: TestPaths.repository.appendingPathComponent("completions/" + file))
    #expect(committed == r.data, "completions/\(file) is stale: run make completions")
  }
}
