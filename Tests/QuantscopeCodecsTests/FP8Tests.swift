import Foundation
import QuantscopeCodecs
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

@Suite("Safetensors small floats")
struct FP8Tests {
  /// Our dtype, the ml_dtypes type of one code per byte, and the number of codes.
  static let formats: [(SafetensorsDType, String, Int)] = [
    (.F8_E4M3, "float8_e4m3fn", 256), (.F8_E5M2, "float8_e5m2", 256),
    (.F8_E4M3FNUZ, "float8_e4m3fnuz", 256), (.F8_E5M2FNUZ, "float8_e5m2fnuz", 256),
    (.F8_E8M0, "float8_e8m0fnu", 256), (.F4, "float4_e2m1fn", 16),
    (.F6_E2M3, "float6_e2m3fn", 64), (.F6_E3M2, "float6_e3m2fn", 64),
  ]

  @Test(arguments: 0..<formats.count)
  func `every code decodes as ml_dtypes does`(_ which: Int) throws {
    let (dtype, mlName, codes) = Self.formats[which]
    let table = try #require(SafetensorsDecoding.table(for: dtype))
    #expect(table.count == codes)
    let expected = PythonOracle.words(
      try PythonOracle.run(
        """
        import sys, numpy as np, ml_dtypes
        x = np.arange(\(codes), dtype=np.uint8).view(ml_dtypes.\(mlName)).astype(np.float32)
        sys.stdout.buffer.write(x.view(np.uint32).tobytes())
        """))
    try #require(expected.count == codes)
    let mismatches = (0..<codes).filter { !sameFloat(table[$0], expected[$0]) }
    #expect(mismatches.isEmpty, "\(dtype): codes \(mismatches.map { String($0, radix: 16) })")
    // NaN and Inf counts as in the reference table (§3).
    let nans = table.filter(\.isNaN).count
    let infs = table.filter(\.isInfinite).count
    let expectedSpecials: [SafetensorsDType: (Int, Int)] = [
      .F8_E4M3: (2, 0), .F8_E5M2: (6, 2), .F8_E4M3FNUZ: (1, 0), .F8_E5M2FNUZ: (1, 0), .F8_E8M0: (1, 0),
      .F4: (0, 0), .F6_E2M3: (0, 0), .F6_E3M2: (0, 0),
    ]
    #expect(expectedSpecials[dtype]! == (nans, infs), "\(dtype) NaN/Inf counts")
  }

  @Test func `reference test vectors`() throws {
    let e4 = SafetensorsDecoding.e4m3fnTable
    #expect(e4[0x01] == 0.001953125 && e4[0x07] == 0.013671875 && e4[0x38] == 1 && e4[0x7E] == 448)
    #expect(e4[0xC4] == -3 && e4[0xFE] == -448 && e4[0x7F].isNaN && e4[0xFF].isNaN)
    #expect(e4[0x80] == 0 && e4[0x80].sign == .minus)
    let e5 = SafetensorsDecoding.e5m2Table
    #expect(e5[0x7B] == 57344 && e5[0x7C] == .infinity && e5[0xFC] == -.infinity && e5[0x7D].isNaN)
    #expect(SafetensorsDecoding.e4m3fnuzTable[0x7F] == 240 && SafetensorsDecoding.e4m3fnuzTable[0x80].isNaN)
    #expect(SafetensorsDecoding.e5m2fnuzTable[0x01] == 7.62939453125e-06)
    let e8 = SafetensorsDecoding.e8m0Table
    #expect(e8[0x00].bitPattern == 0x0040_0000 && e8[0x7F] == 1 && e8[0xFE] == 0x1p127 && e8[0xFF].isNaN)
    #expect(SafetensorsDecoding.e2m1Table == [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6])
  }

  @Test func `8-bit decode path uses the tables at any element offset`() throws {
    let bytes = (0..<256).map(UInt8.init) + (0..<256).map { UInt8(255 - $0) }
    for (dtype, _, codes) in Self.formats where codes == 256 {
      let table = try #require(SafetensorsDecoding.table(for: dtype))
      var out = [Float](repeating: 0, count: 300)
      bytes.withUnsafeBytes { raw in
        out.withUnsafeMutableBufferPointer {
          SafetensorsDecoding.decode(
            dtype, data: raw.baseAddress!, firstElement: 100, count: 300, into: $0.baseAddress!)
        }
      }
      for i in 0..<300 {
        let code = Int(bytes[100 + i])
        #expect(sameFloat(out[i], table[code].bitPattern), "\(dtype) element \(100 + i)")
      }
    }
  }

  @Test func `F4 packs element 2k in the low nibble`() throws {
    var rng = SplitMix(seed: 4)
    let codes = (0..<101).map { _ in Int.random(in: 0..<16, using: &rng) }
    var bytes = [UInt8](repeating: 0, count: (codes.count + 1) / 2)
    for (i, c) in codes.enumerated() { bytes[i / 2] |= UInt8(c) << (4 * (i % 2)) }
    for first in [0, 1, 2, 7] {
      let n = codes.count - first
      var out = [Float](repeating: 0, count: n)
      bytes.withUnsafeBytes { raw in
        out.withUnsafeMutableBufferPointer {
          SafetensorsDecoding.decode(.F4, data: raw.baseAddress!, firstElement: first, count: n, into: $0.baseAddress!)
        }
      }
      #expect(out.map(\.bitPattern) == codes[first...].map { SafetensorsDecoding.e2m1Table[$0].bitPattern })
    }
    // A concrete byte: 0x72 holds 1.0 (code 2) first, then 6.0 (code 7).
    var pair = [Float](repeating: 0, count: 2)
    [UInt8(0x72)].withUnsafeBytes { raw in
      pair.withUnsafeMutableBufferPointer {
        SafetensorsDecoding.decode(.F4, data: raw.baseAddress!, firstElement: 0, count: 2, into: $0.baseAddress!)
      }
    }
    #expect(pair == [1, 6])
  }

  @Test(arguments: [SafetensorsDType.F6_E2M3, .F6_E3M2])
  func `F6 is a little-endian 6-bit stream`(_ dtype: SafetensorsDType) throws {
    var rng = SplitMix(seed: 6)
    let codes = (0..<97).map { _ in Int.random(in: 0..<64, using: &rng) }
    // Pack with an independent bit-by-bit writer: bit j of element i is stream bit 6i + j.
    var bytes = [UInt8](repeating: 0, count: (codes.count * 6 + 7) / 8)
    for (i, c) in codes.enumerated() {
      for j in 0..<6 where c >> j & 1 == 1 {
        let bit = 6 * i + j
        bytes[bit / 8] |= 1 << (bit % 8)
      }
    }
    let table = try #require(SafetensorsDecoding.table(for: dtype))
    for first in [0, 1, 2, 3, 5] {
      let n = codes.count - first
      var out = [Float](repeating: 0, count: n)
      bytes.withUnsafeBytes { raw in
        out.withUnsafeMutableBufferPointer {
          SafetensorsDecoding.decode(
            dtype, data: raw.baseAddress!, firstElement: first, count: n, into: $0.baseAddress!)
        }
      }
      #expect(out.map(\.bitPattern) == codes[first...].map { table[$0].bitPattern })
    }
  }

  @Test func `integer and BOOL dtypes match numpy`() throws {
    var rng = SplitMix(seed: 77)
    let count = 1000
    let cases: [(SafetensorsDType, String)] = [
      (.BOOL, "(np.fromfile(p, dtype=np.uint8) != 0)"), (.U8, "np.fromfile(p, dtype=np.uint8)"),
      (.I8, "np.fromfile(p, dtype=np.int8)"), (.U16, "np.fromfile(p, dtype='<u2')"),
      (.I16, "np.fromfile(p, dtype='<i2')"),
      (.U32, "np.fromfile(p, dtype='<u4')"), (.I32, "np.fromfile(p, dtype='<i4')"),
      (.U64, "np.fromfile(p, dtype='<u8')"),
      (.I64, "np.fromfile(p, dtype='<i8')"), (.F16, "np.fromfile(p, dtype='<f2')"),
      (.BF16, "np.fromfile(p, dtype=ml_dtypes.bfloat16)"),
      (.F32, "np.fromfile(p, dtype='<f4')"), (.F64, "np.fromfile(p, dtype='<f8')"),
    ]
    for (dtype, expr) in cases {
      let size = dtype.bits / 8
      var bytes = (0..<(count * size)).map { _ in UInt8.random(in: 0...255, using: &rng) }
      if dtype == .BOOL { for i in bytes.indices where i % 2 == 0 { bytes[i] = 0 } }
      var out = [Float](repeating: 0, count: count)
      bytes.withUnsafeBytes { raw in
        out.withUnsafeMutableBufferPointer {
          SafetensorsDecoding.decode(
            dtype, data: raw.baseAddress!, firstElement: 0, count: count, into: $0.baseAddress!)
        }
      }
      let expected = PythonOracle.words(
        try PythonOracle.run(
          """
          import sys, numpy as np, ml_dtypes
          p = sys.argv[1]
          x = \(expr).astype(np.float32)
          sys.stdout.buffer.write(x.view(np.uint32).tobytes())
          """, input: bytes))
      let bad = (0..<count).filter { !sameFloat(out[$0], expected[$0]) }
      #expect(bad.isEmpty, "\(dtype): \(bad.count) mismatches")
    }
    #expect(!SafetensorsDecoding.canDecode(.C64))
  }
}
