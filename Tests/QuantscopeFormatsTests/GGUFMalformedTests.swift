import Foundation
import QuantscopeCodecs
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// A corpus of malformed GGUF files built byte by byte: each must give a clean FormatError with
/// the right offset and tensor, never a crash.
@Suite("GGUF malformed corpus")
struct GGUFMalformedTests {
  @Test func `every prefix of a valid file throws or, past the last tensor's data, parses`() throws {
    let full = try writeGGUF(metadata: everyTypeMetadata, tensors: try smallTensors())
    let whole = try GGUFFile(path: try writeTemp(full))
    let lastEnd = try #require(whole.tensors.map { $0.dataOffset + $0.byteCount }.max())
    #expect(lastEnd < full.count)  // the last tensor is padded
    let dir = try TestPaths.temporaryDirectory("prefix")
    let path = dir.appendingPathComponent("p.gguf")
    var thrown = 0
    for length in 0..<full.count {
      try Data(full[0..<length]).write(to: path)
      do {
        let g = try GGUFFile(path: path.path)
        // Only the padding after the last tensor may be missing; verify reports it.
        #expect(length >= lastEnd, "prefix of \(length) bytes parsed")
        let findings = GGUFVerifier().structure(of: g)
        #expect(findings.map(\.kind) == [.truncatedData], "prefix \(length)")
      } catch let e as FormatError {
        thrown += 1
        #expect(length < lastEnd, "prefix of \(length) bytes: \(e)")
        #expect(e.path == path.path)
        // Every cut is a file that ends early, found while reading a header record.
        #expect(e.kind == .truncated, "prefix \(length): \(e)")
        guard case .header(let offset) = e.location else {
          Issue.record("prefix \(length): not a header location: \(e)")
          continue
        }
        #expect(offset >= 0 && offset <= max(length, whole.dataStart), "offset \(offset) for prefix \(length): \(e)")
      }
    }
    #expect(thrown == lastEnd)
  }

  @Test func `bad magic and versions`() throws {
    var r = RawGGUF()
    r.bytes = Array("GGUX".utf8) + [3, 0, 0, 0] + [UInt8](repeating: 0, count: 16)
    #expect(try parseError(r.bytes)?.offset == 0)
    for version: UInt32 in [0, 1, 4, 0x0003_0000 + 1] {
      var v = RawGGUF()
      v.header(version: version, tensors: 0, kvs: 0)
      let e = try #require(try parseError(v.bytes), "version \(version)")
      #expect(e.offset == 4)
      #expect(e.kind == .unsupported && e.location == .header(4))
    }
    var v2 = RawGGUF()
    v2.header(version: 2, tensors: 0, kvs: 0)
    #expect(try parseError(v2.bytes) == nil)
  }

  @Test func `absurd counts are rejected before allocating`() throws {
    var t = RawGGUF()
    t.header(tensors: .max, kvs: 0)
    let te = try #require(try parseError(t.bytes))
    #expect(te.offset == 8)
    #expect(te.kind == .truncated && te.message.contains("tensor count"))
    var k = RawGGUF()
    k.header(tensors: 0, kvs: 1 << 62)
    let ke = try #require(try parseError(k.bytes))
    #expect(ke.offset == 16)
    #expect(ke.kind == .truncated && ke.message.contains("metadata count"))
  }

  @Test func `string lengths past end of file`() throws {
    var r = RawGGUF()
    r.header(tensors: 0, kvs: 1)
    r.u64(1 << 40)  // key length
    r.zeros(64)
    let e = try #require(try parseError(r.bytes))
    #expect(e.offset == 24)
    #expect(e.kind == .outOfBounds && e.location == .header(24))  // 2^40 is past ggml's 1 GiB limit

    var v = RawGGUF()
    v.header(tensors: 0, kvs: 1)
    v.str("k")
    v.u32(GGUFValueType.string.rawValue)
    let at = v.count
    v.u64(100)
    v.zeros(20)
    #expect(try parseError(v.bytes)?.offset == at)

    // An array whose count cannot fit.
    var a = RawGGUF()
    a.header(tensors: 0, kvs: 1)
    a.str("arr")
    a.u32(GGUFValueType.array.rawValue)
    a.u32(GGUFValueType.uint32.rawValue)
    let countAt = a.count
    a.u64(1000)
    a.zeros(20)
    #expect(try parseError(a.bytes)?.offset == countAt)
  }

  @Test func `metadata arrays beyond the element budget are rejected before allocating`() throws {
    var r = RawGGUF()
    r.header(tensors: 0, kvs: 1)
    r.str("bytes")
    r.u32(GGUFValueType.array.rawValue)
    r.u32(GGUFValueType.uint8.rawValue)
    let countAt = r.count
    let n = GGUFFile.maxMetadataElements + 1
    r.u64(UInt64(n))
    r.zeros(n)
    let e = try #require(try parseError(r.bytes))
    #expect(e.offset == countAt)
    #expect(e.kind == .outOfBounds)
  }

  @Test func `unknown value type, duplicate and empty keys, deep nesting`() throws {
    var u = RawGGUF()
    u.header(tensors: 0, kvs: 1)
    u.str("k")
    let typeAt = u.count
    u.u32(13)
    u.u32(0)
    #expect(try parseError(u.bytes)?.offset == typeAt)

    var d = RawGGUF()
    d.header(tensors: 0, kvs: 2)
    d.kvU32("a", 1)
    let second = d.kvU32("a", 2)
    let de = try #require(try parseError(d.bytes))
    #expect(de.offset == second)
    #expect(de.kind == .malformed && de.message.contains("duplicate"))

    var empty = RawGGUF()
    empty.header(tensors: 0, kvs: 1)
    empty.kvU32("", 1)
    #expect(try parseError(empty.bytes)?.offset == 24)

    // Arrays nested 9 deep (limit 8).
    var n = RawGGUF()
    n.header(tensors: 0, kvs: 1)
    n.str("deep")
    n.u32(GGUFValueType.array.rawValue)
    for _ in 0..<9 {
      n.u32(GGUFValueType.array.rawValue)
      n.u64(1)
    }
    n.zeros(64)
    let ne = try #require(try parseError(n.bytes))
    #expect(ne.message.contains("nested"))
  }

  @Test func `bad alignment: not a power of two, wrong type`() throws {
    var r = RawGGUF()
    r.header(tensors: 0, kvs: 2)
    r.kvU32("general.architecture", 0)
    let at = r.kvU32("general.alignment", 48)
    let e = try #require(try parseError(r.bytes))
    #expect(e.offset == at)
    #expect(e.message.contains("power of two"))

    var w = RawGGUF()
    w.header(tensors: 0, kvs: 1)
    w.str("general.alignment")
    w.u32(GGUFValueType.uint64.rawValue)
    w.u64(32)
    let we = try #require(try parseError(w.bytes))
    #expect(we.offset == 24)
    #expect(we.message.contains("UINT32"))

    var z = RawGGUF()
    z.header(tensors: 0, kvs: 1)
    z.kvU32("general.alignment", 0)
    #expect(try parseError(z.bytes)?.offset == 24)
  }

  @Test func `tensor info errors name the tensor and offset`() throws {
    func file(_ build: (inout RawGGUF) -> Int, expect message: String, tensor: String) throws {
      var r = RawGGUF()
      r.header(tensors: 1, kvs: 0)
      let at = build(&r)
      r.pad()
      r.zeros(256)
      let e = try #require(try parseError(r.bytes), "\(message)")
      #expect(e.tensor == tensor, "\(e)")
      #expect(e.offset == at, "\(e)")
      #expect(e.message.contains(message), "\(e)")
    }
    // More than 4 dimensions: offset of the dimension count.
    try file(
      { r in
        r.str("five")
        let at = r.count
        r.u32(5)
        for _ in 0..<5 { r.i64(1) }
        r.u32(0)
        r.u64(0)
        return at
      }, expect: "5 dimensions", tensor: "five")
    // Element count overflow: offset of the tensor info.
    try file(
      { $0.info("huge", ne: [1 << 32, 1 << 32, 1 << 32], type: 0, offset: 0) },
      expect: "overflows", tensor: "huge")
    // Byte size overflow without element overflow.
    try file({ $0.info("big", ne: [1 << 62], type: 0, offset: 0) }, expect: "overflows", tensor: "big")
    // Negative dimension: offset of that ne.
    try file(
      { r in
        r.str("neg")
        r.u32(2)
        r.i64(4)
        let at = r.count
        r.i64(-1)
        r.u32(0)
        r.u64(0)
        return at
      }, expect: "negative", tensor: "neg")
    // Data past EOF.
    try file({ $0.info("far", ne: [8], type: 0, offset: 1 << 40) }, expect: "past end of file", tensor: "far")
    try file({ $0.info("huge.offset", ne: [8], type: 0, offset: .max) }, expect: "data offset", tensor: "huge.offset")
    // Row not a whole number of blocks.
    try file({ $0.info("q", ne: [33, 2], type: 8, offset: 0) }, expect: "not a multiple", tensor: "q")
    // Name too long.
    let long = String(repeating: "n", count: 64)
    try file({ $0.info(long, ne: [8], type: 0, offset: 0) }, expect: "longer than 63", tensor: long)
  }

  @Test func `duplicate tensor names`() throws {
    var r = RawGGUF()
    r.header(tensors: 2, kvs: 0)
    r.info("a", ne: [8], type: 0, offset: 0)
    let second = r.info("a", ne: [8], type: 0, offset: 32)
    r.pad()
    r.zeros(64)
    let e = try #require(try parseError(r.bytes))
    #expect(e.tensor == "a")
    #expect(e.offset == second)
  }

  @Test func `unknown and removed type ids are listed, reading them names the type`() throws {
    var r = RawGGUF()
    r.header(tensors: 3, kvs: 0)
    r.info("new.type", ne: [256], type: 99, offset: 0)
    r.info("old.type", ne: [32], type: 4, offset: 0)
    r.info("good", ne: [8], type: 0, offset: 0)
    let start = r.pad()
    for i in 0..<8 { r.f32(Float(i)) }
    let g = try GGUFFile(path: try writeTemp(r.bytes))
    #expect(g.tensors.map(\.name) == ["new.type", "old.type", "good"])
    #expect(g.tensors[0].encoding == .ggml(GGMLType(id: 99)))
    #expect(g.tensors[0].byteCount == 0)
    #expect(g.tensors[1].encoding == .ggml(GGMLType(id: 4)))
    let good = try g.tensors[2].bytes()
    #expect(good.count == 32)
    #expect(g.tensors[2].dataOffset == start)
    #expect(good.loadUnaligned(fromByteOffset: 28, as: Float.self) == 7)
    do {
      _ = try g.tensors[0].bytes()
      Issue.record("unknown type read")
    } catch let e as FormatError {
      #expect(e.tensor == "new.type")
      #expect(e.message.contains("id 99"))
    }
    do {
      _ = try g.tensors[1].bytes()
      Issue.record("removed type read")
    } catch let e as FormatError {
      #expect(e.tensor == "old.type")
      #expect(e.message.contains("Q4_2 (id 4)"))
      #expect(e.message.contains("removed"))
    }
    let kinds = GGUFVerifier().structure(of: g).map(\.kind)
    #expect(kinds.filter { $0 == .unusableType }.count == 2)
  }

  @Test func `big-endian files are byte-swapped`() throws {
    var r = RawGGUF()
    r.bigEndian = true
    r.header(tensors: 1, kvs: 2)
    r.kvU32("general.alignment", 64)
    r.str("s")
    r.u32(GGUFValueType.array.rawValue)
    r.u32(GGUFValueType.int16.rawValue)
    r.u64(2)
    r.int(Int16(-2))
    r.int(Int16(300))
    r.info("w", ne: [2, 3], type: 0, offset: 0)
    let start = r.pad(64)
    for i in 0..<6 { r.f32(Float(i)) }
    let g = try GGUFFile(path: try writeTemp(r.bytes))
    #expect(g.isBigEndian)
    #expect(g.version == 3)
    #expect(g.alignment == 64)
    #expect(g["s"] == .array(elementType: .int16, [.int16(-2), .int16(300)]))
    #expect(g.tensors[0].shape == [3, 2])
    #expect(g.tensors[0].dataOffset == start)
  }

  @Test func `a file with zero tensors and no padding parses`() throws {
    var r = RawGGUF()
    r.header(tensors: 0, kvs: 1)
    r.kvU32("x", 7)
    let g = try GGUFFile(path: try writeTemp(r.bytes))
    #expect(g.tensors.isEmpty)
    #expect(g["x"] == .uint32(7))
  }
}
