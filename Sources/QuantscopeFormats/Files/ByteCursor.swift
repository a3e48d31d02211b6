/// A bounds-checked reader over untrusted bytes.
///
/// Every read checks the remaining length first and every size is computed with overflow
/// checks, so a malformed header gives a ``FormatError`` naming the file and the byte offset
/// of the field that did not fit.
public struct ByteCursor {
  /// The bytes being read.
  public let bytes: UnsafeRawBufferPointer
  /// The file the bytes come from, for error messages.
  public let path: String
  /// The absolute file offset of `bytes[0]`, for error messages.
  public let baseOffset: Int
  /// Whether multi-byte integers and floats are stored big-endian.
  public var bigEndian: Bool
  /// The position of the next read, relative to `bytes`.
  public private(set) var position: Int = 0

  /// Creates a cursor at the start of `bytes`.
  public init(_ bytes: UnsafeRawBufferPointer, path: String, baseOffset: Int = 0, bigEndian: Bool = false) {
    self.bytes = bytes
    self.path = path
    self.baseOffset = baseOffset
    self.bigEndian = bigEndian
  }

  /// Bytes left to read.
  public var remaining: Int { bytes.count - position }
  /// The absolute file offset of the next read.
  public var fileOffset: Int { baseOffset + position }

  /// An error at the current position, which is in a header record: cursors read headers, and
  /// tensor data is reached through ``MappedFile/bytes(at:count:tensor:)`` instead.
  public func error(_ message: String, tensor: String? = nil, kind: FormatError.Kind = .malformed) -> FormatError {
    FormatError(kind, path: path, message, tensor: tensor, at: .header(fileOffset))
  }

  /// Checks that `count` more bytes exist before reading `what`.
  public func require(_ count: Int, for what: @autoclosure () -> String, tensor: String? = nil) throws {
    guard count >= 0, count <= remaining else {
      throw error("truncated: \(what()) needs \(count) bytes, \(remaining) left", tensor: tensor, kind: .truncated)
    }
  }

  /// Reads a fixed-width integer in the cursor's byte order.
  public mutating func read<T: FixedWidthInteger>(
    _: T.Type, _ what: @autoclosure () -> String, tensor: String? = nil
  ) throws -> T {
    try require(MemoryLayout<T>.size, for: what(), tensor: tensor)
    let raw = bytes.loadUnaligned(fromByteOffset: position, as: T.self)
    position += MemoryLayout<T>.size
    return bigEndian ? T(bigEndian: raw) : T(littleEndian: raw)
  }

  /// Reads an IEEE binary32 in the cursor's byte order.
  public mutating func readFloat(_ what: @autoclosure () -> String) throws -> Float {
    Float(bitPattern: try read(UInt32.self, what()))
  }

  /// Reads an IEEE binary64 in the cursor's byte order.
  public mutating func readDouble(_ what: @autoclosure () -> String) throws -> Double {
    Double(bitPattern: try read(UInt64.self, what()))
  }

  /// Reads `count` raw bytes.
  public mutating func readBytes(_ count: Int, _ what: @autoclosure () -> String, tensor: String? = nil) throws
    -> UnsafeRawBufferPointer
  {
    try require(count, for: what(), tensor: tensor)
    let slice = UnsafeRawBufferPointer(rebasing: bytes[position..<position + count])
    position += count
    return slice
  }

  /// Skips `count` bytes.
  public mutating func skip(_ count: Int, _ what: @autoclosure () -> String) throws {
    try require(count, for: what())
    position += count
  }

  /// Moves to an absolute position within `bytes`.
  public mutating func seek(to position: Int) throws {
    guard position >= 0, position <= bytes.count else { throw error("seek to \(position) out of range") }
    self.position = position
  }
}
