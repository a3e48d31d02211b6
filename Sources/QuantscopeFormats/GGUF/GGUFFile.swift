/// One GGUF file, parsed: header, metadata and tensor infos, with its data mapped.
///
/// Parsing follows the rules of ggml's own reader (`gguf.cpp`), every read bounds-checked:
/// versions 2 and 3, either byte order, `general.alignment` (a non-zero power-of-two UINT32),
/// unique non-empty keys, unique tensor names of at most 63 bytes, at most 4 dimensions, no
/// negative dimension, element and byte counts that fit in 64 bits, rows that are whole blocks,
/// and data inside the file.
///
/// Two deliberate differences from gguf.cpp:
/// - A tensor whose type id is unknown or removed is kept (with byte count 0) so that the other
///   tensors still list; reading its data is what fails (``TensorInfo/bytes()``).
/// - Arrays of arrays are read (up to ``maxArrayDepth`` levels), as gguf-py does, because an
///   inspector should survive files that ggml itself would refuse.
///
/// Tensor offsets are not required to follow ggml's contiguity rule here (gguf-py does not
/// require it either); ``GGUFVerifier`` reports offsets that break it.
public struct GGUFFile: Sendable {
  /// The mapped file.
  public let file: MappedFile
  /// The format version (2 or 3).
  public let version: UInt32
  /// Whether the file stores multi-byte values big-endian (metadata and tensor infos were
  /// byte-swapped while reading; tensor data is left as stored).
  public let isBigEndian: Bool
  /// Metadata in file order.
  public let metadata: [(key: String, value: GGUFValue)]
  /// Absolute file offset of each metadata entry (its key's length field), parallel to `metadata`.
  public let metadataOffsets: [Int]
  /// Tensor infos in file order; `dataOffset` is absolute.
  public let tensors: [TensorInfo]
  /// Absolute file offset of each tensor info (its name's length field), parallel to `tensors`.
  public let tensorInfoOffsets: [Int]
  /// Each tensor's offset relative to the data blob, as stored, parallel to `tensors`.
  public let relativeOffsets: [Int]
  /// The data alignment (`general.alignment` or 32).
  public let alignment: Int
  /// Absolute offset of the end of the tensor-info section (before alignment padding).
  public let headerEnd: Int
  /// Absolute offset of the tensor data blob.
  public let dataStart: Int

  /// The largest `general.alignment` accepted (1 MiB; llama.cpp writes 32, and page-sized
  /// alignments are the largest in use).
  public static let maximumAlignment: UInt32 = 1 << 20
  /// The default data alignment when `general.alignment` is absent.
  public static let defaultAlignment = 32
  /// Longest tensor name ggml accepts, in bytes (`GGML_MAX_NAME` − 1).
  public static let maxNameBytes = 63
  /// Longest string ggml accepts (`GGUF_MAX_STRING_LENGTH`).
  public static let maxStringBytes = 1 << 30
  /// Most array elements ggml accepts (`GGUF_MAX_ARRAY_ELEMENTS`).
  public static let maxArrayElements = 1 << 30
  /// Most dimensions of a tensor (`GGML_MAX_DIMS`).
  public static let maxDimensions = 4
  /// Deepest nesting of arrays read (an array directly inside a KV is depth 1).
  public static let maxArrayDepth = 8
  /// Most array elements read in one file, all arrays together. Not a ggml rule: each element
  /// becomes a ``GGUFValue`` of tens of bytes, so a file of 1 GB of UINT8 array would otherwise
  /// take tens of GB. Real files hold well under a million (vocabularies, merges).
  public static let maxMetadataElements = 1 << 25

  /// The value of a metadata key.
  public subscript(key: String) -> GGUFValue? {
    metadata.first { $0.key == key }?.value
  }

  /// The absolute offset of the metadata entry `key`, if present.
  public func metadataOffset(of key: String) -> Int? {
    metadata.firstIndex { $0.key == key }.map { metadataOffsets[$0] }
  }

  /// Opens and parses the GGUF file at `path`.
  ///
  /// - Parameter allowDataOutOfBounds: keep tensors whose data runs past the end of the file
  ///   instead of throwing, so that ``GGUFVerifier`` can report every such tensor. Their
  ///   ``TensorInfo/bytes()`` still throws.
  public init(path: String, allowDataOutOfBounds: Bool = false) throws {
    try self.init(file: MappedFile(path: path), allowDataOutOfBounds: allowDataOutOfBounds)
  }

  /// Parses an already mapped file. See ``init(path:allowDataOutOfBounds:)``.
  public init(file: MappedFile, allowDataOutOfBounds: Bool = false) throws {
    let path = file.path
    var c = ByteCursor(file.allBytes, path: path)
    let magic = try c.readBytes(4, "magic")
    guard magic.elementsEqual("GGUF".utf8) else {
      throw FormatError(.badMagic, path: path, "not a GGUF file (bad magic)", at: .header(0))
    }
    var version = try c.read(UInt32.self, "version")
    var bigEndian = false
    // gguf-py's convention: a version whose low 16 bits are zero is a byte-swapped file.
    if version & 0xFFFF == 0 && version != 0 {
      bigEndian = true
      version = version.byteSwapped
    }
    c.bigEndian = bigEndian
    guard version == 2 || version == 3 else {
      let why = version == 1 ? " (version 1 is no longer supported by ggml)" : " (2 and 3 are read)"
      throw FormatError(.unsupported, path: path, "unsupported GGUF version \(version)\(why)", at: .header(4))
    }
    let tensorCount = try c.read(UInt64.self, "tensor count")
    let kvCount = try c.read(UInt64.self, "metadata count")
    // Each KV needs at least 8 (key length) + 1 (key) + 4 (type) + 1 (value) bytes; each tensor
    // info at least 8 + 4 + 4 + 8 bytes (an empty name, no dimensions). Counts that cannot fit in the file are rejected
    // before anything is allocated for them.
    guard kvCount <= UInt64(c.remaining / 14) else {
      throw FormatError(
        .truncated,
        path: path, "metadata count \(kvCount) cannot fit in the \(c.remaining) bytes left", at: .header(16))
    }
    guard tensorCount <= UInt64(c.remaining / 24) else {
      throw FormatError(
        .truncated,
        path: path, "tensor count \(tensorCount) cannot fit in the \(c.remaining) bytes left", at: .header(8))
    }

    var metadata: [(key: String, value: GGUFValue)] = []
    var metadataOffsets: [Int] = []
    metadata.reserveCapacity(Int(kvCount))
    metadataOffsets.reserveCapacity(Int(kvCount))
    var keys = Set<String>()
    var elementBudget = Self.maxMetadataElements
    for index in 0..<Int(kvCount) {
      let keyOffset = c.fileOffset
      let key = try Self.readString(&c, "key of metadata entry \(index)")
      guard !key.isEmpty else {
        throw FormatError(
          .malformed, path: path, "empty metadata key", at: .header(keyOffset))
      }
      guard keys.insert(key).inserted else {
        throw FormatError(.malformed, path: path, "duplicate metadata key '\(key)'", at: .header(keyOffset))
      }
      let typeOffset = c.fileOffset
      let rawType = try c.read(UInt32.self, "value type of '\(key)'")
      guard let type = GGUFValueType(rawValue: rawType) else {
        throw FormatError(
          .malformed, path: path, "metadata key '\(key)' has unknown value type \(rawType)", at: .header(typeOffset))
      }
      let value = try Self.readValue(&c, type: type, key: key, depth: 0, budget: &elementBudget)
      metadata.append((key, value))
      metadataOffsets.append(keyOffset)
    }

    var alignment = Self.defaultAlignment
    if let index = metadata.firstIndex(where: { $0.key == "general.alignment" }) {
      let value = metadata[index].value
      guard case .uint32(let a) = value else {
        throw FormatError(
          .malformed,
          path: path, "general.alignment must be UINT32, not \(value.type.name)", at: .header(metadataOffsets[index]))
      }
      guard a > 0, a & (a - 1) == 0 else {
        throw FormatError(
          .malformed,
          path: path, "general.alignment \(a) is not a non-zero power of two", at: .header(metadataOffsets[index]))
      }
      // ggml accepts any power of two, but padding to 2^31 makes a 128-byte file claim 2 GiB of
      // data section (and a requantized copy of it would write them): refused as absurd.
      guard a <= Self.maximumAlignment else {
        throw FormatError(
          .outOfBounds,
          path: path, "general.alignment \(a) is absurd (at most \(Self.maximumAlignment) is accepted)",
          at: .header(metadataOffsets[index]))
      }
      alignment = Int(a)
    }

    struct RawInfo {
      var name: String
      var ne: [Int]
      var type: GGMLType
      var offset: UInt64
      var at: Int
    }
    var infos: [RawInfo] = []
    infos.reserveCapacity(Int(tensorCount))
    var names = Set<String>()
    for index in 0..<Int(tensorCount) {
      let at = c.fileOffset
      let name = try Self.readString(&c, "name of tensor \(index)")
      guard name.utf8.count <= Self.maxNameBytes else {
        throw FormatError(
          .outOfBounds,
          path: path, "tensor name of \(name.utf8.count) bytes is longer than \(Self.maxNameBytes)",
          tensor: name, at: .header(at))
      }
      guard names.insert(name).inserted else {
        throw FormatError(.malformed, path: path, "duplicate tensor name", tensor: name, at: .header(at))
      }
      let dimsAt = c.fileOffset
      let nDims = try c.read(UInt32.self, "dimension count", tensor: name)
      guard nDims <= UInt32(Self.maxDimensions) else {
        throw FormatError(
          .outOfBounds,
          path: path, "\(nDims) dimensions (at most \(Self.maxDimensions))", tensor: name, at: .header(dimsAt))
      }
      var ne: [Int] = []
      for d in 0..<Int(nDims) {
        let neAt = c.fileOffset
        let v = try c.read(Int64.self, "ne[\(d)]", tensor: name)
        guard v >= 0 else {
          throw FormatError(
            .malformed, path: path, "negative dimension ne[\(d)] = \(v)", tensor: name, at: .header(neAt))
        }
        ne.append(Int(v))
      }
      let type = GGMLType(id: try c.read(UInt32.self, "type", tensor: name))
      let offset = try c.read(UInt64.self, "data offset", tensor: name)
      infos.append(RawInfo(name: name, ne: ne, type: type, offset: offset, at: at))
    }

    let headerEnd = c.fileOffset
    let (padded, overflow) = headerEnd.addingReportingOverflow(alignment - 1)
    guard !overflow else {
      throw FormatError(
        .outOfBounds, path: path, "header size overflows", at: .header(headerEnd))
    }
    let dataStart = padded / alignment * alignment
    if tensorCount > 0 && dataStart > file.size && !allowDataOutOfBounds {
      throw FormatError(
        .truncated,
        path: path, "truncated: data section starts at \(dataStart), past end of file (\(file.size) bytes)",
        at: .header(headerEnd))
    }

    var tensors: [TensorInfo] = []
    var relative: [Int] = []
    tensors.reserveCapacity(infos.count)
    relative.reserveCapacity(infos.count)
    for info in infos {
      var elements = 1
      for v in info.ne {
        let (p, o) = elements.multipliedReportingOverflow(by: v)
        guard !o else {
          throw FormatError(
            .outOfBounds,
            path: path, "element count of shape ne=\(info.ne) overflows 64 bits", tensor: info.name,
            at: .header(info.at))
        }
        elements = p
      }
      let type = info.type
      var byteCount = 0
      if type.isUsable {
        let rowLength = info.ne.first ?? 1
        guard rowLength % type.blockElements == 0 else {
          throw FormatError(
            .malformed,
            path: path,
            "row length \(rowLength) is not a multiple of \(type.name)'s block of \(type.blockElements)",
            tensor: info.name, at: .header(info.at))
        }
        guard let bytes = type.byteCount(elements: elements) else {
          throw FormatError(.outOfBounds, path: path, "byte size overflows", tensor: info.name, at: .header(info.at))
        }
        byteCount = bytes
      }
      guard let rel = Int(exactly: info.offset) else {
        throw FormatError(
          .outOfBounds,
          path: path, "data offset \(info.offset) does not fit in 63 bits", tensor: info.name, at: .header(info.at))
      }
      let (absolute, o1) = dataStart.addingReportingOverflow(rel)
      let (end, o2) = absolute.addingReportingOverflow(byteCount)
      guard !o1, !o2 else {
        throw FormatError(
          .outOfBounds, path: path, "data offset \(info.offset) overflows", tensor: info.name, at: .header(info.at))
      }
      if end > file.size && !allowDataOutOfBounds {
        throw FormatError(
          .truncated,
          path: path,
          "data (\(byteCount) bytes at byte \(absolute)) runs past end of file (\(file.size) bytes)",
          tensor: info.name, at: .header(info.at))
      }
      relative.append(rel)
      tensors.append(
        TensorInfo(
          name: info.name, encoding: .ggml(type), shape: Array(info.ne.reversed()), elementCount: elements,
          byteCount: byteCount, file: file, dataOffset: absolute, isBigEndian: bigEndian))
    }

    self.file = file
    self.version = version
    self.isBigEndian = bigEndian
    self.metadata = metadata
    self.metadataOffsets = metadataOffsets
    self.tensors = tensors
    self.tensorInfoOffsets = infos.map(\.at)
    self.relativeOffsets = relative
    self.alignment = alignment
    self.headerEnd = headerEnd
    self.dataStart = dataStart
  }

  static func readString(_ c: inout ByteCursor, _ what: String) throws -> String {
    let at = c.fileOffset
    let length = try c.read(UInt64.self, "\(what) length")
    guard length <= UInt64(maxStringBytes) else {
      throw FormatError(
        .outOfBounds, path: c.path, "\(what) length \(length) exceeds ggml's limit of 1 GiB", at: .header(at))
    }
    guard length <= UInt64(c.remaining) else {
      throw FormatError(
        .truncated,
        path: c.path, "\(what) length \(length) runs past end of file (\(c.remaining) bytes left)", at: .header(at))
    }
    let bytes = try c.readBytes(Int(length), what)
    return String(decoding: bytes, as: UTF8.self)
  }

  static func readValue(
    _ c: inout ByteCursor, type: GGUFValueType, key: String, depth: Int, budget: inout Int
  ) throws -> GGUFValue {
    switch type {
    case .uint8: return .uint8(try c.read(UInt8.self, "value of '\(key)'"))
    case .int8: return .int8(try c.read(Int8.self, "value of '\(key)'"))
    case .uint16: return .uint16(try c.read(UInt16.self, "value of '\(key)'"))
    case .int16: return .int16(try c.read(Int16.self, "value of '\(key)'"))
    case .uint32: return .uint32(try c.read(UInt32.self, "value of '\(key)'"))
    case .int32: return .int32(try c.read(Int32.self, "value of '\(key)'"))
    case .float32: return .float32(try c.readFloat("value of '\(key)'"))
    // gguf.cpp treats any non-zero byte as true.
    case .bool: return .bool(try c.read(UInt8.self, "value of '\(key)'") != 0)
    case .string: return .string(try readString(&c, "value of '\(key)'"))
    case .uint64: return .uint64(try c.read(UInt64.self, "value of '\(key)'"))
    case .int64: return .int64(try c.read(Int64.self, "value of '\(key)'"))
    case .float64: return .float64(try c.readDouble("value of '\(key)'"))
    case .array:
      let at = c.fileOffset
      guard depth < maxArrayDepth else {
        throw FormatError(
          .malformed,
          path: c.path, "arrays of '\(key)' nested deeper than \(maxArrayDepth) levels", at: .header(at))
      }
      let rawType = try c.read(UInt32.self, "array element type of '\(key)'")
      guard let elementType = GGUFValueType(rawValue: rawType) else {
        throw FormatError(
          .malformed, path: c.path, "array '\(key)' has unknown element type \(rawType)", at: .header(at))
      }
      let countAt = c.fileOffset
      let count = try c.read(UInt64.self, "array length of '\(key)'")
      guard count <= UInt64(maxArrayElements) else {
        throw FormatError(
          .outOfBounds,
          path: c.path, "array '\(key)' of \(count) elements exceeds ggml's limit of 2^30", at: .header(countAt))
      }
      // Every element needs at least its fixed size (8 for a string's length, 12 for a nested
      // array's header); count ≤ 2^30 so the product cannot overflow.
      let minimum = UInt64(elementType.fixedSize ?? (elementType == .string ? 8 : 12))
      guard count * minimum <= UInt64(c.remaining) else {
        throw FormatError(
          .truncated,
          path: c.path, "array '\(key)' of \(count) \(elementType.name) elements runs past end of file",
          at: .header(countAt))
      }
      guard Int(count) <= budget else {
        throw FormatError(
          .outOfBounds,
          path: c.path,
          "array '\(key)' of \(count) elements exceeds quantscope's limit of \(maxMetadataElements) array elements per file",
          at: .header(countAt))
      }
      budget -= Int(count)
      var elements: [GGUFValue] = []
      elements.reserveCapacity(Int(count))
      for _ in 0..<Int(count) {
        elements.append(try readValue(&c, type: elementType, key: key, depth: depth + 1, budget: &budget))
      }
      return .array(elementType: elementType, elements)
    }
  }
}
