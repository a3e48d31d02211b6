#if canImport(Glibc)
  import Glibc
#endif

/// A tensor a ``GGUFWriter`` will write: what goes into its tensor info.
public struct GGUFTensorDeclaration: Sendable, Equatable {
  /// Tensor name (at most 63 bytes, unique in the file).
  public var name: String
  /// The ggml type of the data.
  public var type: GGMLType
  /// Dimensions in ggml order, innermost first (GGUF's `ne`); at most 4.
  public var ne: [Int]
  /// Bytes of data; must equal the type's size for `ne`.
  public var byteCount: Int

  /// Declares a tensor by its ggml `ne`; the byte count is computed from the type.
  ///
  /// - Throws: ``FormatError`` when the row length is not a whole number of blocks, the type
  ///   is unusable, or the size overflows.
  public init(name: String, type: GGMLType, ne: [Int]) throws {
    var elements = 1
    for v in ne {
      let (p, o) = elements.multipliedReportingOverflow(by: v)
      guard v >= 0, !o else { throw FormatError(.malformed, path: "<gguf writer>", "bad shape ne=\(ne)", tensor: name) }
      elements = p
    }
    guard type.isUsable, (ne.first ?? 1) % type.blockElements == 0, let bytes = type.byteCount(elements: elements)
    else {
      throw FormatError(
        .malformed, path: "<gguf writer>", "shape ne=\(ne) is not whole \(type.name) blocks", tensor: name)
    }
    self.init(name: name, type: type, ne: ne, byteCount: bytes)
  }

  /// Declares a tensor by its row-major `shape` (outermost first, as numpy prints it).
  public init(name: String, type: GGMLType, shape: [Int]) throws {
    try self.init(name: name, type: type, ne: shape.reversed())
  }

  /// Declares a tensor with an explicit byte count (checked by the writer).
  public init(name: String, type: GGMLType, ne: [Int], byteCount: Int) {
    self.name = name
    self.type = type
    self.ne = ne
    self.byteCount = byteCount
  }
}

/// Where everything goes in a GGUF file, computed before anything is written (also what a
/// split-output planner needs to size shards).
public struct GGUFLayout: Sendable, Equatable {
  /// Bytes of header, metadata and tensor infos, before padding.
  public var headerBytes: Int
  /// The alignment in force.
  public var alignment: Int
  /// Absolute offset of the data blob (header padded to the alignment).
  public var dataStart: Int
  /// Each tensor's offset relative to the data blob (the running padded sum, as gguf.cpp
  /// requires).
  public var relativeOffsets: [Int]
  /// Each tensor's size padded to the alignment.
  public var paddedSizes: [Int]
  /// Size of the whole file.
  public var fileSize: Int

  /// Absolute offset of tensor `index`'s data.
  public func absoluteOffset(_ index: Int) -> Int { dataStart + relativeOffsets[index] }
}

/// Writes a GGUF v3 little-endian file in the layout gguf.cpp and gguf-py write: header,
/// metadata in the given order, tensor infos, zero padding to the alignment, then each tensor's
/// data padded to the alignment (offsets are the running padded sum, so ggml's reader accepts it).
///
/// The data is streamed: declare the tensors up front, call ``writeHeader()``, then hand over
/// each tensor's bytes in order, in chunks of any size, with ``writeData(_:)``; finish with
/// ``finish()``. Only one chunk is ever in memory.
public final class GGUFWriter {
  /// Metadata, in the order it is written.
  public let metadata: [(key: String, value: GGUFValue)]
  /// The tensors, in the order they are written.
  public let tensors: [GGUFTensorDeclaration]
  /// The computed layout.
  public let layout: GGUFLayout
  /// Where the bytes go.
  public let sink: any ByteSink
  /// A label for errors (the output path).
  public let label: String

  private enum State { case created, writingData(tensor: Int, written: Int), finished }
  private var state: State = .created

  /// Checks the declarations and computes the layout.
  ///
  /// The alignment is `general.alignment` when present in `metadata` (which must then be a
  /// non-zero power-of-two UINT32), else 32.
  ///
  /// - Throws: ``FormatError`` (path `label`) for duplicate or empty keys, an invalid
  ///   alignment, duplicate or too-long names, more than 4 dimensions, or a byte count that
  ///   does not match the type and shape.
  public init(
    metadata: [(key: String, value: GGUFValue)], tensors: [GGUFTensorDeclaration], sink: any ByteSink,
    label: String = "<gguf writer>"
  ) throws {
    self.metadata = metadata
    self.tensors = tensors
    self.sink = sink
    self.label = label
    self.layout = try Self.layout(metadata: metadata, tensors: tensors, label: label)
  }

  /// Computes the layout of a file with this metadata and these tensors without writing it.
  public static func layout(
    metadata: [(key: String, value: GGUFValue)], tensors: [GGUFTensorDeclaration], label: String = "<gguf writer>"
  ) throws -> GGUFLayout {
    var keys = Set<String>()
    var alignment = GGUFFile.defaultAlignment
    var size = 24
    func add(_ n: Int) throws {
      let (s, o) = size.addingReportingOverflow(n)
      guard !o else { throw FormatError(.outOfBounds, path: label, "file size overflows") }
      size = s
    }
    for (key, value) in metadata {
      guard !key.isEmpty else { throw FormatError(.malformed, path: label, "empty metadata key") }
      guard keys.insert(key).inserted else {
        throw FormatError(
          .malformed, path: label, "duplicate metadata key '\(key)'")
      }
      if key == "general.alignment" {
        guard case .uint32(let a) = value, a > 0, a & (a - 1) == 0 else {
          throw FormatError(.malformed, path: label, "general.alignment must be a non-zero power-of-two UINT32")
        }
        alignment = Int(a)
      }
      try add(8 + key.utf8.count + 4)
      try add(try encodedSize(value, key: key, label: label))
    }
    var names = Set<String>()
    for t in tensors {
      guard t.name.utf8.count <= GGUFFile.maxNameBytes else {
        throw FormatError(
          .outOfBounds, path: label, "tensor name longer than \(GGUFFile.maxNameBytes) bytes", tensor: t.name)
      }
      guard names.insert(t.name).inserted else {
        throw FormatError(
          .malformed, path: label, "duplicate tensor name", tensor: t.name)
      }
      guard t.ne.count <= GGUFFile.maxDimensions else {
        throw FormatError(.unsupported, path: label, "\(t.ne.count) dimensions (at most 4)", tensor: t.name)
      }
      let expected = try GGUFTensorDeclaration(name: t.name, type: t.type, ne: t.ne).byteCount
      guard expected == t.byteCount else {
        throw FormatError(
          .mismatch,
          path: label, "byte count \(t.byteCount) does not match \(t.type.name) ne=\(t.ne) (\(expected))",
          tensor: t.name)
      }
      try add(8 + t.name.utf8.count + 4 + 8 * t.ne.count + 4 + 8)
    }
    let headerBytes = size
    let dataStart = try padded(headerBytes, alignment, label: label)
    var offsets: [Int] = []
    var paddedSizes: [Int] = []
    var running = 0
    for t in tensors {
      offsets.append(running)
      let p = try padded(t.byteCount, alignment, label: label)
      paddedSizes.append(p)
      let (r, o) = running.addingReportingOverflow(p)
      guard !o else { throw FormatError(.outOfBounds, path: label, "data size overflows", tensor: t.name) }
      running = r
    }
    let (fileSize, o) = dataStart.addingReportingOverflow(running)
    guard !o else { throw FormatError(.outOfBounds, path: label, "file size overflows") }
    return GGUFLayout(
      headerBytes: headerBytes, alignment: alignment, dataStart: dataStart, relativeOffsets: offsets,
      paddedSizes: paddedSizes, fileSize: fileSize)
  }

  static func padded(_ n: Int, _ alignment: Int, label: String) throws -> Int {
    let (s, o) = n.addingReportingOverflow(alignment - 1)
    guard !o else { throw FormatError(.outOfBounds, path: label, "size overflows") }
    return s / alignment * alignment
  }

  static func encodedSize(_ value: GGUFValue, key: String, label: String) throws -> Int {
    switch value {
    case .string(let s): return 8 + s.utf8.count
    case .array(let elementType, let elements):
      var n = 12
      for e in elements {
        guard e.type == elementType else {
          throw FormatError(
            .malformed, path: label, "array '\(key)' mixes \(elementType.name) and \(e.type.name) elements")
        }
        n += try encodedSize(e, key: key, label: label)
      }
      return n
    default: return value.type.fixedSize ?? 0
    }
  }

  /// Writes the header, metadata, tensor infos and padding.
  public func writeHeader() throws {
    guard case .created = state else { throw FormatError(.invalidState, path: label, "header already written") }
    var out: [UInt8] = []
    out.reserveCapacity(layout.dataStart)
    out.append(contentsOf: "GGUF".utf8)
    Self.append(UInt32(3), to: &out)
    Self.append(UInt64(tensors.count), to: &out)
    Self.append(UInt64(metadata.count), to: &out)
    for (key, value) in metadata {
      Self.append(string: key, to: &out)
      Self.append(value.type.rawValue, to: &out)
      Self.append(value: value, to: &out)
    }
    for (t, offset) in zip(tensors, layout.relativeOffsets) {
      Self.append(string: t.name, to: &out)
      Self.append(UInt32(t.ne.count), to: &out)
      for v in t.ne { Self.append(Int64(v), to: &out) }
      Self.append(t.type.id, to: &out)
      Self.append(UInt64(offset), to: &out)
    }
    precondition(out.count == layout.headerBytes, "layout and header disagree")
    out.append(contentsOf: repeatElement(0, count: layout.dataStart - out.count))
    try out.withUnsafeBytes { try sink.write($0) }
    state = .writingData(tensor: 0, written: 0)
    try skipEmptyTensors()
  }

  /// Appends the next bytes of tensor data. Chunks may split or span tensors freely; the
  /// writer inserts each tensor's padding when its declared byte count is reached.
  public func writeData(_ bytes: UnsafeRawBufferPointer) throws {
    var rest = bytes
    while !rest.isEmpty {
      guard case .writingData(let index, let written) = state, index < tensors.count else {
        throw FormatError(.invalidState, path: label, "more tensor data than declared")
      }
      let take = min(rest.count, tensors[index].byteCount - written)
      try sink.write(UnsafeRawBufferPointer(rebasing: rest[..<take]))
      rest = UnsafeRawBufferPointer(rebasing: rest[take...])
      state = .writingData(tensor: index, written: written + take)
      try skipEmptyTensors()
    }
  }

  /// Writes one whole tensor's data, checking it is the next tensor and the right size.
  public func writeTensor(named name: String, _ bytes: UnsafeRawBufferPointer) throws {
    guard case .writingData(let index, 0) = state, index < tensors.count, tensors[index].name == name else {
      throw FormatError(.invalidState, path: label, "tensor written out of order", tensor: name)
    }
    guard bytes.count == tensors[index].byteCount else {
      throw FormatError(
        .mismatch,
        path: label, "got \(bytes.count) bytes, declared \(tensors[index].byteCount)", tensor: name)
    }
    try writeData(bytes)
  }

  /// Checks that every tensor's data was written.
  public func finish() throws {
    if case .writingData(let index, _) = state, index < tensors.count {
      throw FormatError(
        .invalidState, path: label, "data of \(tensors.count - index) tensors not written", tensor: tensors[index].name)
    }
    guard case .writingData = state else { throw FormatError(.invalidState, path: label, "header not written") }
    state = .finished
  }

  /// When the current tensor is complete, writes its padding and moves on (also past tensors
  /// of zero bytes).
  private func skipEmptyTensors() throws {
    while case .writingData(let index, let written) = state, index < tensors.count,
      written == tensors[index].byteCount
    {
      let pad = layout.paddedSizes[index] - written
      if pad > 0 {
        let zeros = [UInt8](repeating: 0, count: pad)
        try zeros.withUnsafeBytes { try sink.write($0) }
      }
      state = .writingData(tensor: index + 1, written: 0)
    }
  }

  static func append<T: FixedWidthInteger>(_ v: T, to out: inout [UInt8]) {
    withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
  }

  static func append(string: String, to out: inout [UInt8]) {
    append(UInt64(string.utf8.count), to: &out)
    out.append(contentsOf: string.utf8)
  }

  static func append(value: GGUFValue, to out: inout [UInt8]) {
    switch value {
    case .uint8(let v): append(v, to: &out)
    case .int8(let v): append(v, to: &out)
    case .uint16(let v): append(v, to: &out)
    case .int16(let v): append(v, to: &out)
    case .uint32(let v): append(v, to: &out)
    case .int32(let v): append(v, to: &out)
    case .float32(let v): append(v.bitPattern, to: &out)
    case .bool(let v): append(UInt8(v ? 1 : 0), to: &out)
    case .string(let s): append(string: s, to: &out)
    case .uint64(let v): append(v, to: &out)
    case .int64(let v): append(v, to: &out)
    case .float64(let v): append(v.bitPattern, to: &out)
    case .array(let elementType, let elements):
      append(elementType.rawValue, to: &out)
      append(UInt64(elements.count), to: &out)
      for e in elements {
        // Nested arrays carry their own element type and count, but not a value type tag.
        append(value: e, to: &out)
      }
    }
  }
}
