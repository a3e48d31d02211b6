import CMetricKernels
import QuantscopeAnalysis

/// `metric`: the error-sums kernel of `diff` alone, in each build the CPU runs, on DeepSeek-shaped
/// FP8 rows (7168 columns, one binary32 factor per 128) against a binary32 candidate. Every
/// build's sums are compared bit for bit with the baseline build's.
///
/// `quantscope-bench metric [--rows N] [--repeat N]`: `--rows 32` (0.23 M values, 1.1 MB) stays in
/// a 2 MB L2 cache; more rows measure memory as well.
struct MetricBenchmark {
  var rows = 32
  var repeats = 20

  static let columns = 7168
  static let block = 128

  /// Runs every build; returns whether all gave the baseline's bits.
  func run() -> Bool {
    let n = rows * Self.columns
    var random = Random(seed: 42)
    // e4m3fn values; the two NaN codes are left out, as real weights do not hold them.
    let table: [Double] = (0..<256).map { code in
      let exponent = (code >> 3) & 15, mantissa = Double(code & 7)
      let magnitude =
        exponent == 0
        ? mantissa / 8 * 0x1p-6 : Double(sign: .plus, exponent: exponent - 7, significand: 1 + mantissa / 8)
      return code & 0x7f == 0x7f ? 0 : (code & 0x80 != 0 ? -magnitude : magnitude)
    }
    let factors = (0..<(Self.columns / Self.block)).map { Double(Float(1e-4 * Double(1 + $0 % 7))) }
    let codes = (0..<n).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    let candidate = (0..<n).map { i -> Float in
      let r = table[Int(codes[i])] * factors[(i % Self.columns) / Self.block]
      return Float(r * (1 + (Double(random.next() % 1000) - 500) * 1e-4))
    }

    print(
      "metric: \(rows) rows × \(Self.columns) columns of FP8 × binary32 factors against binary32, "
        + "best of \(repeats), 1 thread; widest build here: \(ErrorAccumulator.kernelBuild)")
    print(pad("kernel", 34) + padLeft("ns/value", 10) + padLeft("G values/s", 12) + padLeft("bits", 10))

    var baseline: [[UInt64]] = []
    var agreed = true
    let available = qs_error_sums_level()
    for level in Int32(QS_ERROR_SUMS_BASELINE)...available {
      var sums: [[UInt64]] = []
      let t = bestOf(repeats) {
        sums.removeAll(keepingCapacity: true)
        var threshold = -1.0
        for row in 0..<rows {
          let at = row * Self.columns
          let s = candidate.withUnsafeBufferPointer { c in
            codes.withUnsafeBufferPointer { k in
              qs_error_sums_f32_scaled_codes_isa(
                level, c.baseAddress! + at, k.baseAddress! + at, table, factors, Self.block, Self.columns, threshold)
            }
          }
          if s.max_index >= 0 { threshold = s.max_absolute_error }
          sums.append(
            [s.squared_error, s.absolute_error, s.squared_reference, s.squared_candidate, s.product].map(\.bitPattern)
              + [UInt64(bitPattern: Int64(s.max_index))])
        }
      }
      if level == QS_ERROR_SUMS_BASELINE { baseline = sums }
      let same = sums == baseline
      agreed = agreed && same
      let name = String(cString: qs_error_sums_level_name(level))
      print(
        pad("error sums, \(name) build", 34) + padLeft(fixed(t / Double(n) * 1e9, 3), 10)
          + padLeft(fixed(Double(n) / t / 1e9, 2), 12) + padLeft(same ? "same" : "DIFFER", 10))
    }

    return agreed
  }
}
