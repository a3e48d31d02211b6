import Foundation
import QuantscopeFormats
import QuantscopeTestSupport

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
  (
    "t.arr.nested",
    .array(
      elementType: .array,
      [
        .array(elementType: .uint8, [.uint8(1), .uint8(2)]),
        .array(elementType: .uint8, [.uint8(3)]),
      ])
  ),
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
