import Foundation
import QuantscopeTestSupport
import Testing

/// The golden vectors are copied into the repository; their checksums are recorded in
/// `Tests/Fixtures/golden/README.md`. A fixture that changed (or a clone that lost it, e.g. to
/// Git LFS or a text-mode checkout) fails here by name before any codec test is trusted.
@Suite("Fixture integrity")
struct FixtureIntegrityTests {
  static let expected: [(file: String, bytes: Int, sha256: String)] = [
    ("ggml-quants.gguf", 3_541_504, "f560bee9b5b94d280e29d554f6d919def773161c933f2146e0cb0e1bc6669e3e"),
    ("ggml-quants-extra.gguf", 239_808, "444c015de273fabe20022a424881bfe378e39f4d7bca0a7101867d25cb16376c"),
  ]

  @Test(arguments: expected.map(\.file))
  func `golden file is the one ggml wrote`(file: String) throws {
    let entry = try #require(Self.expected.first { $0.file == file })
    let path = TestPaths.goldenFile(file)
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    #expect(data.count == entry.bytes, "\(path): \(data.count) bytes")
    #expect(SHA256.hex([UInt8](data)) == entry.sha256, "\(path): checksum")
  }

  @Test func `the README records the same checksums`() throws {
    let readme = try String(contentsOfFile: TestPaths.goldenFile("README.md"), encoding: .utf8)
    for entry in Self.expected {
      #expect(readme.contains("`\(entry.file)` | \(entry.bytes) | `\(entry.sha256)`"), "\(entry.file)")
    }
  }
}
