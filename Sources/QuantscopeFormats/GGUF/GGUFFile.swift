/// One GGUF file, parsed: header, metadata and tensor infos, with its data mapped.
///
/// Parsing follows the rules of ggml's own reader (`gguf.cpp`), every read bounds-checked:
/// versions 2 and 3, either byte order, `general.alignment`, unique keys and tensor names,
/// at most 4 dimensions, element counts that fit in 64 bits, data inside the file. A tensor
/// whose type id is unknown or removed is kept (with its type) so that the other tensors still
/// list; reading its data is what fails.
public struct GGUFFile: Sendable {
  /// The mapped file.
  public let file: MappedFile
  /// The format version (2 or 3).
  public let version: UInt32
  /// Whether the file stores multi-byte values big-endian.
  public let isBigEndian: Bool
  /// Metadata in file order.
  public let metadata: [(key: String, value: GGUFValue)]
  /// Tensor infos in file order; `dataOffset` is absolute.
  public let tensors: [TensorInfo]
  /// The data alignment (`general.alignment` or 32).
  public let alignment: Int
  /// Absolute offset of the tensor data blob.
  public let dataStart: Int
  /// Each tensor's offset relative to the data blob, as stored.
  public let relativeOffsets: [Int]

  /// The default data alignment when `general.alignment` is absent.
  public static let defaultAlignment = 32
  /// Longest tensor name ggml accepts, in bytes.
  public static let maxNameBytes = 63
  /// Longest string ggml accepts.
  public static let maxStringBytes = 1 << 30
  /// Most array elements ggml accepts.
  public static let maxArrayElements = 1 << 30
  /// Most dimensions of a tensor.
  public static let maxDimensions = 4

  /// The value of a metadata key.
  public subscript(key: String) -> GGUFValue? {
    metadata.first { $0.key == key }?.value
  }

  /// Opens and parses the GGUF file at `path`.
  public init(path: String) throws {
    try self.init(file: MappedFile(path: path))
  }

  /// Parses an already mapped file.
  public init(file: MappedFile) throws {
    let path = file.path
    var c = ByteCursor(file.allBytes, path: path)
    try c.require(4, for: "magic")
    let magic = try c.readBytes(4, "magic")
    guard magic.elementsEqual("GGUF".utf8) else {
      throw FormatError(path: path, "not a GGUF file (bad magic)", offset: 0)
    }
    var version = try c.read(UInt32.self, "version")
    var bigEndian = false
    if version & 0xFFFF == 0 && version != 0 {
      bigEndian = true
      version = version.byteSwapped
    }
    c.bigEndian = bigEndian
    guard version == 2 || version == 3 else {
      throw FormatError(path: path, "unsupported GGUF version \(version) (2 and 3 are read)", offset: 4)
    }
    let tensorCount = try c.read(UInt64.self, "tensor count")
    let kvCount = try c.read(UInt64.self, "metadata count")
    // Each KV needs at least 8 (key length) + 4 (type) + 1 bytes; each tensor info at least
    // 8 + 4 + 4 + 8 bytes. Counts that cannot fit in the file are rejected before allocating.
    guard kvCount <= UInt64(c.remaining / 13) else {
      throw FormatError(path: path, "metadata count \(kvCount) cannot fit in the file", offset: 16)
    }
    guard tensorCount <= UInt64(c.remaining / 24) else {
      throw FormatError(path: path, "tensor count \(tensorCount) cannot fit in the file", offset: 8)
    }

    var metadata: [(key: String, value: GGUFValue)] = []
    metadata.reserveCapacity(Int(kvCount))
    var keys = Set<String>()
    for _ in 0..<Int(kvCount) {
      let keyOffset = c.fileOffset
      let key = try Self.readString(&c, "metadata key")
      guard !key.isEmpty else { throw FormatError(path: path, "empty metadata key", offset: keyOffset) }
      guard keys.insert(key).inserted else {
        throw FormatError(path: path, "duplicate metadata key '\(key)'", offset: keyOffset)
      }
      let typeOffset = c.fileOffset
      let rawType = try c.read(UInt32.self, "type of '\(key)'")
      guard let type = GGUFValueType(rawValue: rawType) else {
        throw FormatError(path: path, "metadata key '\(key)' has unknown value type \(rawType)", offset: typeOffset)
      }
      let value = try Self.readValue(&c, type: type, key: key, depth: 0)
      metadata.append((key, value))
    }

    var alignment = Self.defaultAlignment
    if let value = metadata.first(where: { $0.key == "general.alignment" })?.value {
      guard case .uint32(let a) = value, a > 0, a & (a - 1) == 0 else {
        throw FormatError(path: path, "general.alignment must be a non-zero power of two UINT32")
      }
      alignment = Int(a)
    }

    var infos: [(name: String, ne: [Int], type: GGMLType, offset: UInt64, at: Int)] = []
    infos.reserveCapacity(Int(tensorCount))
    var names = Set<String>()
    for _ in 0..<Int(tensorCount) {
      let at = c.fileOffset
      let name = try Self.readString(&c, "tensor name")
      guard name.utf8.count <= Self.maxNameBytes else {
        throw FormatError(path: path, "tensor name longer than \(Self.maxNameBytes) bytes", tensor: name, offset: at)
      }
      guard names.insert(name).inserted else {
        throw FormatError(path: path, "duplicate tensor name", tensor: name, offset: at)
      }
      let dimsAt = c.fileOffset
      let nDims = try c.read(UInt32.self, "dimension count", tensor: name)
      guard nDims <= UInt32(Self.maxDimensions) else {
        throw FormatError(path: path, "\(nDims) dimensions (at most \(Self.maxDimensions))", tensor: name, offset: dimsAt)
      }
      var ne: [Int] = []
      for d in 0..<Int(nDims) {
        let neAt = c.fileOffset
        let v = try c.read(Int64.self, "ne[\(d)]", tensor: name)
        guard v >= 0 else { throw FormatError(path: path, "negative dimension \(v)", tensor: name, offset: neAt) }
        ne.append(Int(v))
      }
      let type = GGMLType(id: try c.read(UInt32.self, "type", tensor: name))
      let offset = try c.read(UInt64.self, "data offset", tensor: name)
      infos.append((name, ne, type, offset, at))
    }

    let headerEnd = c.fileOffset
    let (padded, overflow) = headerEnd.addingReportingOverflow(alignment - 1)
    guard !overflow else { throw FormatError(path: path, "header size overflows") }
    let dataStart = padded / alignment * alignment
    // A file with tensors must hold its (empty or not) data section start.
    if tensorCount > 0 && dataStart > file.size {
      throw FormatError(path: path, "truncated: data section starts past end of file", offset: dataStart)
    }

    var tensors: [TensorInfo] = []
    var relative: [Int] = []
    tensors.reserveCapacity(infos.count)
    for info in infos {
      var elements = 1
      for v in info.ne {
        let (p, o) = elements.multipliedReportingOverflow(by: v)
        guard !o else {
          throw FormatError(path: path, "element count overflows 64 bits", tensor: info.name, offset: info.at)
        }
        elements = p
      }
      let type = info.type
      var byteCount = 0
      if type.isUsable {
        let rowLength = info.ne.first ?? 1
        guard rowLength % type.blockElements == 0 else {
          throw FormatError(
            path: path, "row length \(rowLength) is not a multiple of \(type.name)'s block of \(type.blockElements)",
            tensor: info.name, offset: info.at)
        }
        guard let bytes = type.byteCount(elements: elements) else {
          throw FormatError(path: path, "byte size overflows", tensor: info.name, offset: info.at)
        }
        byteCount = bytes
      }
      guard let rel = Int(exactly: info.offset), rel % alignment == 0 || !type.isUsable else {
        throw FormatError(
          path: path, "data offset \(info.offset) is not a multiple of the alignment \(alignment)",
          tensor: info.name, offset: info.at)
      }
      let (absolute, o1) = dataStart.addingReportingOverflow(rel)
      let (end, o2) = absolute.addingReportingOverflow(byteCount)
      guard !o1, !o2, end <= file.size else {
        throw FormatError(
          path: path, "data (\(byteCount) bytes at \(absolute)) runs past end of file (\(file.size) bytes)",
          tensor: info.name, offset: info.at)
      }
      relative.append(rel)
      tensors.append(
        TensorInfo(
          name: info.name, encoding: .ggml(type), shape: Array(info.ne.reversed()), elementCount: elements,
          byteCount: byteCount, file: file, dataOffset: absolute))
    }

    self.file = file
    self.version = version
    self.isBigEndian = bigEndian
    self.metadata = metadata
    self.tensors = tensors
    self.alignment = alignment
    self.dataStart = dataStart
    self.relativeOffsets = relative
  }

  static func readString(_ c: inout ByteCursor, _ what: String) throws -> String {
    let at = c.fileOffset
    let length = try c.read(UInt64.self, "\(what) length")
    guard length <= UInt64(maxStringBytes), length <= UInt64(c.remaining) else {
      throw FormatError(path: c.path, "\(what) length \(length) runs past end of file", offset: at)
    }
    let bytes = try c.readBytes(Int(length), what)
    return String(decoding: bytes, as: UTF8.self)
  }

  static func readValue(_ c: inout ByteCursor, type: GGUFValueType, key: String, depth: Int) throws -> GGUFValue {
    switch type {
    case .uint8: return .uint8(try c.read(UInt8.self, key))
    case .int8: return .int8(try c.read(Int8.self, key))
    case .uint16: return .uint16(try c.read(UInt16.self, key))
    case .int16: return .int16(try c.read(Int16.self, key))
    case .uint32: return .uint32(try c.read(UInt32.self, key))
    case .int32: return .int32(try c.read(Int32.self, key))
    case .float32: return .float32(try c.readFloat(key))
    case .bool: return .bool(try c.read(UInt8.self, key) != 0)
    case .string: return .string(try readString(&c, "value of '\(key)'"))
    case .uint64: return .uint64(try c.read(UInt64.self, key))
    case .int64: return .int64(try c.read(Int64.self, key))
    case .float64: return .float64(try c.readDouble(key))
    case .array:
      let at = c.fileOffset
      let rawType = try c.read(UInt32.self, "array type of '\(key)'")
      guard let elementType = GGUFValueType(rawValue: rawType) else {
        throw FormatError(path: c.path, "array '\(key)' has unknown element type \(rawType)", offset: at)
      }
      guard depth < 8 else {
        throw FormatError(path: c.path, "arrays of '\(key)' nested too deeply", offset: at)
      }
      let countAt = c.fileOffset
      let count = try c.read(UInt64.self, "array length of '\(key)'")
      // Every element needs at least one byte (8 for strings and arrays).
      let minimum = UInt64(elementType.fixedSize ?? 8)
      guard count <= UInt64(maxArrayElements), count * minimum <= UInt64(c.remaining) else {
        throw FormatError(path: c.path, "array '\(key)' of \(count) elements runs past end of file", offset: countAt)
      }
      var elements: [GGUFValue] = []
      elements.reserveCapacity(Int(count))
      for _ in 0..<Int(count) {
        elements.append(try readValue(&c, type: elementType, key: key, depth: depth + 1))
      }
      return .array(elementType: elementType, elements)
    }
  }
}
