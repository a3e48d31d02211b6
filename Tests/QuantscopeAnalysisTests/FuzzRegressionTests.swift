import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// Replays the fuzz targets' seeds (`Fuzz/Corpus/<target>/`) and every crasher the fuzzers found
/// (`Fuzz/Regressions/<target>/`) through the very harness code the fuzz targets run
/// (`FuzzHarness.swift` is a symlink to `Fuzz/Sources/FuzzHarness/FuzzHarness.swift`): each
/// input must parse or throw a `FormatError`; a trap fails the whole test run. Plus one explicit
/// test per bug found, reproducing it from bytes built here.
@Suite("fuzz regressions")
struct FuzzRegressionTests {
  static let fuzz = TestPaths.repository.appendingPathComponent("Fuzz")

  static func inputs(_ folder: String, _ target: String) throws -> [URL] {
    let dir = fuzz.appendingPathComponent(folder).appendingPathComponent(target)
    guard FileManager.default.fileExists(atPath: dir.path) else { return [] }
    return try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
      .sorted { $0.lastPathComponent < $1.lastPathComponent }
  }

  static let mustParse: [String: [String]] = [
    "gguf": ["sample-header", "types", "big-endian", "metadata-only"],
    "safetensors": ["dtypes", "fp8-scales", "empty"],
    "shard-index": ["sample-small", "empty-map"],
    "imatrix": ["legacy", "gguf"],
    "decoders": ["type0", "type1", "type2", "type20", "type40", "specials0", "specials8"],
  ]
  static let mustReject: [String: [String]] = [
    "gguf": ["bad-magic", "version-1", "absurd-tensor-count", "absurd-kv-count"],
    "safetensors": ["length-past-end", "declared-90MB", "bad-json", "overflow", "reversed", "lone-surrogate", "deep"],
    "shard-index": ["not-a-string", "array"],
    "imatrix": ["legacy-truncated", "legacy-absurd-count"],
  ]

  static func replay(_ url: URL, _ target: String) throws -> FuzzHarness.Outcome {
    let body = try #require(FuzzHarness.targets[target])
    let data = try Data(contentsOf: url)
    return data.withUnsafeBytes { body($0) }
  }

  @Test(arguments: ["gguf", "safetensors", "shard-index", "imatrix", "decoders"])
  func `every seed parses or is rejected, and the samples' seeds parse`(target: String) throws {
    let seeds = try Self.inputs("Corpus", target)
    #expect(seeds.count >= 4, "seed corpus of \(target) missing: run scripts/fuzz-seeds")
    var parsed = 0
    for url in seeds {
      let outcome = try Self.replay(url, target)
      if case .parsed = outcome { parsed += 1 }
      // Seeds made from a sample or a valid construction must parse; malformed ones must not
      // (names as scripts/fuzz-seeds gives them).
      let name = url.lastPathComponent
      if (Self.mustParse[target] ?? []).contains(where: { name.hasPrefix($0 + "-") && name.count == $0.count + 13 }) {
        #expect(outcome.isParsed, "\(target)/\(name): \(outcome)")
      }
      if (Self.mustReject[target] ?? []).contains(where: { name.hasPrefix($0 + "-") && name.count == $0.count + 13 }) {
        #expect(!outcome.isParsed, "\(target)/\(name) parsed")
      }
    }
    #expect(parsed > 0)
  }

  /// Replays every crasher found so far (`Fuzz/Regressions/<target>/`) and the checked-in replay
  /// corpus (`Tests/Fixtures/fuzz/<target>/`: `valid-*` inputs that must parse and `truncated-*`
  /// prefixes of them that must parse or be rejected, never trap). The corpus keeps every target
  /// replaying something, so the test cannot pass by replaying nothing.
  @Test(arguments: ["gguf", "safetensors", "shard-index", "imatrix", "decoders"])
  func `every crasher found so far is handled`(target: String) throws {
    let corpus = TestPaths.repository.appendingPathComponent("Tests/Fixtures/fuzz").appendingPathComponent(target)
    let fixtures = try FileManager.default.contentsOfDirectory(at: corpus, includingPropertiesForKeys: nil)
      .sorted { $0.lastPathComponent < $1.lastPathComponent }
    #expect(fixtures.contains { $0.lastPathComponent.hasPrefix("valid-") }, "no valid replay input for \(target)")
    #expect(
      fixtures.contains { $0.lastPathComponent.hasPrefix("truncated-") }, "no truncated replay input for \(target)")
    for url in try Self.inputs("Regressions", target) + fixtures {
      let outcome = try Self.replay(url, target)
      if url.lastPathComponent.hasPrefix("valid-") {
        #expect(outcome.isParsed, "\(target)/\(url.lastPathComponent): \(outcome)")
      }
    }
  }

  /// Found by fuzz-gguf: a tensor whose row length is 0 has no data, so its element count (0)
  /// never overflowed, but `rowCount` multiplied the other dimensions and trapped on overflow.
  @Test func `rowCount of a zero-length row with huge other dimensions does not trap`() throws {
    var b: [UInt8] = Array("GGUF".utf8)
    func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
    func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
    u32(3); u64(1); u64(0)
    u64(1); b += Array("t".utf8)  // name
    u32(4); u64(0); u64(1 << 40); u64(1 << 40); u64(1 << 40)  // ne: row length 0
    u32(0); u64(0)  // F32, offset 0
    b += [UInt8](repeating: 0, count: 32 - b.count % 32)
    let file = b.withUnsafeBytes { MappedFile(bytes: $0, path: "zero-row.gguf") }
    let gguf = try GGUFFile(file: file)
    let t = try #require(gguf.tensors.first)
    #expect(t.elementCount == 0)
    #expect(t.rowLength == 0)
    #expect(t.rowCount == Int.max)
    #expect(b.withUnsafeBytes { FuzzHarness.gguf($0) }.isParsed)
  }

  /// Found by fuzz-gguf ("fuzz target overwrites its const input"): the verifier's
  /// `advise(.dontNeed)` on an in-memory `MappedFile` zeroed whole heap pages, other
  /// allocations included. Advice is now ignored for in-memory files.
  @Test func `advice on an in-memory file leaves every byte in place`() throws {
    let bytes = (0..<3 * 4096).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    let neighbour = [UInt8](repeating: 0xAB, count: 8192)
    let file = bytes.withUnsafeBytes { MappedFile(bytes: $0, path: "memory") }
    file.advise(.dontNeed)
    file.advise(.dontNeed, offset: 100, count: 5000)
    #expect(Array(file.allBytes) == bytes)
    #expect(neighbour.allSatisfy { $0 == 0xAB })
  }
}

extension FuzzHarness.Outcome {
  var isParsed: Bool {
    if case .parsed = self { return true }
    return false
  }
}
