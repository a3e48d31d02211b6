extension MappedFile {
  /// Reads `count` bytes at `offset` of the file in windows of at most `window` bytes with
  /// `pread`, handing each to `body`, without touching the mapping (see
  /// ``TensorInfo/streamBytes(window:_:)``). A heap copy hands out its own bytes.
  func read(
    at offset: Int, count: Int, window: Int, tensor: String?, _ body: (UnsafeRawBufferPointer) throws -> Void
  ) throws {
    guard let identity else {
      let all = try bytes(at: offset, count: count, tensor: tensor)
      var at = 0
      repeat {
        let n = min(window, count - at)
        try body(UnsafeRawBufferPointer(rebasing: all[at..<at + n]))
        at += n
      } while at < count
      return
    }
    let (fd, st) = try SystemCalls.openRegularInput(path)
    defer { SystemCalls.close(fd) }
    guard FileIdentity(st) == identity else {
      throw FormatError(.mismatch, path: path, "was replaced by another file while being read", tensor: tensor)
    }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, min(window, count)), alignment: 64)
    defer { buffer.deallocate() }
    var at = 0
    repeat {
      let n = min(window, count - at)
      let part = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n])
      do {
        try SystemCalls.readAll(fd, into: part, at: offset + at, path: path)
      } catch var error as FormatError {
        error.tensor = tensor
        throw error
      }
      try body(UnsafeRawBufferPointer(part))
      at += n
    } while at < count
  }
}
