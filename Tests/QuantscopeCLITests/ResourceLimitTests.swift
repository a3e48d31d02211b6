import Foundation
import QuantscopeTestSupport
import Testing

/// Headers that declare absurd sizes are rejected before anything is allocated for them: the
/// peak resident memory of `quantscope inspect` on such a file stays within a few MB of its peak
/// on a small valid file. Peak RSS is measured in a subprocess (`getrusage(RUSAGE_CHILDREN)`
/// through Python, which only launches quantscope).
@Suite("resource limits: absurd declared sizes", .serialized)
struct ResourceLimitTests {
  /// quantscope's exit status, stderr and peak resident set size in KiB.
  static func measure(_ arguments: [String]) throws -> (status: Int32, stderr: String, peakKiB: Int) {
    let script = """
      import json, resource, subprocess, sys
      r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
      print(json.dumps({"status": r.returncode, "stderr": r.stderr.decode(errors="replace"),
                        "peak": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
      """
    let r = try run("/usr/bin/env", ["python3", "-c", script, CLI.binary] + arguments)
    struct Out: Decodable { var status: Int32; var stderr: String; var peak: Int }
    let out = try JSONDecoder().decode(Out.self, from: Data(r.stdout.utf8))
    return (out.status, out.stderr, out.peak)
  }

  /// Peak RSS of inspecting a small valid sample: the baseline every limit is relative to (it
  /// differs between debug, release and sanitizer builds).
  static let baselineKiB: Int = {
    let sample = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q4_K_M.gguf").path
    return (try? measure(["inspect", sample]).peakKiB) ?? 0
  }()

  /// GGUF bytes: header, then `body` appended by the caller.
  struct GGUF {
    var bytes: [UInt8] = Array("GGUF".utf8)
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func string(_ s: String) { u64(UInt64(s.utf8.count)); bytes += s.utf8 }
    init(tensors: UInt64, kvs: UInt64) { u32(3); u64(tensors); u64(kvs) }
  }

  static func write(_ bytes: [UInt8], _ name: String, in dir: URL) -> String {
    let path = dir.appendingPathComponent(name).path
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
    return path
  }

  /// Runs `inspect` on `bytes` and expects exit 1 with `message`, within 32 MiB of the baseline.
  func expectRejected(_ bytes: [UInt8], _ name: String, _ message: String) throws {
    let dir = try TestPaths.temporaryDirectory("limits")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = Self.write(bytes, name, in: dir)
    let r = try Self.measure(["inspect", path])
    #expect(r.status == 1, "\(name): \(r.stderr)")
    #expect(r.stderr.contains(message), "\(name): \(r.stderr)")
    #expect(r.stderr.split(separator: "\n").count == 1, "\(name): \(r.stderr)")
    #expect(Self.baselineKiB > 0)
    #expect(
      r.peakKiB < Self.baselineKiB + 32 << 10, "\(name): peak \(r.peakKiB) KiB vs baseline \(Self.baselineKiB) KiB")
  }

  @Test func `GGUF: 10^9 metadata entries`() throws {
    var g = GGUF(tensors: 0, kvs: 1_000_000_000)
    g.string("general.name"); g.u32(8); g.string("x")
    try expectRejected(g.bytes, "kv.gguf", "metadata count 1000000000 cannot fit")
  }

  @Test func `GGUF: 2^60 tensor infos`() throws {
    let g = GGUF(tensors: 1 << 60, kvs: 0)
    try expectRejected(g.bytes + [UInt8](repeating: 0, count: 64), "tensors.gguf", "tensor count")
  }

  @Test func `GGUF: a 2^60-element tensor`() throws {
    var g = GGUF(tensors: 1, kvs: 0)
    g.string("huge"); g.u32(2); g.u64(1 << 30); g.u64(1 << 30); g.u32(0); g.u64(0)  // F32 [2^30, 2^30]
    g.bytes += [UInt8](repeating: 0, count: 32 - g.bytes.count % 32 + 64)
    try expectRejected(g.bytes, "elements.gguf", "past end of file")
  }

  @Test func `GGUF: a 2^40-element metadata array and a 2^62-byte string`() throws {
    var a = GGUF(tensors: 0, kvs: 1)
    a.string("big.array"); a.u32(9); a.u32(5); a.u64(1 << 40)  // ARRAY of INT32
    try expectRejected(a.bytes + [UInt8](repeating: 0, count: 64), "array.gguf", "big.array")
    var s = GGUF(tensors: 0, kvs: 1)
    s.string("big.string"); s.u32(8); s.u64(1 << 62)
    try expectRejected(s.bytes + [UInt8](repeating: 0, count: 64), "string.gguf", "big.string")
  }

  static func safetensors(header: [UInt8], declared: UInt64? = nil) -> [UInt8] {
    var out: [UInt8] = []
    withUnsafeBytes(of: (declared ?? UInt64(header.count)).littleEndian) { out += $0 }
    return out + header
  }

  @Test func `safetensors: a 90 MB header declared but absent`() throws {
    try expectRejected(
      Self.safetensors(header: Array("{}".utf8), declared: 90_000_000), "absent.safetensors", "past end of file")
  }

  @Test func `safetensors: a header over the 100 MB limit and a 2^62-element shape`() throws {
    try expectRejected(
      Self.safetensors(header: Array("{}".utf8), declared: 1 << 40), "limit.safetensors", "exceeds the limit")
    let shape = Array(#"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#.utf8)
    try expectRejected(Self.safetensors(header: shape) + [0, 0, 0, 0], "shape.safetensors", "overflows")
  }

  @Test func `safetensors: a 90 MB header present costs memory in proportion, not more`() throws {
    let dir = try TestPaths.temporaryDirectory("limits90")
    defer { try? FileManager.default.removeItem(at: dir) }
    // One tensor and 90 MB of whitespace: valid JSON, within the crate's 100 MB limit.
    var header = Array(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#.utf8)
    header += [UInt8](repeating: 0x20, count: 90_000_000 - header.count)
    let path = Self.write(Self.safetensors(header: header) + [0, 0, 128, 63], "big-header.safetensors", in: dir)
    let r = try Self.measure(["inspect", path])
    #expect(r.status == 0, "\(r.stderr)")
    // The mapping itself is up to 90 MB of resident file pages; allow the parse one more copy,
    // and the thread sanitizer's shadow of the mapping one more (in a plain build the peak is
    // the baseline plus the mapping).
    #expect(
      r.peakKiB < Self.baselineKiB + 3 * 90_000 + 32 << 10, "peak \(r.peakKiB) KiB vs baseline \(Self.baselineKiB) KiB")
  }
}
