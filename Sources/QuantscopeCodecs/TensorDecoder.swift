import QuantscopeFormats

/// How a scaled weight's product `value × scale` is formed (safetensors-fp8-deepseek.md §2.4).
public enum ScalePrecision: Sendable, Hashable {
  /// One binary32 multiply, as DeepSeek's `weight_dequant` kernel and llama.cpp's converter
  /// (`weight.float() * scale`) compute it. This is also the exact product rounded once to
  /// binary32, so it is the most accurate binary32 answer.
  case float32
  /// The binary32 product rounded to bfloat16 (round to nearest even): what DeepSeek's
  /// `fp8_cast_bf16.py` stores, what a BF16 GGUF converted from the FP8 checkpoint holds, and
  /// what compressed-tensors computes when its scale is BF16.
  case bfloat16
  /// The exact product, formed in binary64 (an FP8 value has 4 significant bits and a binary32
  /// scale 24, so the product always fits binary64's 53). Read it with
  /// ``TensorDecoder/decodeRowsDouble(_:into:)``; through the binary32 API it equals `.float32`.
  case exact
}

/// A scale tensor attached to a weight and how its entries map onto the weight's elements.
///
/// The weight is viewed as a matrix of `rowCount × rowLength` (all outer dimensions flattened).
/// Element (r, c) is multiplied by `values[(r / blockRows) · gridColumns + c / blockColumns]`.
/// A per-tensor scale is a 1×1 grid, a per-channel scale an `rowCount × 1` grid, DeepSeek's
/// `weight_scale_inv` a `ceil(rows/128) × ceil(cols/128)` grid of 128×128 tiles (edge tiles
/// partial).
public struct ScaleLayout: Sendable {
  /// The scale tensor.
  public let tensor: TensorInfo
  /// Scale entries along the weight's rows.
  public let gridRows: Int
  /// Scale entries along the weight's columns.
  public let gridColumns: Int
  /// Weight rows covered by one scale entry.
  public let blockRows: Int
  /// Weight columns covered by one scale entry.
  public let blockColumns: Int
  /// The decoded scale entries, row-major `gridRows × gridColumns`.
  public let values: [Float]

  /// A short description: `per-tensor`, `per-channel`, `block 128×128`.
  public var kind: String {
    if gridRows == 1 && gridColumns == 1 { return "per-tensor" }
    if gridColumns == 1 && blockRows == 1 { return "per-channel" }
    return "block \(blockRows)×\(blockColumns)"
  }
}

/// Finding a weight's dequantization scale by name (safetensors-fp8-deepseek.md §5).
///
/// `X.weight` pairs with `X.weight_scale_inv` (DeepSeek / fine-grained FP8: the name says
/// "inverse" but the value is the dequantization multiplier), `X.weight_scale` (AutoFP8,
/// compressed-tensors, FBGEMM, ModelOpt) or `X.qscale_weight` (Mistral native). In all of them
/// the weight's value is `stored × scale`.
public enum ScalePartners {
  /// The dtypes whose tensors can carry a separate scale: 8-bit floats and int8.
  public static let scaledDTypes: Set<SafetensorsDType> = [.F8_E4M3, .F8_E5M2, .F8_E4M3FNUZ, .F8_E5M2FNUZ, .I8]

  /// Candidate scale names for a weight name, most specific first.
  public static func candidateNames(for weightName: String) -> [String] {
    var names = [weightName + "_scale_inv", weightName + "_scale"]
    if weightName.hasSuffix("weight") {
      names.append(String(weightName.dropLast("weight".count)) + "qscale_weight")
    }
    return names
  }

  /// Whether `name` looks like a weight scale (`…_scale_inv`, `…weight_scale`, `…qscale_weight`).
  public static func isScaleName(_ name: String) -> Bool {
    name.hasSuffix("_scale_inv") || name.hasSuffix("weight_scale") || name.hasSuffix("qscale_weight")
  }

  /// The block shape of a checkpoint's block scales: `config.json`'s
  /// `quantization_config.weight_block_size` (`[rows, columns]`), or `nil` when it does not say
  /// (``TensorDecoder`` then uses DeepSeek's 128×128).
  ///
  /// - Throws: ``FormatError`` naming `config.json` when the entry is not two positive integers.
  public static func blockSize(of collection: any TensorCollection) throws -> (rows: Int, columns: Int)? {
    let key = "config.quantization_config.weight_block_size"
    guard let value = collection.metadataEntries.first(where: { $0.key == key })?.value else { return nil }
    let path = (collection as? SafetensorsCheckpoint)?.configPath ?? collection.files.first?.path ?? ""
    guard case .array(_, let elements) = value, elements.count == 2,
      let r = elements[0].integer, let c = elements[1].integer, r >= 1, c >= 1
    else {
      throw FormatError(.malformed, path: path, "quantization_config.weight_block_size must be two positive integers")
    }
    return (r, c)
  }

  /// The scale tensor of `weight` among `tensors` (a name index, e.g. `collection.tensorsByName`),
  /// or `nil` when the weight is not of a scalable dtype or has no partner.
  public static func scale(for weight: TensorInfo, in tensors: [String: TensorInfo]) -> TensorInfo? {
    guard case .safetensors(let dtype) = weight.encoding, scaledDTypes.contains(dtype) else { return nil }
    for name in candidateNames(for: weight.name) {
      if let t = tensors[name] { return t }
    }
    return nil
  }
}

/// A streaming decoder of one tensor of any encoding (ggml type or safetensors dtype) to
/// binary32, optionally dequantizing with a scale partner.
///
/// The tensor is viewed as `rowCount` rows of `rowLength` values (the innermost dimension).
/// ``decodeRows(_:into:)`` decodes whole rows into a caller-provided buffer, so a tensor of any
/// size streams through bounded memory; ``decodeRow(_:columns:into:)`` decodes part of one row
/// for rows too long for one tile. Decoding never traps on bad data: shapes, sizes and byte
/// ranges are checked when the decoder is made.
public struct TensorDecoder: @unchecked Sendable {
  // @unchecked Sendable: `data` points into the read-only mapping owned by `tensor.file`, which
  // this struct keeps alive; nothing is ever written through it.

  /// The tensor decoded.
  public let tensor: TensorInfo
  /// The scale applied to every value, when the weight has one.
  public let scale: ScaleLayout?
  /// How the scale product is formed.
  public let precision: ScalePrecision
  /// Values per row (the innermost dimension; 1 for a scalar).
  public let rowLength: Int
  /// Rows (the product of the outer dimensions).
  public let rowCount: Int
  /// Column offsets given to ``decodeRow(_:columns:into:)`` must be multiples of this (the ggml
  /// block size; 1 for safetensors dtypes).
  public let columnAlignment: Int

  private enum Kernel {
    case block(BlockCodec, rowBytes: Int)
    /// A scalar type stored big-endian: each element's bytes are reversed before decoding.
    case swappedBlock(BlockCodec, rowBytes: Int)
    case safetensors(SafetensorsDType)
  }

  private let kernel: Kernel
  private let data: UnsafeRawBufferPointer

  /// Decodes `count` one-element blocks stored big-endian: reverses each element's bytes into a
  /// scratch buffer, then runs the little-endian kernel.
  private static func decodeSwapped(
    _ codec: BlockCodec, _ source: UnsafeRawPointer, _ count: Int, into destination: UnsafeMutablePointer<Float>
  ) {
    let size = codec.type.blockBytes
    let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(1, count * size), alignment: 16)
    defer { scratch.deallocate() }
    let src = source.assumingMemoryBound(to: UInt8.self)
    let dst = scratch.assumingMemoryBound(to: UInt8.self)
    for i in 0..<count {
      for b in 0..<size { dst[i * size + b] = src[i * size + size - 1 - b] }
    }
    codec.decode(scratch, count, destination)
  }

  /// Makes a decoder for `tensor`, multiplying by `scale` when given.
  ///
  /// - Parameters:
  ///   - scale: a scale partner (see ``ScalePartners``). Its shape decides the layout: one
  ///     element is per-tensor; `[rows]` or `[rows, 1]` per-channel; `[gr, gc]` (or ModelOpt's
  ///     `[gr, 1, gc, 1]`) a block grid. Any decodable dtype is accepted (F32, BF16, F16,
  ///     F8_E8M0); a U8 scale is read as E8M0 exponent bytes, `2^(b−127)`.
  ///   - blockSize: the block shape of a grid scale (config `weight_block_size`, see
  ///     ``ScalePartners/blockSize(of:)``); `nil` means DeepSeek's 128×128. A grid must be exactly
  ///     `⌈rows/b⌉ × ⌈cols/b⌉`: a grid of another shape is never re-read as other tiles.
  ///   - precision: how the scale product is formed.
  /// - Throws: ``FormatError`` naming the tensor when its type cannot be decoded, its size does
  ///   not match its shape and type, its bytes lie outside the file, or the scale does not fit.
  public init(
    _ tensor: TensorInfo, scale: TensorInfo? = nil, blockSize: (rows: Int, columns: Int)? = nil,
    precision: ScalePrecision = .float32
  ) throws {
    self.tensor = tensor
    self.precision = precision
    let path = tensor.file.path
    func fail(_ message: String) -> FormatError {
      FormatError(.malformed, path: path, message, tensor: tensor.name, at: .data(tensor.dataOffset))
    }

    var product = 1
    for d in tensor.shape {
      let (p, overflow) = product.multipliedReportingOverflow(by: d)
      guard d >= 0, !overflow else { throw fail("shape \(tensor.shape) overflows") }
      product = p
    }
    guard product == tensor.elementCount else {
      throw fail("shape \(tensor.shape) has \(product) elements, header says \(tensor.elementCount)")
    }
    rowLength = tensor.rowLength
    rowCount = tensor.rowCount

    switch tensor.encoding {
    case .ggml(let type):
      guard let codec = Codecs.codec(for: type) else {
        throw fail("no decoder for type \(type.name)")
      }
      let be = type.blockElements
      guard be > 0, rowLength % be == 0 else {
        throw fail("row length \(rowLength) is not a whole number of \(type.name) blocks (\(be) elements)")
      }
      guard let expected = type.byteCount(elements: tensor.elementCount), expected == tensor.byteCount else {
        throw fail("\(tensor.byteCount) bytes do not hold \(tensor.elementCount) \(type.name) values")
      }
      if tensor.isBigEndian && type.blockBytes > 1 {
        // gguf-py's endian converter swaps scalar types and only some fields of a few block types;
        // block fields are not decoded from big-endian here rather than decoded wrongly.
        guard !type.isQuantized else { throw fail("big-endian \(type.name) data is not supported (scalar types are)") }
        kernel = .swappedBlock(codec, rowBytes: rowLength / be * type.blockBytes)
      } else {
        kernel = .block(codec, rowBytes: rowLength / be * type.blockBytes)
      }
      columnAlignment = be
    case .safetensors(let dtype):
      guard SafetensorsDecoding.canDecode(dtype) else {
        throw fail("no decoder for dtype \(dtype.rawValue)")
      }
      guard let expected = SafetensorsDecoding.byteCount(dtype, elements: tensor.elementCount),
        expected == tensor.byteCount
      else {
        throw fail("\(tensor.byteCount) bytes do not hold \(tensor.elementCount) \(dtype.rawValue) values")
      }
      kernel = .safetensors(dtype)
      columnAlignment = 1
    }
    data = try tensor.bytes()

    if let scale {
      self.scale = try Self.layout(of: scale, for: tensor, rows: rowCount, columns: rowLength, blockSize: blockSize)
    } else {
      self.scale = nil
    }
  }

  /// Makes a decoder for `tensor`, finding its scale partner by name in `tensors` (see
  /// ``ScalePartners/scale(for:in:)``).
  public init(
    _ tensor: TensorInfo, partnersIn tensors: [String: TensorInfo],
    blockSize: (rows: Int, columns: Int)? = nil, precision: ScalePrecision = .float32
  ) throws {
    try self.init(
      tensor, scale: ScalePartners.scale(for: tensor, in: tensors), blockSize: blockSize, precision: precision)
  }

  /// Works out how `scale`'s entries cover the weight's `rows × columns` matrix.
  static func layout(
    of scale: TensorInfo, for weight: TensorInfo, rows: Int, columns: Int, blockSize: (rows: Int, columns: Int)?
  ) throws -> ScaleLayout {
    func fail(_ message: String) -> FormatError {
      FormatError(.malformed, path: scale.file.path, message, tensor: scale.name, at: .data(scale.dataOffset))
    }
    let s = scale.shape
    let grid: (Int, Int)
    if scale.elementCount == 1 {
      grid = (1, 1)
    } else if s.count == 1 && s[0] == rows {
      grid = (rows, 1)
    } else if s.count == 2 {
      grid = (s[0], s[1])
    } else if s.count == 4 && s[1] == 1 && s[3] == 1 {
      grid = (s[0], s[2])
    } else {
      throw fail("scale shape \(s) does not fit weight \(weight.name) of shape \(weight.shape)")
    }
    func ceilDiv(_ a: Int, _ b: Int) -> Int { b <= 0 ? 0 : a / b + (a % b == 0 ? 0 : 1) }
    let br: Int, bc: Int
    if grid == (1, 1) {
      (br, bc) = (max(rows, 1), max(columns, 1))
    } else if grid == (rows, 1) && (s.count == 1 || (s.count == 2 && s[1] == 1)) {
      (br, bc) = (1, max(columns, 1))
    } else {
      // A block grid. Inferring the block from the grid's shape would read a transposed or
      // mis-shaped scale ([4,2] for [2,4]) as tiles of another size and give plausible nonsense,
      // so the grid must be exactly the one the block size makes.
      let block = blockSize ?? (rows: 128, columns: 128)
      guard block.rows >= 1, block.columns >= 1 else {
        throw fail("block size \(block.rows)×\(block.columns) is not positive")
      }
      let expected = [ceilDiv(rows, block.rows), ceilDiv(columns, block.columns)]
      guard grid.0 == expected[0], grid.1 == expected[1] else {
        throw fail(
          "scale shape \(s) does not fit weight \(weight.name) of shape \(weight.shape): expected \(expected) "
            + "for \(block.rows)×\(block.columns) blocks (weight_block_size"
            + (blockSize == nil ? ", 128×128 when config.json does not give it)" : ")"))
      }
      (br, bc) = block
    }
    var values = try TensorDecoder(scale).decodeAll()
    if scale.encoding == .safetensors(.U8) {
      // A U8 scale is an E8M0 exponent byte (DeepSeek-V4 style; llama.cpp's converter reads it
      // so): an integer multiplier has no meaning in any FP8 convention.
      values = values.map { SafetensorsDecoding.e8m0Table[Int($0)] }
    }
    guard values.count == grid.0 * grid.1 else { throw fail("scale has \(values.count) entries") }
    return ScaleLayout(
      tensor: scale, gridRows: grid.0, gridColumns: grid.1, blockRows: br, blockColumns: bc, values: values)
  }

  // MARK: Decoding

  private func rangeError(_ what: String) -> FormatError {
    FormatError(.malformed, path: tensor.file.path, what, tensor: tensor.name, at: .data(tensor.dataOffset))
  }

  /// Decodes rows `rows` into `destination`, which must hold `rows.count × rowLength` floats.
  ///
  /// - Throws: ``FormatError`` when `rows` is not inside `0..<rowCount`.
  public func decodeRows(_ rows: Range<Int>, into destination: UnsafeMutablePointer<Float>) throws {
    guard rows.lowerBound >= 0, rows.upperBound <= rowCount else {
      throw rangeError("rows \(rows.lowerBound)..<\(rows.upperBound) outside 0..<\(rowCount)")
    }
    guard !rows.isEmpty, rowLength > 0 else { return }
    switch kernel {
    case .block(let codec, let rowBytes):
      guard let base = data.baseAddress else { return }
      codec.decode(
        base + rows.lowerBound * rowBytes, rows.count * rowLength / codec.type.blockElements, destination)
    case .swappedBlock(let codec, let rowBytes):
      guard let base = data.baseAddress else { return }
      Self.decodeSwapped(codec, base + rows.lowerBound * rowBytes, rows.count * rowLength, into: destination)
    case .safetensors(let dtype):
      guard let base = data.baseAddress else { return }
      SafetensorsDecoding.decode(
        dtype, data: base, firstElement: rows.lowerBound * rowLength, count: rows.count * rowLength,
        into: destination)
    }
    if scale != nil {
      for (k, r) in rows.enumerated() {
        applyScale(row: r, columns: 0..<rowLength, values: destination + k * rowLength)
      }
    }
  }

  /// Decodes columns `columns` of row `row` into `destination` (`columns.count` floats).
  ///
  /// - Throws: ``FormatError`` when the range is outside the tensor or its bounds are not
  ///   multiples of ``columnAlignment`` (the end may also be `rowLength`).
  public func decodeRow(_ row: Int, columns: Range<Int>, into destination: UnsafeMutablePointer<Float>) throws {
    guard row >= 0, row < rowCount, columns.lowerBound >= 0, columns.upperBound <= rowLength else {
      throw rangeError(
        "row \(row) columns \(columns.lowerBound)..<\(columns.upperBound) outside \(rowCount)×\(rowLength)")
    }
    guard columns.lowerBound % columnAlignment == 0,
      columns.upperBound % columnAlignment == 0 || columns.upperBound == rowLength
    else {
      throw rangeError("columns \(columns.lowerBound)..<\(columns.upperBound) split a block of \(columnAlignment)")
    }
    guard !columns.isEmpty else { return }
    switch kernel {
    case .block(let codec, let rowBytes):
      guard let base = data.baseAddress else { return }
      let be = codec.type.blockElements
      codec.decode(
        base + row * rowBytes + columns.lowerBound / be * codec.type.blockBytes, columns.count / be, destination)
    case .swappedBlock(let codec, let rowBytes):
      guard let base = data.baseAddress else { return }
      Self.decodeSwapped(
        codec, base + row * rowBytes + columns.lowerBound * codec.type.blockBytes, columns.count, into: destination)
    case .safetensors(let dtype):
      guard let base = data.baseAddress else { return }
      SafetensorsDecoding.decode(
        dtype, data: base, firstElement: row * rowLength + columns.lowerBound, count: columns.count,
        into: destination)
    }
    if scale != nil { applyScale(row: row, columns: columns, values: destination) }
  }

  /// Multiplies decoded values of `row`, `columns` in place by their scales at binary32 (and
  /// rounds to bfloat16 for `.bfloat16`). Separate multiply, no FMA.
  private func applyScale(row: Int, columns: Range<Int>, values: UnsafeMutablePointer<Float>) {
    guard let scale else { return }
    let roundBF16 = precision == .bfloat16
    scale.values.withUnsafeBufferPointer { s in
      let rowBase = (row / scale.blockRows) * scale.gridColumns
      var c = columns.lowerBound
      while c < columns.upperBound {
        let j = c / scale.blockColumns
        let end = min(columns.upperBound, (j + 1) * scale.blockColumns)
        let factor = s[rowBase + j]
        for k in (c - columns.lowerBound)..<(end - columns.lowerBound) {
          let y = values[k] * factor
          values[k] = roundBF16 ? Half.bf16ToFloat(Half.bf16FromFloat(y)) : y
        }
        c = end
      }
    }
  }

  /// Decodes rows `rows` into `destination` (`rows.count × rowLength` doubles) at the decoder's
  /// reference precision: for `.exact` the scale product is formed in binary64 (exact); for
  /// `.float32` and `.bfloat16` it is the binary32 (or bfloat16) value widened. Unscaled values
  /// are their binary32 decoding widened (exact for every float dtype).
  public func decodeRowsDouble(_ rows: Range<Int>, into destination: UnsafeMutablePointer<Double>) throws {
    guard rows.lowerBound >= 0, rows.upperBound <= rowCount else {
      throw rangeError("rows \(rows.lowerBound)..<\(rows.upperBound) outside 0..<\(rowCount)")
    }
    let n = rows.count * rowLength
    guard n > 0 else { return }
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: n)
    defer { scratch.deallocate() }
    guard let scale, precision == .exact else {
      try decodeRows(rows, into: scratch)
      for i in 0..<n { destination[i] = Double(scratch[i]) }
      return
    }
    // Decode unscaled, then multiply in binary64.
    let unscaled = try TensorDecoder(tensor)
    try unscaled.decodeRows(rows, into: scratch)
    scale.values.withUnsafeBufferPointer { s in
      for (k, r) in rows.enumerated() {
        let rowBase = (r / scale.blockRows) * scale.gridColumns
        for c in 0..<rowLength {
          let i = k * rowLength + c
          destination[i] = Double(scratch[i]) * Double(s[rowBase + c / scale.blockColumns])
        }
      }
    }
  }

  /// The whole tensor as a `[Float]` (row-major). For tests and small tensors; stream large
  /// ones with ``decodeRows(_:into:)``.
  public func decodeAll() throws -> [Float] {
    let n = rowCount * rowLength
    return try [Float](unsafeUninitializedCapacity: n) { buffer, count in
      if let base = buffer.baseAddress { try decodeRows(0..<rowCount, into: base) }
      count = n
    }
  }

  /// The whole tensor as `[Double]` at the decoder's reference precision (see
  /// ``decodeRowsDouble(_:into:)``).
  public func decodeAllDouble() throws -> [Double] {
    let n = rowCount * rowLength
    return try [Double](unsafeUninitializedCapacity: n) { buffer, count in
      if let base = buffer.baseAddress { try decodeRowsDouble(0..<rowCount, into: base) }
      count = n
    }
  }
}

extension TensorDecoder {
  /// Streams rows `rows` (default: all) through `body` in order, as tiles of at most
  /// `maxElements` values (whole rows when a row fits, else pieces of one row aligned to
  /// ``columnAlignment``). The buffer passed to `body` is reused; copy what you keep.
  public func forEachTile(
    rows: Range<Int>? = nil, maxElements: Int = 1 << 20, _ body: (UnsafeBufferPointer<Float>) throws -> Void
  ) throws {
    let rows = rows ?? 0..<rowCount
    guard rows.lowerBound >= 0, rows.upperBound <= rowCount else {
      throw FormatError(
        .outOfBounds,
        path: tensor.file.path, "rows \(rows.lowerBound)..<\(rows.upperBound) outside 0..<\(rowCount)",
        tensor: tensor.name, at: .data(tensor.dataOffset))
    }
    guard !rows.isEmpty, rowLength > 0 else { return }
    let limit = Swift.max(1, maxElements)
    if rowLength <= limit {
      let perTile = Swift.max(1, limit / rowLength)
      let buffer = UnsafeMutablePointer<Float>.allocate(capacity: Swift.min(perTile, rows.count) * rowLength)
      defer { buffer.deallocate() }
      var r = rows.lowerBound
      while r < rows.upperBound {
        let end = Swift.min(rows.upperBound, r + perTile)
        try decodeRows(r..<end, into: buffer)
        try body(UnsafeBufferPointer(start: buffer, count: (end - r) * rowLength))
        r = end
      }
    } else {
      let piece = Swift.max(columnAlignment, limit / columnAlignment * columnAlignment)
      let buffer = UnsafeMutablePointer<Float>.allocate(capacity: piece)
      defer { buffer.deallocate() }
      for r in rows {
        var c = 0
        while c < rowLength {
          let end = Swift.min(rowLength, c + piece)
          try decodeRow(r, columns: c..<end, into: buffer)
          try body(UnsafeBufferPointer(start: buffer, count: end - c))
          c = end
        }
      }
    }
  }
}
