import CMetricKernels

/// Running sums for the error between a candidate tensor and its reference.
///
/// Everything is accumulated in `Double`. A tensor is processed in fixed-size chunks whose
/// partial sums are merged in chunk order, so results do not depend on how many threads ran.
public struct ErrorAccumulator: Sendable, Equatable {
  /// Number of values compared.
  public var count: Int = 0
  /// Σ (candidate − reference)².
  public var sumSquaredError: Double = 0
  /// Σ |candidate − reference|.
  public var sumAbsoluteError: Double = 0
  /// Σ reference².
  public var sumSquaredReference: Double = 0
  /// Σ candidate².
  public var sumSquaredCandidate: Double = 0
  /// Σ candidate × reference.
  public var sumProduct: Double = 0
  /// Largest |candidate − reference| seen.
  public var maxAbsoluteError: Double = 0
  /// Flat (row-major) index of the largest error; -1 before any value.
  public var maxErrorIndex: Int = -1
  /// Σ w (candidate − reference)² with w the importance of each value's column (imatrix).
  public var weightedSquaredError: Double = 0
  /// Σ w reference².
  public var weightedSquaredReference: Double = 0
  /// Σ w.
  public var sumWeights: Double = 0
  /// Positions where either side was NaN or infinite (excluded from the sums).
  public var nonFinite: Int = 0
  /// Reference values that were NaN or infinite.
  public var nonFiniteReference: Int = 0
  /// Candidate values that were NaN or infinite.
  public var nonFiniteCandidate: Int = 0
  /// Flat index of the first position with a non-finite value; -1 when there is none.
  public var firstNonFiniteIndex: Int = -1

  /// An empty accumulator.
  public init() {}

  /// The build of the metric kernel this CPU runs ("baseline", "AVX", "AVX2" or "AVX-512"), for
  /// benchmark reports: every build gives the same bits, only the speed differs.
  public static var kernelBuild: String { String(cString: qs_error_sums_level_name(qs_error_sums_level())) }

  /// Adds `count` values of one row segment.
  ///
  /// - Parameters:
  ///   - candidate: candidate values.
  ///   - reference: reference values, same length.
  ///   - firstIndex: flat index of the first value, for locating the largest error.
  ///   - importance: per-value importance weights (an imatrix slice along the row), or `nil`.
  public mutating func add(
    candidate: UnsafePointer<Double>, reference: UnsafePointer<Double>, count n: Int, firstIndex: Int,
    importance: UnsafePointer<Float>? = nil
  ) {
    addValues(candidate: candidate, reference: reference, count: n, firstIndex: firstIndex, importance: importance)
  }

  /// Adds `count` values of one row segment whose candidate side is binary32 (a GGUF tensor
  /// decoded without scale: its values are exactly representable, so this gives the sums of the
  /// `Double` overload up to summation order).
  ///
  /// The sums run in the C kernel `qs_error_sums_f32_f64`: eight `Double` lanes (separate multiply
  /// and add, no FMA) reduced in a fixed order, bit-identical in its SSE2, AVX, AVX2 and AVX-512 builds, so results
  /// depend only on the values and their position, never on threads or the CPU.
  /// The kernel tracks the largest error from the running maximum on, strictly greater replacing,
  /// so it reports the same first index as the sequential loop. A segment holding NaN or infinity
  /// (seen as non-finite sums) is redone value by value to exclude them.
  public mutating func add(
    candidate: UnsafePointer<Float>, reference: UnsafePointer<Double>, count n: Int, firstIndex: Int,
    importance: UnsafePointer<Float>? = nil
  ) {
    if importance != nil {
      addScalar(candidate: candidate, reference: reference, count: n, firstIndex: firstIndex, importance: importance)
      return
    }
    let sums = qs_error_sums_f32_f64(candidate, reference, n, maxErrorIndex < 0 ? -1 : maxAbsoluteError)
    guard Self.finite(sums) else {
      addScalar(candidate: candidate, reference: reference, count: n, firstIndex: firstIndex, importance: nil)
      return
    }
    addFinite(sums, count: n, firstIndex: firstIndex)
  }

  /// Adds one row whose reference is FP8 codes × scale factors, read in place: the same sums, bit
  /// for bit, as the decoded row given to ``add(candidate:reference:count:firstIndex:importance:)``.
  mutating func add(candidate: UnsafePointer<Float>, reference: ScaledCodeRow, count n: Int, firstIndex: Int) {
    let sums = qs_error_sums_f32_scaled_codes(
      candidate, reference.codes, reference.table, reference.factors, reference.blockColumns, n,
      maxErrorIndex < 0 ? -1 : maxAbsoluteError)
    guard Self.finite(sums) else {
      // A NaN or infinity to leave out: decode the row and go value by value.
      let decoded = UnsafeMutablePointer<Double>.allocate(capacity: n)
      defer { decoded.deallocate() }
      for i in 0..<n {
        decoded[i] = reference.table[Int(reference.codes[i])] * reference.factors[i / reference.blockColumns]
      }
      addScalar(candidate: candidate, reference: decoded, count: n, firstIndex: firstIndex, importance: nil)
      return
    }
    addFinite(sums, count: n, firstIndex: firstIndex)
  }

  /// Whether the kernel's sums are all finite (no NaN or infinity was met).
  @inline(__always)
  private static func finite(_ s: qs_error_sums) -> Bool {
    (s.squared_error + s.absolute_error + s.squared_reference + s.squared_candidate + s.product
      + s.max_absolute_error).isFinite
  }

  /// Adds a segment's finite sums; the kernel located an error above the running maximum, if any,
  /// at its first occurrence, as the value-by-value loop does.
  @inline(__always)
  private mutating func addFinite(_ sums: qs_error_sums, count n: Int, firstIndex: Int) {
    count += n
    sumSquaredError += sums.squared_error
    sumAbsoluteError += sums.absolute_error
    sumSquaredReference += sums.squared_reference
    sumSquaredCandidate += sums.squared_candidate
    sumProduct += sums.product
    if sums.max_index >= 0 {
      maxAbsoluteError = sums.max_absolute_error
      maxErrorIndex = firstIndex + sums.max_index
    }
  }

  /// The value-by-value form of the binary32-candidate ``add(candidate:reference:count:firstIndex:importance:)``.
  private mutating func addScalar(
    candidate: UnsafePointer<Float>, reference: UnsafePointer<Double>, count n: Int, firstIndex: Int,
    importance: UnsafePointer<Float>?
  ) {
    addValues(candidate: candidate, reference: reference, count: n, firstIndex: firstIndex, importance: importance)
  }

  /// Adds values one by one in `Double`: the whole computation for a `Double` candidate, and the
  /// fallback of the SIMD path for rows with NaN or infinities.
  @inline(__always)
  private mutating func addValues<Candidate: BinaryFloatingPoint>(
    candidate: UnsafePointer<Candidate>, reference: UnsafePointer<Double>, count n: Int, firstIndex: Int,
    importance: UnsafePointer<Float>?
  ) {
    var sse = 0.0, sae = 0.0, srr = 0.0, scc = 0.0, scr = 0.0
    var wse = 0.0, wrr = 0.0, sw = 0.0
    var maxErr = maxAbsoluteError, maxAt = maxErrorIndex
    var bad = 0, badReference = 0, badCandidate = 0, firstBad = -1
    for i in 0..<n {
      let c = Double(candidate[i]), r = reference[i]
      guard c.isFinite && r.isFinite else {
        bad += 1
        if !r.isFinite { badReference += 1 }
        if !c.isFinite { badCandidate += 1 }
        if firstBad < 0 { firstBad = firstIndex + i }
        continue
      }
      let e = c - r
      let e2 = e * e
      sse += e2
      let a = abs(e)
      sae += a
      srr += r * r
      scc += c * c
      scr += c * r
      if a > maxErr || maxAt < 0 {
        maxErr = a
        maxAt = firstIndex + i
      }
      if let importance {
        let w = Double(importance[i])
        wse += w * e2
        wrr += w * (r * r)
        sw += w
      }
    }
    count += n - bad
    nonFinite += bad
    nonFiniteReference += badReference
    nonFiniteCandidate += badCandidate
    if firstNonFiniteIndex < 0 { firstNonFiniteIndex = firstBad }
    sumSquaredError += sse
    sumAbsoluteError += sae
    sumSquaredReference += srr
    sumSquaredCandidate += scc
    sumProduct += scr
    weightedSquaredError += wse
    weightedSquaredReference += wrr
    sumWeights += sw
    maxAbsoluteError = maxErr
    maxErrorIndex = maxAt
  }

  /// Adds another accumulator's sums (which covered later values).
  public mutating func merge(_ other: ErrorAccumulator) {
    count += other.count
    nonFinite += other.nonFinite
    nonFiniteReference += other.nonFiniteReference
    nonFiniteCandidate += other.nonFiniteCandidate
    if firstNonFiniteIndex < 0 { firstNonFiniteIndex = other.firstNonFiniteIndex }
    sumSquaredError += other.sumSquaredError
    sumAbsoluteError += other.sumAbsoluteError
    sumSquaredReference += other.sumSquaredReference
    sumSquaredCandidate += other.sumSquaredCandidate
    sumProduct += other.sumProduct
    weightedSquaredError += other.weightedSquaredError
    weightedSquaredReference += other.weightedSquaredReference
    sumWeights += other.sumWeights
    if other.maxErrorIndex >= 0 && (other.maxAbsoluteError > maxAbsoluteError || maxErrorIndex < 0) {
      maxAbsoluteError = other.maxAbsoluteError
      maxErrorIndex = other.maxErrorIndex
    }
  }

  /// The metrics these sums give, or `nil` when they would not be the truth: when any value
  /// was NaN or infinite (a score over the other values would hide them — an all-NaN tensor
  /// would score a perfect cosine), or when nothing was compared.
  public var metrics: ErrorMetrics? { nonFinite == 0 && count > 0 ? ErrorMetrics(self) : nil }

  /// The metrics of the finite values alone (every value when ``nonFinite`` is 0). For
  /// diagnostics only: they are not the tensor's error when values were left out.
  public var finiteMetrics: ErrorMetrics { ErrorMetrics(self) }
}

/// Error metrics of a candidate against a reference, derived from an ``ErrorAccumulator``.
public struct ErrorMetrics: Sendable, Equatable, Codable {
  /// Number of values compared.
  public var count: Int
  /// Mean squared error.
  public var mse: Double
  /// Root mean squared error.
  public var rmse: Double
  /// MSE / mean(reference²).
  public var nmse: Double
  /// 10·log10(NMSE).
  public var nmseDecibels: Double
  /// Cosine similarity of candidate and reference.
  public var cosine: Double
  /// Signal-to-noise ratio in dB: 10·log10(Σ ref² / Σ err²).
  public var snrDecibels: Double
  /// Largest absolute error.
  public var maxAbsoluteError: Double
  /// Flat index of the largest absolute error.
  public var maxErrorIndex: Int
  /// Mean absolute error.
  public var meanAbsoluteError: Double
  /// ‖candidate − reference‖ / ‖reference‖ (Frobenius).
  public var relativeFrobenius: Double
  /// Importance-weighted NMSE: Σ w·err² / Σ w·ref², when an imatrix was given.
  public var weightedNMSE: Double?
  /// Values skipped because either side was NaN or infinite.
  public var nonFinite: Int

  /// Derives the metrics from accumulated sums (of the finite values; see
  /// ``ErrorAccumulator/metrics``, which refuses to when any value was left out).
  public init(_ s: ErrorAccumulator) {
    let n = Double(s.count)
    count = s.count
    mse = s.count == 0 ? 0 : s.sumSquaredError / n
    rmse = mse.squareRoot()
    nmse =
      s.sumSquaredReference == 0 ? (s.sumSquaredError == 0 ? 0 : .infinity) : s.sumSquaredError / s.sumSquaredReference
    nmseDecibels = 10 * log10Safe(nmse)
    let norms = (s.sumSquaredReference * s.sumSquaredCandidate).squareRoot()
    cosine = norms == 0 ? (s.sumSquaredReference == s.sumSquaredCandidate ? 1 : 0) : s.sumProduct / norms
    snrDecibels = -nmseDecibels
    maxAbsoluteError = s.maxAbsoluteError
    maxErrorIndex = s.maxErrorIndex
    meanAbsoluteError = s.count == 0 ? 0 : s.sumAbsoluteError / n
    relativeFrobenius = nmse.squareRoot()
    weightedNMSE =
      s.sumWeights > 0
      ? (s.weightedSquaredReference == 0 ? 0 : s.weightedSquaredError / s.weightedSquaredReference) : nil
    nonFinite = s.nonFinite
  }
}

@inline(__always) private func log10Safe(_ x: Double) -> Double {
  if x == 0 { return -.infinity }
  if x.isInfinite { return .infinity }
  return Foundation_log10(x)
}

#if canImport(Glibc)
  import Glibc
  @inline(__always) private func Foundation_log10(_ x: Double) -> Double { Glibc.log10(x) }
#else
  import Foundation
  @inline(__always) private func Foundation_log10(_ x: Double) -> Double { Foundation.log10(x) }
#endif
