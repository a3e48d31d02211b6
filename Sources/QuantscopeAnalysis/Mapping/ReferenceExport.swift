import QuantscopeCodecs
import QuantscopeFormats

/// The reference side of candidate tensors, written the way ``TensorExport`` writes decoded
/// tensors: what `quantscope decode CANDIDATE --ref REF` produces.
///
/// The values are the ones ``Diff`` compares a candidate tensor with: the same
/// ``ReferenceMapping`` (experts stacked, `kv_b_proj` split, Q/K un-permuted, FP8 times its
/// scale), laid out as the candidate tensor (same name and shape), so that
/// `mean((decode − decode --ref)²)` is the MSE `diff` reports, up to the rounding of both
/// sides to float32 on output.
public struct ReferenceExport: Sendable {
  /// One candidate tensor's reference values.
  public struct Item: Sendable {
    /// The candidate tensor's name (the name written).
    public let name: String
    /// Where the values come from (`model.layers.3.mlp.experts.0.down_proj.weight … (8 stacked)`).
    public var origin: String { rows.origin }
    /// The values, laid out as the candidate tensor.
    public let rows: any ReferenceRows
  }

  /// The tensors to write, in the order asked.
  public let items: [Item]

  /// Maps `names` (tensors of `candidate`) onto `reference` as ``Diff`` does.
  ///
  /// - Throws: ``FormatError`` naming the candidate file and tensor when the reference holds
  ///   nothing for it or its layout cannot agree with the candidate's shape.
  public init(
    candidate: GGUFModel, reference: any TensorCollection, names: [String], precision: ReferencePrecision = .exact
  ) throws {
    let (mapping, heads) = try ReferenceMapping.resolve(reference: reference, for: candidate)
    let index = candidate.tensorsByName
    items = try names.map { name in
      guard let t = index[name] else {
        throw FormatError(.notFound, path: candidate.files[0].path, "no tensor named \(name)", tensor: name)
      }
      let found: (any ReferenceRows)?
      do {
        found = try mapping.rows(for: name, candidateShape: t.shape, precision: precision, heads: heads)
      } catch var error as FormatError where error.tensor == nil {
        error.path = t.file.path
        error.tensor = t.name
        throw error
      }
      guard let rows = found else {
        throw FormatError(
          .notFound, path: reference.files.first?.path ?? "", "the reference holds nothing that maps to \(name)",
          tensor: name)
      }
      return Item(name: name, rows: rows)
    }
  }

  /// The shape written for `item`: the candidate tensor's, or `[rows, rowLength]` for a row range.
  public static func shape(of item: Item, rows: Range<Int>?) -> [Int] {
    rows.map { [$0.count, item.rows.rowLength] } ?? item.rows.shape
  }

  /// Writes the values (only `rows` of each tensor, when given) to `sink` in `format`, as
  /// ``TensorExport/write(_:rows:as:to:path:progress:)`` writes decoded tensors.
  ///
  /// - Throws: ``FormatError`` for a decoding error, rows outside a tensor, several tensors
  ///   for a one-tensor format, or a failed write.
  public func write(
    rows: Range<Int>? = nil, as format: TensorExport.Format, to sink: any ByteSink, path: String = "<output>",
    progress: (any ProgressObserver)? = nil
  ) throws {
    guard format.holdsSeveral || items.count == 1 else {
      throw FormatError(.unsupported, path: path, "\(format.rawValue) holds one tensor, \(items.count) given")
    }
    if let rows {
      for item in items where rows.lowerBound < 0 || rows.upperBound > item.rows.rowCount {
        throw FormatError(.outOfBounds, path: path, "rows \(rows) outside 0..<\(item.rows.rowCount)", tensor: item.name)
      }
    }
    let total = items.reduce(0) { $0 + Self.shape(of: $1, rows: rows).reduce(1, *) * format.bytesPerValue }
    progress?.start(total: total)
    defer { progress?.finish() }
    switch format {
    case .safetensors:
      let specs = items.map { SafetensorsTensorSpec(name: $0.name, dtype: .F32, shape: Self.shape(of: $0, rows: rows)) }
      try sink.write(try SafetensorsLayout(tensors: specs, order: .asGiven, path: path).header)
      for item in items { try stream(item, rows: rows, as: .f32, to: sink, progress: progress) }
    case .npy:
      let dims = Self.shape(of: items[0], rows: rows)
      guard dims.count <= TensorExport.maximumNPYDimensions else {
        throw FormatError(
          .unsupported, path: path,
          "\(dims.count) dimensions: numpy reads at most \(TensorExport.maximumNPYDimensions)",
          tensor: items[0].name)
      }
      try sink.write(TensorExport.npyHeader(shape: dims))
      try stream(items[0], rows: rows, as: .f32, to: sink, progress: progress)
    case .f32, .f16, .bf16:
      try stream(items[0], rows: rows, as: format, to: sink, progress: progress)
    }
  }

  /// Values decoded per chunk (about 4 MiB of doubles), so any tensor streams in flat memory.
  static let chunkValues = 1 << 19

  func stream(
    _ item: Item, rows: Range<Int>?, as format: TensorExport.Format, to sink: any ByteSink,
    progress: (any ProgressObserver)?
  ) throws {
    let view = item.rows
    let range = rows ?? 0..<view.rowCount
    let rowLength = max(1, view.rowLength)
    let perChunk = max(1, Self.chunkValues / rowLength)
    let buffer = UnsafeMutablePointer<Double>.allocate(capacity: perChunk * rowLength)
    defer { buffer.deallocate() }
    var floats: [Float] = []
    var halves: [UInt16] = []
    var row = range.lowerBound
    while row < range.upperBound {
      let end = min(range.upperBound, row + perChunk)
      let count = (end - row) * view.rowLength
      try view.decodeRows(row..<end, into: buffer)
      floats.removeAll(keepingCapacity: true)
      for i in 0..<count { floats.append(Float(buffer[i])) }
      try floats.withUnsafeBufferPointer { try TensorExport.write($0, as: format, to: sink, scratch: &halves) }
      progress?.advance(by: count * format.bytesPerValue)
      row = end
    }
  }
}
