import QuantscopeFormats

/// A deterministic stratified sample of rows drawn with probability proportional to a cheap
/// proxy of their error, so that a very large model is measured in minutes, and the estimator
/// that turns the sampled rows' errors into a tensor's error.
///
/// Strata are 128-row tiles inside each matrix (an expert of a 3-D tensor is its own matrix):
/// FP8 checkpoints scale 128 × 128 tiles, so every scale tile and every expert is represented.
/// Each tile contributes `max(4, ⌈fraction × rows⌉)` rows (all of a smaller tile).
///
/// Row errors are heavy-tailed (a row holding one outlier value can have many times the error
/// of its neighbours), so equal-probability rows rarely include the costly ones and the estimate
/// understates its own variance. Every row of a tile is therefore decoded (cheap next to
/// quantizing it to six types) and given a size, ``proxy(row:count:importance:)``, roughly
/// proportional to its error at any type. Rows are drawn by systematic sampling with
/// probability proportional to `(1 − δ) × proxy share + δ / rows` (δ = ``defensiveShare``, so
/// every row can be drawn), a row whose probability would reach 1 being taken for certain, in an
/// order and from a start given by a hash of the tensor name and tile: the same on every run.
/// Only the drawn rows are quantized; ``Estimate`` is the estimator.
public struct TuneSampling: Sendable {
  /// Rows per stratum.
  public static let tileRows = 128
  /// Values per block of the proxy: the block of Q8_0 and of the K-quants' scale sub-blocks.
  public static let proxyBlock = 32
  /// Share of the drawing probability spread evenly over a tile's rows, whatever the proxy:
  /// keeps the estimate unbiased for rows the proxy misjudges (a zero proxy, say).
  public static let defensiveShare = 0.1
  /// Fraction of rows to measure, in (0, 1].
  public let fraction: Double

  /// A sample of `fraction` of the rows.
  public init(fraction: Double) { self.fraction = fraction }

  /// The strata of a tensor of `rows` rows whose matrices have `matrixRows` rows.
  public func tiles(rows: Int, matrixRows: Int) -> [Range<Int>] {
    var out: [Range<Int>] = []
    var r = 0
    while r < rows {
      let end = min(rows, (r / matrixRows + 1) * matrixRows, r + Self.tileRows)
      out.append(r..<end)
      r = end
    }
    return out
  }

  /// The interval stated for every sampled estimate, in standard errors: ± 3, 99.7 % for a normally
  /// distributed estimate. A nominal 95 % interval covers 95 % of tensors only on average (one
  /// model's tensors would fall short about half the time, and heavy-tailed rows make the normal
  /// approximation optimistic), while `tune` promises that at least 95 % of one model's estimates
  /// hold the full pass's value.
  public static let statedInterval = 3.0

  /// Fewest rows measured per tile: enough degrees of freedom for each tile's variance (at 2 %,
  /// 4 of 128 rows, 3.1 %).
  public static let minimumRows = 4

  /// How many rows of a stratum of `count` rows are measured.
  public func sampleSize(_ count: Int) -> Int {
    min(count, max(Self.minimumRows, Int((fraction * Double(count)).rounded(.up))))
  }

  /// Rows measured of a tensor.
  public func sampledRowCount(rows: Int, matrixRows: Int) -> Int {
    tiles(rows: rows, matrixRows: matrixRows).reduce(0) { $0 + sampleSize($1.count) }
  }

  /// The proxy of a row's error: over its blocks of ``proxyBlock`` values (a shorter last block
  /// counts too), the block's largest magnitude squared times the block's importance weight sum,
  /// or its value count when `importance` is `nil`.
  ///
  /// Up to a constant this is the squared error of rounding to a step proportional to the block
  /// maximum, which is what every block quantizer does: a block with an outlier gets a coarse step
  /// for all its values, so the proxy is large where the error is.
  ///
  /// - Parameters:
  ///   - row: the reference values.
  ///   - count: values in the row.
  ///   - importance: the row's importance weights (the imatrix slice), or `nil`.
  /// - Returns: the proxy, or NaN when the row holds NaN or infinite values.
  public static func proxy(row: UnsafePointer<Double>, count: Int, importance: UnsafePointer<Float>?) -> Double {
    var total = 0.0
    var start = 0
    // NaN and infinity propagate through a plain sum, not through `max`.
    var sum = 0.0
    while start < count {
      let end = min(count, start + proxyBlock)
      var peak = 0.0
      for i in start..<end {
        peak = max(peak, abs(row[i]))
        sum += row[i]
      }
      var weight = Double(end - start)
      if let importance {
        weight = 0
        for i in start..<end { weight += Double(importance[i]) }
      }
      total += peak * peak * weight
      start = end
    }
    return sum.isFinite ? total : .nan
  }

  /// The rows drawn from one tile and their inclusion probabilities.
  public struct TileSample: Sendable, Equatable {
    /// Rows drawn (tensor row indices), ascending.
    public let rows: [Int]
    /// Each row's probability of being drawn (1 for a row taken for certain).
    public let probabilities: [Double]

    /// A sample of `rows` drawn with `probabilities`.
    public init(rows: [Int], probabilities: [Double]) {
      self.rows = rows
      self.probabilities = probabilities
    }
  }

  /// The rows measured in `tile` of `tensor`, given every row's proxy (`proxies[i]` for row
  /// `tile.lowerBound + i`).
  public func sample(_ tile: Range<Int>, tensor: String, proxies: [Double]) -> TileSample {
    precondition(proxies.count == tile.count)
    var k = sampleSize(tile.count)
    if k == tile.count { return TileSample(rows: Array(tile), probabilities: Array(repeating: 1, count: k)) }
    // Sizes: the proxy share, mixed with an even share.
    let total = proxies.reduce(0, +)
    let n = Double(tile.count)
    let sizes: [Double] =
      total > 0 && total.isFinite
      ? proxies.map { (1 - Self.defensiveShare) * $0 / total + Self.defensiveShare / n }
      : Array(repeating: 1 / n, count: tile.count)
    // Rows whose probability would reach 1 are taken for certain, largest first.
    var certain: [Int] = []
    var open = Array(0..<tile.count)
    var openSize = sizes.reduce(0, +)
    while k > 0, let top = open.max(by: { sizes[$0] < sizes[$1] }), Double(k) * sizes[top] >= openSize {
      certain.append(top)
      open.removeAll { $0 == top }
      openSize -= sizes[top]
      k -= 1
    }
    var rows = certain.map { (tile.lowerBound + $0, 1.0) }
    if k > 0 {
      // Systematic sampling over a hashed order: k points one apart on the cumulated
      // probabilities, each below 1, so no row is drawn twice.
      var state = UInt64(truncatingIfNeeded: tile.lowerBound) &* 0x9E37_79B9_7F4A_7C15
      for byte in tensor.utf8 { state = (state ^ UInt64(byte)) &* 0x1000_0000_01B3 }
      func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
      }
      for i in open.indices.dropLast() {
        let j = i + Int(next() % UInt64(open.count - i))
        open.swapAt(i, j)
      }
      let start = Double(next() >> 11) / Double(1 << 53)
      var point = start
      var cumulated = 0.0
      var drawn = 0
      for (position, i) in open.enumerated() {
        let p = Double(k) * sizes[i] / openSize
        cumulated += p
        // The last row takes any point rounding left past the end.
        if point < cumulated || (position == open.count - 1 && drawn < k) {
          rows.append((tile.lowerBound + i, p))
          drawn += 1
          point += 1
          if drawn == k { break }
        }
      }
    }
    rows.sort { $0.0 < $1.0 }
    return TileSample(rows: rows.map(\.0), probabilities: rows.map(\.1))
  }

  /// A tensor's sampled error: the estimate and its variance summed over its tiles, which add
  /// (``merge(_:)``) in any grouping, so tiles may be measured in any order or place.
  ///
  /// In a tile, rows taken for certain add their errors. The other k rows, drawn with
  /// probabilities π_i, add the Horvitz–Thompson estimate Σ y_i / π_i; its variance is estimated
  /// as for k draws with replacement with probabilities p_i = π_i / k, times the finite-population
  /// correction 1 − k/N (N the rows not taken for certain):
  /// (1 − k/N) Σ (z_i − z̄)² / (k (k − 1)) with z_i = y_i / p_i. With equal probabilities this is the
  /// textbook stratified estimate N ȳ with variance N² (1 − k/N) s² / k.
  ///
  /// A small tensor's variance rests on few degrees of freedom (k − 1 per tile), so ``standardError``
  /// is widened by the Student t factor: ± 2 of it is the interval whose normal counterpart is
  /// ± 2 standard errors (95.4 %). The interval `tune` states is wider,
  /// ± ``TuneSampling/statedInterval`` standard errors.
  public struct Estimate: Sendable, Equatable {
    /// The estimated total error.
    public private(set) var estimate = 0.0
    /// The estimated variance of ``estimate``.
    public private(set) var variance = 0.0
    /// Degrees of freedom of ``variance``: Σ (k − 1) over the tiles.
    public private(set) var degreesOfFreedom = 0

    /// √``variance`` × t_ν(Φ(2)) / 2, with ν = ``degreesOfFreedom`` (1 when there are none, where
    /// the variance is 0 anyway).
    public var standardError: Double {
      variance.squareRoot() * TuneSampling.studentT(Swift.max(1, degreesOfFreedom)) / 2
    }

    /// No tiles yet.
    public init() {}

    /// An estimate from its sums, as a part of a sharded run records them.
    public init(estimate: Double, variance: Double, degreesOfFreedom: Int) {
      self.estimate = estimate
      self.variance = variance
      self.degreesOfFreedom = degreesOfFreedom
    }

    /// Adds a tile.
    ///
    /// - Parameters:
    ///   - rows: rows in the tile.
    ///   - errors: the errors of the rows drawn.
    ///   - probabilities: their probabilities of being drawn (1 for a row taken for certain).
    public mutating func add(rows: Int, errors: [Double], probabilities: [Double]) {
      precondition(errors.count == probabilities.count && errors.count <= rows)
      var z: [Double] = []
      var certain = 0
      for (y, p) in zip(errors, probabilities) {
        if p >= 1 {
          estimate += y
          certain += 1
        } else {
          z.append(y / p)
        }
      }
      guard !z.isEmpty else { return }
      let k = Double(z.count)
      // z_i = y_i / p_i with p_i = π_i / k, so the mean of z is Σ y_i / π_i.
      for i in z.indices { z[i] *= k }
      let mean = z.reduce(0, +) / k
      estimate += mean
      guard z.count > 1 else { return }
      let open = Double(rows - certain)
      let squares = z.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
      degreesOfFreedom += z.count - 1
      variance += max(0, 1 - k / open) * squares / (k * (k - 1))
    }

    /// Adds the tiles of `other` (of the same tensor).
    public mutating func merge(_ other: Estimate) {
      estimate += other.estimate
      variance += other.variance
      degreesOfFreedom += other.degreesOfFreedom
    }
  }

  /// The quantile of Student's t with `degrees` degrees of freedom at Φ(2) = 0.97725 (the
  /// normal's ± 2): exact for 1 and 2, otherwise the Cornish–Fisher expansion to 1/ν⁴ (within
  /// 0.2 % at ν = 3, closer beyond).
  public static func studentT(_ degrees: Int) -> Double {
    let p = 0.977_249_868_051_820_8
    let v = Double(degrees)
    // ν = 1 (Cauchy): tan(π (p − ½)).
    if degrees <= 1 { return 13.967_730_199_244_55 }
    if degrees == 2 { return (2 * p - 1) / (2 * p * (1 - p)).squareRoot() }
    let z = 2.0
    let z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z, z9 = z7 * z * z
    return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v)
      + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v)
      + (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * v * v * v * v)
  }
}
