extension MappedFile {
  /// Reads `count` bytes at `offset` of the file in windows of at most `window` bytes with
  /// `pread`, handing each to `body`, without touching the mapping (see
  /// ``TensorInfo/streamBytes(window:_:)``). A heap copy hands out its own bytes.
  func read(
    at offset: Int, count: Int, window: Int, tensor: String?, _ body: (UnsafeRawBufferPointer) throws -> Void
  ) throws {
    // One window, or none of a zero-byte range: `body` is called once either way.
    let windows = stride(from: 0, to: max(count, 1), by: window).map { $0..<min(count, $0 + window) }
    guard let identity else {
      let all = try bytes(at: offset, count: count, tensor: tensor)
      for w in windows { try body(UnsafeRawBufferPointer(rebasing: all[w])) }
      return
    }
    let (fd, st) = try SystemCalls.openRegularInput(path)
    defer { SystemCalls.close(fd) }
    guard FileIdentity(st) == identity else {
      throw FormatError(.mismatch, path: path, "was replaced by another file while being read", tensor: tensor)
    }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, min(window, count)), alignment: 64)
    defer { buffer.deallocate() }
    for w in windows {
      let part = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<w.count])
      do {
        try SystemCalls.readAll(fd, into: part, at: offset + w.lowerBound, path: path)
      } catch var error as FormatError {
        error.tensor = tensor
        throw error
      }
      try body(UnsafeRawBufferPointer(part))
    }
  }
}
