import QuantscopeCodecs
import QuantscopeFormats
import Testing

/// Decodes `bytes` with the registered codec of `type`.
func decodeWithCodec(_ type: GGMLType, _ bytes: [UInt8]) throws -> [Float] {
  let codec = try #require(Codecs.codec(for: type), "no codec for \(type)")
  let blocks = bytes.count / type.blockBytes
  try #require(blocks * type.blockBytes == bytes.count, "\(bytes.count) bytes is not whole \(type) blocks")
  var out = [Float](repeating: .nan, count: blocks * type.blockElements)
  bytes.withUnsafeBytes { src in
    out.withUnsafeMutableBufferPointer { dst in
      codec.decode(src.baseAddress!, blocks, dst.baseAddress!)
    }
  }
  return out
}

/// Quantizes `rows × rowLength` values with the registered quantizer of `type`.
func quantizeWithCodec(
  _ type: GGMLType, _ values: [Float], rows: Int, rowLength: Int, importance: [Float]?
) throws -> [UInt8] {
  let quantize = try #require(Codecs.codec(for: type)?.quantize, "no quantizer for \(type)")
  let count = try #require(type.byteCount(elements: rows * rowLength))
  var out = [UInt8](repeating: 0xA5, count: count)
  values.withUnsafeBufferPointer { src in
    out.withUnsafeMutableBytes { dst in
      if let importance {
        importance.withUnsafeBufferPointer { im in
          quantize(src.baseAddress!, rows, rowLength, im.baseAddress!, dst.baseAddress!)
        }
      } else {
        quantize(src.baseAddress!, rows, rowLength, nil, dst.baseAddress!)
      }
    }
  }
  return out
}

/// The types this suite covers in `ggml-quants.gguf`.
let legacyAndKTypes: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K]
/// The types this suite covers in `ggml-quants-extra.gguf`.
let extraTypes: [GGMLType] = [.q8_1, .q8_K]

@Suite("Golden vectors: legacy quants and K-quants")
struct GoldenLegacyAndKQuantTests {
  @Test func `golden files open and list their cases`() throws {
    let main = try GoldenVectors.main.get()
    #expect(main.cases == ["gauss", "uniform", "student3", "superweight", "edge", "tiny", "large"])
    let extra = try GoldenVectors.extra.get()
    #expect(Set(extra.cases) == ["gauss", "superweight", "edge", "large"])
    for c in main.cases {
      for t in legacyAndKTypes {
        #expect(main.has(GoldenFile.quantizedName(c, t, imatrix: false)), "\(c).\(t) missing")
      }
    }
  }

  @Test(arguments: GoldenVectors.mainCases, legacyAndKTypes)
  func `decoding ggml's bytes gives ggml's floats`(testCase: String, type: GGMLType) throws {
    try checkDecode(GoldenVectors.main.get(), testCase, type)
  }

  @Test(arguments: GoldenVectors.mainCases, legacyAndKTypes)
  func `quantizing gives ggml's bytes, without and with imatrix`(testCase: String, type: GGMLType) throws {
    let file = try GoldenVectors.main.get()
    try checkQuantize(file, testCase, type, imatrix: false)
    // ggml's Q8_0 quantizer takes no importance, so the file has no `.im` variant of it.
    if type != .q8_0 {
      try checkQuantize(file, testCase, type, imatrix: true)
    }
  }

  @Test(arguments: GoldenVectors.extraCases)
  func `Q8_K decodes and quantizes as ggml`(testCase: String) throws {
    let file = try GoldenVectors.extra.get()
    try checkDecode(file, testCase, .q8_K)
    let input = try file.input(testCase)
    let expected = try #require(try file.quantized(testCase, .q8_K, imatrix: false))
    let ours = try quantizeWithCodec(.q8_K, input.values, rows: input.rows, rowLength: input.rowLength, importance: nil)
    // ggml leaves the bsums of an all-zero block unwritten: compare them only where d ≠ 0.
    #expect(ours.count == expected.count)
    for b in 0..<(expected.count / 292) {
      let block = b * 292
      let d = expected[block..<block + 4]
      let zero = d.allSatisfy { $0 == 0 }
      let end = zero ? block + 260 : block + 292
      let same = ours[block..<end].elementsEqual(expected[block..<end])
      #expect(same, "\(testCase).q8_k: first differing block \(b)")
      if !same { break }
    }
  }

  @Test(arguments: GoldenVectors.extraCases)
  func `Q8_1 quantizes as ggml and decodes as d times q`(testCase: String) throws {
    let file = try GoldenVectors.extra.get()
    let input = try file.input(testCase)
    let expected = try #require(try file.quantized(testCase, .q8_1, imatrix: false))
    let ours = try quantizeWithCodec(.q8_1, input.values, rows: input.rows, rowLength: input.rowLength, importance: nil)
    let diff = GoldenVectors.firstDifferingBlock(ours, expected, blockBytes: 36)
    #expect(diff == nil, "\(testCase).q8_1: first differing block \(diff ?? 0)")
    // ggml has no Q8_1 decoder: a value is d × q by definition. The oracle here reads the fields
    // independently and converts d with the standard library's Float16.
    let decoded = try decodeWithCodec(.q8_1, expected)
    var reference: [Float] = []
    for b in 0..<(expected.count / 36) {
      let d = Float(Float16(bitPattern: UInt16(expected[36 * b]) | UInt16(expected[36 * b + 1]) << 8))
      for j in 0..<32 { reference.append(Float(Int8(bitPattern: expected[36 * b + 4 + j])) * d) }
    }
    let at = GoldenVectors.firstDifferingValue(decoded, reference)
    #expect(at == nil, "\(testCase).q8_1: first differing value \(at ?? 0) (block \((at ?? 0) / 32))")
  }

  /// Decoding `CASE.TYPE(.im)` must reproduce `CASE.TYPE.f32` bit for bit.
  func checkDecode(_ file: GoldenFile, _ testCase: String, _ type: GGMLType) throws {
    let sourceName = try #require(file.dequantizedSourceName(testCase, type), "no \(testCase).\(type) tensor")
    let bytes = try file.bytes(sourceName)
    let expected = try #require(try file.dequantized(testCase, type), "no \(testCase).\(type).f32")
    let decoded = try decodeWithCodec(type, bytes)
    let at = GoldenVectors.firstDifferingValue(decoded, expected)
    #expect(
      at == nil,
      "\(sourceName): first differing value \(at ?? 0) (block \((at ?? 0) / type.blockElements)): ours \(at.map { decoded[$0] } ?? 0), ggml \(at.map { expected[$0] } ?? 0)"
    )
  }

  /// Quantizing `in.CASE` (with `im.CASE` for the `.im` variant) must give ggml's bytes.
  func checkQuantize(_ file: GoldenFile, _ testCase: String, _ type: GGMLType, imatrix: Bool) throws {
    let expected = try #require(
      try file.quantized(testCase, type, imatrix: imatrix),
      "no \(GoldenFile.quantizedName(testCase, type, imatrix: imatrix)) in the golden file")
    let input = try file.input(testCase)
    let importance = imatrix ? try file.importance(testCase) : nil
    let ours = try quantizeWithCodec(
      type, input.values, rows: input.rows, rowLength: input.rowLength, importance: importance)
    let block = GoldenVectors.firstDifferingBlock(ours, expected, blockBytes: type.blockBytes)
    #expect(
      block == nil,
      "\(GoldenFile.quantizedName(testCase, type, imatrix: imatrix)): first differing block \(block ?? 0)")
  }
}
