import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The output layer under misuse: sets commit whole or not at all, a failed run never removes
/// a file it did not create, and an output is never an input.
@Suite("OutputFile sets and identities")
struct OutputSetTests {
  static func contents(_ path: String) -> String? {
    (try? Data(contentsOf: URL(fileURLWithPath: path))).map { String(decoding: $0, as: UTF8.self) }
  }

  @Test func `a set whose second rename fails keeps every previous file and leaves nothing else`() throws {
    let dir = try TestPaths.temporaryDirectory("set")
    defer { try? FileManager.default.removeItem(at: dir) }
    let names = ["a.bin", "b.bin", "c.bin"].map { dir.appendingPathComponent($0).path }
    for n in names { try Data("old \(n)".utf8).write(to: URL(fileURLWithPath: n)) }
    let outputs = try names.map { try OutputFile(path: $0, overwrite: true) }
    for (o, n) in zip(outputs, names) { try o.write("new \(n)") }
    // Only b's rename fails: a has been replaced by then and must come back.
    let plan = FaultPlan(scope: dir.appendingPathComponent("b").path, failure: .renameFails(errno: EIO))
    #expect(throws: FormatError.self) { try plan.whileInstalled { try OutputFile.commitAll(outputs) } }
    for n in names { #expect(Self.contents(n) == "old \(n)") }
    #expect(try IOTestData.listing(dir) == ["a.bin", "b.bin", "c.bin"])
    #expect(!TemporaryFileCleanup.registeredPaths.contains { $0.hasPrefix(dir.path + "/") })
  }

  @Test func `a set commits whole and replaces every previous file`() throws {
    let dir = try TestPaths.temporaryDirectory("set")
    defer { try? FileManager.default.removeItem(at: dir) }
    let names = (1...5).map { dir.appendingPathComponent("s-\($0).bin").path }
    for n in names.prefix(2) { try Data("old".utf8).write(to: URL(fileURLWithPath: n)) }
    let outputs = try names.map { try OutputFile(path: $0, overwrite: true) }
    for o in outputs { try o.write("new") }
    try OutputFile.commitAll(outputs)
    for n in names { #expect(Self.contents(n) == "new") }
    #expect(try IOTestData.listing(dir).count == 5)
  }

  @Test func `a run that fails never removes the file another run put at the same name`() throws {
    let dir = try TestPaths.temporaryDirectory("race")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("out.bin").path
    let loser = try OutputFile(path: path, overwrite: true)
    try loser.write("loser")
    let winner = try OutputFile(path: path, overwrite: true)
    try winner.write("winner")
    try winner.commit()
    // The loser's commit replaces the winner's file, then fails (directory fsync): it must put
    // the winner's file back, not remove the name.
    let plan = FaultPlan(scope: dir.path + "/", failure: .directorySyncFails)
    #expect(throws: FormatError.self) { try plan.whileInstalled { try loser.commit() } }
    #expect(Self.contents(path) == "winner")
    #expect(try IOTestData.listing(dir) == ["out.bin"])
  }

  @Test func `hundreds of live outputs are all registered for removal on a signal`() throws {
    let dir = try TestPaths.temporaryDirectory("many")
    defer { try? FileManager.default.removeItem(at: dir) }
    let outputs = try (0..<300).map { try OutputFile(path: dir.appendingPathComponent("o\($0)").path) }
    let registered = Set(TemporaryFileCleanup.registeredPaths)
    for o in outputs { #expect(registered.contains(try #require(o.temporaryPath))) }
    for o in outputs { o.abandon() }
    #expect(try IOTestData.listing(dir).isEmpty)
  }

  @Test func `an output may not be an input by any name, nor a device`() throws {
    let dir = try TestPaths.temporaryDirectory("ident")
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("in.bin").path
    try Data("input".utf8).write(to: URL(fileURLWithPath: input))
    try FileManager.default.createSymbolicLink(
      atPath: dir.appendingPathComponent("link").path, withDestinationPath: "in.bin")
    try FileManager.default.linkItem(atPath: input, toPath: dir.appendingPathComponent("hard").path)
    for name in ["in.bin", "link", "hard", "./../\(dir.lastPathComponent)/in.bin"] {
      let path = dir.appendingPathComponent(name).path
      #expect(throws: FormatError.self) { try OutputFile(path: path, overwrite: true, inputs: [input]) }
    }
    // A mapped file is an input even when the caller forgot to say so.
    let mapped = try MappedFile(path: input)
    do {
      _ = try OutputFile(path: dir.appendingPathComponent("hard").path, overwrite: true)
      Issue.record("a mapped input was accepted as an output")
    } catch let error as FormatError {
      #expect(error.message.contains("same file as the input"))
    }
    _ = mapped
    #expect(throws: FormatError.self) { try OutputFile(path: "/dev/null", overwrite: true) }
    #expect(Self.contents(input) == "input")
    #expect(try IOTestData.listing(dir) == ["hard", "in.bin", "link"])
  }
}
