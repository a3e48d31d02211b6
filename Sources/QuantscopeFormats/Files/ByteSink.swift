/// Somewhere bytes are written in order: an ``OutputFile``, a compressor's input, a test buffer.
///
/// Writers (GGUF, manifests, reports) write through this protocol so one output layer decides
/// about temporary names, compression and durability.
public protocol ByteSink {
  /// Appends `bytes`. The buffer is only read during the call.
  func write(_ bytes: UnsafeRawBufferPointer) throws
}

extension ByteSink {
  /// Appends `bytes`.
  public func write(_ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes { try write($0) }
  }

  /// Appends the UTF-8 bytes of `text`.
  public func write(_ text: String) throws {
    var text = text
    try text.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
  }

  /// Appends `value` in little-endian byte order.
  public func writeLittleEndian<T: FixedWidthInteger>(_ value: T) throws {
    try withUnsafeBytes(of: value.littleEndian) { try write($0) }
  }
}

/// A ``ByteSink`` that keeps everything in memory, for tests and small outputs.
public final class MemorySink: ByteSink {
  /// Everything written so far.
  public private(set) var bytes: [UInt8] = []

  /// Creates an empty sink.
  public init() {}

  /// Appends `bytes` to ``bytes``.
  public func write(_ bytes: UnsafeRawBufferPointer) throws { self.bytes.append(contentsOf: bytes) }
}
