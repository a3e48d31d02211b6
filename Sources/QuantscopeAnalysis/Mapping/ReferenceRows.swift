import QuantscopeFormats

/// Values of a tensor as the candidate GGUF lays them out, produced row by row in `Double`.
///
/// A reference for a GGUF tensor is often not one stored tensor: routed experts are stacked,
/// `kv_b_proj` is split and transposed, llama's Q/K rows are permuted, gemma's norms are
/// stored plus one. Each of those is a small view over other views, so one mechanism covers
/// every architecture's layout.
public protocol ReferenceRows: Sendable {
  /// Dimensions in row-major order (numpy order), outermost first.
  var shape: [Int] { get }
  /// Where the values come from, for reports (`model.layers.3.mlp.experts.{0…255}.down_proj.weight`).
  var origin: String { get }
  /// Writes rows `rows` (each `rowLength` values) to `destination`.
  func decodeRows(_ rows: Range<Int>, into destination: UnsafeMutablePointer<Double>) throws
  /// Row `row` as FP8 codes and their scale factors, when it is stored so (the diff loop then
  /// reads the codes instead of a decoded copy), or `nil`.
  func scaledCodeRow(_ row: Int) -> ScaledCodeRow?
  /// The stored tensors (and scales) the values are read from, for releasing their mapped pages.
  var sourceTensors: [TensorInfo] { get }
}

/// One reference row stored as 8-bit float codes: value `i` is `table[codes[i]] × factors[i / blockColumns]`,
/// the exact binary64 value ``ReferenceRows/decodeRows(_:into:)`` writes.
///
/// The pointers stay valid while the view that gave them is alive.
public struct ScaledCodeRow {
  /// The row's codes.
  public let codes: UnsafePointer<UInt8>
  /// The 256 code values, widened to `Double`.
  public let table: UnsafePointer<Double>
  /// The row's scale factors, one per block of columns.
  public let factors: UnsafePointer<Double>
  /// Columns per factor: a multiple of eight, or at least the row length.
  public let blockColumns: Int
}

extension ReferenceRows {
  /// Values per row (the innermost dimension).
  public var rowLength: Int { shape.last ?? 1 }
  /// Number of rows.
  public var rowCount: Int { shape.count <= 1 ? 1 : shape.dropLast().reduce(1, *) }
  /// Number of values.
  public var elementCount: Int { shape.reduce(1, *) }
  /// Views computed from their base's values give no codes.
  public func scaledCodeRow(_ row: Int) -> ScaledCodeRow? { nil }

  /// Releases the mapped pages of every source tensor (they are re-read from the page cache if
  /// needed again): a pass over a model keeps its resident set from growing with the model.
  public func releasePages() {
    for t in sourceTensors { t.file.advise(.dontNeed, offset: t.dataOffset, count: t.byteCount) }
  }
}

/// Several tensors of equal shape stacked along a new outermost dimension (MoE experts).
public struct StackedRows: ReferenceRows {
  /// The stacked parts, in order (expert 0 first).
  public let parts: [any ReferenceRows]
  public let shape: [Int]
  public var origin: String

  /// Stacks `parts`, which must share one shape.
  public init(_ parts: [any ReferenceRows], origin: String) throws {
    guard let first = parts.first else {
      throw FormatError(
        .invalidState, path: "", "nothing to stack", tensor: origin)
    }
    for p in parts where p.shape != first.shape {
      throw FormatError(.mismatch, path: "", "cannot stack shape \(p.shape) with \(first.shape)", tensor: p.origin)
    }
    self.parts = parts
    self.shape = [parts.count] + first.shape
    self.origin = origin
  }

  public func decodeRows(_ rows: Range<Int>, into destination: UnsafeMutablePointer<Double>) throws {
    let perPart = parts[0].rowCount
    var row = rows.lowerBound
    var out = destination
    while row < rows.upperBound {
      let part = row / perPart
      let start = row % perPart
      let end = min(perPart, start + (rows.upperBound - row))
      try parts[part].decodeRows(start..<end, into: out)
      out += (end - start) * rowLength
      row += end - start
    }
  }

  public var sourceTensors: [TensorInfo] { parts.flatMap(\.sourceTensors) }

  public func scaledCodeRow(_ row: Int) -> ScaledCodeRow? {
    let perPart = parts[0].rowCount
    return parts[row / perPart].scaledCodeRow(row % perPart)
  }
}

/// Rows of a base view taken in another order: row `i` of this view is row `sourceRow(i)` of the base.
public struct PermutedRows: ReferenceRows {
  /// The view whose rows are reordered.
  public let base: any ReferenceRows
  public let shape: [Int]
  public let origin: String
  /// The base row of each row of this view.
  public let sourceRow: @Sendable (Int) -> Int

  /// Reorders `base`'s rows; `shape` must have the same row length and row count.
  public init(base: any ReferenceRows, shape: [Int], origin: String, sourceRow: @escaping @Sendable (Int) -> Int) {
    self.base = base
    self.shape = shape
    self.origin = origin
    self.sourceRow = sourceRow
  }

  public func decodeRows(_ rows: Range<Int>, into destination: UnsafeMutablePointer<Double>) throws {
    // Consecutive rows usually map to consecutive base rows: decode runs, not single rows.
    var i = rows.lowerBound
    var out = destination
    while i < rows.upperBound {
      let start = sourceRow(i)
      var n = 1
      while i + n < rows.upperBound && sourceRow(i + n) == start + n { n += 1 }
      try base.decodeRows(start..<start + n, into: out)
      out += n * rowLength
      i += n
    }
  }

  public func scaledCodeRow(_ row: Int) -> ScaledCodeRow? { base.scaledCodeRow(sourceRow(row)) }
  public var sourceTensors: [TensorInfo] { base.sourceTensors }
}

/// A base view with the innermost two dimensions of each group swapped: DeepSeek's `attn_k_b`,
/// where GGUF row `(h, c)` holds `W[h·stride + d, c]` for `d` in `0..<inner`.
public struct TransposedGroupRows: ReferenceRows {
  /// The view read from (rows of length `columns`).
  public let base: any ReferenceRows
  /// Groups (heads).
  public let groups: Int
  /// Base rows between the start of consecutive groups.
  public let groupStride: Int
  /// Base rows of each group that are read (they become the output row length).
  public let inner: Int
  public let origin: String

  /// A view of shape `[groups, base.rowLength, inner]`.
  public init(base: any ReferenceRows, groups: Int, groupStride: Int, inner: Int, origin: String) {
    self.base = base
    self.groups = groups
    self.groupStride = groupStride
    self.inner = inner
    self.origin = origin
  }

  public var shape: [Int] { [groups, base.rowLength, inner] }
  public var sourceTensors: [TensorInfo] { base.sourceTensors }

  public func decodeRows(_ rows: Range<Int>, into destination: UnsafeMutablePointer<Double>) throws {
    let columns = base.rowLength
    let buffer = UnsafeMutablePointer<Double>.allocate(capacity: inner * columns)
    defer { buffer.deallocate() }
    var loadedGroup = -1
    for (k, row) in rows.enumerated() {
      let g = row / columns, c = row % columns
      if g != loadedGroup {
        try base.decodeRows(g * groupStride..<g * groupStride + inner, into: buffer)
        loadedGroup = g
      }
      let out = destination + k * inner
      for d in 0..<inner { out[d] = buffer[d * columns + c] }
    }
  }
}

/// A base view with a constant added to every value (gemma stores RMS-norm weights plus one).
public struct OffsetRows: ReferenceRows {
  /// The view whose values are shifted.
  public let base: any ReferenceRows
  /// The constant added.
  public let offset: Double

  /// Adds `offset` to every value of `base`.
  public init(base: any ReferenceRows, offset: Double) {
    self.base = base
    self.offset = offset
  }

  public var shape: [Int] { base.shape }
  public var origin: String { "\(base.origin) + \(offset)" }
  public var sourceTensors: [TensorInfo] { base.sourceTensors }

  public func decodeRows(_ rows: Range<Int>, into destination: UnsafeMutablePointer<Double>) throws {
    try base.decodeRows(rows, into: destination)
    for i in 0..<rows.count * rowLength { destination[i] += offset }
  }
}

/// A base view seen with another shape of the same rows (a reshape that keeps the row length).
public struct ReshapedRows: ReferenceRows {
  /// The view reshaped.
  public let base: any ReferenceRows
  public let shape: [Int]

  /// Views `base` as `shape`; the element count and row length must agree.
  public init(base: any ReferenceRows, shape: [Int]) {
    self.base = base
    self.shape = shape
  }

  public var origin: String { base.origin }

  public func decodeRows(_ rows: Range<Int>, into destination: UnsafeMutablePointer<Double>) throws {
    try base.decodeRows(rows, into: destination)
  }

  public func scaledCodeRow(_ row: Int) -> ScaledCodeRow? { base.scaledCodeRow(row) }
  public var sourceTensors: [TensorInfo] { base.sourceTensors }
}
