import Foundation
import QuantscopeCodecs
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// One (input case, type) pair of the golden files, for the IQ, ternary, microscaling and binary
/// codecs. Names follow `Tests/Fixtures/golden/README.md`: `CASE.TYPE`, `CASE.TYPE.im`,
/// `CASE.TYPE.f32`, `in.CASE`, `im.CASE`.
struct IQGoldenCase: Sendable, CustomTestStringConvertible {
  /// The input case (`gauss`, `edge`, …).
  let name: String
  /// The type.
  let type: GGMLType
  /// Whether the tensors live in `ggml-quants-extra.gguf`.
  let extra: Bool
  /// Whether the file holds the plain (no imatrix) variant.
  let hasPlain: Bool
  /// Whether the file holds an `.im` variant.
  let hasImportance: Bool

  var testDescription: String { "\(name).\(type.name)" }

  /// The GGUF spelling of the type in tensor names (`iq2_xxs`, `q2_0`).
  var typeName: String { type.name.lowercased() }

  /// The tensor whose dequantization is stored as `.f32`: the `.im` variant where it exists.
  var decodedTensor: String { hasImportance ? "\(name).\(typeName).im" : "\(name).\(typeName)" }

  /// All cases of `ggml-quants.gguf`.
  static let mainCases = ["gauss", "uniform", "student3", "superweight", "edge", "tiny", "large"]
  /// The cases of `ggml-quants-extra.gguf`.
  static let extraCases = ["gauss", "superweight", "edge", "large"]
  /// Types that ggml refuses to quantize without an imatrix (no plain tensor in the file).
  static let imatrixOnly: Set<GGMLType> = [.iq2_xxs, .iq2_xs, .iq1_s]

  /// Every case of `types` in the main file (plus `q2_0` from the extra file when listed).
  static func cases(_ types: [GGMLType]) -> [IQGoldenCase] {
    var result: [IQGoldenCase] = []
    for type in types {
      if type == .q2_0 {
        for c in extraCases {
          result.append(IQGoldenCase(name: c, type: type, extra: true, hasPlain: true, hasImportance: false))
        }
      } else {
        for c in mainCases {
          result.append(
            IQGoldenCase(name: c, type: type, extra: false, hasPlain: !imatrixOnly.contains(type), hasImportance: true))
        }
      }
    }
    return result
  }
}

/// Access to the golden GGUF files through quantscope's own reader.
enum IQGoldenFiles {
  /// The golden directory.
  static let directory: URL = TestPaths.golden

  /// `ggml-quants.gguf`, opened once.
  static let main: Result<GGUFFile, any Error> = Result {
    try GGUFFile(path: directory.appendingPathComponent("ggml-quants.gguf").path)
  }
  /// `ggml-quants-extra.gguf`, opened once.
  static let extra: Result<GGUFFile, any Error> = Result {
    try GGUFFile(path: directory.appendingPathComponent("ggml-quants-extra.gguf").path)
  }

  /// The tensor `name` of the main or extra file.
  static func tensor(_ name: String, extra: Bool) throws -> TensorInfo {
    let file = try (extra ? Self.extra : Self.main).get()
    return try #require(file.tensors.first { $0.name == name }, "golden tensor \(name) is missing")
  }

  /// The raw bytes of tensor `name`.
  static func bytes(_ name: String, extra: Bool) throws -> [UInt8] {
    Array(try tensor(name, extra: extra).bytes())
  }

  /// The values of F32 tensor `name`.
  static func floats(_ name: String, extra: Bool) throws -> [Float] {
    let t = try tensor(name, extra: extra)
    #expect(t.encoding == .ggml(.f32), "\(name) is not F32")
    let raw = try t.bytes()
    return (0..<(raw.count / 4)).map { i in
      Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
    }
  }

  /// Decodes `name` with quantscope's codec and requires the exact bits of `expectedName`.
  static func expectDecodeMatches(_ c: IQGoldenCase) throws {
    let codec = try #require(Codecs.codec(for: c.type), "no codec for \(c.type)")
    let t = try tensor(c.decodedTensor, extra: c.extra)
    #expect(t.encoding == .ggml(c.type))
    let expected = try floats("\(c.name).\(c.typeName).f32", extra: c.extra)
    let raw = try t.bytes()
    let blocks = t.elementCount / c.type.blockElements
    #expect(raw.count == blocks * c.type.blockBytes)
    var decoded = [Float](repeating: .nan, count: blocks * c.type.blockElements)
    decoded.withUnsafeMutableBufferPointer { out in
      guard let base = raw.baseAddress, let dst = out.baseAddress else { return }
      codec.decode(base, blocks, dst)
    }
    #expect(decoded.count == expected.count)
    if let i = (0..<min(decoded.count, expected.count)).first(where: {
      decoded[$0].bitPattern != expected[$0].bitPattern
    }) {
      let block = i / c.type.blockElements
      Issue.record(
        """
        \(c.decodedTensor): first difference in block \(block) element \(i % c.type.blockElements): \
        got \(decoded[i]) (0x\(String(decoded[i].bitPattern, radix: 16))), \
        ggml \(expected[i]) (0x\(String(expected[i].bitPattern, radix: 16)))
        """)
    }
  }

  /// IQ1_M's bytes for main-file case `name` as ggml 0.25.3 quantizes it: its split search
  /// changed after 0.21.0 (which wrote `ggml-quants.gguf`) and disagrees with it on
  /// `superweight`, `edge.im` and `large.im`. `Tests/Fixtures/regressions/` holds 0.25.3's bytes
  /// for every case, 896 bytes per variant, cases in ``IQGoldenCase/mainCases`` order, plain then
  /// `.im` (see the README there).
  static func ggml0253IQ1M(_ name: String, importance: Bool) throws -> [UInt8] {
    let url = TestPaths.repository.appendingPathComponent(
      "Tests/Fixtures/regressions/ggml-0.25.3-iq1_m-golden-inputs.bin")
    let all = [UInt8](try Data(contentsOf: url))
    try #require(all.count == 14 * 896, "\(url.path): \(all.count) bytes")
    let index = try #require(IQGoldenCase.mainCases.firstIndex(of: name))
    let start = (2 * index + (importance ? 1 : 0)) * 896
    return Array(all[start..<(start + 896)])
  }

  /// Quantizes `in.CASE` (with `im.CASE` when `importance`) and requires the exact bytes ggml
  /// stored for that variant (for IQ1_M, ggml 0.25.3's bytes: see ``ggml0253IQ1M(_:importance:)``).
  static func expectQuantizeMatches(_ c: IQGoldenCase, importance: Bool) throws {
    let codec = try #require(Codecs.codec(for: c.type), "no codec for \(c.type)")
    let quantize = try #require(codec.quantize, "no quantizer for \(c.type)")
    let input = try tensor("in.\(c.name)", extra: c.extra)
    let rowLength = input.rowLength
    let rows = input.rowCount
    let x = try floats("in.\(c.name)", extra: c.extra)
    let weights = importance ? try floats("im.\(c.name)", extra: c.extra) : []
    #expect(!importance || weights.count == rowLength)
    let tensorName = importance ? "\(c.name).\(c.typeName).im" : "\(c.name).\(c.typeName)"
    let expected =
      try c.type == .iq1_m && !c.extra
      ? ggml0253IQ1M(c.name, importance: importance) : bytes(tensorName, extra: c.extra)
    let blocksPerRow = rowLength / c.type.blockElements
    var out = [UInt8](repeating: 0xA5, count: rows * blocksPerRow * c.type.blockBytes)
    x.withUnsafeBufferPointer { src in
      weights.withUnsafeBufferPointer { w in
        out.withUnsafeMutableBytes { dst in
          guard let s = src.baseAddress, let d = dst.baseAddress else { return }
          quantize(s, rows, rowLength, importance ? w.baseAddress : nil, d)
        }
      }
    }
    #expect(out.count == expected.count)
    if let i = (0..<min(out.count, expected.count)).first(where: { out[$0] != expected[$0] }) {
      let block = i / c.type.blockBytes
      let start = block * c.type.blockBytes
      let end = min(start + c.type.blockBytes, out.count, expected.count)
      func hex(_ b: ArraySlice<UInt8>) -> String { b.map { String(format: "%02x", $0) }.joined() }
      Issue.record(
        """
        \(tensorName): first difference in block \(block) (row \(block / blocksPerRow)) at byte \(i - start)
          got  \(hex(out[start..<end]))
          ggml \(hex(expected[start..<end]))
        """)
    }
  }
}

/// The known-answer inputs of reference §5.16: data sets A, B, C (8 rows × 1024) and an
/// imatrix, made from an xorshift32 stream with exact f32 arithmetic.
enum IQKnownAnswer {
  static let rows = 8
  static let rowLength = 1024

  /// `sf(u) = f32(Int32(bitPattern: u))·2⁻³¹`.
  private static func sf(_ u: UInt32) -> Float { Float(Int32(bitPattern: u)) * 0x1p-31 }

  /// The two random streams u1, u2 (N = 8192 each).
  private static let streams: (u1: [UInt32], u2: [UInt32]) = {
    var s: UInt32 = 0x1234_5678
    var out: [UInt32] = []
    out.reserveCapacity(2 * 8192)
    for _ in 0..<(2 * 8192) {
      s ^= s << 13
      s ^= s >> 17
      s ^= s << 5
      out.append(s)
    }
    return (Array(out[0..<8192]), Array(out[8192...]))
  }()

  /// Data set A: uniform in (−2.5, 2.5).
  static let a: [Float] = streams.u1.map { sf($0) * 2.5 }
  /// Data set B: A cubed, with the first 256 values of row 3 zeroed.
  static let b: [Float] = {
    var b = a.map { ($0 * $0) * $0 }
    for j in 0..<256 { b[3 * 1024 + j] = 0 }
    return b
  }()
  /// Data set C: A divided by a second uniform stream (heavy tails).
  static let c: [Float] = zip(a, streams.u2).map { x, u in x / (0.0625 + abs(sf(u) * 2.5)) }
  /// The imatrix: `f32(1 + j%7)·0.25`.
  static let importance: [Float] = (0..<1024).map { Float(1 + $0 % 7) * 0.25 }

  /// The data set named "A", "B" or "C".
  static func set(_ name: String) -> [Float] {
    switch name {
    case "A": a
    case "B": b
    default: c
    }
  }

  /// One row of the reference's KAT table: the first 32 hex digits of the SHA-256 of the
  /// quantized bytes and of their dequantization, without and with the imatrix.
  struct Row: Sendable, CustomTestStringConvertible {
    let set: String
    let type: GGMLType
    /// `nil` for types that require an imatrix.
    let bytes: String?
    let floats: String?
    let bytesWithImportance: String
    let floatsWithImportance: String
    var testDescription: String { "\(set).\(type.name)" }
  }

  /// Quantizes data set `row.set` as `row.type` (with the imatrix when asked), then decodes the
  /// bytes, and requires both hashes of the KAT table.
  static func expectMatches(_ row: Row, importance useImportance: Bool) throws {
    let codec = try #require(Codecs.codec(for: row.type))
    let quantize = try #require(codec.quantize)
    let x = set(row.set)
    let blocks = rows * rowLength / row.type.blockElements
    var bytes = [UInt8](repeating: 0, count: blocks * row.type.blockBytes)
    x.withUnsafeBufferPointer { src in
      importance.withUnsafeBufferPointer { w in
        bytes.withUnsafeMutableBytes { dst in
          guard let s = src.baseAddress, let d = dst.baseAddress else { return }
          quantize(s, rows, rowLength, useImportance ? w.baseAddress : nil, d)
        }
      }
    }
    var decoded = [Float](repeating: .nan, count: rows * rowLength)
    bytes.withUnsafeBytes { src in
      decoded.withUnsafeMutableBufferPointer { dst in
        guard let s = src.baseAddress, let d = dst.baseAddress else { return }
        codec.decode(s, blocks, d)
      }
    }
    let expectedBytes = try #require(useImportance ? row.bytesWithImportance : row.bytes)
    let expectedFloats = try #require(useImportance ? row.floatsWithImportance : row.floats)
    #expect(SHA256.hex(bytes).prefix(32) == expectedBytes, "quantized bytes")
    #expect(SHA256.hex(floats: decoded).prefix(32) == expectedFloats, "dequantized values")
  }
}
