import Foundation
import QuantscopeFormats

/// Builds GGUF bytes field by field, so tests can write files that break any rule, in either
/// byte order, and know the offset of every field.
public struct RawGGUF {
  /// The bytes so far.
  public var bytes: [UInt8] = []
  /// Write multi-byte fields big-endian.
  public var bigEndian = false

  /// An empty file.
  public init() {}

  /// Bytes so far: the offset of the next field.
  public var count: Int { bytes.count }

  /// A byte.
  public mutating func u8(_ v: UInt8) { bytes.append(v) }
  /// An integer in the file's byte order.
  public mutating func int<T: FixedWidthInteger>(_ v: T) {
    withUnsafeBytes(of: bigEndian ? v.bigEndian : v.littleEndian) { bytes.append(contentsOf: $0) }
  }
  /// A UINT32.
  public mutating func u32(_ v: UInt32) { int(v) }
  /// A UINT64.
  public mutating func u64(_ v: UInt64) { int(v) }
  /// An INT64.
  public mutating func i64(_ v: Int64) { int(v) }
  /// A FLOAT32.
  public mutating func f32(_ v: Float) { int(v.bitPattern) }
  /// A GGUF string: UINT64 length, then UTF-8 bytes.
  public mutating func str(_ s: String) {
    u64(UInt64(s.utf8.count))
    bytes.append(contentsOf: s.utf8)
  }

  /// Magic, version, counts.
  public mutating func header(version: UInt32 = 3, tensors: UInt64, kvs: UInt64) {
    bytes.append(contentsOf: "GGUF".utf8)
    u32(version)
    u64(tensors)
    u64(kvs)
  }

  /// A KV with a UINT32 value; returns the KV's offset.
  @discardableResult public mutating func kvU32(_ key: String, _ v: UInt32) -> Int {
    let at = count
    str(key)
    u32(GGUFValueType.uint32.rawValue)
    u32(v)
    return at
  }

  /// A tensor info; returns its offset.
  @discardableResult public mutating func info(_ name: String, ne: [Int64], type: UInt32, offset: UInt64) -> Int {
    let at = count
    str(name)
    u32(UInt32(ne.count))
    for v in ne { i64(v) }
    u32(type)
    u64(offset)
    return at
  }

  /// Zero padding to `alignment`; returns the data start.
  @discardableResult public mutating func pad(_ alignment: Int = 32) -> Int {
    while count % alignment != 0 { u8(0) }
    return count
  }

  /// `n` zero bytes.
  public mutating func zeros(_ n: Int) { bytes += [UInt8](repeating: 0, count: n) }
}

/// Writes bytes to a fresh temporary file and returns its path.
public func writeTemp(_ bytes: [UInt8], name: String = "t.gguf", in dir: URL? = nil) throws -> String {
  let d = try dir ?? TestPaths.temporaryDirectory("gguf")
  let url = d.appendingPathComponent(name)
  try Data(bytes).write(to: url)
  return url.path
}

/// Writes a GGUF with our writer into memory; `data` gives each tensor's bytes.
public func writeGGUF(
  metadata: [(key: String, value: GGUFValue)], tensors: [(GGUFTensorDeclaration, [UInt8])]
) throws -> [UInt8] {
  let sink = MemorySink()
  let writer = try GGUFWriter(metadata: metadata, tensors: tensors.map(\.0), sink: sink)
  try writer.writeHeader()
  for (_, data) in tensors { try data.withUnsafeBytes { try writer.writeData($0) } }
  try writer.finish()
  return sink.bytes
}
