import Testing

@testable import QuantscopeCodecs

/// The eight-lane scale searches against the scalar ports they replace in the hot paths, lane
/// by lane, on ordinary, degenerate and hostile groups (all zero, constant, ±0, tiny, huge,
/// NaN, ±∞, zero weights). The golden vectors cover the realistic cases; this covers the rest.
@Suite("Eight-lane scale searches equal the scalar ones")
struct KQuantSearchLaneTests {
  typealias Lanes = QuantizationSearch.Lanes
  typealias LaneLevels = QuantizationSearch.LaneLevels

  struct XorShift {
    var s: UInt32
    mutating func next() -> UInt32 {
      s ^= s << 13
      s ^= s >> 17
      s ^= s << 5
      return s
    }
    mutating func uniform() -> Float { Float(next() >> 8) * 0x1p-24 }
  }

  /// 8 groups × `n` values: group kinds cycle through ordinary and nasty content.
  static func groups(_ n: Int, seed: UInt32, round: Int) -> (x: [Float], w: [Float]) {
    var r = XorShift(s: seed &+ UInt32(round) &* 7919)
    var x: [Float] = []
    var w: [Float] = []
    for k in 0..<8 {
      let kind = (k + round) % 12
      for i in 0..<n {
        var v = (r.uniform() - 0.5) * 2
        switch kind {
        case 0: v = 0
        case 1: v = 0.75
        case 2: v = -0.75
        case 3: v = i % 2 == 0 ? 0 : -0.0
        case 4: v *= 1e-20
        case 5: v *= 1e30
        case 6: if i == 3 { v = .nan }
        case 7: if i == 5 { v = .infinity }
        case 8: v = abs(v) + 0.5
        case 9: if i % 4 == 0 { v = 0 }
        default: break
        }
        x.append(v)
        w.append(kind == 10 ? 0 : (kind == 11 && i % 3 == 0 ? 0 : r.uniform() + 0.01))
      }
    }
    return (x, w)
  }

  static func transposed(_ v: [Float], _ n: Int) -> [Lanes] {
    (0..<n).map { i in Lanes((0..<8).map { v[$0 * n + i] }) }
  }

  /// Bit equality, treating any two NaNs as equal (payloads are not part of ggml's contract).
  static func same(_ a: Float, _ b: Float) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

  @Test(arguments: [(16, 3), (32, 15), (32, 31)], [false, true])
  func `qkx2 and qkx3 in lanes`(shape: (Int, Int), qkx3: Bool) {
    let (n, nmax) = shape
    for round in 0..<24 {
      let (x, w) = Self.groups(n, seed: 0xa11ce, round: round)
      let xt = Self.transposed(x, n)
      let wt = Self.transposed(w, n)
      var L = [LaneLevels](repeating: .zero, count: n)
      var aux = [LaneLevels](repeating: .zero, count: n)
      let useMad = n == 16 && !qkx3
      let rmin: Float = qkx3 ? -0.9 : -0.5
      let rdelta: Float = qkx3 ? 0.05 : 0.1
      let nstep = qkx3 ? 36 : 15
      let (scale, theMin) = QuantizationSearch.makeQkxQuantsLanes(
        n, Int32(nmax), xt, wt, &L, &aux, rmin: rmin, rdelta: rdelta, nstep: nstep, useMad: useMad, qkx3: qkx3)
      for k in 0..<8 {
        var ls = [UInt8](repeating: 0, count: n)
        var la = [UInt8](repeating: 0, count: n)
        var m: Float = 0
        let xs = Array(x[(k * n)..<((k + 1) * n)])
        let ws = Array(w[(k * n)..<((k + 1) * n)])
        let s =
          qkx3
          ? QuantizationSearch.makeQkx3Quants(
            n, Int32(nmax), xs, ws, &ls, &m, &la, rmin: rmin, rdelta: rdelta, nstep: nstep, useMad: useMad)
          : QuantizationSearch.makeQkx2Quants(
            n, Int32(nmax), xs, ws, &ls, &m, &la, rmin: rmin, rdelta: rdelta, nstep: nstep, useMad: useMad)
        #expect(Self.same(s, scale[k]), "round \(round) lane \(k): scale \(s) vs \(scale[k])")
        #expect(Self.same(m, theMin[k]), "round \(round) lane \(k): min \(m) vs \(theMin[k])")
        #expect(ls == (0..<n).map { UInt8(truncatingIfNeeded: L[$0][k]) }, "round \(round) lane \(k): levels")
      }
    }
  }

  @Test(arguments: [(16, 4), (16, 32), (32, 8), (32, 16)], [false, true])
  func `make_qx_quants in lanes`(shape: (Int, Int), weighted: Bool) {
    let (n, nmax) = shape
    for round in 0..<24 {
      let (x, w) = Self.groups(n, seed: 0xb0b, round: round)
      let xt = Self.transposed(x, n)
      let wt = Self.transposed(w, n)
      var L = [LaneLevels](repeating: .zero, count: n)
      var aux = [LaneLevels](repeating: .zero, count: n)
      let scale = wt.withUnsafeBufferPointer { wp in
        QuantizationSearch.makeQxQuantsLanes(n, Int32(nmax), xt, weighted ? wp.baseAddress : nil, &L, &aux)
      }
      for k in 0..<8 {
        var ls = [Int8](repeating: 0, count: n)
        let xs = Array(x[(k * n)..<((k + 1) * n)])
        let ws = Array(w[(k * n)..<((k + 1) * n)])
        let s = ws.withUnsafeBufferPointer { wp in
          QuantizationSearch.makeQxQuants(
            n, Int32(nmax), xs, &ls, rmseType: 1, weights: weighted ? wp.baseAddress : nil)
        }
        #expect(Self.same(s, scale[k]), "round \(round) lane \(k): scale \(s) vs \(scale[k])")
        #expect(ls.map { UInt8(bitPattern: $0) } == (0..<n).map { UInt8(truncatingIfNeeded: L[$0][k]) })
      }
    }
  }

  @Test func `make_q3_quants in lanes`() {
    let n = 16
    for round in 0..<24 {
      let (x, _) = Self.groups(n, seed: 0xc3, round: round)
      let xt = Self.transposed(x, n)
      var L = [LaneLevels](repeating: .zero, count: n)
      let scale = QuantizationSearch.makeQ3QuantsLanes(n, 4, xt, &L)
      for k in 0..<8 {
        var ls = [Int8](repeating: 0, count: n)
        let xs = Array(x[(k * n)..<((k + 1) * n)])
        let s = QuantizationSearch.makeQ3Quants(n, 4, xs, &ls, doRmse: true)
        #expect(Self.same(s, scale[k]), "round \(round) lane \(k): scale \(s) vs \(scale[k])")
        #expect(ls.map { UInt8(bitPattern: $0) } == (0..<n).map { UInt8(truncatingIfNeeded: L[$0][k]) })
      }
    }
  }
}
