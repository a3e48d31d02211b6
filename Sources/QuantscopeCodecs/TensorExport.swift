import QuantscopeFormats

/// Writes decoded tensors as NPY, raw little-endian floats or an F32 safetensors file: what
/// `quantscope decode` produces, usable from any ``ByteSink`` (an ``OutputFile``, which may
/// compress, or a ``MemorySink`` in tests).
///
/// Values come from ``TensorDecoder`` tile by tile, so a tensor of any size streams through a
/// buffer of about 4 MiB; nothing is held whole.
public enum TensorExport {
  /// Output encodings.
  public enum Format: String, Sendable, CaseIterable {
    /// NPY version 1.0, `<f4`, C order: `numpy.load` reads it.
    case npy
    /// Raw little-endian float32.
    case f32
    /// Raw little-endian IEEE half (NaN kept as a quiet NaN of its sign).
    case f16
    /// Raw little-endian bfloat16 (round to nearest even, as gguf-py and PyTorch round).
    case bf16
    /// One safetensors file of F32 tensors, in the order given.
    case safetensors

    /// Whether the format holds more than one tensor.
    public var holdsSeveral: Bool { self == .safetensors }

    /// Bytes per value written.
    public var bytesPerValue: Int {
      switch self {
      case .f16, .bf16: 2
      default: 4
      }
    }
  }

  /// The shape written for `decoder`: the tensor's row-major shape, or `[rows, rowLength]` when
  /// only `rows` are exported.
  public static func shape(of decoder: TensorDecoder, rows: Range<Int>?) -> [Int] {
    rows.map { [$0.count, decoder.rowLength] } ?? decoder.tensor.shape
  }

  /// The most dimensions numpy (2.x) reads in an array.
  public static let maximumNPYDimensions = 64

  /// The NPY header of a little-endian float32 C-order array of `shape`, padded (with spaces
  /// and a newline) so the data starts on a 64-byte boundary as numpy writes it. Version 1.0
  /// (a 2-byte header length) when the header fits in 65,535 bytes, else version 2.0 (a 4-byte
  /// length), as `numpy.lib.format` chooses: a shape with thousands of dimensions still loads.
  public static func npyHeader(shape: [Int]) -> [UInt8] {
    let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
    let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
    func padded(prefix: Int) -> String {
      // magic (6) + version (2) + length (prefix - 8) + dict + '\n' must be a multiple of 64.
      let unpadded = prefix + dict.utf8.count + 1
      return dict + String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    }
    let v1 = padded(prefix: 10)
    if v1.utf8.count <= Int(UInt16.max) {
      let length = UInt16(v1.utf8.count)
      return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(v1.utf8)
    }
    let v2 = padded(prefix: 12)
    let length = UInt32(clamping: v2.utf8.count)
    return [0x93] + Array("NUMPY".utf8) + [2, 0] + withUnsafeBytes(of: length.littleEndian, Array.init) + Array(v2.utf8)
  }

  /// The bytes ``write(_:rows:as:to:path:progress:)`` produces after any header: values × bytes
  /// per value, summed over `decoders`.
  public static func dataBytes(_ decoders: [TensorDecoder], rows: Range<Int>?, as format: Format) -> Int {
    decoders.reduce(0) { $0 + shape(of: $1, rows: rows).reduce(1, *) * format.bytesPerValue }
  }

  /// Writes `decoders`' values (only `rows` of each, when given) to `sink` in `format`.
  ///
  /// - Parameters:
  ///   - format: every format but ``Format/safetensors`` takes exactly one decoder.
  ///   - path: the output named in errors.
  ///   - progress: started with the data bytes to write, advanced as tiles are written,
  ///     finished at the end.
  /// - Throws: ``FormatError`` for a decoding error (naming the tensor and offset), rows outside
  ///   a tensor, several decoders for a one-tensor format, or a failed write.
  public static func write(
    _ decoders: [TensorDecoder], rows: Range<Int>? = nil, as format: Format, to sink: any ByteSink,
    path: String = "<output>", progress: (any ProgressObserver)? = nil
  ) throws {
    guard format.holdsSeveral || decoders.count == 1 else {
      throw FormatError(.usage, path: path, "\(format.rawValue) holds one tensor, \(decoders.count) given")
    }
    progress?.start(total: dataBytes(decoders, rows: rows, as: format))
    defer { progress?.finish() }
    switch format {
    case .safetensors:
      let specs = decoders.map {
        SafetensorsTensorSpec(name: $0.tensor.name, dtype: .F32, shape: shape(of: $0, rows: rows))
      }
      try sink.write(try SafetensorsLayout(tensors: specs, order: .asGiven, path: path).header)
      for d in decoders { try stream(d, rows: rows, as: .f32, to: sink, progress: progress) }
    case .npy:
      let dims = shape(of: decoders[0], rows: rows)
      // numpy (2.x) holds at most 64 dimensions; a file np.load cannot read is not written.
      guard dims.count <= maximumNPYDimensions else {
        throw FormatError(
          .unsupported,
          path: path,
          "\(dims.count) dimensions: numpy reads at most \(maximumNPYDimensions); use --format f32 or safetensors",
          tensor: decoders[0].tensor.name)
      }
      try sink.write(npyHeader(shape: dims))
      try stream(decoders[0], rows: rows, as: .f32, to: sink, progress: progress)
    case .f32, .f16, .bf16:
      try stream(decoders[0], rows: rows, as: format, to: sink, progress: progress)
    }
  }

  /// Decodes `decoder`'s rows tile by tile and writes them as f32, f16 or bf16.
  static func stream(
    _ decoder: TensorDecoder, rows: Range<Int>?, as format: Format, to sink: any ByteSink,
    progress: (any ProgressObserver)?
  ) throws {
    var halves: [UInt16] = []
    try decoder.forEachTile(rows: rows) { tile in
      try write(tile, as: format, to: sink, scratch: &halves)
      progress?.advance(by: tile.count * format.bytesPerValue)
    }
  }

  /// Writes `values` as `format`'s little-endian values (f32, or f16/bf16 narrowed as ggml does;
  /// a NaN becomes the quiet NaN of its sign, since its payload does not survive narrowing);
  /// `scratch` is reused between calls.
  public static func write(
    _ values: UnsafeBufferPointer<Float>, as format: Format, to sink: any ByteSink, scratch: inout [UInt16]
  ) throws {
    switch format {
    case .f16, .bf16:
      scratch.removeAll(keepingCapacity: true)
      for v in values {
        if format == .bf16 {
          scratch.append(Half.bf16FromFloat(v).littleEndian)
        } else {
          scratch.append((v.isNaN ? (v.sign == .minus ? 0xFE00 : 0x7E00) : Half.fromFloat(v)).littleEndian)
        }
      }
      try scratch.withUnsafeBytes { try sink.write($0) }
    default:
      // Float is stored little-endian on every platform quantscope builds for.
      try sink.write(UnsafeRawBufferPointer(values))
    }
  }
}
