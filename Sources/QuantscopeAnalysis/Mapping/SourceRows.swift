import QuantscopeCodecs
import QuantscopeFormats

/// One stored tensor decoded to `Double`, with its FP8 scale partner applied.
public struct SourceRows: ReferenceRows {
  /// The decoder (validated when made).
  public let decoder: TensorDecoder

  /// A view of `tensor`, dequantized with `scale` at `precision`.
  ///
  /// - Throws: ``FormatError`` when the tensor's type cannot be decoded or the scale does not fit.
  public init(tensor: TensorInfo, scale: TensorInfo?, precision: ReferencePrecision) throws {
    decoder = try TensorDecoder(tensor, scale: scale, precision: precision.scalePrecision)
  }

  public var shape: [Int] { decoder.tensor.shape.isEmpty ? [1] : decoder.tensor.shape }
  public var origin: String { decoder.scale.map { "\(decoder.tensor.name) × \($0.tensor.name)" } ?? decoder.tensor.name }

  public func decodeRows(_ rows: Range<Int>, into destination: UnsafeMutablePointer<Double>) throws {
    try decoder.decodeRowsDouble(rows, into: destination)
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
