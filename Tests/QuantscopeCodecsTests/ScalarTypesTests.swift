import Foundation
import QuantscopeCodecs
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// Python oracles that exchange raw bytes: `script` gets the path of a file holding `input` as
/// `sys.argv[1]` and writes raw bytes to stdout.
extension PythonOracle {
  static func run(_ script: String, input: [UInt8] = []) throws -> [UInt8] {
    let dir = try TestPaths.temporaryDirectory("oracle")
    defer { try? FileManager.default.removeItem(at: dir) }
    let inputURL = dir.appendingPathComponent("input.bin")
    try Data(input).write(to: inputURL)
    let r = try ProcessRunner.run(program: "python3", ["-W", "ignore", "-c", script, inputURL.path])
    guard r.status == 0 else { throw OracleError(message: "python3 failed: " + r.stderrText) }
    return [UInt8](r.stdout)
  }

  /// Little-endian u32 words of `bytes`.
  static func words(_ bytes: [UInt8]) -> [UInt32] {
    stride(from: 0, to: bytes.count - 3, by: 4).map {
      UInt32(bytes[$0]) | UInt32(bytes[$0 + 1]) << 8 | UInt32(bytes[$0 + 2]) << 16 | UInt32(bytes[$0 + 3]) << 24
    }
  }

  /// Little-endian u64 words of `bytes`.
  static func words64(_ bytes: [UInt8]) -> [UInt64] {
    stride(from: 0, to: bytes.count - 7, by: 8).map { i in
      (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[i + $1]) << (8 * $1) }
    }
  }
}

/// Bits of `a` equal bits of `b`, or both are NaN.
func sameFloat(_ a: Float, _ b: UInt32) -> Bool {
  a.bitPattern == b || (a.isNaN && Float(bitPattern: b).isNaN)
}

@Suite("Scalar ggml types")
struct ScalarTypesTests {
  static let cases: [(GGMLType, String, Int)] = [
    (.f32, "np.dtype('<f4')", 4), (.f16, "np.dtype('<f2')", 2), (.bf16, "ml_dtypes.bfloat16", 2),
    (.f64, "np.dtype('<f8')", 8), (.i8, "np.dtype('i1')", 1), (.i16, "np.dtype('<i2')", 2),
    (.i32, "np.dtype('<i4')", 4), (.i64, "np.dtype('<i8')", 8),
  ]

  @Test(arguments: 0..<cases.count)
  func `decoding random bytes matches numpy astype(float32)`(_ which: Int) throws {
    let (type, dtype, size) = Self.cases[which]
    var rng = SplitMix(seed: 0x5CA1A7 + UInt64(which))
    let count = 4099
    var bytes = (0..<(count * size)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    // Also plant small exact values, zeros and signed zeros at the front.
    for i in 0..<min(64, bytes.count) where i % 3 == 0 { bytes[i] = 0 }
    let codec = try #require(Codecs.codec(for: type))
    #expect(type.blockElements == 1)
    var decoded = [Float](repeating: 0, count: count)
    bytes.withUnsafeBytes { raw in
      decoded.withUnsafeMutableBufferPointer { codec.decode(raw.baseAddress!, count, $0.baseAddress!) }
    }
    let expected = PythonOracle.words(
      try PythonOracle.run(
        """
        import sys, numpy as np, ml_dtypes
        x = np.fromfile(sys.argv[1], dtype=\(dtype)).astype(np.float32)
        sys.stdout.buffer.write(x.view(np.uint32).tobytes())
        """, input: bytes))
    try #require(expected.count == count)
    let mismatches = (0..<count).filter { !sameFloat(decoded[$0], expected[$0]) }
    #expect(mismatches.isEmpty, "\(type): \(mismatches.count) mismatches, first at \(mismatches.first ?? -1)")
  }

  /// Random binary32 inputs covering every exponent (subnormals, overflow to Inf, NaN).
  static func randomFloats(_ count: Int, seed: UInt64) -> [Float] {
    var rng = SplitMix(seed: seed)
    var xs = (0..<count).map { _ in Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng)) }
    // Halfway cases for F16 and BF16 rounding, and exact specials.
    xs += [
      1 + 0x1p-11, 1 + 3 * 0x1p-11, 1 + 0x1p-8, 1 + 3 * 0x1p-8, 65504, 65520, 65519.99, 0x1p-25, 0x1p-24, -0.0,
      .infinity, -.infinity,
    ]
    return xs
  }

  @Test func `F16 and BF16 quantizers match gguf-py and numpy bit for bit`() throws {
    let xs = Self.randomFloats(20000, seed: 42)
    let input = xs.withUnsafeBytes { [UInt8]($0) }
    for (type, script) in [
      (
        GGMLType.f16,
        "y = x.astype(np.float16).view(np.uint16); nan = np.isnan(x); y = np.where(nan, np.where(np.signbit(x), 0xFE00, 0x7E00), y).astype(np.uint16)"
      ),
      (GGMLType.bf16, "y = gguf.quants.quantize(x, gguf.GGMLQuantizationType.BF16).view(np.uint16)"),
      (GGMLType.f32, "y = x.view(np.uint32)"),
    ] {
      let codec = try #require(Codecs.codec(for: type))
      let quantize = try #require(codec.quantize)
      let width = type == .f32 ? 4 : 2
      var out = [UInt8](repeating: 0, count: xs.count * width)
      xs.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBytes { quantize(src.baseAddress!, 1, xs.count, nil, $0.baseAddress!) }
      }
      let expected = try PythonOracle.run(
        """
        import sys, numpy as np, gguf
        x = np.fromfile(sys.argv[1], dtype='<f4')
        \(script)
        sys.stdout.buffer.write(y.tobytes())
        """, input: input)
      #expect(expected == out, "\(type) quantizer differs from the oracle")
      // And decoding the quantized bytes round-trips to the oracle's widening.
      var back = [Float](repeating: 0, count: xs.count)
      out.withUnsafeBytes { raw in
        back.withUnsafeMutableBufferPointer { codec.decode(raw.baseAddress!, xs.count, $0.baseAddress!) }
      }
      if type == .f32 { #expect(zip(back, xs).allSatisfy { $0.bitPattern == $1.bitPattern }) }
    }
  }

  @Test func `registry has decoders for every scalar type and quantizers for the float ones`() {
    for type: GGMLType in [.f32, .f16, .bf16, .f64, .i8, .i16, .i32, .i64] {
      #expect(Codecs.codec(for: type) != nil, "\(type)")
    }
    for type: GGMLType in [.f32, .f16, .bf16] { #expect(Codecs.codec(for: type)?.quantize != nil, "\(type)") }
    for type: GGMLType in [.f64, .i8, .i16, .i32, .i64] { #expect(Codecs.codec(for: type)?.quantize == nil, "\(type)") }
  }
}
