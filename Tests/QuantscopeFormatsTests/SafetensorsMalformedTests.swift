import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// Builds a safetensors file: the 8-byte length (the real one unless `declaredLength` is
/// given), the header text and the data.
func safetensorsBytes(_ header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
  let json = Array(header.utf8)
  var out: [UInt8] = []
  withUnsafeBytes(of: (declaredLength ?? UInt64(json.count)).littleEndian) { out.append(contentsOf: $0) }
  return out + json + data
}

/// Writes `bytes` to a fresh file in `dir` and returns its path.
func writeFile(_ dir: URL, _ name: String, _ bytes: [UInt8]) throws -> String {
  let url = dir.appendingPathComponent(name)
  try Data(bytes).write(to: url)
  return url.path
}

/// Opens `bytes` as a safetensors file and returns the error it throws (or records an issue).
func openError(_ bytes: [UInt8], _ comment: Comment? = nil) throws -> FormatError? {
  let dir = try TestPaths.temporaryDirectory("st-bad")
  defer { try? FileManager.default.removeItem(at: dir) }
  let path = try writeFile(dir, "bad.safetensors", bytes)
  do {
    _ = try SafetensorsFile(path: path)
    Issue.record("opened without error: \(comment?.rawValue ?? "")")
    return nil
  } catch let error as FormatError {
    #expect(error.path == path)
    #expect(!error.description.isEmpty)
    return error
  }
}

@Suite("safetensors malformed files")
struct SafetensorsMalformedTests {
  @Test func `file shorter than the length field`() throws {
    let e = try openError([1, 0, 0])
    #expect(e?.kind == .truncated)
    #expect(e?.location == .header(0))
  }

  @Test func `header length past end of file`() throws {
    let e = try openError(safetensorsBytes("{}", declaredLength: 1000))
    #expect(e?.kind == .truncated)
    #expect(e?.location == .header(0))
  }

  @Test func `header over 100 MB declared`() throws {
    let e = try openError(safetensorsBytes("{}", declaredLength: 100_000_001))
    #expect(e?.kind == .outOfBounds)
    // 100,000,000 exactly is allowed by the limit, so it fails on the file length instead.
    let f = try openError(safetensorsBytes("{}", declaredLength: 100_000_000))
    #expect(f?.kind == .truncated)
    let g = try openError(safetensorsBytes("{}", declaredLength: UInt64.max))
    #expect(g?.kind == .outOfBounds)
  }

  @Test func `bad JSON`() throws {
    let e = try openError(safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [1]"#))
    #expect(e?.message.contains("end of JSON") == true)
    #expect(e?.offset == 8 + 35)
    let f = try openError(safetensorsBytes(#"{"a" 1}"#))
    #expect(f?.offset == 8 + 5)
    _ = try openError(safetensorsBytes(#"{"a": {"dtype": 'F32'}}"#))
    _ = try openError(safetensorsBytes(#"{"a\q": 1}"#))
    _ = try openError(safetensorsBytes("{\"a\u{01}\": 1}"), "control character in a string")
    _ = try openError(safetensorsBytes(#"{"\ud800": {}}"#), "lone surrogate")
    _ = try openError(safetensorsBytes(#"{,}"#))
    _ = try openError(safetensorsBytes(#"{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},}"#), "trailing comma")
    _ = try openError(safetensorsBytes(""), "empty header")
  }

  @Test func `header is not valid UTF-8`() throws {
    var bytes = safetensorsBytes(#"{"__metadata__": {"k": "vv"}}"#)
    bytes[8 + 24] = 0xFF
    let e = try openError(bytes)
    #expect(e?.message.contains("UTF-8") == true)
    #expect(e?.offset == 8 + 24)
  }

  @Test func `JSON that is not an object`() throws {
    for text in ["[1, 2]", "1", "\"x\"", "null", "true"] {
      let e = try openError(safetensorsBytes(text), "\(text)")
      #expect(e?.message.contains("not a JSON object") == true)
      #expect(e?.offset == 8)
    }
  }

  @Test func `NUL padding after the object is rejected, whitespace is not`() throws {
    let e = try openError(safetensorsBytes("{}\0\0"))
    #expect(e?.message.contains("trailing characters") == true)
    #expect(e?.offset == 8 + 2)
    let dir = try TestPaths.temporaryDirectory("st-ws")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = try writeFile(dir, "ws.safetensors", safetensorsBytes(" \t\r\n{}  \n"))
    #expect(try SafetensorsFile(path: path).tensors.isEmpty)
  }

  @Test func `unknown dtype and wrong JSON types`() throws {
    let header = #"{"w": {"dtype": "F8_E4M3FN", "shape": [1], "data_offsets": [0, 1]}}"#
    let e = try openError(safetensorsBytes(header, data: [0]))
    #expect(e?.message.contains("unknown dtype") == true)
    #expect(e?.tensor == "w")
    #expect(e?.offset == 8 + 16)
    let cases: [(String, String)] = [
      (#"{"w": {"dtype": 7, "shape": [1], "data_offsets": [0, 4]}}"#, "dtype must be a string"),
      (#"{"w": {"dtype": "F32", "shape": 1, "data_offsets": [0, 4]}}"#, "shape must be an array"),
      (#"{"w": {"dtype": "F32", "shape": ["1"], "data_offsets": [0, 4]}}"#, "non-negative integer"),
      (#"{"w": {"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]}}"#, "non-negative integer"),
      (#"{"w": {"dtype": "F32", "shape": [1e0], "data_offsets": [0, 4]}}"#, "non-negative integer"),
      (#"{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#, "non-negative integer"),
      (#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}"#, "two integers"),
      (#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}}"#, "two integers"),
      (#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": {"a": 1}}}"#, "two integers"),
      (#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}}"#, "non-negative integer"),
      (#"{"w": {"dtype": "F32", "shape": [1]}}"#, "missing field `data_offsets`"),
      (#"{"w": {"shape": [1], "data_offsets": [0, 4]}}"#, "missing field `dtype`"),
      (#"{"w": {"dtype": "F32", "data_offsets": [0, 4]}}"#, "missing field `shape`"),
      (#"{"w": {"dtype": "F32", "dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#, "duplicate field"),
      (#"{"w": ["F32", [1]]}"#, "dtype, shape and data_offsets"),
      (#"{"w": ["F32", [1], [0, 4], 1]}"#, "dtype, shape and data_offsets"),
      (#"{"w": {"dtype": "F32", "shape": [-0], "data_offsets": [0, 0]}}"#, "non-negative integer"),
      (#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "x": 1.5e999}}"#, "out of range"),
      (#"{"w": 3}"#, "not a JSON object"),
      (#"{"__metadata__": {"k": 1}}"#, "not a string"),
      (#"{"__metadata__": ["k"]}"#, "map of strings"),
      (#"{"__metadata__": {}, "__metadata__": {}}"#, "duplicate field `__metadata__`"),
    ]
    for (header, expected) in cases {
      let e = try openError(safetensorsBytes(header, data: [0, 0, 0, 0]), "\(header)")
      #expect(e?.message.contains(expected) == true, "\(header): \(String(describing: e))")
      if !header.contains("__metadata__") { #expect(e?.tensor == "w", "\(header)") }
      #expect((e?.offset ?? -1) >= 8, "\(header)")
    }
  }

  @Test func `shape and size mismatch`() throws {
    let header = #"{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 12]}}"#
    let e = try openError(safetensorsBytes(header, data: Array(repeating: 0, count: 12)))
    #expect(e?.message.contains("needs 16") == true)
    #expect(e?.tensor == "w")
    #expect(e?.offset == 8 + 1)
  }

  @Test func `sub-byte dtypes must fill whole bytes`() throws {
    let header = #"{"w": {"dtype": "F4", "shape": [3], "data_offsets": [0, 2]}}"#
    let e = try openError(safetensorsBytes(header, data: [0, 0]))
    #expect(e?.message.contains("whole bytes") == true)
    let f6 = #"{"w": {"dtype": "F6_E2M3", "shape": [3], "data_offsets": [0, 3]}}"#
    _ = try openError(safetensorsBytes(f6, data: [0, 0, 0]), "18 bits")
  }

  @Test func `gaps, overlaps and offsets that run backwards`() throws {
    let gap =
      #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}"#
    let g = try openError(safetensorsBytes(gap, data: Array(repeating: 0, count: 12)))
    #expect(g?.message.contains("gap") == true)
    #expect(g?.tensor == "b")
    #expect(g?.offset == 8 + gap.utf8.count + 8)

    let overlap =
      #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#
    let o = try openError(safetensorsBytes(overlap, data: Array(repeating: 0, count: 12)))
    #expect(o?.message.contains("overlap") == true)
    #expect(o?.tensor == "b")

    let first = #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#
    let f = try openError(safetensorsBytes(first, data: Array(repeating: 0, count: 8)))
    #expect(f?.message.contains("gap") == true)
    #expect(f?.offset == 8 + first.utf8.count + 4)

    let backwards =
      #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [0], "data_offsets": [4, 0]}}"#
    _ = try openError(safetensorsBytes(backwards, data: Array(repeating: 0, count: 4)))
  }

  @Test func `data not ending at end of file`() throws {
    let header = #"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}"#
    let short = try openError(safetensorsBytes(header, data: Array(repeating: 0, count: 12)))
    #expect(short?.message.contains("only") == true)
    #expect(short?.tensor == "w")
    let trailing = try openError(safetensorsBytes(header, data: Array(repeating: 0, count: 20)))
    #expect(trailing?.message.contains("4 trailing bytes") == true)
    #expect(trailing?.offset == 8 + header.utf8.count + 16)
    let empty = try openError(safetensorsBytes("{}", data: [1]))
    #expect(empty?.message.contains("trailing") == true)
  }

  @Test func `overflowing shapes`() throws {
    let cases = [
      #"{"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 4]}}"#,
      #"{"w": {"dtype": "F32", "shape": [2305843009213693952], "data_offsets": [0, 4]}}"#,
      #"{"w": {"dtype": "F32", "shape": [18446744073709551615], "data_offsets": [0, 4]}}"#,
      #"{"w": {"dtype": "F32", "shape": [99999999999999999999999], "data_offsets": [0, 4]}}"#,
      #"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 18446744073709551615]}}"#,
      #"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 9223372036854775807]}}"#,
    ]
    for header in cases {
      let e = try openError(safetensorsBytes(header, data: [0, 0, 0, 0]), "\(header)")
      #expect(e?.tensor == "w", "\(header)")
    }
  }

  @Test func `deep nesting is an error, not a stack overflow`() throws {
    let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
    let header = #"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "x": "# + deep + "}}"
    let e = try openError(safetensorsBytes(header, data: [0, 0, 0, 0]))
    #expect(e?.message.contains("nested too deeply") == true)
    let meta = #"{"__metadata__": "# + deep + "}"
    _ = try openError(safetensorsBytes(meta))
  }

  /// Random corruptions of a valid file: each must open or throw FormatError, never crash.
  @Test func `random corruptions never crash`() throws {
    let dir = try TestPaths.temporaryDirectory("st-fuzz")
    defer { try? FileManager.default.removeItem(at: dir) }
    var opened = 0
    var rejected = 0
    for (round, bytes) in randomCorruptions(count: 400).enumerated() {
      let path = try writeFile(dir, "f\(round).safetensors", bytes)
      do {
        _ = try SafetensorsFile(path: path)
        opened += 1
      } catch is FormatError {
        rejected += 1
      }
    }
    print("random corruptions: \(opened) opened, \(rejected) rejected")
    #expect(opened + rejected == 400)
    #expect(rejected > 0 && opened > 0)
  }
}

/// `count` random corruptions (1–3 byte edits: replace, insert, delete, or a JSON punctuation
/// byte) of a small valid file, the same on every run (SplitMix64 with a fixed seed).
func randomCorruptions(count: Int) -> [[UInt8]] {
  let header =
    #"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"F4","shape":[4],"data_offsets":[24,26]},"c":{"dtype":"BF16","shape":[],"data_offsets":[26,28]}}"#
  let valid = safetensorsBytes(header, data: (0..<28).map { UInt8($0) })
  var rng = SplitMix(seed: 0x9E37_79B9_7F4A_7C15)
  func next() -> UInt64 { rng.next() }
  let punctuation = Array("{}[],:\"0123456789-.e".utf8)
  return (0..<count).map { _ in
    var bytes = valid
    for _ in 0..<(1 + Int(next() % 3)) {
      let i = Int(next() % UInt64(bytes.count))
      switch next() % 4 {
      case 0: bytes[i] = UInt8(truncatingIfNeeded: next())
      case 1: bytes[i] = punctuation[Int(next() % UInt64(punctuation.count))]
      case 2: bytes.remove(at: i)
      default: bytes.insert(UInt8(truncatingIfNeeded: next()), at: i)
      }
    }
    return bytes
  }
}
