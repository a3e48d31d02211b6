import Foundation
import QuantscopeFormats
import QuantscopeTestSupport

/// Builds GGUF bytes field by field, so tests can write files that break any rule, in either
/// byte order, and know the offset of every field.
struct RawGGUF {
  var bytes: [UInt8] = []
  var bigEndian = false

  var count: Int { bytes.count }

  mutating func u8(_ v: UInt8) { bytes.append(v) }
  mutating func int<T: FixedWidthInteger>(_ v: T) {
    withUnsafeBytes(of: bigEndian ? v.bigEndian : v.littleEndian) { bytes.append(contentsOf: $0) }
  }
  mutating func u32(_ v: UInt32) { int(v) }
  mutating func u64(_ v: UInt64) { int(v) }
  mutating func i64(_ v: Int64) { int(v) }
  mutating func f32(_ v: Float) { int(v.bitPattern) }
  mutating func str(_ s: String) {
    u64(UInt64(s.utf8.count))
    bytes.append(contentsOf: s.utf8)
  }

  /// Magic, version, counts.
  mutating func header(version: UInt32 = 3, tensors: UInt64, kvs: UInt64) {
    bytes.append(contentsOf: "GGUF".utf8)
    u32(version)
    u64(tensors)
    u64(kvs)
  }

  /// A KV with a UINT32 value; returns the KV's offset.
  @discardableResult mutating func kvU32(_ key: String, _ v: UInt32) -> Int {
    let at = count
    str(key)
    u32(GGUFValueType.uint32.rawValue)
    u32(v)
    return at
  }

  /// A tensor info; returns its offset.
  @discardableResult mutating func info(_ name: String, ne: [Int64], type: UInt32, offset: UInt64) -> Int {
    let at = count
    str(name)
    u32(UInt32(ne.count))
    for v in ne { i64(v) }
    u32(type)
    u64(offset)
    return at
  }

  /// Zero padding to `alignment`; returns the data start.
  @discardableResult mutating func pad(_ alignment: Int = 32) -> Int {
    while count % alignment != 0 { u8(0) }
    return count
  }

  mutating func zeros(_ n: Int) { bytes += [UInt8](repeating: 0, count: n) }
}

/// Writes bytes to a fresh temporary file and returns its path.
func writeTemp(_ bytes: [UInt8], name: String = "t.gguf", in dir: URL? = nil) throws -> String {
  let d = try dir ?? TestPaths.temporaryDirectory("gguf")
  let url = d.appendingPathComponent(name)
  try Data(bytes).write(to: url)
  return url.path
}

/// Parses `bytes` as a GGUF file and returns the FormatError it throws (nil if it parses).
func parseError(_ bytes: [UInt8], allowDataOutOfBounds: Bool = false) throws -> FormatError? {
  let path = try writeTemp(bytes)
  do {
    _ = try GGUFFile(path: path, allowDataOutOfBounds: allowDataOutOfBounds)
    return nil
  } catch let e as FormatError {
    return e
  }
}

/// Writes a GGUF with our writer into memory; `data` gives each tensor's bytes.
func writeGGUF(
  metadata: [(key: String, value: GGUFValue)], tensors: [(GGUFTensorDeclaration, [UInt8])]
) throws -> [UInt8] {
  let sink = MemorySink()
  let writer = try GGUFWriter(metadata: metadata, tensors: tensors.map(\.0), sink: sink)
  try writer.writeHeader()
  for (_, data) in tensors { try data.withUnsafeBytes { try writer.writeData($0) } }
  try writer.finish()
  return sink.bytes
}

/// Metadata of every value type, including nested arrays and an empty array.
let everyTypeMetadata: [(key: String, value: GGUFValue)] = [
  ("general.architecture", .string("llama")),
  ("t.u8", .uint8(200)), ("t.i8", .int8(-100)), ("t.u16", .uint16(60000)), ("t.i16", .int16(-30000)),
  ("t.u32", .uint32(4_000_000_000)), ("t.i32", .int32(-2_000_000_000)), ("t.f32", .float32(0.25)),
  ("t.bool", .bool(true)), ("t.str", .string("héllo\nworld")), ("t.u64", .uint64(.max)),
  ("t.i64", .int64(.min)), ("t.f64", .float64(-1.5e300)),
  ("t.arr.str", .array(elementType: .string, [.string("a"), .string("bc")])),
  ("t.arr.f32", .array(elementType: .float32, (0..<20).map { .float32(Float($0) / 4) })),
  ("t.arr.empty", .array(elementType: .int32, [])),
  ("t.arr.nested", .array(elementType: .array, [
    .array(elementType: .uint8, [.uint8(1), .uint8(2)]),
    .array(elementType: .uint8, [.uint8(3)]),
  ])),
]

/// A small F32 tensor [4, 2] (ne) with values 0…7 and a Q8_0 tensor of one block.
func smallTensors() throws -> [(GGUFTensorDeclaration, [UInt8])] {
  var f32: [UInt8] = []
  for i in 0..<8 { withUnsafeBytes(of: Float(i).bitPattern.littleEndian) { f32.append(contentsOf: $0) } }
  var q8: [UInt8] = [0x00, 0x3C]  // d = 1.0
  q8 += (0..<32).map { UInt8(bitPattern: Int8($0 - 16)) }
  return [
    (try GGUFTensorDeclaration(name: "t.weight", type: .f32, ne: [4, 2]), f32),
    (try GGUFTensorDeclaration(name: "blk.0.q.weight", type: .q8_0, ne: [32]), q8),
  ]
}

/// A golden file (``TestPaths/goldenFile(_:)`` finds it, from a worktree too).
func goldenPath(_ name: String) -> String { TestPaths.goldenFile(name) }
