import QuantscopeCodecs
import QuantscopeFormats

/// One stored tensor decoded to `Double`, with its FP8 scale partner applied.
public struct SourceRows: ReferenceRows {
  /// The decoder (validated when made).
  public let decoder: TensorDecoder
  /// A direct binary64 path for the common reference dtypes, or `nil` to go through `decoder`.
  private let direct: DirectDecoding?

  /// A view of `tensor`, dequantized with `scale` (of `blockSize` blocks when a grid; `nil`:
  /// 128×128) at `precision`.
  ///
  /// - Throws: ``FormatError`` when the tensor's type cannot be decoded or the scale does not fit.
  public init(
    tensor: TensorInfo, scale: TensorInfo?, blockSize: (rows: Int, columns: Int)? = nil, precision: ReferencePrecision
  ) throws {
    decoder = try TensorDecoder(tensor, scale: scale, blockSize: blockSize, precision: precision.scalePrecision)
    direct = try DirectDecoding(decoder)
  }

  public var shape: [Int] { decoder.tensor.shape.isEmpty ? [1] : decoder.tensor.shape }
  public var origin: String {
    decoder.scale.map { "\(decoder.tensor.name) × \($0.tensor.name)" } ?? decoder.tensor.name
  }

  public func decodeRows(_ rows: Range<Int>, into destination: UnsafeMutablePointer<Double>) throws {
    guard let direct, rows.lowerBound >= 0, rows.upperBound <= decoder.rowCount else {
      // The decoder's own path (and its range error).
      try decoder.decodeRowsDouble(rows, into: destination)
      return
    }
    direct.decode(rows, rowLength: decoder.rowLength, into: destination)
  }

  public var sourceTensors: [TensorInfo] { [decoder.tensor] + (decoder.scale.map { [$0.tensor] } ?? []) }

  public func scaledCodeRow(_ row: Int) -> ScaledCodeRow? {
    guard let direct, row >= 0, row < decoder.rowCount else { return nil }
    return direct.scaledCodeRow(row, rowLength: decoder.rowLength)
  }
}

/// Code tables and scale factors widened to `Double` once, at addresses that stay put for the
/// diff loop's ``ScaledCodeRow``s.
private final class WidenedValues: @unchecked Sendable {
  // @unchecked Sendable: written only in init, read-only afterwards.
  let table: UnsafeMutableBufferPointer<Double>
  let factors: UnsafeMutableBufferPointer<Double>

  init(table: [Float], factors: [Float]) {
    self.table = .allocate(capacity: table.count)
    _ = self.table.initialize(from: table.lazy.map(Double.init))
    // One factor of 1 stands for "no scale", so an unscaled row is a one-block row.
    let f = factors.isEmpty ? [Float(1)] : factors
    self.factors = .allocate(capacity: f.count)
    _ = self.factors.initialize(from: f.lazy.map(Double.init))
  }

  deinit {
    table.deallocate()
    factors.deallocate()
  }
}

/// Decoding straight to `Double` for FP8 (optionally × an exact scale), BF16 and F32 tensors.
///
/// `TensorDecoder.decodeRowsDouble` decodes to a binary32 scratch buffer it allocates per call
/// and then widens; references are almost all FP8 and BF16, so this path writes the same values
/// (an FP8 code's value widened, times the widened scale: exact in binary64; BF16 and F32
/// widened) without the scratch buffer or per-element division.
private struct DirectDecoding: @unchecked Sendable {
  // @unchecked Sendable: `data` points into the read-only mapping kept alive by the decoder's
  // tensor; nothing writes through it.
  enum Kind {
    case table(WidenedValues)
    case bf16
    case f32
  }

  let kind: Kind
  let data: UnsafeRawPointer
  let scale: ScaleLayout?

  init?(_ decoder: TensorDecoder) throws {
    guard case .safetensors(let dtype) = decoder.tensor.encoding else { return nil }
    if decoder.scale != nil && decoder.precision != .exact { return nil }
    switch dtype {
    case .F8_E4M3, .F8_E5M2, .F8_E4M3FNUZ, .F8_E5M2FNUZ:
      guard let t = SafetensorsDecoding.table(for: dtype) else { return nil }
      kind = .table(WidenedValues(table: t, factors: decoder.scale?.values ?? []))
    case .BF16 where decoder.scale == nil: kind = .bf16
    case .F32 where decoder.scale == nil: kind = .f32
    default: return nil
    }
    guard let base = try decoder.tensor.bytes().baseAddress else { return nil }
    data = base
    scale = decoder.scale
  }

  /// Row `row` as codes and factors; `nil` for BF16 and F32, and for scale blocks that split the
  /// kernel's groups of eight columns.
  func scaledCodeRow(_ row: Int, rowLength: Int) -> ScaledCodeRow? {
    guard case .table(let values) = kind else { return nil }
    let codes = (data + row * rowLength).assumingMemoryBound(to: UInt8.self)
    guard let scale else {
      return ScaledCodeRow(
        codes: codes, table: UnsafePointer(values.table.baseAddress!),
        factors: UnsafePointer(values.factors.baseAddress!), blockColumns: max(rowLength, 1))
    }
    guard scale.blockColumns % 8 == 0 || scale.blockColumns >= rowLength else { return nil }
    return ScaledCodeRow(
      codes: codes, table: UnsafePointer(values.table.baseAddress!),
      factors: UnsafePointer(values.factors.baseAddress! + (row / scale.blockRows) * scale.gridColumns),
      blockColumns: scale.blockColumns)
  }

  func decode(_ rows: Range<Int>, rowLength: Int, into destination: UnsafeMutablePointer<Double>) {
    switch kind {
    case .table(let values):
      let t = values.table, s = values.factors
      for (k, r) in rows.enumerated() {
        let src = data + r * rowLength
        let out = destination + k * rowLength
        guard let scale else {
          for c in 0..<rowLength { out[c] = t[Int(src.load(fromByteOffset: c, as: UInt8.self))] }
          continue
        }
        let rowBase = (r / scale.blockRows) * scale.gridColumns
        var c = 0
        var j = 0
        while c < rowLength {
          let end = min(rowLength, c + scale.blockColumns)
          let factor = s[rowBase + j]
          for i in c..<end { out[i] = t[Int(src.load(fromByteOffset: i, as: UInt8.self))] * factor }
          c = end
          j += 1
        }
      }
    case .bf16:
      let src = data + 2 * rows.lowerBound * rowLength
      for i in 0..<rows.count * rowLength {
        let bits = UInt32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16
        destination[i] = Double(Float(bitPattern: bits))
      }
    case .f32:
      let src = data + 4 * rows.lowerBound * rowLength
      for i in 0..<rows.count * rowLength {
        destination[i] = Double(
          Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))))
      }
    }
  }
}

extension ReferencePrecision {
  /// The decoder setting that evaluates FP8 × scale this way.
  public var scalePrecision: ScalePrecision {
    switch self {
    case .exact: .exact
    case .bf16: .bfloat16
    }
  }
}
