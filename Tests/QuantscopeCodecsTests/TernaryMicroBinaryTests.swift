import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

@testable import QuantscopeCodecs

@Suite("Ternary, microscaling and binary quants")
struct TernaryMicroBinaryTests {
  static let types: [GGMLType] = [.tq1_0, .tq2_0, .mxfp4, .nvfp4, .q1_0, .q2_0]

  @Test(arguments: IQGoldenCase.cases(types))
  func `decodes ggml's golden blocks bit-exactly`(_ c: IQGoldenCase) throws {
    try IQGoldenFiles.expectDecodeMatches(c)
  }
}

@Suite("Ternary, microscaling and binary quantizers")
struct TernaryMicroBinaryQuantizerTests {
  @Test(arguments: IQGoldenCase.cases(TernaryMicroBinaryTests.types))
  func `quantize like ggml`(_ c: IQGoldenCase) throws {
    try IQGoldenFiles.expectQuantizeMatches(c, importance: false)
  }

  /// ggml ignores the imatrix for these types: the `.im` tensors must come out the same.
  @Test(arguments: IQGoldenCase.cases(TernaryMicroBinaryTests.types).filter(\.hasImportance))
  func `quantize like ggml with an imatrix`(_ c: IQGoldenCase) throws {
    try IQGoldenFiles.expectQuantizeMatches(c, importance: true)
  }
}

@Suite("Ternary, microscaling and binary known answers")
struct TernaryMicroBinaryKnownAnswerTests {
  /// Reference §5.16 (no-FMA ggml); these types ignore the imatrix, so both columns are equal.
  static let table: [(String, GGMLType, String, String)] = [
    ("A", .tq1_0, "ecbe449dfdd4bbe576b6ee217f1fd1a3", "5eed72d96098936e1762fd88b03fa7d9"),
    ("A", .tq2_0, "08dbc0069e84aa3000b163ca12962723", "5eed72d96098936e1762fd88b03fa7d9"),
    ("A", .mxfp4, "2445a614883765dbd4baed5c08edfca8", "a9abf4391d4542bf6a77ee032029e1d3"),
    ("A", .nvfp4, "8bf67a5db765fe958405b9bf45975c67", "d10ec6a1b5cedde4a57b46161c89fc78"),
    ("A", .q1_0, "2927db7ad5099685ea351cd692ec9c7e", "1b663368557307208ca53d337d783668"),
    ("B", .tq1_0, "71b88209e0ac4590f5e5b1f086fb3ce8", "19d164c7dfb88df6c3045163f961c630"),
    ("B", .tq2_0, "67bf96ab29ebca75f9d83e911ae59948", "19d164c7dfb88df6c3045163f961c630"),
    ("B", .mxfp4, "75c122e8170692972c1d8fc93f1e2699", "dd588d58b13c023ca70b1f614d718f85"),
    ("B", .nvfp4, "5a65a91296920bafac2c55e58bd6b992", "e19430564793ee7fe885e7324a6b49fb"),
    ("B", .q1_0, "2672df96aa5f49f091f4782c188be41e", "66a4ce0942a9dae9d408270fc2662277"),
    ("C", .tq1_0, "ae44093cc374e31d3c828105939e8d55", "181b2b3767b0da1f4ec7d2db72b1406e"),
    ("C", .tq2_0, "62adb2270a5dbf43164d067fc3dc2570", "181b2b3767b0da1f4ec7d2db72b1406e"),
    ("C", .mxfp4, "a538e949eeefb9f92b15593748895dad", "a54c88531d3a9b76c48076454462f1e1"),
    ("C", .nvfp4, "9dd080b9d46c8c6872e3eb47d85fb07c", "39fa49d7b142aa3f97c88880bec50fde"),
    ("C", .q1_0, "16baf0453709fed285207e1d72bff956", "2afb3ef51914973eb741fdfefb4a5ca9"),
  ]
  static let rows: [IQKnownAnswer.Row] = table.map {
    .init(set: $0.0, type: $0.1, bytes: $0.2, floats: $0.3, bytesWithImportance: $0.2, floatsWithImportance: $0.3)
  }

  @Test(arguments: rows, [false, true])
  func `quantize and decode to the reference hashes`(_ row: IQKnownAnswer.Row, _ importance: Bool) throws {
    try IQKnownAnswer.expectMatches(row, importance: importance)
  }
}

@Suite("Scale encodings and rounding primitives")
struct IQPrimitiveTests {
  /// E8M0 halved: 2^(e−128) for every e (reference §3.4), checked against a formula that
  /// builds the power directly.
  @Test func `E8M0 half-scale is 2^(e-128)`() {
    for e in 0..<255 {
      #expect(iqE8M0Half(UInt8(e)) == Float(sign: .plus, exponent: e - 128, significand: 1), "e = \(e)")
    }
  }

  /// UE4M3 halved (reference §3.5): subnormals man·2⁻⁹, normals (1 + man/8)·2^(exp−7), all
  /// times ½; 0x00 and 0x7F are zero.
  @Test func `UE4M3 decodes every code`() {
    for code in 0..<256 {
      let exponent = (code >> 3) & 0xF
      let mantissa = Double(code & 7)
      var value = exponent == 0 ? mantissa / 512 : (1 + mantissa / 8) * pow(2, Double(exponent - 7))
      if code == 0 || code == 0x7F { value = 0 }
      #expect(Double(iqUE4M3Half(UInt8(code))) == value / 2, "code \(code)")
    }
  }

  /// Encoding a representable UE4M3 value gives its code back, except that ggml sends every
  /// value with exponent field 15 (256 and up) to 0x7E (448); midpoints round up (one guard
  /// bit, not nearest-even).
  @Test func `UE4M3 encodes representable values, rounds midpoints up, clamps`() {
    for code in 1..<0x7F {
      let expected = code >= 0x78 ? 0x7E : code
      #expect(iqFloatToUE4M3(2 * iqUE4M3Half(UInt8(code))) == UInt8(expected), "code \(code)")
    }
    // 1.0625 lies halfway between 1.0 (0x38) and 1.125 (0x39): ties go up, where nearest-even
    // would keep 0x38.
    #expect(iqFloatToUE4M3(1.0625) == 0x39)
    #expect(iqFloatToUE4M3(Float(1.0625).nextDown) == 0x38)
    #expect(iqFloatToUE4M3(1e6) == 0x7E)
    #expect(iqFloatToUE4M3(0) == 0)
    #expect(iqFloatToUE4M3(-1) == 0)
    #expect(iqFloatToUE4M3(.nan) == 0)
  }

  /// log2f rounds up to the integer just below powers of two; MXFP4's exponent follows it.
  @Test func `MXFP4 exponent follows log2f rounding below powers of two`() {
    let justBelow = Float(sign: .plus, exponent: 100, significand: 1).nextDown
    #expect(MicroscalingQuants.mxfp4Exponent(justBelow) == 225)
    #expect(MicroscalingQuants.mxfp4Exponent(1) == 125)
    #expect(MicroscalingQuants.mxfp4Exponent(0.99) == 124)
    #expect(MicroscalingQuants.mxfp4Exponent(0) == 0)
  }

  /// nearest_int rounds half to even and wraps outside ±2²² the way the C bit trick does.
  @Test func `nearest_int matches ggml's bit trick`() {
    #expect(QuantizationSearch.nearestInt(2.5) == 2)
    #expect(QuantizationSearch.nearestInt(3.5) == 4)
    #expect(QuantizationSearch.nearestInt(-2.5) == -2)
    #expect(QuantizationSearch.nearestInt(-0.4) == 0)
    #expect(QuantizationSearch.nearestInt(.nan) == 0)
    #expect(QuantizationSearch.nearestInt(.infinity) == -4_194_304)
  }

  /// best_index_int8 sends ties to the upper table value.
  @Test func `best_index_int8 sends ties up`() {
    iqKvaluesIQ4NLFloat.withUnsafeBufferPointer { v in
      guard let v = v.baseAddress else { return }
      #expect(iqBestIndexInt8(v, -200) == 0)
      #expect(iqBestIndexInt8(v, 200) == 15)
      #expect(iqBestIndexInt8(v, 7) == 9)  // halfway between 1 and 13
      #expect(iqBestIndexInt8(v, 6.99) == 8)
      #expect(iqBestIndexInt8(v, 0) == 8)
    }
  }
}

@Suite("Decoders on arbitrary bytes")
struct IQArbitraryBytesTests {
  static let types: [GGMLType] = [
    .iq2_xxs, .iq2_xs, .iq2_s, .iq3_xxs, .iq3_s, .iq1_s, .iq1_m, .iq4_nl, .iq4_xs,
    .tq1_0, .tq2_0, .mxfp4, .nvfp4, .q1_0, .q2_0,
  ]

  /// Every byte pattern is a valid block: decoding random and all-ones blocks must not trap and
  /// must write every output value.
  @Test(arguments: types)
  func `decode any bytes without trapping`(_ type: GGMLType) throws {
    let codec = try #require(Codecs.codec(for: type))
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    let blocks = 64
    var bytes = (0..<(blocks * type.blockBytes)).map { _ -> UInt8 in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return UInt8(truncatingIfNeeded: state >> 56)
    }
    for i in 0..<type.blockBytes { bytes[i] = 0xFF }
    var out = [Float](repeating: 0, count: blocks * type.blockElements)
    let sentinel = Float(bitPattern: 0x7FC0_1234)
    out.withUnsafeMutableBufferPointer { o in
      guard let base = o.baseAddress else { return }
      for i in 0..<o.count { base[i] = sentinel }
    }
    bytes.withUnsafeBytes { src in
      out.withUnsafeMutableBufferPointer { dst in
        guard let s = src.baseAddress, let d = dst.baseAddress else { return }
        codec.decode(s, blocks, d)
      }
    }
    #expect(!out.contains { $0.bitPattern == sentinel.bitPattern })
  }
}
