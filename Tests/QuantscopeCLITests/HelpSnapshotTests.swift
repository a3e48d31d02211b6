import Foundation
import QuantscopeTestSupport
import Testing

/// `quantscope help COMMAND` against the text kept in `Tests/Fixtures/help/`, as
/// swift-argument-parser tests its own help: a changed option, name or help text is a visible
/// diff in review.
///
/// The width is fixed (`COLUMNS=80`) so wrapping does not depend on the terminal. After an
/// intended change, `QUANTSCOPE_UPDATE_HELP_SNAPSHOTS=1 swift test --filter HelpSnapshotTests`
/// rewrites the files; review and commit them.
@Suite("help text snapshots")
struct HelpSnapshotTests {
  /// Every command path, and the snapshot file that holds its help.
  static let commands: [(arguments: [String], file: String)] = [
    ([], "quantscope"),
    (["inspect"], "inspect"),
    (["diff"], "diff"),
    (["audit"], "audit"),
    (["compare"], "compare"),
    (["requant"], "requant"),
    (["recipes"], "recipes"),
    (["recipes", "list"], "recipes-list"),
    (["recipes", "show"], "recipes-show"),
    (["plan"], "plan"),
    (["decode"], "decode"),
    (["stats"], "stats"),
    (["hash"], "hash"),
    (["verify"], "verify"),
    (["merge"], "merge"),
    (["attribute"], "attribute"),
    (["tune"], "tune"),
  ]

  static let directory = TestPaths.repository.appendingPathComponent("Tests/Fixtures/help")

  static var updating: Bool { ProcessInfo.processInfo.environment["QUANTSCOPE_UPDATE_HELP_SNAPSHOTS"] == "1" }

  @Test(arguments: commands.map(\.file))
  func `help text matches its snapshot`(file: String) throws {
    let arguments = try #require(Self.commands.first { $0.file == file }).arguments
    let r = try CLI.quantscope(["help"] + arguments, environment: ["COLUMNS": "80", "LINES": "24"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(!r.stdout.isEmpty)
    let url = Self.directory.appendingPathComponent(file + ".txt")
    if Self.updating {
      try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
      try r.data.write(to: url)
      return
    }
    let committed = try String(contentsOf: url, encoding: .utf8)
    #expect(
      r.stdout == committed,
      """
      quantscope help \(arguments.joined(separator: " ")) differs from Tests/Fixtures/help/\(file).txt; \
      if intended, rerun with QUANTSCOPE_UPDATE_HELP_SNAPSHOTS=1 and commit the files
      """)
  }

  @Test func `every snapshot belongs to a command, and every subcommand has one`() throws {
    // While snapshots are being rewritten (in parallel) the directory is not yet complete.
    guard !Self.updating else { return }
    let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).filter { $0.hasSuffix(".txt") }
    #expect(Set(files) == Set(Self.commands.map { $0.file + ".txt" }))
    // The root help lists the subcommands; each must be in the table above.
    let root = try CLI.quantscope(["help"], environment: ["COLUMNS": "80"])
    let section = root.stdout.components(separatedBy: "SUBCOMMANDS:").last ?? ""
    let listed = section.split(separator: "\n").compactMap { line -> String? in
      let words = line.split(separator: " ")
      guard line.hasPrefix("  "), !line.hasPrefix("    "), !line.hasPrefix("  See "), let first = words.first else {
        return nil
      }
      return String(first)
    }
    #expect(!listed.isEmpty)
    for name in listed { #expect(Self.commands.contains { $0.arguments == [name] }, "\(name) has no snapshot") }
  }
}
