/// How a tensor's bytes encode its values.
public enum TensorEncoding: Hashable, Sendable, CustomStringConvertible {
  /// A ggml type, as stored in GGUF files.
  case ggml(GGMLType)
  /// A safetensors dtype.
  case safetensors(SafetensorsDType)

  /// The name users know: `Q4_K`, `F8_E4M3`, `BF16`.
  public var name: String {
    switch self {
    case .ggml(let t): t.name
    case .safetensors(let d): d.rawValue
    }
  }

  public var description: String { name }
}

/// One tensor of a weight file: its name, encoding, shape and where its bytes are.
public struct TensorInfo: Sendable {
  /// The tensor's name in its file (`blk.3.ffn_down_exps.weight`, `model.layers.3.mlp.down_proj.weight`).
  public let name: String
  /// How the bytes encode values.
  public let encoding: TensorEncoding
  /// Dimensions in row-major order, outermost first, as numpy and safetensors print them.
  public let shape: [Int]
  /// Number of values.
  public let elementCount: Int
  /// Number of bytes of data.
  public let byteCount: Int
  /// The mapped file holding the data.
  public let file: MappedFile
  /// Absolute byte offset of the data in `file`.
  public let dataOffset: Int
  /// Whether multi-byte values are stored big-endian (a big-endian GGUF).
  public let isBigEndian: Bool

  /// Creates a tensor description. The caller has validated that the data lies inside `file`.
  public init(
    name: String, encoding: TensorEncoding, shape: [Int], elementCount: Int, byteCount: Int,
    file: MappedFile, dataOffset: Int, isBigEndian: Bool = false
  ) {
    self.name = name
    self.encoding = encoding
    self.shape = shape
    self.elementCount = elementCount
    self.byteCount = byteCount
    self.file = file
    self.dataOffset = dataOffset
    self.isBigEndian = isBigEndian
  }

  /// Dimensions in ggml order, innermost (row length) first: GGUF's `ne`.
  public var ne: [Int] { shape.reversed() }

  /// Length of one row (the innermost dimension); 1 for a scalar.
  public var rowLength: Int { shape.last ?? 1 }

  /// Number of rows (every dimension but the innermost).
  ///
  /// Never traps: with a zero-length row (no data at all) the other dimensions' product may
  /// exceed `Int.max` in a hostile header, and is then reported as `Int.max`.
  public var rowCount: Int {
    guard shape.count > 1 else { return 1 }
    var rows = 1
    for d in shape.dropLast() {
      let (p, overflow) = rows.multipliedReportingOverflow(by: d)
      if overflow { return Int.max }
      rows = p
    }
    return rows
  }

  /// Bits of data per value.
  public var bitsPerWeight: Double { elementCount == 0 ? 0 : Double(byteCount) * 8 / Double(elementCount) }

  /// The tensor's raw bytes, mapped, checked against the file's size.
  ///
  /// - Throws: ``FormatError`` for a ggml type id that is unknown or removed (its size is not
  ///   known, so its data cannot be located), or for data past the end of the file.
  public func bytes() throws -> UnsafeRawBufferPointer {
    if case .ggml(let type) = encoding, !type.isUsable {
      let what = type.isRemoved ? "was removed from ggml" : "is unknown to this build"
      throw FormatError(
        .malformed,
        path: file.path, "tensor type \(type.name) (id \(type.id)) \(what); its data cannot be read",
        tensor: name, at: .data(dataOffset))
    }
    return try file.bytes(at: dataOffset, count: byteCount, tensor: name)
  }
}

/// A set of named tensors read from one or more files: a GGUF file or split set, or a
/// safetensors file or sharded checkpoint.
public protocol TensorCollection: Sendable {
  /// The files, in order (shard 1 first).
  var files: [MappedFile] { get }
  /// Every tensor, in file order.
  var tensors: [TensorInfo] { get }
  /// Metadata as key/value pairs, in file order: GGUF key/values; for safetensors the
  /// `__metadata__` strings and, when a `config.json` sits beside the shards, its entries as
  /// `config.KEY` (nested keys joined with dots).
  var metadataEntries: [(key: String, value: GGUFValue)] { get }
}

extension TensorCollection {
  /// The tensor with this name, if any.
  public func tensor(named name: String) -> TensorInfo? {
    tensors.first { $0.name == name }
  }

  /// Tensors by name, for repeated lookups.
  public var tensorsByName: [String: TensorInfo] {
    Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
  }
}
