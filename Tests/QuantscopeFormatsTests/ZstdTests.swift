import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

extension IOTestData {
  /// Runs `zstd` (Debian's CLI, an independent oracle) with `arguments`; returns its exit status.
  static func zstdCLI(_ arguments: [String]) throws -> Int32 {
    try ProcessRunner.run(program: "zstd", arguments).status
  }
}

@Suite("zstd")
struct ZstdTests {
  static func compressible(_ n: Int) -> [UInt8] {
    (0..<n).map { UInt8(truncatingIfNeeded: ($0 / 7) % 13 &+ ($0 % 3)) }
  }

  @Test(arguments: [0, 1, 1000, 131_073, 2_500_000], [Int32(1), 3, 19])
  func `round trip of random and compressible data`(size: Int, level: Int32) throws {
    for data in [IOTestData.random(size, seed: UInt64(size) &+ 11), Self.compressible(size)] {
      let packed = try ZstdCompressor.compress(data, level: level)
      #expect(Array(packed.prefix(4)) == zstdMagic)
      #expect(try ZstdDecompressor.decompress(packed) == data)
    }
  }

  @Test func `compressible data shrinks, workers give the same content`() throws {
    let data = Self.compressible(4_000_000)
    let packed = try data.withUnsafeBytes { try ZstdCompressor.compress($0, level: 3, workers: 2) }
    #expect(packed.count < data.count / 20)
    #expect(try ZstdDecompressor.decompress(packed) == data)
  }

  @Test func `streaming in pieces and concatenated frames`() throws {
    let a = IOTestData.random(300_000, seed: 5), b = Self.compressible(200_000)
    let c = try ZstdCompressor(level: 5, checksum: true)
    var packed: [UInt8] = []
    for start in stride(from: 0, to: a.count, by: 77_777) {
      try a[start..<min(a.count, start + 77_777)].withUnsafeBytes { try c.compress($0) { packed += $0 } }
    }
    try c.finish { packed += $0 }
    let second = try ZstdCompressor.compress(b)
    // Decode both frames fed in small pieces.
    let d = try ZstdDecompressor()
    var out: [UInt8] = []
    let all = packed + second
    for start in stride(from: 0, to: all.count, by: 4099) {
      try all[start..<min(all.count, start + 4099)].withUnsafeBytes { try d.decompress($0) { out += $0 } }
    }
    try d.finish()
    #expect(out == a + b)
  }

  @Test func `truncated frame is an error`() throws {
    let packed = try ZstdCompressor.compress(IOTestData.random(100_000, seed: 9))
    for cut in [1, 5, packed.count / 2, packed.count - 4, packed.count - 1] {
      #expect(throws: FormatError.self, "cut at \(cut)") {
        _ = try ZstdDecompressor.decompress(Array(packed.prefix(cut)), label: "cut.zst")
      }
    }
    do {
      _ = try ZstdDecompressor.decompress(Array(packed.prefix(packed.count - 1)), label: "cut.zst")
    } catch let error as FormatError {
      #expect(error.path == "cut.zst")
      #expect(error.kind == .truncated)
    }
    #expect(throws: FormatError.self) { _ = try ZstdDecompressor.decompress([UInt8](), label: "empty") }
  }

  @Test func `bad magic and corrupted content are errors`() throws {
    var packed = try ZstdCompressor.compress(Self.compressible(50_000))
    var bad = packed
    bad[0] ^= 0xFF
    do {
      _ = try ZstdDecompressor.decompress(bad, label: "bad.zst")
      Issue.record("bad magic was accepted")
    } catch let error as FormatError {
      #expect(error.path == "bad.zst")
      #expect(error.message.lowercased().contains("unknown frame descriptor"))
    }
    // Flip a byte in the last block's content: the content checksum must catch it.
    packed[packed.count - 6] ^= 0x55
    #expect(throws: FormatError.self) { _ = try ZstdDecompressor.decompress(packed) }
  }

  @Test func `cross-check with the zstd command-line tool`() throws {
    let dir = try TestPaths.temporaryDirectory("zstd")
    defer { try? FileManager.default.removeItem(at: dir) }
    let data = IOTestData.random(700_000, seed: 3) + Self.compressible(900_000)
    // Ours → zstd -d.
    let ours = dir.appendingPathComponent("ours.zst")
    try Data(try ZstdCompressor.compress(data, level: 7)).write(to: ours)
    let decoded = dir.appendingPathComponent("ours.out")
    #expect(try IOTestData.zstdCLI(["-q", "-d", ours.path, "-o", decoded.path]) == 0)
    #expect(Array(try Data(contentsOf: decoded)) == data)
    // zstd → ours (level 19 with long-distance matching and a 2^28 window).
    let raw = dir.appendingPathComponent("theirs.bin")
    try Data(data).write(to: raw)
    let theirs = dir.appendingPathComponent("theirs.zst")
    #expect(try IOTestData.zstdCLI(["-q", "-19", "--long=28", raw.path, "-o", theirs.path]) == 0)
    #expect(try ZstdDecompressor.decompress(Array(try Data(contentsOf: theirs))) == data)
  }
}
