import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

@Suite("hash command")
struct HashCLITests {
  static let golden = URL(fileURLWithPath: TestPaths.goldenFile("ggml-quants.gguf"))

  @Test func `manifest then check is identical; a changed byte is found`() throws {
    let dir = try TestPaths.temporaryDirectory("hash-cli")
    defer { try? FileManager.default.removeItem(at: dir) }
    let model = dir.appendingPathComponent("model.gguf")
    try FileManager.default.copyItem(at: Self.golden, to: model)

    let write = try CLI.quantscope(["hash", model.path, "-o", "m.json", "--quiet"], in: dir)
    #expect(write.status == 0, "\(write.stderr)")
    #expect(write.stderr.isEmpty)
    let manifest = try HashManifest.read(path: dir.appendingPathComponent("m.json").path)
    #expect(manifest.files == [model.path])

    let same = try CLI.quantscope(["hash", model.path, "--check", "m.json"], in: dir)
    #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
    #expect(same.stdout.contains("OK: \(manifest.tensors.count) tensors identical"))

    // Change one byte of one tensor's data in the copy.
    let gguf = try GGUFFile(path: model.path)
    let victim = try #require(gguf.tensors.first { $0.name == "in.gauss" })
    let handle = try FileHandle(forUpdating: model)
    try handle.seek(toOffset: UInt64(victim.dataOffset + 100))
    let old = try #require(try handle.read(upToCount: 1)).first!
    try handle.seek(toOffset: UInt64(victim.dataOffset + 100))
    try handle.write(contentsOf: [old ^ 0x40])
    try handle.close()

    let changed = try CLI.quantscope(["hash", model.path, "--check", "m.json"], in: dir)
    #expect(changed.status == 2, "\(changed.stdout)\(changed.stderr)")
    let lines = changed.stdout.split(separator: "\n").map(String.init)
    #expect(lines.filter { $0.hasPrefix("changed") }.count == 1)
    #expect(lines.contains { $0.hasPrefix("changed  in.gauss: xxh3_128 ") })
    #expect(lines.last == "DIFFERENT: 1 changed, 0 missing, 0 extra (vs m.json)")
  }

  @Test func `zst manifest round trip, filters, refusal to overwrite`() throws {
    let dir = try TestPaths.temporaryDirectory("hash-cli")
    defer { try? FileManager.default.removeItem(at: dir) }
    let model = Self.golden.path

    let write = try CLI.quantscope(["hash", model, "-o", "m.json.zst", "--quiet"], in: dir)
    #expect(write.status == 0, "\(write.stderr)")
    let raw = Array(try Data(contentsOf: dir.appendingPathComponent("m.json.zst")))
    #expect(Array(raw.prefix(4)) == zstdMagic)
    #expect(try CLI.quantscope(["hash", model, "--check", "m.json.zst", "-q"], in: dir).status == 0)

    // Existing output: refused (exit 1, one error line), then replaced with --force.
    let again = try CLI.quantscope(["hash", model, "-o", "m.json.zst", "-q"], in: dir)
    #expect(again.status == 1)
    #expect(again.stderr.hasPrefix("quantscope: error: m.json.zst: already exists"))
    #expect(try CLI.quantscope(["hash", model, "-o", "m.json.zst", "--force", "-q"], in: dir).status == 0)

    // A manifest of a selection: checking the whole model reports the others as extra.
    let partial = try CLI.quantscope(["hash", model, "--tensors", "^in\\.", "-o", "in.json", "-q"], in: dir)
    #expect(partial.status == 0, "\(partial.stderr)")
    let selected = try HashManifest.read(path: dir.appendingPathComponent("in.json").path)
    #expect(!selected.tensors.isEmpty && selected.tensors.allSatisfy { $0.name.hasPrefix("in.") })
    let extra = try CLI.quantscope(["hash", model, "--check", "in.json", "-q"], in: dir)
    #expect(extra.status == 2)
    #expect(extra.stdout.contains("extra    edge.iq1_m\n"))
    #expect(
      try CLI.quantscope(["hash", model, "--tensors", "^in\\.", "--check", "in.json", "-q"], in: dir).status == 0)
    // Checking a selection against the full manifest compares only the selection.
    #expect(
      try CLI.quantscope(["hash", model, "--tensors", "^in\\.", "--check", "m.json.zst", "-q"], in: dir).status == 0)

    // Plain listing: one line per tensor plus the model line, matching the manifest.
    let listing = try CLI.quantscope(["hash", model, "--tensors", "^in\\.", "-q"], in: dir)
    let lines = listing.stdout.split(separator: "\n")
    #expect(lines.count == selected.tensors.count + 1)
    #expect(lines.last?.hasPrefix(selected.model.hex) == true)

    // -o - writes the manifest to standard output.
    let piped = try CLI.quantscope(["hash", model, "--tensors", "^in\\.", "-o", "-", "-q"], in: dir)
    #expect(piped.status == 0)
    #expect(piped.stdout == selected.jsonText())

    // Usage errors exit 64.
    #expect(try CLI.quantscope(["hash", model, "--tensors", "(", "-q"], in: dir).status == 64)
    #expect(try CLI.listing(dir) == ["in.json", "m.json.zst"])
  }

  @Test func `json progress lines on stderr, quiet silences`() throws {
    let dir = try TestPaths.temporaryDirectory("hash-cli")
    defer { try? FileManager.default.removeItem(at: dir) }
    let run = try CLI.quantscope(["hash", Self.golden.path, "-o", "m.json", "--progress", "json"], in: dir)
    #expect(run.status == 0)
    let lines = run.stderr.split(separator: "\n")
    #expect(!lines.isEmpty)
    let last = try JSONSerialization.jsonObject(with: Data(try #require(lines.last).utf8)) as? [String: Any]
    let manifest = try HashManifest.read(path: dir.appendingPathComponent("m.json").path)
    // The total is the tensor bytes (each byte is hashed twice, once per pass, but counted once).
    #expect(last?["done"] as? Int == manifest.totalBytes)
    #expect(last?["total"] as? Int == manifest.totalBytes)
    #expect(last?["rate"] != nil && last?["eta"] != nil)
    // A redrawn line when asked for, cleared at the end.
    let line = try CLI.quantscope(["hash", Self.golden.path, "--progress", "always"], in: dir)
    #expect(line.status == 0)
    #expect(line.stderr.hasPrefix("\rhashing  0 B / "))
    #expect(line.stderr.hasSuffix("\r\u{1B}[K"))
    #expect(try CLI.quantscope(["hash", Self.golden.path, "--progress", "always", "--quiet"], in: dir).stderr.isEmpty)
    // Not a terminal: auto mode prints nothing.
    let auto = try CLI.quantscope(["hash", Self.golden.path, "-o", "n.json"], in: dir)
    #expect(auto.status == 0 && auto.stderr.isEmpty)
  }
}
