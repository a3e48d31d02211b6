import QuantscopeAnalysis
import Testing

/// The binary32-candidate `add` (SIMD lanes, max located by rescan) against the value-by-value
/// `Double` `add`: same counts and largest error (value and first index), sums equal up to
/// summation order.
@Suite("Error accumulator, binary32 candidate")
struct ErrorAccumulatorSIMDTests {
  static func compare(_ c: [Float], _ r: [Double], segment: Int) {
    var fast = ErrorAccumulator(), slow = ErrorAccumulator()
    let cd = c.map(Double.init)
    var i = 0
    while i < c.count {
      let n = min(segment, c.count - i)
      c.withUnsafeBufferPointer { cp in
        r.withUnsafeBufferPointer { rp in
          fast.add(candidate: cp.baseAddress! + i, reference: rp.baseAddress! + i, count: n, firstIndex: i)
        }
      }
      cd.withUnsafeBufferPointer { cp in
        r.withUnsafeBufferPointer { rp in
          slow.add(candidate: cp.baseAddress! + i, reference: rp.baseAddress! + i, count: n, firstIndex: i)
        }
      }
      i += n
    }
    #expect(fast.count == slow.count)
    #expect(fast.nonFinite == slow.nonFinite)
    #expect(fast.nonFiniteReference == slow.nonFiniteReference)
    #expect(fast.nonFiniteCandidate == slow.nonFiniteCandidate)
    #expect(fast.firstNonFiniteIndex == slow.firstNonFiniteIndex)
    #expect(fast.maxAbsoluteError == slow.maxAbsoluteError)
    #expect(fast.maxErrorIndex == slow.maxErrorIndex)
    for (a, b) in [
      (fast.sumSquaredError, slow.sumSquaredError), (fast.sumAbsoluteError, slow.sumAbsoluteError),
      (fast.sumSquaredReference, slow.sumSquaredReference), (fast.sumSquaredCandidate, slow.sumSquaredCandidate),
      (fast.sumProduct, slow.sumProduct),
    ] {
      #expect(abs(a - b) <= 1e-12 * max(abs(a), abs(b)), "\(a) vs \(b)")
    }
  }

  static func data(_ n: Int, seed: UInt64) -> ([Float], [Double]) {
    var s = seed
    func next() -> Double {
      s = s &* 6364136223846793005 &+ 1442695040888963407
      return Double(s >> 11) / Double(1 << 53) - 0.5
    }
    let r = (0..<n).map { _ in next() }
    let c = r.map { Float($0 + next() * 0.01) }
    return (c, r)
  }

  @Test(arguments: [1, 3, 4, 7, 8, 9, 33, 256, 1000])
  func `sums and largest error match the scalar path`(segment: Int) {
    let (c, r) = Self.data(5003, seed: UInt64(segment))
    Self.compare(c, r, segment: segment)
  }

  @Test func `ties keep the first index, zero error keeps index 0`() {
    var (c, r) = Self.data(64, seed: 7)
    for k in [9, 21, 40] {  // three equal largest errors
      r[k] = 0
      c[k] = 4
    }
    Self.compare(c, r, segment: 16)
    Self.compare([Float](repeating: 1, count: 20), [Double](repeating: 1, count: 20), segment: 20)
  }

  @Test func `NaN and infinity are counted and left out of the sums`() {
    var (c, r) = Self.data(100, seed: 9)
    c[5] = .nan
    r[6] = .infinity
    c[70] = -.infinity
    r[71] = .nan
    for segment in [8, 50, 100] { Self.compare(c, r, segment: segment) }
    var acc = ErrorAccumulator()
    c.withUnsafeBufferPointer { cp in
      r.withUnsafeBufferPointer { rp in
        acc.add(candidate: cp.baseAddress!, reference: rp.baseAddress!, count: 100, firstIndex: 0)
      }
    }
    #expect(acc.nonFinite == 4)
    #expect(acc.count == 96)
  }
}
