import Foundation
import QuantscopeCodecs
import QuantscopeFormats

/// One of a tensor's largest-magnitude values (a candidate "super weight"), located in the
/// tensor's matrix view: `row` counts over all outer dimensions flattened, `column` runs along
/// the innermost dimension.
public struct SuperWeight: Sendable, Hashable {
  /// Row in the `rowCount × rowLength` view.
  public let row: Int
  /// Column (position along the innermost dimension).
  public let column: Int
  /// Row-major flat index (`row × rowLength + column`).
  public let index: Int
  /// The decoded value.
  public let value: Float
}

/// Summary statistics of one tensor's decoded values.
///
/// Moments, extremes and the top-K are taken over the **finite** values; NaN and ±Inf are only
/// counted (numpy would return NaN for everything instead). Sums are accumulated in binary64,
/// tile by tile (two passes over each tile for its central moments), and tiles are merged with
/// the pairwise update of Chan et al. / Pébay in tile order, so the result does not depend on
/// the number of threads. Population (biased) estimators are used, matching numpy's `std`
/// (ddof = 0) and scipy's `kurtosis` defaults.
public struct TensorStatistics: Sendable {
  /// Number of values.
  public var count: Int = 0
  /// Number of finite values (the sample the moments describe).
  public var finiteCount: Int = 0
  /// NaN values.
  public var nanCount: Int = 0
  /// +Inf values.
  public var positiveInfinityCount: Int = 0
  /// −Inf values.
  public var negativeInfinityCount: Int = 0
  /// Values equal to zero (±0).
  public var zeroCount: Int = 0
  /// Smallest finite value (NaN when there is none).
  public var min: Double = .nan
  /// Largest finite value (NaN when there is none).
  public var max: Double = .nan
  /// Mean of the finite values.
  public var mean: Double = .nan
  /// Population standard deviation (ddof = 0, like `numpy.std`).
  public var standardDeviation: Double = .nan
  /// Largest finite magnitude.
  public var absMax: Double = .nan
  /// Root mean square, `sqrt(mean(x²))`.
  public var rms: Double = .nan
  /// **Excess** kurtosis (Fisher's definition, biased: `m4 / m2² − 3`), exactly what
  /// `scipy.stats.kurtosis(x)` returns by default; 0 for a normal distribution. NaN when the
  /// values are constant.
  public var kurtosis: Double = .nan
  /// The largest-magnitude finite values, largest first; ties go to the lower index.
  public var top: [SuperWeight] = []

  /// Fraction of values that are zero.
  public var zeroFraction: Double { count == 0 ? .nan : Double(zeroCount) / Double(count) }
  /// Number of NaN and ±Inf values.
  public var nonFiniteCount: Int { nanCount + positiveInfinityCount + negativeInfinityCount }

  /// Creates empty statistics.
  public init() {}

  /// Computes the statistics of the tensor `decoder` decodes (dequantized through its scale
  /// partner, if any), streaming it in tiles of at most `tileElements` values on `threads`
  /// threads (default: all cores).
  ///
  /// - Parameters:
  ///   - topK: how many largest-magnitude values to keep.
  ///   - tileElements: upper bound of values decoded at once per thread; the result does not
  ///     depend on it beyond rounding in the last bits of the moments.
  ///   - progress: advanced by the tensor's stored bytes as its tiles are done (in all, exactly
  ///     `decoder.tensor.byteCount`). It is not started or finished here, so one observer can
  ///     span several tensors.
  public static func compute(
    _ decoder: TensorDecoder, topK: Int = 8, tileElements: Int = 1 << 16, threads: Int? = nil,
    progress: (any ProgressObserver)? = nil
  ) throws -> TensorStatistics {
    let plan = TilePlan(decoder: decoder, tileElements: Swift.max(1, tileElements))
    let workers = Swift.max(1, threads ?? ParallelWork.availableCores)
    let k = Swift.max(0, topK)
    var total = Accumulator(topK: k)
    let batch = 1024
    var start = 0
    while start < plan.tileCount {
      let end = Swift.min(plan.tileCount, start + batch)
      let first = start
      let slots = Slots<Accumulator>(count: end - start)
      defer { slots.free() }
      try ParallelWork.run(
        count: end - start, threads: workers, bufferCount: plan.maxTileElements, of: Float.self
      ) { i, buffer in
        let tile = plan.tile(first + i)
        try plan.decode(tile, into: buffer)
        var acc = Accumulator(topK: k)
        acc.addTile(buffer, count: tile.count, firstIndex: tile.firstIndex)
        slots.set(i, acc)
      }
      for i in 0..<(end - start) {
        total.merge(try slots.get(i))
      }
      if let progress {
        // Stored bytes of tiles start..<end, as the share of the tensor they cover; the last
        // batch ends exactly at byteCount.
        let bytes = decoder.tensor.byteCount
        func upTo(_ tile: Int) -> Int {
          tile == plan.tileCount ? bytes : Int(Double(bytes) * Double(tile) / Double(plan.tileCount))
        }
        progress.advance(by: upTo(end) - upTo(start))
      }
      start = end
    }
    return total.statistics(rowLength: decoder.rowLength)
  }
}

/// How a tensor is cut into tiles: groups of whole rows, or pieces of one row when a row alone
/// exceeds the tile size.
struct TilePlan: Sendable {
  let decoder: TensorDecoder
  let rowsPerTile: Int
  let piecesPerRow: Int
  let pieceLength: Int
  let tileCount: Int
  let maxTileElements: Int

  struct Tile {
    let rows: Range<Int>
    let columns: Range<Int>?
    let firstIndex: Int
    let count: Int
  }

  init(decoder: TensorDecoder, tileElements: Int) {
    self.decoder = decoder
    let rowLength = decoder.rowLength
    let rows = decoder.rowCount
    if rowLength <= tileElements {
      rowsPerTile = Swift.max(1, tileElements / Swift.max(1, rowLength))
      piecesPerRow = 1
      pieceLength = rowLength
      tileCount = rows == 0 || rowLength == 0 ? 0 : (rows + rowsPerTile - 1) / rowsPerTile
      maxTileElements = Swift.min(rows, rowsPerTile) * rowLength
    } else {
      let align = decoder.columnAlignment
      rowsPerTile = 1
      pieceLength = Swift.max(align, tileElements / align * align)
      piecesPerRow = (rowLength + pieceLength - 1) / pieceLength
      tileCount = rows * piecesPerRow
      maxTileElements = pieceLength
    }
  }

  func tile(_ t: Int) -> Tile {
    let rowLength = decoder.rowLength
    if piecesPerRow == 1 {
      let r0 = t * rowsPerTile
      let r1 = Swift.min(decoder.rowCount, r0 + rowsPerTile)
      return Tile(rows: r0..<r1, columns: nil, firstIndex: r0 * rowLength, count: (r1 - r0) * rowLength)
    }
    let row = t / piecesPerRow
    let c0 = (t % piecesPerRow) * pieceLength
    let c1 = Swift.min(rowLength, c0 + pieceLength)
    return Tile(rows: row..<(row + 1), columns: c0..<c1, firstIndex: row * rowLength + c0, count: c1 - c0)
  }

  func decode(_ tile: Tile, into buffer: UnsafeMutablePointer<Float>) throws {
    if let columns = tile.columns {
      try decoder.decodeRow(tile.rows.lowerBound, columns: columns, into: buffer)
    } else {
      try decoder.decodeRows(tile.rows, into: buffer)
    }
  }
}

/// Per-index result slots written concurrently: each index is written by exactly one
/// item and read only after ``ParallelWork`` returns.
final class Slots<T>: @unchecked Sendable {
  private let base: UnsafeMutablePointer<T?>
  private let count: Int

  init(count: Int) {
    self.count = count
    base = .allocate(capacity: count)
    base.initialize(repeating: nil, count: count)
  }

  func set(_ i: Int, _ value: T) { base[i] = value }

  func get(_ i: Int) throws -> T {
    guard let v = base[i] else { throw StatisticsError.missingTile(i) }
    return v
  }

  func free() {
    base.deinitialize(count: count)
    base.deallocate()
  }
}

enum StatisticsError: Error { case missingTile(Int) }

/// Running moments of a sequence, mergeable in order.
struct Accumulator {
  var count = 0
  var nan = 0
  var posInf = 0
  var negInf = 0
  var zeros = 0
  var n = 0  // finite values
  var mean = 0.0
  var m2 = 0.0
  var m3 = 0.0
  var m4 = 0.0
  var sumSquares = 0.0
  var min = Double.infinity
  var max = -Double.infinity
  var absMax = 0.0
  let topK: Int
  /// (magnitude, index, value), best first: larger magnitude, then lower index.
  var top: [(Float, Int, Float)] = []

  init(topK: Int) { self.topK = topK }

  static func better(_ a: (Float, Int, Float), _ b: (Float, Int, Float)) -> Bool {
    a.0 > b.0 || (a.0 == b.0 && a.1 < b.1)
  }

  mutating func offer(_ c: (Float, Int, Float)) {
    guard topK > 0 else { return }
    if top.count == topK {
      guard let worst = top.last, Self.better(c, worst) else { return }
      top.removeLast()
    }
    var i = top.count
    while i > 0 && Self.better(c, top[i - 1]) { i -= 1 }
    top.insert(c, at: i)
  }

  /// Adds one tile: counts and extremes in one pass, then central moments around the tile's own
  /// mean in a second pass (numerically stable), then merges the tile into `self`.
  mutating func addTile(_ x: UnsafePointer<Float>, count: Int, firstIndex: Int) {
    var tile = Accumulator(topK: topK)
    tile.count = count
    var sum = 0.0
    var threshold: Float = -1  // magnitude a candidate must beat once the top list is full
    for i in 0..<count {
      let v = x[i]
      if v.isFinite {
        let d = Double(v)
        tile.n += 1
        sum += d
        tile.sumSquares += d * d
        if d < tile.min { tile.min = d }
        if d > tile.max { tile.max = d }
        if v == 0 { tile.zeros += 1 }
        let a = Swift.abs(v)
        if Double(a) > tile.absMax { tile.absMax = Double(a) }
        if a > threshold {
          tile.offer((a, firstIndex + i, v))
          if tile.top.count == topK, let worst = tile.top.last { threshold = worst.0 }
        }
      } else if v.isNaN {
        tile.nan += 1
      } else if v > 0 {
        tile.posInf += 1
      } else {
        tile.negInf += 1
      }
    }
    if tile.n > 0 {
      let mean = sum / Double(tile.n)
      var s2 = 0.0
      var s3 = 0.0
      var s4 = 0.0
      for i in 0..<count {
        let v = x[i]
        guard v.isFinite else { continue }
        let d = Double(v) - mean
        let d2 = d * d
        s2 += d2
        s3 += d2 * d
        s4 += d2 * d2
      }
      tile.mean = mean
      tile.m2 = s2
      tile.m3 = s3
      tile.m4 = s4
    }
    merge(tile)
  }

  /// Merges `b`, which follows `self` in index order (Pébay's pairwise formulas).
  mutating func merge(_ b: Accumulator) {
    count += b.count
    nan += b.nan
    posInf += b.posInf
    negInf += b.negInf
    zeros += b.zeros
    sumSquares += b.sumSquares
    if b.min < min { min = b.min }
    if b.max > max { max = b.max }
    if b.absMax > absMax { absMax = b.absMax }
    for c in b.top { offer(c) }
    guard b.n > 0 else { return }
    guard n > 0 else {
      (n, mean, m2, m3, m4) = (b.n, b.mean, b.m2, b.m3, b.m4)
      return
    }
    let na = Double(n)
    let nb = Double(b.n)
    let nt = na + nb
    let delta = b.mean - mean
    let d2 = delta * delta
    let newM4 =
      m4 + b.m4 + d2 * d2 * na * nb * (na * na - na * nb + nb * nb) / (nt * nt * nt)
      + 6 * d2 * (na * na * b.m2 + nb * nb * m2) / (nt * nt) + 4 * delta * (na * b.m3 - nb * m3) / nt
    let newM3 = m3 + b.m3 + d2 * delta * na * nb * (na - nb) / (nt * nt) + 3 * delta * (na * b.m2 - nb * m2) / nt
    let newM2 = m2 + b.m2 + d2 * na * nb / nt
    mean += delta * nb / nt
    (m2, m3, m4) = (newM2, newM3, newM4)
    n += b.n
  }

  func statistics(rowLength: Int) -> TensorStatistics {
    var s = TensorStatistics()
    s.count = count
    s.finiteCount = n
    s.nanCount = nan
    s.positiveInfinityCount = posInf
    s.negativeInfinityCount = negInf
    s.zeroCount = zeros
    if n > 0 {
      let nd = Double(n)
      s.min = min
      s.max = max
      s.absMax = absMax
      s.mean = mean
      s.standardDeviation = (m2 / nd).squareRoot()
      s.rms = (sumSquares / nd).squareRoot()
      s.kurtosis = m2 > 0 ? nd * m4 / (m2 * m2) - 3 : .nan
    }
    let width = Swift.max(1, rowLength)
    s.top = top.map { SuperWeight(row: $0.1 / width, column: $0.1 % width, index: $0.1, value: $0.2) }
    return s
  }
}
