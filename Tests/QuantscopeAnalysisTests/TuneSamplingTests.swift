import Foundation
import QuantscopeAnalysis
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// `tune --sample`: the sampler and estimator on hand-computable cases, and a cheap sampled
/// measurement against the full pass. Issue 13's criteria on the full fixtures are in
/// ``TuneSamplingCriteriaTests`` (minutes in a debug build).
@Suite("tune sampling", .serialized)
struct TuneSamplingTests {
  /// The small fixture: 19 matrices of 1024 rows and one 4 × 200-row expert stack (edge tiles).
  static let smallShapes: [[Int]] = [[256, 200, 4]] + Array(repeating: [256, 1024], count: 19)
  static let smallSeed: UInt64 = 0x5A4D_504C
  /// DeepSeek-V3's row counts (a dense FFN's 18432 rows, an expert stack of 2048-row experts, 16
  /// of its 256 experts) with short rows, to stay cheap.
  static let deepSeekShapes: [[Int]] = [[256, 18432], [256, 2048, 16]]
  static let deepSeekSeed: UInt64 = 0xD5_3E3B

  /// Rows with different scales (two levels inside each 128-row tile) and, in 2 % of rows, one
  /// value 12 times too large: row errors vary and are heavy-tailed, as a real model's are.
  static func values(shapes: [[Int]], seed: UInt64) -> [[Float]] {
    var rng = SplitMix(seed: seed)
    func gaussian() -> Float {
      let u = max(Double.ulpOfOne, Double(rng.next() >> 11) / Double(1 << 53))
      let v = Double(rng.next() >> 11) / Double(1 << 53)
      return Float((-2 * log(u)).squareRoot() * cos(2 * .pi * v))
    }
    var data: [[Float]] = []
    for ne in shapes {
      let columns = ne[0]
      let rows = ne.dropFirst().reduce(1, *)
      var values = [Float](repeating: 0, count: rows * columns)
      for r in 0..<rows {
        let scale = Float(0.02) * (0.8 + 0.4 * Float(rng.next() % 1000) / 1000) * (r % 128 < 64 ? 1 : 1.5)
        for c in 0..<columns { values[r * columns + c] = gaussian() * scale }
        if rng.next() % 50 == 0 { values[r * columns + Int(rng.next() % UInt64(columns))] *= 12 }
      }
      data.append(values)
    }
    return data
  }

  /// A GGUF of F32 tensors `blk.N.ffn_up.weight` of `shapes`, filled by ``values(shapes:seed:)``.
  static func fixture(_ name: String, shapes: [[Int]], seed: UInt64) throws -> URL {
    let dir = try TestPaths.temporaryDirectory(name)
    let declarations = try shapes.enumerated().map {
      try GGUFTensorDeclaration(name: "blk.\($0.offset).ffn_up.weight", type: .f32, ne: $0.element)
    }
    let sink = MemorySink()
    let writer = try GGUFWriter(
      metadata: [("general.architecture", .string("llama"))], tensors: declarations, sink: sink)
    try writer.writeHeader()
    for values in Self.values(shapes: shapes, seed: seed) { try values.withUnsafeBytes { try writer.writeData($0) } }
    try writer.finish()
    let path = dir.appendingPathComponent("model.gguf")
    try Data(sink.bytes).write(to: path)
    return path
  }

  static let small = Result { try fixture("tune-sampling", shapes: smallShapes, seed: smallSeed) }
  static let deepSeek = Result { try fixture("tune-sampling-deepseek", shapes: deepSeekShapes, seed: deepSeekSeed) }

  /// Measures `path` fully and at 2 %, prints coverage and totals, and checks issue 13's criteria:
  /// each type's total within 2 %, and (when `coverage` is set) at least that share of estimates
  /// within the stated interval (± ``TuneSampling/statedInterval`` standard errors). Returns that
  /// share and the largest |estimate − exact| in standard errors.
  @discardableResult
  static func check(
    _ path: URL, types: [GGMLType], label: String, coverage: Double?
  ) throws -> (covered: Double, worst: Double) {
    let inputs = try TuneInputs.load(source: [path.path], reference: [])
    let model = inputs.source.model
    func measure(_ sample: Double?) throws -> TuneTable {
      var options = TuneMeasurement.Options()
      options.threads = 2
      options.types = types
      options.sample = sample
      return try TuneMeasurement.measure(
        model: model, fixed: try TuneConstraints.fixed(model: model, base: nil), mapping: inputs.mapping,
        heads: inputs.heads, options: options)
    }
    let full = try measure(nil)
    let sampled = try measure(0.02)
    var estimates = 0, covered = 0, coveredByTwo = 0
    var worst = 0.0
    var totals: [GGMLType: (exact: Double, estimate: Double)] = [:]
    for (f, s) in zip(full.items, sampled.items) {
      for (a, b) in zip(f.options, s.options) {
        #expect(a.type == b.type && a.bytes == b.bytes)
        #expect(a.standardError == 0)
        #expect(b.standardError > 0)
        estimates += 1
        if abs(b.error - a.error) <= TuneSampling.statedInterval * b.standardError { covered += 1 }
        if abs(b.error - a.error) <= 2 * b.standardError { coveredByTwo += 1 }
        worst = max(worst, abs(b.error - a.error) / b.standardError)
        totals[a.type, default: (0, 0)].exact += a.error
        totals[a.type, default: (0, 0)].estimate += b.error
      }
    }
    print(
      "tune --sample 0.02, \(label): \(covered) of \(estimates) estimates within the stated interval, "
        + "± \(TuneSampling.statedInterval) standard errors (\(coveredByTwo) within ± 2)")
    if let coverage { #expect(Double(covered) >= coverage * Double(estimates), "\(label)") }
    for type in types {
      let t = totals[type]!
      let relative = (t.estimate - t.exact) / t.exact
      print("tune --sample 0.02, \(label): \(type.name) total off by \(String(format: "%+.2f", 100 * relative)) %")
      #expect(abs(relative) <= 0.02, "\(label) \(type.name)")
    }
    print("tune --sample 0.02, \(label): largest deviation \(String(format: "%.2f", worst)) standard errors")
    return (Double(covered) / Double(estimates), worst)
  }

  static let cheap = Result {
    try fixture("tune-sampling-cheap", shapes: Array(smallShapes.prefix(4)), seed: smallSeed)
  }

  @Test func `a cheap sampled measurement: totals within 2 percent, every estimate within 4 standard errors`() throws {
    // Four tensors of the small fixture, two types: seconds in a debug build. Eight estimates are
    // too few to test a 95 % coverage, so each must only lie within ± 4 of its standard errors
    // (which the widened t interval exceeds by chance with probability well under 1 %).
    let worst = try Self.check(try Self.cheap.get(), types: [.q4_K, .q8_0], label: "4 tensors", coverage: nil).worst
    #expect(worst <= 4)
  }

  @Test func `the sample covers every tile of every expert, deterministically`() {
    let s = TuneSampling(fraction: 0.02)
    let tiles = s.tiles(rows: 4 * 200, matrixRows: 200)
    #expect(tiles.count == 8)
    #expect(tiles[1] == 128..<200 && tiles[2] == 200..<328)
    for t in tiles {
      let proxies = t.map { Double($0 % 7 + 1) }
      let drawn = s.sample(t, tensor: "blk.0.ffn_up_exps.weight", proxies: proxies)
      #expect(drawn.rows.count == s.sampleSize(t.count) && drawn.rows.count >= 4)
      #expect(drawn.rows.allSatisfy { t.contains($0) } && Set(drawn.rows).count == drawn.rows.count)
      #expect(drawn.rows == drawn.rows.sorted())
      #expect(drawn == s.sample(t, tensor: "blk.0.ffn_up_exps.weight", proxies: proxies))
      // π_i = k × size_i with size_i = 0.9 × proxy share + 0.1 / rows (none reaches 1 here).
      let total = proxies.reduce(0, +)
      for (row, p) in zip(drawn.rows, drawn.probabilities) {
        let size = 0.9 * proxies[row - t.lowerBound] / total + 0.1 / Double(t.count)
        #expect(abs(p - Double(drawn.rows.count) * size) < 1e-12)
      }
    }
  }

  @Test func `a row whose probability would reach 1 is taken for certain, the rest evenly`() {
    let s = TuneSampling(fraction: 0.02)
    // 128 rows of proxy 1 and row 40 of proxy 1000: its size 0.9 × 1000/1127 + 0.1/128 ≈ 0.80,
    // times 4 rows ≥ 1, so it is certain; the 3 other rows come from 127 rows of equal size.
    var proxies = [Double](repeating: 1, count: 128)
    proxies[40] = 1000
    let drawn = s.sample(256..<384, tensor: "t", proxies: proxies)
    #expect(drawn.rows.count == 4 && drawn.rows.contains(296))
    for (row, p) in zip(drawn.rows, drawn.probabilities) {
      #expect(row == 296 ? p == 1 : abs(p - 3.0 / 127) < 1e-12)
    }
    // No proxy information: equal probabilities.
    let flat = s.sample(0..<128, tensor: "t", proxies: [Double](repeating: 0, count: 128))
    #expect(flat.probabilities.allSatisfy { abs($0 - 4.0 / 128) < 1e-15 })
    // A tile no larger than the sample is measured whole.
    #expect(s.sample(0..<3, tensor: "t", proxies: [5, 0, 1]) == .init(rows: [0, 1, 2], probabilities: [1, 1, 1]))
  }

  @Test func `Student t factors match scipy`() {
    // python3 -c "from scipy import stats; p = stats.norm.cdf(2); print([stats.t.ppf(p, v) for v in (2, 3, 16, 100)])"
    let expected: [(Int, Double)] = [
      (2, 4.526536687430166), (3, 3.306822175005651), (16, 2.168939991186383), (100, 2.0253091279034594),
    ]
    for (v, t) in expected { #expect(abs(TuneSampling.studentT(v) - t) <= 0.002 * t, "\(v)") }
    #expect(abs(TuneSampling.studentT(100_000) - 2) < 1e-4)
  }

  @Test func `the estimator on hand-computed tiles`() {
    var e = TuneSampling.Estimate()
    // Tile of 10 rows: one row certain (error 50), two drawn with π = 0.2 and 0.5.
    // Horvitz–Thompson: 50 + 2/0.2 + 6/0.5 = 72. With z = y k / π = (20, 24), mean 22, the
    // variance is (1 − 2/9) × ((20 − 22)² + (24 − 22)²) / (2 × 1) = 28/9.
    e.add(rows: 10, errors: [2, 6, 50], probabilities: [0.2, 0.5, 1])
    #expect(abs(e.estimate - 72) < 1e-12 && abs(e.variance - 28.0 / 9) < 1e-12)
    // One degree of freedom: the standard error is widened by t₁(Φ(2)) / 2 = tan(π (Φ(2) − ½)) / 2,
    // Φ(2) = 0.9772498680518208 (python3 -c "from scipy import stats; print(stats.t.ppf(stats.norm.cdf(2), 1))"
    // gives 13.967730199244548).
    #expect(e.degreesOfFreedom == 1)
    #expect(abs(e.standardError - (28.0 / 9).squareRoot() * 13.967730199244548 / 2) < 1e-9)
    // Tile of 8 rows, 3 drawn with equal probability 3/8: the textbook 8 × mean = 24, variance
    // 8² (1 − 3/8) s² / 3 with s² = 4 (errors 1, 3, 5): 160/3.
    var f = TuneSampling.Estimate()
    f.add(rows: 8, errors: [1, 3, 5], probabilities: [0.375, 0.375, 0.375])
    #expect(abs(f.estimate - 24) < 1e-12 && abs(f.variance - 160.0 / 3) < 1e-12)
    // Tiles add, in any order.
    var g = f
    g.merge(e)
    e.merge(f)
    #expect(abs(e.estimate - 96) < 1e-12 && abs(e.variance - 508.0 / 9) < 1e-12)
    #expect(abs(g.estimate - e.estimate) < 1e-12 && abs(g.variance - e.variance) < 1e-12)
    #expect(e.degreesOfFreedom == 3 && g.degreesOfFreedom == 3)
    // Every row measured: exact, no variance.
    var whole = TuneSampling.Estimate()
    whole.add(rows: 2, errors: [1.5, 2.5], probabilities: [1, 1])
    #expect(whole.estimate == 4 && whole.variance == 0)
  }

  @Test func `the proxy sums block maximum squared times block weight, a short last block included`() {
    // 40 values: a block of 32 (largest magnitude 3) and a last block of 8 (largest 0.5).
    var row = [Double](repeating: 0.25, count: 40)
    row[7] = -3
    row[35] = 0.5
    let plain = row.withUnsafeBufferPointer { TuneSampling.proxy(row: $0.baseAddress!, count: 40, importance: nil) }
    #expect(plain == 9 * 32 + 0.25 * 8)
    let weights = (0..<40).map { Float($0 < 32 ? 0.5 : 2) }
    let weighted = row.withUnsafeBufferPointer { r in
      weights.withUnsafeBufferPointer {
        TuneSampling.proxy(row: r.baseAddress!, count: 40, importance: $0.baseAddress!)
      }
    }
    #expect(weighted == 9 * 16 + 0.25 * 16)
  }
}

/// Issue 13's criteria for `tune --sample 0.02` on the full fixtures: each type's total within
/// 2 % of the full pass, and ≥ 95 % of per-tensor estimates within their stated interval.
@Suite(
  "tune sampling criteria", .serialized,
  .enabled(
    if: ProcessInfo.processInfo.environment["QUANTSCOPE_TUNE_SAMPLING"] != nil,
    "slow in debug builds (about 1 and 1.5 minutes on 2 cores): set QUANTSCOPE_TUNE_SAMPLING=1 to run"))
struct TuneSamplingCriteriaTests {
  @Test
  func `at 2 percent on heavy-tailed short tensors, estimates fall within their interval and totals within 2 percent`()
    throws
  {
    // 32 rows per tensor leave 24 degrees of freedom; ± 2 standard errors would cover ≈ 95 % on
    // average (95.4 % over 200 simulated samples of this fixture's row errors), so one model of
    // 20 tensors would fall below 95 % about a third of the time: the stated interval is wider.
    try TuneSamplingTests.check(
      try TuneSamplingTests.small.get(), types: TuneMeasurement.defaultTypes, label: "20 tensors of 1024 rows",
      coverage: 0.95)
  }

  @Test
  func `at 2 percent on DeepSeek-V3 row counts, estimates fall within their interval and totals within 2 percent`()
    throws
  {
    try TuneSamplingTests.check(
      try TuneSamplingTests.deepSeek.get(), types: [.q3_K, .q4_K, .q6_K, .q8_0],
      label: "18432 rows and 16 experts of 2048 rows", coverage: 0.95)
  }

}
