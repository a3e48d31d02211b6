/// One safetensors file, mapped and validated exactly as the reference Rust crate
/// (`SafeTensors::read_metadata` and `Metadata::validate`) validates it.
///
/// Layout: an 8-byte little-endian header length `N`, `N` bytes of UTF-8 JSON, then the data
/// buffer, to which all `data_offsets` are relative. Rules enforced, in the crate's order:
/// * `N <= 100_000_000` and `8 + N` within the file;
/// * the header is valid UTF-8 JSON whose top level is an object (whitespace around it allowed);
///   each tensor entry has `dtype` (one of the crate's dtype names), `shape` and
///   `data_offsets` (non-negative integers); unknown fields inside an entry are ignored;
///   `__metadata__` is `null` or a map of strings; a repeated key keeps its last value;
/// * sorted by `data_offsets`, each tensor begins where the previous one ended (the first at 0),
///   so there are no gaps and no overlaps;
/// * the byte size is `elements × bits / 8`, computed with overflow checks, and sub-byte types
///   must fill whole bytes;
/// * the data ends exactly at the end of the file.
///
/// No alignment is required, so data may start at any byte. An entry may also be written as
/// the array `[DTYPE, SHAPE, OFFSETS]`, which serde accepts for a struct.
///
/// One deliberate difference: a dimension above `Int.max` is rejected. The crate accepts one
/// only in a tensor that also has a zero dimension (any other such shape overflows).
///
/// Agreement with the crate is tested on hand-made edge cases and 400 random corruptions
/// (`SafetensorsCrateTests`, when the `safetensors` Python package is installed).
public struct SafetensorsFile: Sendable {
  /// The mapped file.
  public let file: MappedFile
  /// `N`, the JSON header's length in bytes.
  public let headerLength: Int
  /// The tensors, sorted by data offset (the file's order).
  public let tensors: [TensorInfo]
  /// For each tensor, the absolute file offset of its key in the JSON header.
  public let headerOffsets: [Int]
  /// The `__metadata__` map, in header order.
  public let metadata: [(key: String, value: String)]

  /// The largest header the crate accepts (`MAX_HEADER_SIZE`).
  public static let maxHeaderLength = 100_000_000

  /// The absolute file offset of the data buffer.
  public var dataStart: Int { 8 + headerLength }

  /// The file's path.
  public var path: String { file.path }

  /// Maps and validates the file at `path`.
  public init(path: String) throws {
    try self.init(file: MappedFile(path: path))
  }

  /// Validates an already mapped file.
  public init(file: MappedFile) throws {
    self.file = file
    let path = file.path
    let bytes = file.allBytes
    guard bytes.count >= 8 else {
      throw FormatError(
        .truncated, path: path,
        "file too small for a safetensors header (\(bytes.count) bytes, need 8)",
        at: .header(0))
    }
    let declared = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
    guard declared <= UInt64(Self.maxHeaderLength) else {
      throw FormatError(
        .outOfBounds,
        path: path, "header length \(declared) exceeds the limit of \(Self.maxHeaderLength) bytes", at: .header(0))
    }
    let n = Int(declared)
    guard 8 + n <= bytes.count else {
      throw FormatError(
        .truncated,
        path: path, "header length \(n) runs past end of file (\(bytes.count) bytes)", at: .header(0))
    }
    headerLength = n

    let entries = try Self.parseHeader(
      UnsafeRawBufferPointer(rebasing: bytes[8..<8 + n]), path: path)
    metadata = entries.metadata

    // Sort by data_offsets (begin, then end), as the crate does; names break ties among
    // empty tensors so the order is deterministic.
    let sorted = entries.tensors.sorted {
      if $0.begin != $1.begin { return $0.begin < $1.begin }
      if $0.end != $1.end { return $0.end < $1.end }
      return $0.name.utf8Precedes($1.name)
    }
    let dataStart = 8 + n
    var infos: [TensorInfo] = []
    infos.reserveCapacity(sorted.count)
    var offsets: [Int] = []
    offsets.reserveCapacity(sorted.count)
    var expectedBegin = 0
    for entry in sorted {
      guard entry.begin == expectedBegin, entry.end >= entry.begin else {
        let what =
          entry.end < entry.begin
          ? "data_offsets [\(entry.begin), \(entry.end)] end before they begin"
          : entry.begin > expectedBegin
            ? "gap in data: tensor begins at \(entry.begin) but the previous one ends at \(expectedBegin)"
            : "tensors overlap: tensor begins at \(entry.begin) but the previous one ends at \(expectedBegin)"
        throw FormatError(
          .malformed, path: path, what, tensor: entry.name, at: .data(Self.absolute(dataStart, entry.begin)))
      }
      expectedBegin = entry.end
      var elements = 1
      for d in entry.shape {
        let (p, o) = elements.multipliedReportingOverflow(by: d)
        guard !o else {
          throw FormatError(
            .outOfBounds,
            path: path, "shape \(entry.shape) overflows the element count", tensor: entry.name,
            at: .header(entry.headerOffset))
        }
        elements = p
      }
      let (bits, o) = elements.multipliedReportingOverflow(by: entry.dtype.bits)
      guard !o else {
        throw FormatError(
          .outOfBounds,
          path: path, "shape \(entry.shape) overflows the bit count", tensor: entry.name,
          at: .header(entry.headerOffset))
      }
      guard bits % 8 == 0 else {
        throw FormatError(
          .malformed,
          path: path, "\(elements) elements of \(entry.dtype.rawValue) do not fill whole bytes",
          tensor: entry.name, at: .header(entry.headerOffset))
      }
      guard entry.end - entry.begin == bits / 8 else {
        throw FormatError(
          .malformed,
          path: path,
          "data_offsets span \(entry.end - entry.begin) bytes but \(entry.dtype.rawValue) \(entry.shape) needs \(bits / 8)",
          tensor: entry.name, at: .header(entry.headerOffset))
      }
      // The crate checks the end of the data against the file size after the loop; checking
      // each tensor here gives the same error earlier and keeps every offset below the file size.
      guard entry.end <= bytes.count - dataStart else {
        throw FormatError(
          .truncated,
          path: path,
          "data ends at \(Self.absolute(dataStart, entry.end)) but the file has only \(bytes.count) bytes",
          tensor: entry.name, at: .header(bytes.count))
      }
      infos.append(
        TensorInfo(
          name: entry.name, encoding: .safetensors(entry.dtype), shape: entry.shape, elementCount: elements,
          byteCount: bits / 8, file: file, dataOffset: dataStart + entry.begin))
      offsets.append(entry.headerOffset)
    }
    let end = dataStart + expectedBegin  // <= bytes.count, checked per tensor above
    guard end == bytes.count else {
      throw FormatError(
        .malformed,
        path: path, "\(bytes.count - end) trailing bytes after the last tensor's data", tensor: sorted.last?.name,
        at: .header(end))
    }
    tensors = infos
    headerOffsets = offsets
  }

  /// `dataStart + relative`, saturated so an error offset never traps.
  static func absolute(_ dataStart: Int, _ relative: Int) -> Int {
    let (v, o) = dataStart.addingReportingOverflow(relative)
    return o ? Int.max : v
  }

  /// One tensor entry as written in the header.
  struct Entry {
    var name: String
    var dtype: SafetensorsDType
    var shape: [Int]
    var begin: Int
    var end: Int
    var headerOffset: Int
  }

  /// Parses the JSON header into tensor entries (a repeated name keeps its last entry) and
  /// the `__metadata__` map.
  static func parseHeader(_ header: UnsafeRawBufferPointer, path: String) throws -> (
    tensors: [Entry], metadata: [(key: String, value: String)]
  ) {
    var parser = try JSONParser(header, path: path, baseOffset: 8)
    parser.skipWhitespace()
    guard parser.peek == UInt8(ascii: "{") else {
      throw parser.error(parser.peek == nil ? "header is empty" : "header is not a JSON object")
    }
    var entries: [Entry] = []
    var indexByName: [String: Int] = [:]
    var metadata: [(key: String, value: String)] = []
    var sawMetadata = false
    try parser.parseObject { parser, key, keyOffset in
      if key == "__metadata__" {
        // A struct field for serde, so a second one is an error (unlike repeated tensor names).
        guard !sawMetadata else { throw parser.error("duplicate field `__metadata__`", at: keyOffset) }
        sawMetadata = true
        metadata = try parseMetadata(&parser)
        return
      }
      let entry = try parseEntry(&parser, name: key, headerOffset: parser.baseOffset + keyOffset)
      if let i = indexByName[key] {
        entries[i] = entry  // serde keeps the last occurrence
      } else {
        indexByName[key] = entries.count
        entries.append(entry)
      }
    }
    try parser.expectEnd()
    return (entries, metadata)
  }

  /// `__metadata__`: `null` or an object whose values are all strings.
  static func parseMetadata(_ parser: inout JSONParser) throws -> [(key: String, value: String)] {
    if parser.peek == UInt8(ascii: "n") {
      try parser.parseLiteral("null")
      return []
    }
    guard parser.peek == UInt8(ascii: "{") else { throw parser.error("__metadata__ must be a map of strings") }
    var result: [(key: String, value: String)] = []
    try parser.parseObject { parser, key, _ in
      guard parser.peek == UInt8(ascii: "\"") else {
        throw parser.error("__metadata__ value of \"\(key)\" is not a string")
      }
      let value = try parser.parseString()
      if let i = result.firstIndex(where: { $0.key == key }) {
        result[i].value = value
      } else {
        result.append((key, value))
      }
    }
    return result
  }

  /// One tensor entry: `{"dtype": …, "shape": […], "data_offsets": [BEGIN, END]}`, or the
  /// same three values as an array `[DTYPE, SHAPE, OFFSETS]`, which serde also accepts for a
  /// struct (checked against the crate).
  static func parseEntry(_ parser: inout JSONParser, name: String, headerOffset: Int) throws -> Entry {
    var dtype: SafetensorsDType?
    var shape: [Int]?
    var offsets: [Int]?
    func field(_ parser: inout JSONParser, _ field: String, _ fieldOffset: Int) throws {
      switch field {
      case "dtype":
        guard dtype == nil else { throw parser.error("duplicate field `dtype`", at: fieldOffset, tensor: name) }
        let at = parser.pos
        guard parser.peek == UInt8(ascii: "\"") else {
          throw parser.error("dtype must be a string", at: at, tensor: name)
        }
        let s = try parser.parseString()
        guard let d = SafetensorsDType(rawValue: s) else {
          throw parser.error("unknown dtype \"\(s)\"", at: at, tensor: name)
        }
        dtype = d
      case "shape":
        guard shape == nil else { throw parser.error("duplicate field `shape`", at: fieldOffset, tensor: name) }
        guard parser.peek == UInt8(ascii: "[") else {
          throw parser.error("shape must be an array of integers", at: parser.pos, tensor: name)
        }
        var dims: [Int] = []
        try parser.parseArray { parser in dims.append(try parser.parseSize("shape dimension", tensor: name)) }
        shape = dims
      case "data_offsets":
        guard offsets == nil else {
          throw parser.error("duplicate field `data_offsets`", at: fieldOffset, tensor: name)
        }
        let at = parser.pos
        guard parser.peek == UInt8(ascii: "[") else {
          throw parser.error("data_offsets must be an array of two integers", at: at, tensor: name)
        }
        var pair: [Int] = []
        try parser.parseArray { parser in
          guard pair.count < 2 else {
            throw parser.error("data_offsets must be an array of two integers", at: at, tensor: name)
          }
          pair.append(try parser.parseSize("data offset", tensor: name))
        }
        guard pair.count == 2 else {
          throw parser.error("data_offsets must be an array of two integers", at: at, tensor: name)
        }
        offsets = pair
      default:
        do {
          try parser.skipValue(depth: 2)  // the Rust reader ignores unknown fields, if they are valid JSON
        } catch var error as FormatError {
          error.tensor = error.tensor ?? name
          throw error
        }
      }
    }
    switch parser.peek {
    case UInt8(ascii: "{"):
      try parser.parseObject { parser, key, keyOffset in try field(&parser, key, keyOffset) }
    case UInt8(ascii: "["):
      let start = parser.pos
      var index = 0
      let names = ["dtype", "shape", "data_offsets"]
      try parser.parseArray { parser in
        guard index < names.count else {
          throw parser.error("tensor entry array must hold dtype, shape and data_offsets only", at: start, tensor: name)
        }
        try field(&parser, names[index], parser.pos)
        index += 1
      }
      guard index == names.count else {
        throw parser.error("tensor entry array must hold dtype, shape and data_offsets", at: start, tensor: name)
      }
    default:
      throw parser.error("tensor entry is not a JSON object", at: parser.pos, tensor: name)
    }
    guard let dtype else {
      throw FormatError(
        .malformed, path: parser.path, "missing field `dtype`", tensor: name, at: .header(headerOffset))
    }
    guard let shape else {
      throw FormatError(
        .malformed, path: parser.path, "missing field `shape`", tensor: name, at: .header(headerOffset))
    }
    guard let offsets else {
      throw FormatError(
        .malformed, path: parser.path, "missing field `data_offsets`", tensor: name, at: .header(headerOffset))
    }
    return Entry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1], headerOffset: headerOffset)
  }
}

extension SafetensorsDType {
  /// Rank in the Rust crate's `Dtype` enum, which is ordered by increasing alignment. The
  /// reference writer puts tensors in decreasing rank order, then by name.
  public var crateOrder: Int {
    switch self {
    case .BOOL: 0
    case .F4: 1
    case .F6_E2M3: 2
    case .F6_E3M2: 3
    case .U8: 4
    case .I8: 5
    case .F8_E5M2: 6
    case .F8_E4M3: 7
    case .F8_E8M0: 8
    case .F8_E4M3FNUZ: 9
    case .F8_E5M2FNUZ: 10
    case .I16: 11
    case .U16: 12
    case .F16: 13
    case .BF16: 14
    case .I32: 15
    case .U32: 16
    case .F32: 17
    case .C64: 18
    case .F64: 19
    case .I64: 20
    case .U64: 21
    }
  }
}
