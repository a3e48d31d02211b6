#if canImport(Glibc)
  import Glibc
#endif

/// A tensor to be written: name, dtype and shape.
public struct SafetensorsTensorSpec: Sendable, Hashable {
  /// The tensor's name.
  public var name: String
  /// Its dtype.
  public var dtype: SafetensorsDType
  /// Its shape, outermost first.
  public var shape: [Int]

  /// Creates a spec.
  public init(name: String, dtype: SafetensorsDType, shape: [Int]) {
    self.name = name
    self.dtype = dtype
    self.shape = shape
  }

  /// The number of elements, or `nil` on overflow or a negative dimension.
  public var elementCount: Int? {
    var n = 1
    for d in shape {
      guard d >= 0 else { return nil }
      let (p, o) = n.multipliedReportingOverflow(by: d)
      if o { return nil }
      n = p
    }
    return n
  }

  /// The number of data bytes, or `nil` on overflow or when sub-byte elements do not fill
  /// whole bytes (the crate's `MisalignedSlice`).
  public var byteCount: Int? {
    guard let n = elementCount else { return nil }
    let (bits, o) = n.multipliedReportingOverflow(by: dtype.bits)
    guard !o, bits % 8 == 0 else { return nil }
    return bits / 8
  }
}

/// Where each tensor goes in a safetensors file, and the header bytes that say so.
public struct SafetensorsLayout: Sendable {
  /// The order tensors are written in.
  public enum Order: Sendable {
    /// The reference writer's order: dtype in decreasing crate order (largest alignment
    /// first), then name by bytes.
    case reference
    /// The order given.
    case asGiven
  }

  /// One placed tensor: its spec and its data range relative to the data buffer.
  public struct Placement: Sendable, Hashable {
    /// The tensor.
    public var spec: SafetensorsTensorSpec
    /// First byte, relative to the data buffer.
    public var begin: Int
    /// One past the last byte, relative to the data buffer.
    public var end: Int
  }

  /// The tensors in file order.
  public let placements: [Placement]
  /// The 8-byte length, the JSON header and its space padding: everything before the data.
  public let header: [UInt8]
  /// Bytes of tensor data.
  public let dataSize: Int

  /// The file's total size.
  public var fileSize: Int { header.count + dataSize }

  /// Lays out `tensors` with an optional `__metadata__` map, as the reference writer does:
  /// compact JSON, `__metadata__` first, padded with spaces so the data starts 8-byte aligned.
  ///
  /// - Throws: ``FormatError`` naming `path` for a repeated name, a negative or overflowing
  ///   shape, or sub-byte data that does not fill whole bytes.
  public init(
    tensors: [SafetensorsTensorSpec], metadata: [(key: String, value: String)] = [], order: Order = .reference,
    path: String = "<safetensors>"
  ) throws {
    var seen = Set<String>()
    for t in tensors {
      guard seen.insert(t.name).inserted else {
        throw FormatError(
          .malformed, path: path, "tensor name given twice", tensor: t.name)
      }
      guard t.name != "__metadata__" else {
        throw FormatError(
          .malformed, path: path, "reserved tensor name", tensor: t.name)
      }
    }
    let ordered: [SafetensorsTensorSpec]
    switch order {
    case .asGiven: ordered = tensors
    case .reference:
      ordered = tensors.sorted {
        if $0.dtype != $1.dtype { return $0.dtype.crateOrder > $1.dtype.crateOrder }
        return $0.name.utf8Precedes($1.name)
      }
    }
    var json: [UInt8] = [UInt8(ascii: "{")]
    json.reserveCapacity(64 + ordered.count * 128)
    var first = true
    if !metadata.isEmpty {
      json.append(contentsOf: #""__metadata__":{"#.utf8)
      for (i, m) in metadata.enumerated() {
        if i > 0 { json.append(UInt8(ascii: ",")) }
        JSONWriter.writeString(m.key, to: &json)
        json.append(UInt8(ascii: ":"))
        JSONWriter.writeString(m.value, to: &json)
      }
      json.append(UInt8(ascii: "}"))
      first = false
    }
    var placements: [Placement] = []
    placements.reserveCapacity(ordered.count)
    var offset = 0
    for t in ordered {
      guard let size = t.byteCount else {
        throw FormatError(
          .malformed, path: path, "shape \(t.shape) of \(t.dtype.rawValue) has no valid byte size", tensor: t.name)
      }
      let (end, o) = offset.addingReportingOverflow(size)
      guard !o else { throw FormatError(.outOfBounds, path: path, "data size overflows", tensor: t.name) }
      placements.append(Placement(spec: t, begin: offset, end: end))
      if !first { json.append(UInt8(ascii: ",")) }
      first = false
      JSONWriter.writeString(t.name, to: &json)
      json.append(contentsOf: #":{"dtype":""#.utf8)
      json.append(contentsOf: t.dtype.rawValue.utf8)
      json.append(contentsOf: #"","shape":["#.utf8)
      for (i, d) in t.shape.enumerated() {
        if i > 0 { json.append(UInt8(ascii: ",")) }
        json.append(contentsOf: String(d).utf8)
      }
      json.append(contentsOf: #"],"data_offsets":["#.utf8)
      json.append(contentsOf: String(offset).utf8)
      json.append(UInt8(ascii: ","))
      json.append(contentsOf: String(end).utf8)
      json.append(contentsOf: "]}".utf8)
      offset = end
    }
    json.append(UInt8(ascii: "}"))
    json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
    guard json.count <= SafetensorsFile.maxHeaderLength else {
      throw FormatError(
        .outOfBounds, path: path,
        "header of \(json.count) bytes exceeds the limit of \(SafetensorsFile.maxHeaderLength)")
    }
    var header: [UInt8] = []
    header.reserveCapacity(8 + json.count)
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { header.append(contentsOf: $0) }
    header.append(contentsOf: json)
    self.placements = placements
    self.header = header
    self.dataSize = offset
  }
}

/// Writes a safetensors file tensor by tensor, so data never has to be held all at once.
///
/// The file goes through the shared output layer (``OutputFile``): written under a temporary
/// name, fsynced and renamed into place by ``finish()``, so a reader never sees a half-written file.
public final class SafetensorsFileWriter {
  /// The final path.
  public let path: String
  /// The layout being written.
  public let layout: SafetensorsLayout
  private var output: OutputFile?
  /// The index of the next tensor to write.
  public private(set) var nextTensor = 0
  private var written = 0

  /// Creates the file and writes its header; `overwrite` replaces an existing file.
  public init(path: String, layout: SafetensorsLayout, overwrite: Bool = true) throws {
    self.path = path
    self.layout = layout
    let output = try OutputFile(path: path, overwrite: overwrite, compression: OutputFile.Compression.none)
    try layout.header.withUnsafeBytes { try output.write($0) }
    self.output = output
  }

  /// Appends the data of the next tensor in layout order; its size must match exactly.
  public func write(_ bytes: UnsafeRawBufferPointer) throws {
    guard let output, nextTensor < layout.placements.count else {
      throw FormatError(.invalidState, path: path, "more tensors written than laid out")
    }
    let p = layout.placements[nextTensor]
    guard bytes.count == p.end - p.begin else {
      throw FormatError(
        .mismatch,
        path: path, "tensor data is \(bytes.count) bytes, layout says \(p.end - p.begin)", tensor: p.spec.name)
    }
    try output.write(bytes)
    nextTensor += 1
    written += bytes.count
  }

  /// Checks that every tensor was written, then closes and renames the file into place.
  public func finish() throws {
    guard let output else { throw FormatError(.invalidState, path: path, "file already finished") }
    guard nextTensor == layout.placements.count else {
      throw FormatError(
        .invalidState,
        path: path, "only \(nextTensor) of \(layout.placements.count) tensors written",
        tensor: layout.placements[nextTensor].spec.name)
    }
    try output.commit()
    self.output = nil
  }
}

/// Convenience entry points for writing whole safetensors files.
public enum SafetensorsWriter {
  /// Writes `tensors` (spec and raw little-endian bytes) to `path`.
  public static func write(
    to path: String, tensors: [(spec: SafetensorsTensorSpec, data: [UInt8])],
    metadata: [(key: String, value: String)] = [], order: SafetensorsLayout.Order = .reference
  ) throws {
    let layout = try SafetensorsLayout(tensors: tensors.map(\.spec), metadata: metadata, order: order, path: path)
    let dataByName = Dictionary(tensors.map { ($0.spec.name, $0.data) }, uniquingKeysWith: { a, _ in a })
    let writer = try SafetensorsFileWriter(path: path, layout: layout)
    for p in layout.placements {
      try (dataByName[p.spec.name] ?? []).withUnsafeBytes { try writer.write($0) }
    }
    try writer.finish()
  }

  /// Writes the header of `layout` to `path` and extends the file to its full size without
  /// writing data: the data reads as zeros and, on file systems with holes, takes no space.
  /// Used to build full-size test checkpoints (DeepSeek-V3 is 688 GB) in seconds.
  public static func writeSparse(to path: String, layout: SafetensorsLayout) throws {
    let tmp = path + ".tmp"
    let fd = try SparseFileCalls.create(tmp)
    do {
      try layout.header.withUnsafeBytes { try SparseFileCalls.write(fd, $0, path: tmp) }
      guard ftruncate(fd, off_t(layout.fileSize)) == 0 else {
        throw FormatError(.io, path: tmp, "cannot extend file: \(String(cString: strerror(errno)))")
      }
      try SparseFileCalls.finish(fd, tmp, to: path)
    } catch {
      SparseFileCalls.abandon(fd, tmp)
      throw error
    }
  }

  /// Writes `value` as compact JSON to `path` (for an index or a `config.json`).
  public static func writeJSON(_ value: JSONValue, to path: String) throws {
    var out: [UInt8] = []
    JSONWriter.write(value, to: &out)
    out.append(0x0A)
    let output = try OutputFile(path: path, overwrite: true, compression: OutputFile.Compression.none)
    try out.withUnsafeBytes { try output.write($0) }
    try output.commit()
  }

  /// Writes a `model.safetensors.index.json` mapping each tensor to its shard file name, with
  /// `metadata.total_size` set to the sum of tensor data bytes. Entries are written sorted by
  /// tensor name, as transformers does.
  public static func writeIndex(
    to path: String, weightMap: [(tensor: String, file: String)], totalSize: Int
  ) throws {
    let sorted = weightMap.sorted { $0.tensor.utf8Precedes($1.tensor) }
    let value = JSONValue.object([
      JSONMember(key: "metadata", value: .object([JSONMember(key: "total_size", value: .integer(Int64(totalSize)))])),
      JSONMember(key: "weight_map", value: .object(sorted.map { JSONMember(key: $0.tensor, value: .string($0.file)) })),
    ])
    try writeJSON(value, to: path)
  }
}

/// The system calls of ``SafetensorsWriter/writeSparse(to:layout:)``, which extends a file with
/// `ftruncate` (holes) rather than writing data, so it does not go through ``OutputFile``.
enum SparseFileCalls {
  static func create(_ path: String) throws -> Int32 {
    while true {
      let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
      if fd >= 0 { return fd }
      if errno == EINTR { continue }
      throw FormatError(.io, path: path, "cannot create: \(String(cString: strerror(errno)))")
    }
  }

  static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
    guard var p = bytes.baseAddress else { return }
    var left = bytes.count
    while left > 0 {
      let n = Glibc.write(fd, p, left)
      if n < 0 {
        if errno == EINTR { continue }
        throw FormatError(.io, path: path, "cannot write: \(String(cString: strerror(errno)))")
      }
      p += n
      left -= n
    }
  }

  static func finish(_ fd: Int32, _ temporary: String, to path: String) throws {
    guard close(fd) == 0 else {
      unlink(temporary)
      throw FormatError(.io, path: temporary, "cannot close: \(String(cString: strerror(errno)))")
    }
    guard rename(temporary, path) == 0 else {
      unlink(temporary)
      throw FormatError(.io, path: path, "cannot rename into place: \(String(cString: strerror(errno)))")
    }
  }

  static func abandon(_ fd: Int32, _ temporary: String) {
    close(fd)
    unlink(temporary)
  }
}
