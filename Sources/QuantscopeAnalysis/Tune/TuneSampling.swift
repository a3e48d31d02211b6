import QuantscopeFormats

/// A deterministic stratified sample of rows, so that a very large model is measured in minutes.
///
/// Strata are 128-row tiles inside each matrix (an expert of a 3-D tensor is its own matrix):
/// FP8 checkpoints scale 128 × 128 tiles, so every scale tile and every expert is represented.
/// From each tile, `max(2, ⌈fraction × rows⌉)` rows (all of a smaller tile) are chosen by a hash
/// of the tensor name and tile, the same on every run. A tile's total is estimated as
/// rows × the mean of its sampled rows; the variance of that estimate is the textbook stratified
/// one, with the finite-population correction; tiles' estimates and variances add.
public struct TuneSampling: Sendable {
  /// Rows per stratum.
  public static let tileRows = 128
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

  /// How many rows of a stratum of `count` rows are measured.
  public func sampleSize(_ count: Int) -> Int {
    min(count, max(2, Int((fraction * Double(count)).rounded(.up))))
  }

  /// Rows measured of a tensor.
  public func sampledRowCount(rows: Int, matrixRows: Int) -> Int {
    tiles(rows: rows, matrixRows: matrixRows).reduce(0) { $0 + sampleSize($1.count) }
  }

  /// The rows measured in `tile` of `tensor`, ascending.
  public func rows(in tile: Range<Int>, tensor: String) -> [Int] {
    let k = sampleSize(tile.count)
    if k == tile.count { return Array(tile) }
    // A seeded partial Fisher–Yates shuffle: deterministic, without replacement.
    var state = UInt64(truncatingIfNeeded: tile.lowerBound) &* 0x9E37_79B9_7F4A_7C15
    for byte in tensor.utf8 { state = (state ^ UInt64(byte)) &* 0x1000_0000_01B3 }
    func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    var pool = Array(tile)
    for i in 0..<k {
      let j = i + Int(next() % UInt64(pool.count - i))
      pool.swapAt(i, j)
    }
    return pool[0..<k].sorted()
  }

  /// A stratum's estimated total and the variance of that estimate, from `sampled` of `rows`
  /// rows whose errors sum to `sum` and whose squares sum to `sumSquares`.
  static func stratum(rows: Int, sampled: Int, sum: Double, sumSquares: Double) -> (estimate: Double, variance: Double)
  {
    guard sampled > 0 else { return (0, 0) }
    let n = Double(rows), k = Double(sampled)
    let mean = sum / k
    guard sampled < rows, sampled > 1 else { return (n * mean, 0) }
    let s2 = max(0, (sumSquares - k * mean * mean) / (k - 1))
    return (n * mean, n * n * (1 - k / n) * s2 / k)
  }
}
