import QuantscopeCodecs
import QuantscopeFormats

/// One stored tensor decoded to `Double`, with its FP8 scale partner applied.
public struct SourceRows: ReferenceRows {
  /// The stored tensor.
  public let tensor: TensorInfo
  /// Its scale partner (`weight_scale_inv`, `weight_scale`), if any.
  public let scale: TensorInfo?
  /// How FP8 × scale products are evaluated.
  public let precision: ReferencePrecision

  /// A view of `tensor`, dequantized with `scale`.
  public init(tensor: TensorInfo, scale: TensorInfo?, precision: ReferencePrecision) {
    self.tensor = tensor
    self.scale = scale
    self.precision = precision
  }

  public var shape: [Int] { tensor.shape.isEmpty ? [1] : tensor.shape }
  public var origin: String { scale.map { "\(tensor.name) × \($0.name)" } ?? tensor.name }

  public func decodeRows(_ rows: Range<Int>, into destination: UnsafeMutablePointer<Double>) throws {
    guard case .ggml(let type) = tensor.encoding, let codec = Codecs.codec(for: type), scale == nil else {
      throw FormatError(path: tensor.file.path, "cannot decode \(tensor.encoding.name) yet", tensor: tensor.name)
    }
    let bytes = try tensor.bytes()
    let rowBytes = tensor.byteCount / max(1, rowCount)
    let blocksPerRow = rowLength / type.blockElements
    let floats = UnsafeMutablePointer<Float>.allocate(capacity: rows.count * rowLength)
    defer { floats.deallocate() }
    codec.decode(bytes.baseAddress! + rows.lowerBound * rowBytes, rows.count * blocksPerRow, floats)
    for i in 0..<rows.count * rowLength { destination[i] = Double(floats[i]) }
  }
}
