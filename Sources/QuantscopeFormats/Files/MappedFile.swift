#if canImport(Glibc)
  import Glibc
#endif

/// A whole file mapped read-only into memory.
///
/// The mapping is private and read-only, so an input file is never written. Pages are read by the
/// kernel only when touched: opening a 700 GB checkpoint costs nothing until its tensors are read.
/// Every range handed out is checked against the file's size first, so a header that points past
/// the end of the file is an error, not a SIGBUS.
public final class MappedFile: @unchecked Sendable {
  // Sendable: the mapping is immutable after init and unmapped only in deinit.

  /// The path the file was opened with.
  public let path: String
  /// The file's size in bytes when it was mapped.
  public let size: Int
  /// The first byte of the mapping; `nil` for an empty file.
  public let base: UnsafeRawPointer?
  /// Whether `base` is heap memory of ``init(bytes:path:)`` rather than a mapping.
  private let ownsHeapCopy: Bool
  /// The mapping's slot in ``MappedInputGuard``'s table (names the file if it shrinks).
  private let guardSlot: Int?
  /// Device and inode of a mapped file (`nil` for a heap copy): an output may never replace it.
  public let identity: FileIdentity?

  /// Maps the file at `path` read-only.
  ///
  /// Only regular files are read: a FIFO, device or socket is refused without blocking (a FIFO
  /// is opened with `O_NONBLOCK`, so `open` cannot wait for a writer that never comes).
  ///
  /// - Throws: ``FormatError`` when the file cannot be opened, is not a regular file, or cannot
  ///   be mapped.
  public init(path: String) throws {
    let (fd, st) = try SystemCalls.openRegularInput(path)
    defer { SystemCalls.close(fd) }
    let size = Int(st.st_size)
    self.path = path
    self.size = size
    let base = size == 0 ? nil : try SystemCalls.mapReadOnly(fd, count: size, path: path)
    self.base = base
    self.ownsHeapCopy = false
    self.guardSlot = base.flatMap { MappedInputGuard.register(base: $0, size: size, path: path) }
    let identity = FileIdentity(st)
    self.identity = identity
    OpenInputs.add(identity, path: path)
  }

  /// A "file" whose contents are a copy of `bytes`, held in memory; `path` is only used in
  /// error messages.
  ///
  /// For parsing untrusted bytes without touching the file system (fuzzing, tests): the copy is
  /// exactly `bytes.count` long, so a read past its end is caught by the address sanitizer as it
  /// would be a SIGBUS past the end of a mapping.
  public init(bytes: UnsafeRawBufferPointer, path: String) {
    self.path = path
    self.size = bytes.count
    self.ownsHeapCopy = true
    self.guardSlot = nil
    self.identity = nil
    if let source = bytes.baseAddress, !bytes.isEmpty {
      let copy = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 16)
      copy.copyMemory(from: source, byteCount: bytes.count)
      self.base = UnsafeRawPointer(copy)
    } else {
      self.base = nil
    }
  }

  deinit {
    if let guardSlot { MappedInputGuard.unregister(guardSlot) }
    if let identity { OpenInputs.remove(identity) }
    guard let base else { return }
    if ownsHeapCopy {
      UnsafeMutableRawPointer(mutating: base).deallocate()
    } else {
      SystemCalls.unmap(base, count: size)
    }
  }

  /// The whole text of a small file (a recipe, a list), read through a mapping so that a FIFO
  /// or device is refused instead of blocking.
  ///
  /// - Throws: ``FormatError`` when the file cannot be read or is not UTF-8.
  public static func text(path: String) throws -> String {
    let file = try MappedFile(path: path)
    guard let text = String(validating: file.allBytes, as: UTF8.self) else {
      throw FormatError(.malformed, path: path, "not UTF-8 text")
    }
    return text
  }

  /// The bytes `offset ..< offset + count`, checked against the file's size.
  ///
  /// - Parameter tensor: named in the error when the range does not fit.
  public func bytes(at offset: Int, count: Int, tensor: String? = nil) throws -> UnsafeRawBufferPointer {
    let (end, overflow) = offset.addingReportingOverflow(count)
    guard offset >= 0, count >= 0, !overflow, end <= size else {
      throw FormatError(
        .truncated,
        path: path, "data range of \(count) bytes runs past end of file (\(size) bytes)",
        tensor: tensor, at: .data(offset))
    }
    guard let base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    return UnsafeRawBufferPointer(start: base + offset, count: count)
  }

  /// The whole file.
  public var allBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }

  /// How a range of the file is about to be read.
  public enum Access: Sendable {
    /// Read once, front to back: read ahead aggressively.
    case sequential
    /// Will be needed soon: start reading it now.
    case willNeed
    /// Done with it: the kernel may drop these pages.
    case dontNeed
  }

  /// Tells the kernel how `offset ..< offset + count` will be read. Out-of-range parts are ignored.
  public func advise(_ access: Access, offset: Int = 0, count: Int? = nil) {
    // Never on a heap copy: MADV_DONTNEED would zero whole pages, other allocations' included.
    guard let base, !ownsHeapCopy, offset < size else { return }
    let page = SystemCalls.pageSize
    let start = offset - offset % page
    let end = min(size, offset + (count ?? size - offset))
    guard end > start else { return }
    let advice: Int32
    switch access {
    case .sequential: advice = MADV_SEQUENTIAL
    case .willNeed: advice = MADV_WILLNEED
    case .dontNeed: advice = MADV_DONTNEED
    }
    SystemCalls.advise(base + start, count: end - start, advice: advice)
  }
}
