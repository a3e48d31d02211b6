import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// Test data and oracles shared by the I/O tests.
enum IOTestData {
  /// Runs a Python 3 script (an independent oracle, never used by the product) with `stdin` as
  /// input and returns its standard output; the test fails when Python or a module is missing.
  static func python(_ script: String, stdin: [UInt8] = []) throws -> String {
    let r = try ProcessRunner.run(program: "python3", ["-c", script], input: Data(stdin))
    guard r.status == 0 else {
      throw IOTestData.OracleFailure(
        message: "python3 failed (scripts/setup --test installs the oracles): "
          + r.stderrText)
    }
    return r.stdoutText
  }

  struct OracleFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
  }

  /// Deterministic test bytes: byte i is (31 i + 7) mod 256.
  static func pattern(_ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) } }

  /// Seeded pseudo-random bytes (SplitMix64), reproducible across runs.
  static func random(_ n: Int, seed: UInt64) -> [UInt8] {
    var rng = SplitMix(seed: seed)
    return rng.bytes(n)
  }

}

@Suite("XXH3")
struct XXH3Tests {
  /// Digests of `IOTestData.pattern(n)` computed with Python's `xxhash` 4.1.0 (PyPI, which bundles its
  /// own copy of xxHash 0.8.4, independent of Debian's libxxhash 0.8.1):
  /// `xxhash.xxh3_128_hexdigest(d), xxhash.xxh3_64_hexdigest(d)`. The empty-input 128-bit value
  /// is also the one published in xxHash's own sanity tests.
  static let recorded: [(Int, String, String)] = [
    (0, "99aa06d3014798d86001c324468d497f", "2d06800538d394c2"),
    (1, "495b62073ef70ca44c5cca45d0f4811f", "4c5cca45d0f4811f"),
    (3, "46f66cb93538156515f7093b173d005c", "15f7093b173d005c"),
    (4, "7fefeeffb4d0eab3b987ca5d9241572a", "dca012f95811b6b9"),
    (8, "803c675a846cc6c256bb836ceb6d4baa", "dec6a9a43575982e"),
    (9, "d46556872d230f224376673580310154", "cbe393399f17ffbd"),
    (16, "650fe308c566747df853dd94614dfa07", "7e484c18d74895d0"),
    (17, "18217300b5132d5a78c349fe81b2f26c", "208bde5ee2bed407"),
    (128, "b4f87b99d2db8a511e04fad9f0cacb4d", "f92b70eaa21a6288"),
    (129, "6881633650cd8924c51bc887976aef63", "f8f76713f2bb60fa"),
    (240, "de57aab31e77a2ff93e173833f75ab66", "ccc7375172c41f03"),
    (241, "92b991a7192f3f080b3b630948ce4a00", "0b3b630948ce4a00"),
    (1024, "4c17271c906df79223bc880ebf0d29c6", "23bc880ebf0d29c6"),
    (4096, "49d3842b33d51e8aa3c19f8174cde0bb", "a3c19f8174cde0bb"),
    (100_000, "8ce7a24d31cd94b1ccf90df7e7e37036", "ccf90df7e7e37036"),
    (1 << 20, "e3503d8de40743b7269eb834f6c110a9", "269eb834f6c110a9"),
  ]

  @Test func `one-shot digests match Python xxhash vectors`() {
    for (n, h128, h64) in Self.recorded {
      let data = IOTestData.pattern(n)
      #expect(XXH3.hash128(data).hex == h128, "xxh3-128 of \(n) bytes")
      let hex64 = String(XXH3.hash64(data), radix: 16)
      #expect(String(repeating: "0", count: 16 - hex64.count) + hex64 == h64, "xxh3-64 of \(n) bytes")
    }
  }

  @Test func `streaming in uneven pieces equals one-shot`() {
    for (n, h128, _) in Self.recorded {
      let data = IOTestData.pattern(n)
      let hasher = XXH3Hasher128()
      let hasher64 = XXH3Hasher64()
      var offset = 0
      var piece = 1
      while offset < n {
        let end = min(n, offset + piece)
        data[offset..<end].withUnsafeBytes {
          hasher.update($0)
          hasher64.update($0)
        }
        offset = end
        piece = piece * 3 + 1
      }
      #expect(hasher.digest().hex == h128, "streamed xxh3-128 of \(n) bytes")
      #expect(hasher64.digest() == XXH3.hash64(data))
      hasher.reset()
      hasher.update(data)
      #expect(hasher.digest().hex == h128, "after reset")
    }
  }

  @Test func `random inputs agree with Python xxhash live`() throws {
    let sizes = [5, 63, 255, 1000, 65_537, 3_000_001]
    var blob: [UInt8] = []
    var expected: [String] = []
    for (i, n) in sizes.enumerated() {
      let data = IOTestData.random(n, seed: UInt64(i + 1))
      blob += data
      expected.append(XXH3.hash128(data).hex)
    }
    let script = """
      import sys, xxhash
      blob = sys.stdin.buffer.read()
      off = 0
      for n in [\(sizes.map(String.init).joined(separator: ","))]:
          print(xxhash.xxh3_128_hexdigest(blob[off:off+n])); off += n
      """
    let oracle = try IOTestData.python(script, stdin: blob).split(separator: "\n").map(String.init)
    #expect(oracle == expected)
  }

  @Test func `hex parses back, canonical bytes are big-endian`() throws {
    let d = XXH3.hash128(IOTestData.pattern(17))
    #expect(XXH3Digest128(hex: d.hex) == d)
    #expect(XXH3Digest128(hex: d.hex.uppercased()) == d)
    #expect(XXH3Digest128(hex: "xyz") == nil)
    #expect(XXH3Digest128(hex: String(repeating: "g", count: 32)) == nil)
    let c = d.canonicalBytes
    #expect(c.count == 16)
    #expect(c.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } == d.high)
    #expect(c.suffix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } == d.low)
  }
}
