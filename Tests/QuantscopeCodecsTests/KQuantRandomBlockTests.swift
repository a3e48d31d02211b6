import QuantscopeCodecs
import QuantscopeFormats
import Testing

/// Decoders on random blocks (every bit pattern of the quants, scales beyond what a quantizer
/// writes) against a per-element reference written straight from the layout formulas of the
/// reference (§4), and quantizers on hostile inputs (NaN, ±∞, huge, subnormal) — which, in
/// this debug build with overflow checks, must not trap.
@Suite("Legacy quants and K-quants on random and hostile data")
struct KQuantRandomBlockTests {
  static let types: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K]

  struct XorShift {
    var s: UInt32
    mutating func next() -> UInt32 {
      s ^= s << 13
      s ^= s >> 17
      s ^= s << 5
      return s
    }
  }

  /// A random finite half (any sign, subnormals included).
  static func finiteHalf(_ r: inout XorShift) -> UInt16 {
    var h = UInt16(truncatingIfNeeded: r.next())
    if h & 0x7c00 == 0x7c00 { h &= 0xbfff }
    return h
  }

  /// Offsets of the f16 fields of each type (Q8_K's f32 d is handled separately).
  static func halfOffsets(_ t: GGMLType) -> [Int] {
    switch t {
    case .q4_0, .q5_0, .q8_0: [0]
    case .q4_1, .q5_1, .q8_1, .q4_K, .q5_K: [0, 2]
    case .q2_K: [80, 82]
    case .q3_K: [108]
    case .q6_K: [208]
    default: []
    }
  }

  static func h(_ b: [UInt8], _ o: Int) -> Float { Float(Float16(bitPattern: UInt16(b[o]) | UInt16(b[o + 1]) << 8)) }

  /// The reference value of element `n` of the block `b` (one block's bytes).
  static func referenceValue(_ t: GGMLType, _ b: [UInt8], _ n: Int) -> Float {
    switch t {
    case .q4_0:
      let q = n < 16 ? b[2 + n] & 15 : b[2 + n - 16] >> 4
      return Float(Int(q) - 8) * h(b, 0)
    case .q4_1:
      let q = n < 16 ? b[4 + n] & 15 : b[4 + n - 16] >> 4
      return Float(q) * h(b, 0) + h(b, 2)
    case .q5_0, .q5_1:
      let base = t == .q5_0 ? 6 : 8
      let qhOffset = t == .q5_0 ? 2 : 4
      let qh =
        UInt32(b[qhOffset]) | UInt32(b[qhOffset + 1]) << 8 | UInt32(b[qhOffset + 2]) << 16 | UInt32(b[qhOffset + 3])
        << 24
      let low = n < 16 ? b[base + n] & 15 : b[base + n - 16] >> 4
      let q = Int(low) | Int((qh >> UInt32(n)) & 1) << 4
      return t == .q5_0 ? Float(q - 16) * h(b, 0) : Float(q) * h(b, 0) + h(b, 2)
    case .q8_0: return Float(Int8(bitPattern: b[2 + n])) * h(b, 0)
    case .q8_1: return Float(Int8(bitPattern: b[4 + n])) * h(b, 0)
    case .q2_K:
      let (hh, s, tt) = (n / 128, (n % 128) / 32, n % 32)
      let q = (b[16 + 32 * hh + tt] >> (2 * s)) & 3
      let sc = b[n / 16]
      return (h(b, 80) * Float(sc & 15)) * Float(q) - h(b, 82) * Float(sc >> 4)
    case .q3_K:
      let (hh, s, tt) = (n / 128, (n % 128) / 32, n % 32)
      let low = Int((b[32 + 32 * hh + tt] >> (2 * s)) & 3)
      let high = (b[tt] >> (4 * hh + s)) & 1
      let q = low - (high == 1 ? 0 : 4)
      let j = n / 16
      let low4 = j < 8 ? b[96 + j] & 15 : b[96 + j - 8] >> 4
      let high2 = (b[96 + 8 + j % 4] >> (2 * (j / 4))) & 3
      let sc = Int(low4 | high2 << 4) - 32
      return (h(b, 108) * Float(sc)) * Float(q)
    case .q4_K, .q5_K:
      let c = n / 64
      let lowNibble = n % 64 < 32
      let tt = n % 32
      let qsOffset = t == .q4_K ? 16 : 48
      var q = Int(lowNibble ? b[qsOffset + 32 * c + tt] & 15 : b[qsOffset + 32 * c + tt] >> 4)
      if t == .q5_K { q += Int((b[16 + tt] >> (n / 32)) & 1) << 4 }
      let j = n / 32
      let s = Array(b[4..<16])
      let (sc, m): (UInt8, UInt8) =
        j < 4
        ? (s[j] & 63, s[j + 4] & 63)
        : ((s[j + 4] & 15) | ((s[j - 4] >> 6) << 4), (s[j + 4] >> 4) | ((s[j] >> 6) << 4))
      return (h(b, 0) * Float(sc)) * Float(q) - h(b, 2) * Float(m)
    case .q6_K:
      let (hh, Q, l) = (n / 128, (n % 128) / 32, n % 32)
      let low4 = (b[64 * hh + l + 32 * (Q & 1)] >> (4 * (Q >> 1))) & 15
      let high2 = (b[128 + 32 * hh + l] >> (2 * Q)) & 3
      let q = Int(low4 | high2 << 4) - 32
      return (h(b, 208) * Float(Int8(bitPattern: b[192 + n / 16]))) * Float(q)
    case .q8_K:
      let d = Float(bitPattern: UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24)
      return d * Float(Int8(bitPattern: b[4 + n]))
    default: return .nan
    }
  }

  @Test(arguments: types)
  func `decoding random blocks matches the layout formulas`(type: GGMLType) throws {
    var r = XorShift(s: 0x2545_f491 ^ type.id)
    let blocks = 200
    var bytes = (0..<(blocks * type.blockBytes)).map { _ in UInt8(truncatingIfNeeded: r.next()) }
    for b in 0..<blocks {
      for o in Self.halfOffsets(type) {
        let v = Self.finiteHalf(&r)
        bytes[b * type.blockBytes + o] = UInt8(v & 0xff)
        bytes[b * type.blockBytes + o + 1] = UInt8(v >> 8)
      }
      if type == .q8_K {
        let d = (Float(r.next() >> 8) * 0x1p-24 - 0.5) * 0.01
        for k in 0..<4 { bytes[b * 292 + k] = UInt8((d.bitPattern >> (8 * UInt32(k))) & 0xff) }
      }
    }
    let decoded = try decodeWithCodec(type, bytes)
    var firstBad: Int? = nil
    for b in 0..<blocks where firstBad == nil {
      let block = Array(bytes[(b * type.blockBytes)..<((b + 1) * type.blockBytes)])
      for n in 0..<type.blockElements {
        let expected = Self.referenceValue(type, block, n)
        if decoded[b * type.blockElements + n].bitPattern != expected.bitPattern {
          firstBad = b * type.blockElements + n
          break
        }
      }
    }
    #expect(
      firstBad == nil, "\(type): first differing value \(firstBad ?? 0), block \((firstBad ?? 0) / type.blockElements)")
  }

  @Test(arguments: types)
  func `decoding arbitrary bytes, non-finite scales included, does not trap`(type: GGMLType) throws {
    var r = XorShift(s: 0x1357_9bdf ^ type.id)
    var bytes = (0..<(64 * type.blockBytes)).map { _ in UInt8(truncatingIfNeeded: r.next()) }
    // Block 0 all ones (NaN scales, every quant bit set), block 1 all zeros.
    for i in 0..<type.blockBytes {
      bytes[i] = 0xff
      bytes[type.blockBytes + i] = 0
    }
    let decoded = try decodeWithCodec(type, bytes)
    #expect(decoded.count == 64 * type.blockElements)
    #expect(decoded[type.blockElements..<(2 * type.blockElements)].allSatisfy { $0 == 0 })
  }

  @Test(arguments: types)
  func `quantizing hostile values does not trap and round-trips finite data sensibly`(type: GGMLType) throws {
    let rowLength = 512
    var r = XorShift(s: 0xdead_beef ^ type.id)
    var values = (0..<(4 * rowLength)).map { _ in (Float(r.next() >> 8) * 0x1p-24 - 0.5) * 2 }
    let hostile: [Float] = [
      .nan, .infinity, -.infinity, 3e38, -3e38, Float(bitPattern: 0x0001_1170), -Float.leastNonzeroMagnitude, 0, -0.0,
      65504, 1e20,
    ]
    for (i, v) in hostile.enumerated() { values[rowLength + 37 * i] = v }
    for i in 0..<rowLength { values[2 * rowLength + i] = i % 2 == 0 ? 1e30 : -1e-30 }
    var importance = (0..<rowLength).map { _ in Float(r.next() >> 8) * 0x1p-24 }
    importance[3] = 0
    importance[5] = .nan
    importance[7] = .infinity
    for im in [nil, importance] {
      let out = try quantizeWithCodec(type, values, rows: 4, rowLength: rowLength, importance: im)
      #expect(out.count == type.byteCount(elements: values.count))
      _ = try decodeWithCodec(type, out)
    }
    // Row 0 is ordinary data: its decoding stays close to the input (catches a garbled layout).
    let finite = Array(values[0..<rowLength])
    let out = try quantizeWithCodec(type, finite, rows: 1, rowLength: rowLength, importance: nil)
    let back = try decodeWithCodec(type, out)
    let worst = zip(finite, back).map { abs($0 - $1) }.max() ?? .infinity
    #expect(worst < 0.45, "\(type): worst error \(worst)")
  }
}
