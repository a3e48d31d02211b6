import CMetricKernels
import Testing

/// The C kernel of the metric loop: its baseline, AVX, AVX2 and AVX-512 builds give the same bits (a
/// sharded run on mixed machines must merge to the single run's sums), its FP8-code form equals the
/// decoded form, and both agree with a plain `Double` loop up to summation order.
///
/// A build the CPU lacks runs as the widest one below it, so on a smaller CPU some comparisons are
/// of a build with itself; `the widest build is the one the CPU has` says which ran.
@Suite("Error sums kernel")
struct ErrorSumsKernelTests {
  static func data(
    _ n: Int, seed: UInt64, block: Int
  ) -> (candidate: [Float], codes: [UInt8], table: [Double], factors: [Double], reference: [Double]) {
    var s = seed
    func next() -> UInt64 {
      s = s &* 6364136223846793005 &+ 1442695040888963407
      return s >> 11
    }
    // A table of FP8-like values (few mantissa bits, wide range) and a binary32 scale: their
    // products are exact in binary64, as for e4m3fn × weight_scale_inv.
    let table = (0..<256).map { k in Double(k % 16 - 8) * Double(sign: .plus, exponent: k / 16 - 8, significand: 1) }
    let factors = (0...n / block).map { Double(Float(1.0 / Double(3 + $0))) }
    let codes = (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) }
    let reference = codes.indices.map { table[Int(codes[$0])] * factors[$0 / block] }
    let candidate = reference.map { Float($0 * (1 + (Double(next() % 1000) - 500) * 1e-4)) }
    return (candidate, codes, table, factors, reference)
  }

  static func bits(_ s: qs_error_sums) -> [UInt64] {
    [
      s.squared_error, s.absolute_error, s.squared_reference, s.squared_candidate, s.product, s.max_absolute_error,
    ].map(\.bitPattern) + [UInt64(bitPattern: Int64(s.max_index))]
  }

  /// Every build, narrowest first.
  static let levels: [Int32] = [
    Int32(QS_ERROR_SUMS_BASELINE), Int32(QS_ERROR_SUMS_AVX), Int32(QS_ERROR_SUMS_AVX2), Int32(QS_ERROR_SUMS_AVX512),
  ]

  @Test(arguments: [(0, 8), (1, 8), (7, 8), (9, 8), (31, 16), (128, 128), (1000, 128), (4099, 128), (77, 1000)])
  func `every build and the FP8-code form give the same bits`(count: Int, block: Int) {
    let d = Self.data(count, seed: UInt64(count) + 1, block: block)
    let reference = d.reference
    let base = qs_error_sums_f32_f64_isa(Int32(QS_ERROR_SUMS_BASELINE), d.candidate, reference, count, -1)
    for level in Self.levels {
      let decoded = qs_error_sums_f32_f64_isa(level, d.candidate, reference, count, -1)
      let codes = qs_error_sums_f32_scaled_codes_isa(
        level, d.candidate, d.codes, d.table, d.factors, block, count, -1)
      #expect(Self.bits(base) == Self.bits(decoded), "level \(level)")
      #expect(Self.bits(base) == Self.bits(codes), "level \(level), FP8 codes")
    }
    #expect(Self.bits(base) == Self.bits(qs_error_sums_f32_f64(d.candidate, reference, count, -1)))

    // A plain loop in Double: the same sums up to summation order, the same maximum exactly.
    var sse = 0.0, sae = 0.0, srr = 0.0, scc = 0.0, scr = 0.0, mx = -1.0, at = -1
    for i in 0..<count {
      let c = Double(d.candidate[i]), r = reference[i], e = c - r
      sse += e * e
      sae += abs(e)
      srr += r * r
      scc += c * c
      scr += c * r
      if abs(e) > mx {
        mx = abs(e)
        at = i
      }
    }
    #expect(base.max_absolute_error == mx)
    #expect(base.max_index == at)
    // Above a threshold only: none when it is the maximum itself.
    #expect(qs_error_sums_f32_f64(d.candidate, reference, count, mx).max_index == -1)
    for (a, b) in [
      (base.squared_error, sse), (base.absolute_error, sae), (base.squared_reference, srr),
      (base.squared_candidate, scc), (base.product, scr),
    ] {
      #expect(abs(a - b) <= 1e-12 * max(abs(a), abs(b)), "\(a) vs \(b)")
    }
  }

  @Test func `ties report the first index, and the running maximum is respected`() {
    // Equal largest errors at 37, 38 and 250: candidate 1024 against reference 0.
    var d = Self.data(300, seed: 5, block: 128)
    var r = d.reference
    for k in [37, 38, 250] {
      d.candidate[k] = 1024
      r[k] = 0
    }
    for level in Self.levels {
      let s = qs_error_sums_f32_f64_isa(level, d.candidate, r, 300, -1)
      #expect(s.max_index == 37)
      #expect(s.max_absolute_error == 1024)
      #expect(qs_error_sums_f32_f64_isa(level, d.candidate, r, 300, 1024).max_index == -1)
    }
  }

  @Test func `a NaN makes the sums non-finite, so the caller redoes the segment`() {
    var d = Self.data(64, seed: 3, block: 16)
    d.candidate[17] = .nan
    for level in Self.levels {
      let s = qs_error_sums_f32_f64_isa(level, d.candidate, d.reference, 64, -1)
      #expect(!(s.squared_error + s.absolute_error + s.product).isFinite)
    }
  }

  @Test func `the widest build is the one the CPU has`() {
    let level = qs_error_sums_level()
    #expect(Self.levels.contains(level))
    let name = String(cString: qs_error_sums_level_name(level))
    #expect(["baseline", "AVX", "AVX2", "AVX-512"].contains(name))
    print("error sums kernel: \(name) build")
  }
}
