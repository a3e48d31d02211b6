extension TensorInfo {
  /// Bytes handed to a streaming reader at a time: large enough that the per-call cost vanishes,
  /// small enough to stay a small, fixed share of the resident set.
  public static let streamingWindow = 1 << 22

  /// Hands the tensor's bytes to `body` in windows of at most `window` bytes, in order.
  ///
  /// A pass over a mapping keeps the pages it touched resident (and the kernel maps whole folios
  /// around each fault), so the resident set would grow with the tensor: an expert stack of
  /// DeepSeek-V3 is 3.8 GB in FP8. The windows are read with `pread` into one buffer instead, so
  /// a pass holds one window whatever the tensor's size; the data is checked against the file's
  /// size first, and the file re-opened is checked to be the one mapped. Use it for a single pass
  /// over data not read again soon (copying, hashing, verifying).
  ///
  /// - Throws: what ``bytes()`` throws, a ``FormatError`` when the file cannot be re-read (or a
  ///   different file now has its path), and what `body` throws (the rest is then not read).
  public func streamBytes(window: Int = streamingWindow, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
    precondition(window > 0, "a positive window")
    let mapped = try self.bytes()
    try file.read(at: dataOffset, count: mapped.count, window: window, tensor: name, body)
  }
}
