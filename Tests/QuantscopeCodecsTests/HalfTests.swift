import QuantscopeCodecs
import Testing

/// `Half`'s bit tricks against the standard library's IEEE `Float16` conversions (which a
/// baseline x86-64 build implements in compiler-rt, independently of our code).
@Suite("Half conversions")
struct HalfTests {
  @Test func `f16 to f32 matches Float(Float16) on all 65,536 inputs`() {
    var mismatches: [UInt16] = []
    for h in 0...UInt16.max {
      let ours = Half.toFloat(h)
      let reference = Float(Float16(bitPattern: h))
      if ours.bitPattern != reference.bitPattern { mismatches.append(h) }
    }
    #expect(mismatches.count == 0, "first mismatches: \(mismatches.prefix(8).map { String($0, radix: 16) })")
  }

  /// ggml's rule for NaN: the quiet NaN 0x7E00 with the input's sign, payload dropped.
  static func expectedHalf(_ f: Float) -> UInt16 {
    if f.isNaN { return f.sign == .minus ? 0xfe00 : 0x7e00 }
    return Float16(f).bitPattern
  }

  @Test func `f32 to f16 rounds to nearest even on every half, tie and neighbour`() {
    var bad: [UInt32] = []
    func check(_ f: Float) {
      if Half.fromFloat(f) != Self.expectedHalf(f), bad.count < 8 { bad.append(f.bitPattern) }
    }
    for h in 0...UInt16.max {
      let v = Float(Float16(bitPattern: h))
      check(v)
      check(v.nextUp)
      check(v.nextDown)
      // The midpoint to the next half up is exact in f32: a tie, which must go to the even half.
      let next = Float(Float16(bitPattern: h).nextUp)
      if v.isFinite && next.isFinite {
        let mid = v + (next - v) / 2
        check(mid)
        check(mid.nextUp)
        check(mid.nextDown)
      }
    }
    #expect(bad.isEmpty, "first mismatching inputs: \(bad.map { String($0, radix: 16) })")
  }

  @Test func `f32 to f16 on special values and a spread of bit patterns`() {
    let specials: [(Float, UInt16)] = [
      (0, 0x0000), (-0.0, 0x8000), (1, 0x3c00), (-2, 0xc000), (65504, 0x7bff), (65519.996, 0x7bff),
      (65520, 0x7c00), (1e10, 0x7c00), (-1e10, 0xfc00), (.infinity, 0x7c00), (-.infinity, 0xfc00),
      (0x1p-24, 0x0001), (0x1p-25, 0x0000), (0x1.000002p-25, 0x0001), (0x1p-14, 0x0400),
      (.nan, 0x7e00), (-.nan, 0xfe00), (Float(bitPattern: 0x7f80_0001), 0x7e00),
      (Float(bitPattern: 0xffc1_2345), 0xfe00),
    ]
    for (f, bits) in specials {
      #expect(Half.fromFloat(f) == bits, "\(f) (0x\(String(f.bitPattern, radix: 16)))")
    }
    // Every 65,521st bit pattern covers each exponent with varied mantissas.
    var bad: [UInt32] = []
    var u: UInt32 = 0
    while true {
      let f = Float(bitPattern: u)
      if Half.fromFloat(f) != Self.expectedHalf(f), bad.count < 8 { bad.append(u) }
      let (next, overflow) = u.addingReportingOverflow(65_521)
      if overflow { break }
      u = next
    }
    #expect(bad.isEmpty, "first mismatching inputs: \(bad.map { String($0, radix: 16) })")
  }

  @Test func `f16 round trip is the identity on non-NaN halves`() {
    for h in 0...UInt16.max {
      let f = Half.toFloat(h)
      if f.isNaN { continue }
      #expect(Half.fromFloat(f) == h)
    }
  }

  @Test func `bf16 conversions`() {
    #expect(Half.bf16ToFloat(0x3f80) == 1)
    #expect(Half.bf16ToFloat(0xc000) == -2)
    #expect(Half.bf16FromFloat(1) == 0x3f80)
    // Round to nearest even on the bit pattern: 1 + 2⁻⁸ is a tie that goes down to 1.
    #expect(Half.bf16FromFloat(Float(bitPattern: 0x3f80_8000)) == 0x3f80)
    #expect(Half.bf16FromFloat(Float(bitPattern: 0x3f81_8000)) == 0x3f82)
    #expect(Half.bf16FromFloat(Float(bitPattern: 0x3f80_8001)) == 0x3f81)
    // NaN is quieted, infinity kept.
    #expect(Half.bf16FromFloat(Float(bitPattern: 0x7f80_0001)) == 0x7fc0)
    #expect(Half.bf16FromFloat(.infinity) == 0x7f80)
  }
}
