import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// Runs the built binary for the hash command tests.
enum HashCLIRunner {
  /// The built `quantscope` binary: beside the test bundle (`.build/debug/quantscope`).
  static func binary() -> URL {
    let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var dir = runner.deletingLastPathComponent()
    // On Linux the runner is `.build/debug/quantscopePackageTests.xctest`; elsewhere it may sit
    // inside a bundle directory, so walk up until the binary is found.
    for _ in 0..<4 {
      let candidate = dir.appendingPathComponent("quantscope")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
      dir = dir.deletingLastPathComponent()
    }
    return TestPaths.repository.appendingPathComponent(".build/debug/quantscope")
  }

  /// Runs quantscope with `arguments` in `directory`; returns status, stdout and stderr.
  static func run(_ arguments: [String], in directory: URL) throws -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = HashCLIRunner.binary()
    process.arguments = arguments
    process.currentDirectoryURL = directory
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Read both pipes without deadlocking: stderr on a helper thread.
    let errBox = HashCLIPipeBox()
    let reader = Thread { errBox.data = err.fileHandleForReading.readDataToEndOfFile(); errBox.done.signal() }
    reader.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    errBox.done.wait()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errBox.data, as: UTF8.self))
  }

  /// Names in `dir`, sorted.
  static func listing(_ dir: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
  }
}

/// Collects one pipe's output on a helper thread.
final class HashCLIPipeBox: @unchecked Sendable {
  // Written by one reader thread before `done` is signalled, read after.
  var data = Data()
  let done = DispatchSemaphore(value: 0)
}

@Suite("hash command")
struct HashCLITests {
  static let golden = TestPaths.golden.appendingPathComponent("ggml-quants.gguf")

  @Test func `manifest then check is identical; a changed byte is found`() throws {
    let dir = try TestPaths.temporaryDirectory("hash-cli")
    defer { try? FileManager.default.removeItem(at: dir) }
    let model = dir.appendingPathComponent("model.gguf")
    try FileManager.default.copyItem(at: Self.golden, to: model)

    let write = try HashCLIRunner.run(["hash", model.path, "-o", "m.json", "--quiet"], in: dir)
    #expect(write.status == 0, "\(write.err)")
    #expect(write.err.isEmpty)
    let manifest = try HashManifest.read(path: dir.appendingPathComponent("m.json").path)
    #expect(manifest.files == [model.path])

    let same = try HashCLIRunner.run(["hash", model.path, "--check", "m.json"], in: dir)
    #expect(same.status == 0, "\(same.out)\(same.err)")
    #expect(same.out.contains("OK: \(manifest.tensors.count) tensors identical"))

    // Change one byte of one tensor's data in the copy.
    let gguf = try GGUFFile(path: model.path)
    let victim = try #require(gguf.tensors.first { $0.name == "in.gauss" })
    let handle = try FileHandle(forUpdating: model)
    try handle.seek(toOffset: UInt64(victim.dataOffset + 100))
    let old = try #require(try handle.read(upToCount: 1)).first!
    try handle.seek(toOffset: UInt64(victim.dataOffset + 100))
    try handle.write(contentsOf: [old ^ 0x40])
    try handle.close()

    let changed = try HashCLIRunner.run(["hash", model.path, "--check", "m.json"], in: dir)
    #expect(changed.status == 2, "\(changed.out)\(changed.err)")
    let lines = changed.out.split(separator: "\n").map(String.init)
    #expect(lines.filter { $0.hasPrefix("changed") }.count == 1)
    #expect(lines.contains { $0.hasPrefix("changed  in.gauss: xxh3_128 ") })
    #expect(lines.last == "DIFFERENT: 1 changed, 0 missing, 0 extra (vs m.json)")
  }

  @Test func `zst manifest round trip, filters, refusal to overwrite`() throws {
    let dir = try TestPaths.temporaryDirectory("hash-cli")
    defer { try? FileManager.default.removeItem(at: dir) }
    let model = Self.golden.path

    let write = try HashCLIRunner.run(["hash", model, "-o", "m.json.zst", "--quiet"], in: dir)
    #expect(write.status == 0, "\(write.err)")
    let raw = Array(try Data(contentsOf: dir.appendingPathComponent("m.json.zst")))
    #expect(Array(raw.prefix(4)) == zstdMagic)
    #expect(try HashCLIRunner.run(["hash", model, "--check", "m.json.zst", "-q"], in: dir).status == 0)

    // Existing output: refused (exit 1, one error line), then replaced with --force.
    let again = try HashCLIRunner.run(["hash", model, "-o", "m.json.zst", "-q"], in: dir)
    #expect(again.status == 1)
    #expect(again.err.hasPrefix("quantscope: error: m.json.zst: already exists"))
    #expect(try HashCLIRunner.run(["hash", model, "-o", "m.json.zst", "--force", "-q"], in: dir).status == 0)

    // A manifest of a selection: checking the whole model reports the others as extra.
    let partial = try HashCLIRunner.run(["hash", model, "--tensors", "^in\\.", "-o", "in.json", "-q"], in: dir)
    #expect(partial.status == 0, "\(partial.err)")
    let selected = try HashManifest.read(path: dir.appendingPathComponent("in.json").path)
    #expect(!selected.tensors.isEmpty && selected.tensors.allSatisfy { $0.name.hasPrefix("in.") })
    let extra = try HashCLIRunner.run(["hash", model, "--check", "in.json", "-q"], in: dir)
    #expect(extra.status == 2)
    #expect(extra.out.contains("extra    edge.iq1_m\n"))
    #expect(try HashCLIRunner.run(["hash", model, "--tensors", "^in\\.", "--check", "in.json", "-q"], in: dir).status == 0)
    // Checking a selection against the full manifest compares only the selection.
    #expect(try HashCLIRunner.run(["hash", model, "--tensors", "^in\\.", "--check", "m.json.zst", "-q"], in: dir).status == 0)

    // Plain listing: one line per tensor plus the model line, matching the manifest.
    let listing = try HashCLIRunner.run(["hash", model, "--tensors", "^in\\.", "-q"], in: dir)
    let lines = listing.out.split(separator: "\n")
    #expect(lines.count == selected.tensors.count + 1)
    #expect(lines.last?.hasPrefix(selected.model.hex) == true)

    // -o - writes the manifest to standard output.
    let piped = try HashCLIRunner.run(["hash", model, "--tensors", "^in\\.", "-o", "-", "-q"], in: dir)
    #expect(piped.status == 0)
    #expect(piped.out == selected.jsonText())

    // Usage errors exit 64.
    #expect(try HashCLIRunner.run(["hash", model, "--tensors", "(", "-q"], in: dir).status == 64)
    #expect(try HashCLIRunner.listing(dir) == ["in.json", "m.json.zst"])
  }

  @Test func `json progress lines on stderr, quiet silences`() throws {
    let dir = try TestPaths.temporaryDirectory("hash-cli")
    defer { try? FileManager.default.removeItem(at: dir) }
    let run = try HashCLIRunner.run(["hash", Self.golden.path, "-o", "m.json", "--progress", "json"], in: dir)
    #expect(run.status == 0)
    let lines = run.err.split(separator: "\n")
    #expect(!lines.isEmpty)
    let last = try JSONSerialization.jsonObject(with: Data(try #require(lines.last).utf8)) as? [String: Any]
    let manifest = try HashManifest.read(path: dir.appendingPathComponent("m.json").path)
    #expect(last?["done"] as? Int == 2 * manifest.totalBytes)
    #expect(last?["total"] as? Int == 2 * manifest.totalBytes)
    #expect(last?["rate"] != nil && last?["eta"] != nil)
    // A redrawn line when asked for, cleared at the end.
    let line = try HashCLIRunner.run(["hash", Self.golden.path, "--progress", "always"], in: dir)
    #expect(line.status == 0)
    #expect(line.err.hasPrefix("\rhashing  0 B / "))
    #expect(line.err.hasSuffix("\r\u{1B}[K"))
    #expect(try HashCLIRunner.run(["hash", Self.golden.path, "--progress", "always", "--quiet"], in: dir).err.isEmpty)
    // Not a terminal: auto mode prints nothing.
    let auto = try HashCLIRunner.run(["hash", Self.golden.path, "-o", "n.json"], in: dir)
    #expect(auto.status == 0 && auto.err.isEmpty)
  }
}
