import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

extension IOTestData {
  /// Names in `dir`, sorted (dot-files included).
  static func listing(_ dir: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
  }
}

@Suite("OutputFile")
struct OutputFileTests {
  @Test func `commit moves a complete temporary file to the final name`() throws {
    let dir = try TestPaths.temporaryDirectory("out")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("result.bin").path
    let data = IOTestData.random(3_000_000, seed: 1)
    let out = try OutputFile(path: path, bufferSize: 64 * 1024)
    try out.write(Array(data[0..<10]))
    try out.write(Array(data[10..<200_000]))  // larger than the buffer
    try out.write(Array(data[200_000...]))
    // Before commit: only a dot-named temporary file, registered for signal cleanup.
    let before = try IOTestData.listing(dir)
    #expect(before.count == 1)
    let temp = try #require(before.first)
    #expect(temp.hasPrefix(".result.bin.tmp-\(getpid())-"))
    #expect(TemporaryFileCleanup.registeredPaths.contains(try #require(out.temporaryPath)))
    try out.commit()
    #expect(try IOTestData.listing(dir) == ["result.bin"])
    #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == data)
    #expect(!TemporaryFileCleanup.registeredPaths.contains(try #require(out.temporaryPath)))
    #expect(throws: FormatError.self) { try out.write([1]) }
  }

  @Test func `an abandoned or released output leaves nothing`() throws {
    let dir = try TestPaths.temporaryDirectory("out")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("a.json").path
    do {
      let out = try OutputFile(path: path)
      try out.write("partial")
      #expect(try IOTestData.listing(dir).count == 1)
    }  // released without commit
    #expect(try IOTestData.listing(dir).isEmpty)
    let out = try OutputFile(path: path)
    try out.write("partial")
    out.abandon()
    #expect(try IOTestData.listing(dir).isEmpty)
    #expect(throws: FormatError.self) { try out.commit() }
    #expect(try IOTestData.listing(dir).isEmpty)
  }

  @Test func `refuses to overwrite unless told`() throws {
    let dir = try TestPaths.temporaryDirectory("out")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("m.json").path
    try Data("old".utf8).write(to: URL(fileURLWithPath: path))
    do {
      _ = try OutputFile(path: path)
      Issue.record("existing file was accepted")
    } catch let error as FormatError {
      #expect(error.path == path)
      #expect(error.kind == .alreadyExists)
    }
    // The name appears while writing: commit must refuse, keep the other file, remove the temp.
    let other = dir.appendingPathComponent("n.json").path
    let out = try OutputFile(path: other)
    try out.write("mine")
    try Data("theirs".utf8).write(to: URL(fileURLWithPath: other))
    #expect(throws: FormatError.self) { try out.commit() }
    #expect(try String(contentsOfFile: other, encoding: .utf8) == "theirs")
    #expect(try IOTestData.listing(dir) == ["m.json", "n.json"])
    // With overwrite the old content is replaced.
    let replacing = try OutputFile(path: path, overwrite: true)
    try replacing.write("new")
    try replacing.commit()
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "new")
    #expect(try IOTestData.listing(dir) == ["m.json", "n.json"])
    // A directory is never a valid output.
    #expect(throws: FormatError.self) { _ = try OutputFile(path: dir.path, overwrite: true) }
    #expect(throws: FormatError.self) { _ = try OutputFile(path: dir.appendingPathComponent("no/such/x").path) }
  }

  @Test func `zst names are compressed`() throws {
    let dir = try TestPaths.temporaryDirectory("out")
    defer { try? FileManager.default.removeItem(at: dir) }
    let text = String(repeating: "quantscope writes complete files only. ", count: 5000)
    let zpath = dir.appendingPathComponent("t.txt.zst").path
    let z = try OutputFile(path: zpath)
    #expect(z.compression == .zstdDefault)
    try z.write(text)
    try z.commit()
    let packed = Array(try Data(contentsOf: URL(fileURLWithPath: zpath)))
    #expect(Array(packed.prefix(4)) == zstdMagic)
    #expect(packed.count < text.utf8.count / 10)
    #expect(try ZstdDecompressor.decompress(packed) == Array(text.utf8))
    // Explicitly asked for on a plain name; and explicitly off on a .zst name.
    let forced = dir.appendingPathComponent("forced.bin").path
    let f = try OutputFile(path: forced, compression: .zstd(level: 1, workers: 2))
    try f.write(text)
    try f.commit()
    #expect(
      try ZstdDecompressor.decompress(Array(try Data(contentsOf: URL(fileURLWithPath: forced)))) == Array(text.utf8))
    let plain = dir.appendingPathComponent("plain.zst").path
    let p = try OutputFile(path: plain, compression: OutputFile.Compression.none)
    try p.write(text)
    try p.commit()
    #expect(try String(contentsOfFile: plain, encoding: .utf8) == text)
  }

  @Test func `errors name the output and the system's reason, and nothing is left`() throws {
    let dir = try TestPaths.temporaryDirectory("out")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("full.bin").path
    let plan = FaultPlan(scope: dir.path + "/", failure: .noSpace(atByte: 5000))
    try plan.whileInstalled {
      let out = try OutputFile(path: path, bufferSize: 4096)
      do {
        for _ in 0..<10 { try out.write(IOTestData.random(1000, seed: 2)) }
        try out.commit()
        Issue.record("no error at ENOSPC")
      } catch let error as FormatError {
        #expect(error.path == path)
        #expect(error.kind == .io)
        #expect(error.message.contains("No space left on device"))
        #expect(error.location == .byte(5000))
      }
      #expect(try IOTestData.listing(dir).isEmpty)
      #expect(throws: FormatError.self) { try out.write([0]) }
    }
    // A plan for another directory does not touch this one.
    let elsewhere = FaultPlan(scope: "/nonexistent-scope/", failure: .noSpace(atByte: 0))
    try elsewhere.whileInstalled {
      let out = try OutputFile(path: path)
      try out.write(IOTestData.random(10_000, seed: 3))
      try out.commit()
    }
    #expect(try IOTestData.listing(dir) == ["full.bin"])
  }

  @Test func `SIGTERM removes live temporary files`() async throws {
    let dir = try TestPaths.temporaryDirectory("signal")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("interrupted.bin").path
    await #expect(processExitsWith: .signal(SIGTERM)) { [path = path as String] in
      // The test runner starts exit-test children with SIGTERM blocked; a real command line
      // starts with it unblocked and at its default action, so set that up first.
      signal(SIGTERM, SIG_DFL)
      var set = sigset_t()
      sigemptyset(&set)
      sigaddset(&set, SIGTERM)
      pthread_sigmask(SIG_UNBLOCK, &set, nil)
      TemporaryFileCleanup.installSignalHandlers()
      let out = try OutputFile(path: path)
      try out.write(IOTestData.random(100_000, seed: 4))
      raise(SIGTERM)
      withExtendedLifetime(out) {}
    }
    #expect(try IOTestData.listing(dir).isEmpty)
  }

  @Test func `kill -9 leaves only a dot-named temporary file, never the final name`() async throws {
    let dir = try TestPaths.temporaryDirectory("kill")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("killed.json").path
    await #expect(processExitsWith: .signal(SIGKILL)) { [path = path as String] in
      let out = try OutputFile(path: path, bufferSize: 4096)
      try out.write(IOTestData.random(100_000, seed: 6))
      kill(getpid(), SIGKILL)
      withExtendedLifetime(out) {}
    }
    let names = try IOTestData.listing(dir)
    #expect(names.count == 1)
    #expect(names.allSatisfy { $0.hasPrefix(".killed.json.tmp-") })
  }
}
