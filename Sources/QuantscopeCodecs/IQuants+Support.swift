import Foundation

// Small primitives shared by the IQ, ternary, microscaling and binary codecs. Names carry an
// `iq` prefix so they cannot clash with the helpers of other families in this module.

/// Reads a little-endian `UInt16` at `offset` bytes past `p` (blocks leave fields misaligned).
@inline(__always)
func iqLoadU16(_ p: UnsafeRawPointer, _ offset: Int) -> UInt16 {
  UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
}

/// Reads a little-endian `UInt32` at `offset` bytes past `p`.
@inline(__always)
func iqLoadU32(_ p: UnsafeRawPointer, _ offset: Int) -> UInt32 {
  UInt32(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
}

/// Writes `value` little-endian at `offset` bytes past `p`.
@inline(__always)
func iqStoreU16(_ p: UnsafeMutableRawPointer, _ offset: Int, _ value: UInt16) {
  p.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt16.self)
}

/// The f16 scale stored at `offset`, as f32.
@inline(__always)
func iqLoadHalf(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
  Half.toFloat(iqLoadU16(p, offset))
}

/// C's `lroundf` (half away from zero) as glibc behaves on x86-64: values that do not fit a
/// `long`, and NaN, give `Int.min` instead of trapping.
@inline(__always)
func iqLround(_ f: Float) -> Int {
  let r = f.rounded(.toNearestOrAwayFromZero)
  guard r.isFinite, r >= -9.223_372e18, r < 9.223_372e18 else { return Int.min }
  return Int(r)
}

/// ggml's `best_index_int8(16, values, x)`: the index of the nearest entry of the sorted table
/// `values`, by binary search, with ties going to the upper entry.
@inline(__always)
func iqBestIndexInt8(_ values: UnsafePointer<Float>, _ x: Float) -> Int {
  if x <= values[0] { return 0 }
  if x >= values[15] { return 15 }
  var lo = 0
  var hi = 15
  while hi - lo > 1 {
    let mid = (lo + hi) / 2
    if x < values[mid] { hi = mid } else { lo = mid }
  }
  return x - values[hi - 1] < values[hi] - x ? hi - 1 : hi
}

/// `kvalues_iq4nl` converted to f32 once (the C code converts each `int8_t` on use; the values
/// are small integers, so the conversion is exact either way).
let iqKvaluesIQ4NLFloat: [Float] = IQGrids.kvaluesIQ4NL.map { Float($0) }

/// `kvalues_fp4` (doubled E2M1 values, shared by MXFP4 and NVFP4) as f32.
let iqKvaluesFP4Float: [Float] = IQGrids.kvaluesFP4.map { Float($0) }

/// ggml's `e8m0_to_fp32_half`: half the E8M0 scale, 2^(e−128), with e < 2 giving subnormals.
@inline(__always)
func iqE8M0Half(_ e: UInt8) -> Float {
  if e < 2 { return Float(bitPattern: UInt32(0x0020_0000) << UInt32(e)) }
  return Float(bitPattern: UInt32(e - 1) << 23)
}

/// ggml's `ue4m3_to_fp32`: half the UE4M3 value (0x00 and 0x7F give 0; bit 7 is ignored).
@inline(__always)
func iqUE4M3Half(_ x: UInt8) -> Float {
  if x == 0 || x == 0x7F { return 0 }
  let exponent = Int((x >> 3) & 0xF)
  let mantissa = Float(x & 7)
  let raw: Float
  if exponent == 0 {
    // man·2⁻⁹, exact.
    raw = mantissa * 0x1p-9
  } else {
    // (1 + man/8)·2^(exp−7); every step is exact.
    raw = (1.0 + mantissa / 8.0) * Float(sign: .plus, exponent: exponent - 7, significand: 1)
  }
  return raw * 0.5
}

/// ggml's `fp32_to_ue4m3`: encodes a positive scale, clamping to 448 and rounding with one
/// guard bit (round half up), not to nearest even.
@inline(__always)
func iqFloatToUE4M3(_ value: Float) -> UInt8 {
  guard value > 0 else { return 0 }  // also NaN
  let x = value > 448 ? 448 : value
  let bits = x.bitPattern
  let exponent = Int((bits >> 23) & 0xFF) - 127
  var mantissa = Int((bits >> 20) & 7)
  var ue = exponent + 7
  if ue <= 0 {
    // Subnormal: man = (int)(x·512 + 0.5), truncated; x < 2⁻⁶ here so this cannot overflow.
    var m = Int(x * 512.0 + 0.5)
    if m > 7 { m = 7 }
    if m < 1 { return 0 }
    return UInt8(m)
  }
  if ue >= 15 { return 0x7E }
  mantissa += Int((bits >> 19) & 1)
  if mantissa > 7 {
    mantissa = 0
    ue += 1
    if ue >= 15 { return 0x7E }
  }
  return UInt8(ue << 3 | mantissa)
}

/// C's `(int)roundf(f)` as x86-64 executes it: half away from zero, and values outside the
/// `int` range (or NaN) give `Int32.min` (the `cvttss2si` "integer indefinite" value).
@inline(__always)
func iqRoundToInt32(_ f: Float) -> Int32 {
  let r = f.rounded(.toNearestOrAwayFromZero)
  guard r.isFinite, r >= -2_147_483_648.0, r < 2_147_483_648.0 else { return Int32.min }
  return Int32(r)
}

/// Calls `body` once per block of a `rows × rowLength` matrix, with the block's first value and
/// its destination. A row tail shorter than one block (ggml asserts there is none) is skipped.
@inline(__always)
func iqForEachBlock(
  _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ destination: UnsafeMutableRawPointer,
  blockElements: Int, blockBytes: Int, _ body: (UnsafePointer<Float>, UnsafeMutableRawPointer) -> Void
) {
  let perRow = rowLength / blockElements
  for row in 0..<rows {
    for b in 0..<perRow {
      body(source + row * rowLength + b * blockElements, destination + (row * perRow + b) * blockBytes)
    }
  }
}

// MARK: - Lattices of the grid-searching IQ quantizers

/// The quantizer's view of one IQ grid (ggml's `iq2xs_init_impl` / `iq3xs_init_impl`): every
/// grid point as odd integers `2l + 1` (one signed byte per coordinate, packed little-endian),
/// and a map from packed level coordinates (`bits` per coordinate) to the grid index, or −1 for
/// points off the grid.
///
/// The points are recovered from the decode grids in `IQGrids` (each decode byte value stands
/// for one level l), which is the same data ggml builds them from.
struct IQLatticeTables: Sendable {
  /// Coordinates per point: 8 (IQ2, IQ1) or 4 (IQ3).
  let dims: Int
  /// Bits per level in a packed map key: 2 (IQ2, IQ1) or 3 (IQ3).
  let bits: Int
  /// How many distance shells an off-grid point's neighbour list spans (ggml's `nwant`).
  let shells: Int
  /// The grid points, `2l + 1` per coordinate in the low `dims` bytes.
  let points: [UInt64]
  /// Packed level coordinates → grid index, or −1.
  let map: [Int32]
  /// The coordinates of every point, `dims` per point, flat.
  let coordinates: [Int8]

  /// Builds the tables from a decode grid whose byte values are listed in level order.
  init(decodeGrid: [UInt64], dims: Int, bits: Int, shells: Int, levelBytes: [UInt8]) {
    self.dims = dims
    self.bits = bits
    self.shells = shells
    var points: [UInt64] = []
    points.reserveCapacity(decodeGrid.count)
    var map = [Int32](repeating: -1, count: 1 << (bits * dims))
    for (index, entry) in decodeGrid.enumerated() {
      var point: UInt64 = 0
      var key = 0
      for k in 0..<dims {
        let byte = UInt8(truncatingIfNeeded: entry >> UInt64(8 * k))
        let level = levelBytes.firstIndex(of: byte) ?? 0
        point |= UInt64(2 * level + 1) << UInt64(8 * k)
        key |= level << (bits * k)
      }
      points.append(point)
      map[key] = Int32(index)
    }
    self.points = points
    self.map = map
    coordinates = points.flatMap { p in (0..<dims).map { Int8(truncatingIfNeeded: p >> UInt64(8 * $0)) } }
  }

  /// Coordinate k (an odd integer) of grid point `index`.
  @inline(__always)
  func coordinate(_ index: Int, _ k: Int) -> Int {
    Int(coordinates[dims * index + k])
  }

  /// IQ2_XXS: 256 points, neighbours in 2 shells.
  static let iq2xxs = IQLatticeTables(
    decodeGrid: IQGrids.iq2xxsGrid, dims: 8, bits: 2, shells: 2, levelBytes: [0x08, 0x19, 0x2b])
  /// IQ2_XS: 512 points, 2 shells.
  static let iq2xs = IQLatticeTables(
    decodeGrid: IQGrids.iq2xsGrid, dims: 8, bits: 2, shells: 2, levelBytes: [0x08, 0x19, 0x2b])
  /// IQ2_S: 1024 points, 1 shell.
  static let iq2s = IQLatticeTables(
    decodeGrid: IQGrids.iq2sGrid, dims: 8, bits: 2, shells: 1, levelBytes: [0x08, 0x19, 0x2b])
  /// IQ1_S and IQ1_M: 2048 points of {−1, 0, 1}, 3 shells.
  static let iq1s = IQLatticeTables(
    decodeGrid: IQGrids.iq1sGrid, dims: 8, bits: 2, shells: 3, levelBytes: [0xff, 0x00, 0x01])
  /// IQ3_XXS: 256 points of 4, 2 shells.
  static let iq3xxs = IQLatticeTables(
    decodeGrid: IQGrids.iq3xxsGrid.map { UInt64($0) }, dims: 4, bits: 3, shells: 2,
    levelBytes: [4, 12, 20, 28, 36, 44, 52, 62])
  /// IQ3_S: 512 points of 4, 3 shells.
  static let iq3s = IQLatticeTables(
    decodeGrid: IQGrids.iq3sGrid.map { UInt64($0) }, dims: 4, bits: 3, shells: 3,
    levelBytes: [1, 3, 5, 7, 9, 11, 13, 15])
}

/// Neighbour lists of off-grid points, shared by every quantization of one lattice and
/// computed on first use (ggml precomputes all of them at init; a tensor reaches only some).
///
/// The list of a point holds every grid index within its `shells` nearest distinct squared
/// distances, ordered by (distance, index): what ggml's `qsort` on (d², index) pairs yields.
final class IQNeighbourStore: @unchecked Sendable {
  /// The lattice.
  let tables: IQLatticeTables
  // Guards `lists`; lists are computed outside the lock (pure) and published under it.
  private let lock = NSLock()
  private var lists: [[UInt16]?]

  init(_ tables: IQLatticeTables) {
    self.tables = tables
    lists = [[UInt16]?](repeating: nil, count: tables.map.count)
  }

  /// The neighbour list of the off-grid point with packed levels `key`.
  func neighbours(_ key: Int) -> [UInt16] {
    lock.lock()
    let known = lists[key]
    lock.unlock()
    if let known { return known }
    let list = Self.compute(tables, key)
    lock.lock()
    lists[key] = list
    lock.unlock()
    return list
  }

  private static func compute(_ tables: IQLatticeTables, _ key: Int) -> [UInt16] {
    let dims = tables.dims
    let mask = (1 << tables.bits) - 1
    let count = tables.points.count
    var distances = [Int32](repeating: 0, count: count)
    tables.coordinates.withUnsafeBufferPointer { coordinates in
      var position = (0, 0, 0, 0, 0, 0, 0, 0)
      withUnsafeMutableBytes(of: &position) { raw in
        let p = raw.bindMemory(to: Int.self)
        for k in 0..<dims { p[k] = 2 * ((key >> (tables.bits * k)) & mask) + 1 }
        for j in 0..<count {
          var d2 = 0
          for k in 0..<dims {
            let diff = Int(coordinates[dims * j + k]) - p[k]
            d2 += diff * diff
          }
          distances[j] = Int32(d2)
        }
      }
    }
    // The `shells` smallest distinct distances, ascending.
    var levels: [Int32] = []
    var floor = Int32.min
    for _ in 0..<tables.shells {
      var next = Int32.max
      for d in distances where d > floor && d < next { next = d }
      if next == Int32.max { break }
      levels.append(next)
      floor = next
    }
    var list: [UInt16] = []
    for level in levels {
      for j in 0..<count where distances[j] == level { list.append(UInt16(j)) }
    }
    return list
  }

  /// IQ2_XXS neighbours.
  static let iq2xxs = IQNeighbourStore(.iq2xxs)
  /// IQ2_XS neighbours.
  static let iq2xs = IQNeighbourStore(.iq2xs)
  /// IQ2_S neighbours.
  static let iq2s = IQNeighbourStore(.iq2s)
  /// IQ1_S / IQ1_M neighbours.
  static let iq1s = IQNeighbourStore(.iq1s)
  /// IQ3_XXS neighbours.
  static let iq3xxs = IQNeighbourStore(.iq3xxs)
  /// IQ3_S neighbours.
  static let iq3s = IQNeighbourStore(.iq3s)
}

/// A per-call memo in front of an `IQNeighbourStore`, so repeated lookups take no lock.
struct IQNeighbourCache {
  /// The lattice.
  let tables: IQLatticeTables
  private let store: IQNeighbourStore
  private var lists: [[UInt16]?]

  init(_ store: IQNeighbourStore) {
    self.store = store
    tables = store.tables
    lists = [[UInt16]?](repeating: nil, count: store.tables.map.count)
  }

  /// The neighbour list of the off-grid point with packed levels `key`.
  mutating func neighbours(_ key: Int) -> [UInt16] {
    if let known = lists[key] { return known }
    let list = store.neighbours(key)
    lists[key] = list
    return list
  }
}

// MARK: - The shared grid search of IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS and IQ3_S

/// The per-type choices of ggml's `quantize_row_iq2_xxs_impl`, `…iq2_xs_impl`, `…iq2_s_impl`,
/// `…iq3_xxs_impl` and `…iq3_s_impl`, which otherwise share one algorithm: take |x|, scan a
/// range of trial scales snapping each group to the grid (or its best neighbour), refit the
/// scale by weighted least squares.
struct IQSearchConfig: Sendable {
  /// How the sub-block's final levels are refitted after the scale scan.
  enum Refit: Sendable {
    /// Whenever the scale is positive, every group (IQ2_XXS).
    case always
    /// When some group of the best trial was off the grid: every group (IQ3_S).
    case allGroupsIfAnyOffGrid
    /// When some group of the best trial was off the grid: only those groups.
    case offGridGroups
  }

  /// The lattice and its neighbour lists.
  let store: IQNeighbourStore
  /// The lattice.
  var tables: IQLatticeTables { store.tables }
  /// Values per sub-block (one scale each): 32 or 16.
  let blockSize: Int
  /// Levels per coordinate (values `2l + 1`, l < kMaxQ).
  let kMaxQ: Int
  /// 7-bit sign indices: a group with an odd number of negatives flips its cheapest value.
  let paritySigns: Bool
  /// `sigma2 = 2·Σx²/256` rather than `Σx²/256`.
  let doubledSigma: Bool
  /// Without an imatrix, weights are `0.25·sigma2 + x²` (IQ2_S) rather than `x²`.
  let sigmaInPlainWeight: Bool
  /// A sub-block whose largest |x| is below this is skipped; `nil` skips only an exact zero.
  let eps: Float?
  /// The scan starts from `make_qp_quants` (IQ2_XXS) rather than from `max/(2·kMaxQ − 1)`.
  let startFromQP: Bool
  /// The trial scales: `id = (2·kMaxQ − 1 + is·step)/max` for `is` in `steps`.
  let steps: ClosedRange<Int>
  /// The step of the trial scales.
  let step: Float
  /// Whether groups count as on the grid before any trial improves (ggml's initialisation).
  let onGridInitially: Bool
  /// The refit rule.
  let refit: Refit
}

/// Working storage of `iqSearchSubBlock`, allocated once per quantization call.
final class IQSearchScratch {
  let weight = UnsafeMutablePointer<Float>.allocate(capacity: 32)
  let waux = UnsafeMutablePointer<Float>.allocate(capacity: 32)
  let xval = UnsafeMutablePointer<Float>.allocate(capacity: 32)
  let levels = UnsafeMutablePointer<Int8>.allocate(capacity: 32)
  let trialLevels = UnsafeMutablePointer<Int8>.allocate(capacity: 32)
  let qpLevels = UnsafeMutablePointer<UInt8>.allocate(capacity: 32)
  var onGrid = [Bool](repeating: true, count: 8)
  var onGridTrial = [Bool](repeating: true, count: 8)
  /// Sign bits per group of 8 values.
  var signs = [UInt8](repeating: 0, count: 4)
  /// The chosen grid index per group.
  var gridIndex = [Int](repeating: 0, count: 8)
  var cache: IQNeighbourCache

  init(_ store: IQNeighbourStore) {
    cache = IQNeighbourCache(store)
  }

  deinit {
    weight.deallocate()
    waux.deallocate()
    xval.deallocate()
    levels.deallocate()
    trialLevels.deallocate()
    qpLevels.deallocate()
  }
}

/// ggml's `iq2_find_best_neighbour` / `iq3_find_best_neighbour`: among the neighbours of the
/// off-grid point `key`, the one nearest to `xval` at `scale` under weights `w` (strictly
/// smaller distance wins, so list order breaks ties). Writes its levels to `L`.
@inline(__always)
func iqBestNeighbour(
  _ cache: inout IQNeighbourCache, _ key: Int, _ xval: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
  _ scale: Float, _ L: UnsafeMutablePointer<Int8>
) -> Int {
  let tables = cache.tables
  let list = cache.neighbours(key)
  var bestD2 = Float.greatestFiniteMagnitude
  // ggml asserts that some neighbour beats FLT_MAX; with NaN input none does, and the first
  // neighbour is used instead of aborting.
  var best = Int(list.first ?? 0)
  for candidate in list {
    let index = Int(candidate)
    var d2: Float = 0
    for i in 0..<tables.dims {
      let q = Float(tables.coordinate(index, i))
      let diff = scale * q - xval[i]
      d2 = d2 + (w[i] * diff) * diff
    }
    if d2 < bestD2 {
      bestD2 = d2
      best = index
    }
  }
  for i in 0..<tables.dims { L[i] = Int8((tables.coordinate(best, i) - 1) / 2) }
  return best
}

/// One sub-block of the shared grid search. Fills `scratch.signs` and `scratch.gridIndex` and
/// returns the sub-block scale, or `nil` when ggml skips the sub-block (`continue`) and writes
/// nothing for it.
func iqSearchSubBlock(
  _ config: IQSearchConfig, _ xb: UnsafePointer<Float>, _ qw: UnsafePointer<Float>?, _ sigma2: Float,
  _ s: IQSearchScratch
) -> Float? {
  let n = config.blockSize
  let dims = config.tables.dims
  let groups = n / dims
  let bits = config.tables.bits
  let kMaxQ = config.kMaxQ
  let map = config.tables.map
  let weight = s.weight, waux = s.waux, xval = s.xval, L = s.levels, Laux = s.trialLevels

  if let qw {
    for i in 0..<n { weight[i] = qw[i] * (sigma2 + xb[i] * xb[i]).squareRoot() }
  } else if config.sigmaInPlainWeight {
    for i in 0..<n { weight[i] = 0.25 * sigma2 + xb[i] * xb[i] }
  } else {
    for i in 0..<n { weight[i] = xb[i] * xb[i] }
  }
  for i in 0..<n { waux[i] = weight[i].squareRoot() }
  for k in 0..<(n / 8) {
    var flips = 0
    var signs: UInt8 = 0
    for i in 0..<8 {
      let v = xb[8 * k + i]
      if v >= 0 {
        xval[8 * k + i] = v
      } else {
        xval[8 * k + i] = -v
        flips += 1
        signs |= 1 << UInt8(i)
      }
    }
    if config.paritySigns {
      if flips % 2 != 0 {
        var imin = 0
        var min = (weight[8 * k] * xb[8 * k]) * xb[8 * k]
        for i in 1..<8 {
          let ax = (weight[8 * k + i] * xb[8 * k + i]) * xb[8 * k + i]
          if ax < min {
            min = ax
            imin = i
          }
        }
        xval[8 * k + imin] = -xval[8 * k + imin]
        signs ^= 1 << UInt8(imin)
      }
      signs &= 127
    }
    s.signs[k] = signs
  }
  var max = xval[0]
  for i in 1..<n { max = max > xval[i] ? max : xval[i] }
  for i in 0..<n { L[i] = 0 }
  if let eps = config.eps {
    if max < eps { return nil }
  } else if max == 0 {
    return nil
  }

  var scale: Float
  let denominator: Float
  if config.startFromQP {
    scale = QuantizationSearch.makeQpQuants(n, Int32(kMaxQ + 1), xval, s.qpLevels, weight)
    for i in 0..<n { L[i] = Int8(truncatingIfNeeded: s.qpLevels[i]) }
    let effMax = scale * Float(kMaxQ)
    if effMax <= 0 { return nil }
    denominator = effMax
  } else {
    scale = max / Float(2 * kMaxQ - 1)
    denominator = max
  }
  var best: Float = 0
  for k in 0..<groups { s.onGrid[k] = config.onGridInitially }
  let top = Float(2 * kMaxQ - 1)
  for step in config.steps {
    let id = (top + Float(step) * config.step) / denominator
    let trialScale = 1 / id
    for k in 0..<groups {
      var key = 0
      for i in 0..<dims {
        let l = QuantizationSearch.nearestInt(0.5 * (id * xval[dims * k + i] - 1))
        let clamped = Swift.max(0, Swift.min(Int32(kMaxQ - 1), l))
        Laux[dims * k + i] = Int8(clamped)
        key |= Int(clamped) << (bits * i)
      }
      s.onGridTrial[k] = true
      if map[key] < 0 {
        s.onGridTrial[k] = false
        _ = iqBestNeighbour(&s.cache, key, xval + dims * k, waux + dims * k, trialScale, Laux + dims * k)
      }
    }
    var sumqx: Float = 0
    var sumq2: Float = 0
    for i in 0..<n {
      let w = weight[i]
      let q = Float(2 * Int(Laux[i]) + 1)
      sumqx = sumqx + (w * xval[i]) * q
      sumq2 = sumq2 + (w * q) * q
    }
    if sumq2 > 0 && sumqx * sumqx > best * sumq2 {
      scale = sumqx / sumq2
      best = scale * sumqx
      for i in 0..<n { L[i] = Laux[i] }
      for k in 0..<groups { s.onGrid[k] = s.onGridTrial[k] }
    }
  }

  let offGrid = (0..<groups).contains { !s.onGrid[$0] }
  let refit: Bool
  switch config.refit {
  case .always: refit = scale > 0
  case .allGroupsIfAnyOffGrid, .offGridGroups: refit = offGrid && scale > 0
  }
  if refit {
    let id = 1 / scale
    for k in 0..<groups {
      if case .offGridGroups = config.refit, s.onGrid[k] { continue }
      var key = 0
      for i in 0..<dims {
        let l = QuantizationSearch.nearestInt(0.5 * (id * xval[dims * k + i] - 1))
        let clamped = Swift.max(0, Swift.min(Int32(kMaxQ - 1), l))
        L[dims * k + i] = Int8(clamped)
        key |= Int(clamped) << (bits * i)
      }
      if map[key] < 0 {
        _ = iqBestNeighbour(&s.cache, key, xval + dims * k, waux + dims * k, scale, L + dims * k)
      }
    }
    var sumqx: Float = 0
    var sumq2: Float = 0
    for i in 0..<n {
      let w = weight[i]
      let q = Float(2 * Int(L[i]) + 1)
      sumqx = sumqx + (w * xval[i]) * q
      sumq2 = sumq2 + (w * q) * q
    }
    if sumq2 > 0 { scale = sumqx / sumq2 }
  }
  if scale < 0 {
    // "Should never happen" in ggml: flip the scale and every sign.
    scale = -scale
    for k in 0..<(n / 8) { s.signs[k] = config.paritySigns ? ~s.signs[k] & 127 : ~s.signs[k] }
  }
  for k in 0..<groups {
    var key = 0
    for i in 0..<dims { key |= (Int(L[dims * k + i]) & ((1 << bits) - 1)) << (bits * i) }
    // ggml aborts if the final point is off the grid; that cannot happen after the refit, and
    // index 0 keeps bad input from trapping.
    s.gridIndex[k] = Int(Swift.max(0, map[key]))
  }
  return scale
}

/// Σx² of a 256-value super-block, then `sigma2` as the type computes it.
@inline(__always)
func iqSigma2(_ x: UnsafePointer<Float>, doubled: Bool) -> Float {
  var sumx2: Float = 0
  for i in 0..<256 { sumx2 = sumx2 + x[i] * x[i] }
  return doubled ? (2 * sumx2) / 256 : sumx2 / 256
}

/// The 4-bit scale code of a sub-block: `clamp(nint(0.5·(id·scale − 1)), 0, 15)`.
@inline(__always)
func iqScaleCode(_ id: Float, _ scale: Float, max: Int32 = 15) -> UInt8 {
  UInt8(Swift.max(0, Swift.min(max, QuantizationSearch.nearestInt(0.5 * (id * scale - 1)))))
}
