#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The one output layer: a file that appears at its name only when it is complete.
///
/// Bytes go to a temporary file in the same directory, named `.NAME.tmp-PID-RANDOM`. ``commit()``
/// flushes it, `fsync`s it, renames it to `NAME` and `fsync`s the directory. If anything fails,
/// or the `OutputFile` is released without ``commit()``, the temporary file is removed. A killed
/// process (`kill -9`) can leave a dot-named temporary file behind, but never a partial file at
/// the final name. With ``TemporaryFileCleanup/installSignalHandlers()`` SIGINT and SIGTERM also
/// remove live temporary files.
///
/// An existing file at the final name is never replaced unless `overwrite` is `true`; without it
/// the final step is `link` + `unlink`, which fails atomically if someone created the name
/// meanwhile.
///
/// Output is zstd-compressed when asked, or by default when the name ends in `.zst`. The path `-`
/// writes to standard output (no temporary file; nothing to rename).
///
/// Errors are ``FormatError``s naming the output path and the failed step with `strerror`.
/// After an error the output is abandoned: further writes throw.
public final class OutputFile: ByteSink {
  /// How the bytes are encoded on disk.
  public enum Compression: Sendable, Equatable {
    /// Bytes are written as given.
    case none
    /// One zstd frame with a content checksum, at `level`, with `workers` background threads.
    case zstd(level: Int32, workers: Int)

    /// zstd at level 3 in the calling thread.
    public static let zstdDefault = Compression.zstd(level: 3, workers: 0)

    /// The compression a name asks for: zstd for names ending in `.zst`, else none.
    public static func implied(by path: String) -> Compression {
      path.hasSuffix(".zst") ? .zstdDefault : .none
    }
  }

  /// The final name.
  public let path: String
  /// Whether this writes to standard output (`path` is `-`).
  public let isStandardOutput: Bool
  /// The temporary file bytes go to until ``commit()``; `nil` for standard output.
  public let temporaryPath: String?
  /// The compression in effect.
  public let compression: Compression

  private let overwrite: Bool
  private let directory: String
  private var fd: Int32
  private var buffer: UnsafeMutableRawBufferPointer
  private var buffered = 0
  /// Bytes handed to `write(2)` so far (after compression).
  private var written = 0
  /// Bytes given to ``write(_:)`` so far (before compression).
  public private(set) var bytesAccepted = 0
  private var compressor: ZstdCompressor?
  private var cleanupSlot: Int?

  private enum State { case open, committed, failed }
  private var state = State.open

  /// Starts writing `path`.
  ///
  /// - Parameters:
  ///   - path: the final name, or `-` for standard output.
  ///   - overwrite: replace an existing file at `path`. Default `false`: refuse, both now and at
  ///     ``commit()``.
  ///   - compression: `nil` (default) picks zstd for names ending in `.zst` and none otherwise;
  ///     standard output is then uncompressed.
  ///   - bufferSize: bytes collected before each `write(2)`.
  /// - Throws: ``FormatError`` when `path` exists (and `overwrite` is `false`), is a directory,
  ///   or its directory does not exist or is not writable.
  public init(path: String, overwrite: Bool = false, compression: Compression? = nil, bufferSize: Int = 1 << 20)
    throws
  {
    self.path = path
    self.overwrite = overwrite
    isStandardOutput = path == "-"
    let compression = compression ?? (path == "-" ? .none : .implied(by: path))
    self.compression = compression
    if case .zstd(let level, let workers) = compression {
      compressor = try ZstdCompressor(level: level, checksum: true, workers: workers, label: path)
    }
    buffer = .allocate(byteCount: max(bufferSize, 4096), alignment: 64)

    if isStandardOutput {
      directory = "."
      temporaryPath = nil
      fd = 1
      return
    }
    guard !path.isEmpty else {
      buffer.deallocate()
      throw FormatError(path: path, "empty output path")
    }
    let (dir, base) = OutputFile.split(path)
    directory = dir
    if SystemCalls.isDirectory(path) {
      buffer.deallocate()
      throw FormatError(path: path, "is a directory")
    }
    if !overwrite && SystemCalls.exists(path) {
      buffer.deallocate()
      throw FormatError(path: path, "already exists (not overwriting)")
    }
    guard SystemCalls.isDirectory(dir) else {
      buffer.deallocate()
      throw FormatError(path: path, "directory \(dir) does not exist")
    }
    var attempt = 0
    var created: (fd: Int32, path: String)
    while true {
      let random = String(UInt32.random(in: 0...UInt32.max), radix: 16)
      let candidate = (dir == "." && !path.hasPrefix("./") ? "" : dir + "/")
        + ".\(base).tmp-\(SystemCalls.processID)-\(random)"
      do {
        created = (try SystemCalls.createExclusive(candidate), candidate)
        break
      } catch let error as FormatError {
        // A name clash with another temporary file: try another random suffix.
        attempt += 1
        if attempt < 16 && SystemCalls.exists(candidate) { continue }
        buffer.deallocate()
        throw FormatError(path: path, "temporary file in \(dir): \(error.message)")
      }
    }
    fd = created.fd
    temporaryPath = created.path
    cleanupSlot = TemporaryFileCleanup.register(created.path)
  }

  deinit {
    if state == .open && !isStandardOutput { discardTemporary() }
    buffer.deallocate()
  }

  /// Splits a path into its directory (`.` when none) and last component.
  static func split(_ path: String) -> (directory: String, base: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let dir = String(path[..<slash])
    return (dir.isEmpty ? "/" : dir, String(path[path.index(after: slash)...]))
  }

  /// Appends `bytes` (compressing them if the output is compressed).
  ///
  /// - Throws: ``FormatError`` when a write fails; the output is then abandoned.
  public func write(_ bytes: UnsafeRawBufferPointer) throws {
    try ensureOpen()
    do {
      if let compressor {
        try compressor.compress(bytes) { try self.writeEncoded($0) }
      } else {
        try writeEncoded(bytes)
      }
      bytesAccepted += bytes.count
    } catch {
      fail()
      throw error
    }
  }

  /// Finishes the output: flushes, `fsync`s, moves the temporary file to the final name and
  /// `fsync`s the directory. For standard output, only flushes.
  ///
  /// If the directory `fsync` fails after the rename, the new file is removed again (so an error
  /// always means "no output"); with `overwrite` the file it replaced is then gone too.
  public func commit() throws {
    try ensureOpen()
    do {
      if let compressor { try compressor.finish { try self.writeEncoded($0) } }
      try flush()
      guard let temporaryPath else {
        state = .committed
        return
      }
      try SystemCalls.sync(fd, path: path)
      let closing = fd
      fd = -1
      try SystemCalls.closeChecked(closing, path: path)
      try moveIntoPlace(temporaryPath)
    } catch {
      fail()
      throw error
    }
    state = .committed
    releaseCleanupSlot()
    do {
      try SystemCalls.syncDirectory(directory)
    } catch let error as FormatError {
      SystemCalls.unlinkQuietly(path)
      state = .failed
      throw FormatError(path: path, "output removed: \(error.message)")
    }
  }

  /// Gives up the output: removes the temporary file. Does nothing after ``commit()``.
  public func abandon() {
    if state == .open { fail() }
  }

  private func moveIntoPlace(_ temporaryPath: String) throws {
    if overwrite {
      try SystemCalls.rename(temporaryPath, to: path)
      return
    }
    // link(2) fails with EEXIST if the name appeared since init: no race with another writer.
    switch SystemCalls.hardLink(temporaryPath, path) {
    case nil:
      SystemCalls.unlinkQuietly(temporaryPath)
    case EEXIST?:
      throw FormatError(path: path, "already exists (not overwriting)")
    case let code? where code == EPERM || code == EOPNOTSUPP || code == ENOTSUP || code == EMLINK:
      // File systems without hard links (FAT, some FUSE): check, then rename.
      if SystemCalls.exists(path) { throw FormatError(path: path, "already exists (not overwriting)") }
      try SystemCalls.rename(temporaryPath, to: path)
    case let code?:
      errno = code
      throw FormatError(path: path, SystemCalls.errnoMessage("cannot move \(temporaryPath) to final name"))
    }
  }

  private func ensureOpen() throws {
    switch state {
    case .open: return
    case .committed: throw FormatError(path: path, "output already committed")
    case .failed: throw FormatError(path: path, "output abandoned after an earlier error")
    }
  }

  /// Buffers encoded bytes, writing whenever the buffer fills.
  private func writeEncoded(_ bytes: UnsafeRawBufferPointer) throws {
    var rest = bytes
    while !rest.isEmpty {
      if buffered == 0 && rest.count >= buffer.count {
        try SystemCalls.writeAll(fd, rest, path: path, offset: written)
        written += rest.count
        return
      }
      let n = min(buffer.count - buffered, rest.count)
      UnsafeMutableRawBufferPointer(rebasing: buffer[buffered..<buffered + n])
        .copyMemory(from: UnsafeRawBufferPointer(rebasing: rest.prefix(n)))
      buffered += n
      rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(n))
      if buffered == buffer.count { try flush() }
    }
  }

  private func flush() throws {
    guard buffered > 0 else { return }
    try SystemCalls.writeAll(fd, UnsafeRawBufferPointer(rebasing: buffer[0..<buffered]), path: path, offset: written)
    written += buffered
    buffered = 0
  }

  private func fail() {
    state = .failed
    if !isStandardOutput { discardTemporary() }
  }

  private func discardTemporary() {
    if fd >= 0 {
      SystemCalls.close(fd)
      fd = -1
    }
    if let temporaryPath { SystemCalls.unlinkQuietly(temporaryPath) }
    releaseCleanupSlot()
  }

  private func releaseCleanupSlot() {
    if let slot = cleanupSlot { TemporaryFileCleanup.unregister(slot) }
    cleanupSlot = nil
  }
}

/// Removes live temporary output files when the process is interrupted (best effort).
///
/// Each ``OutputFile`` registers its temporary path in a fixed table of C strings; the handler
/// for SIGINT and SIGTERM unlinks every registered path (`unlink` is async-signal-safe), restores
/// the default action and re-raises the signal, so the exit status still says "killed by signal".
/// Outputs beyond the table's 64 slots are not registered.
public enum TemporaryFileCleanup {
  static let slotCount = 64
  static let slotSize = Int(PATH_MAX)
  // Raw C storage because the signal handler may not allocate, lock or touch Swift objects.
  nonisolated(unsafe) static let paths: UnsafeMutablePointer<CChar> = {
    let p = UnsafeMutablePointer<CChar>.allocate(capacity: slotCount * slotSize)
    p.initialize(repeating: 0, count: slotCount * slotSize)
    return p
  }()
  nonisolated(unsafe) static let live: UnsafeMutablePointer<UInt8> = {
    let p = UnsafeMutablePointer<UInt8>.allocate(capacity: slotCount)
    p.initialize(repeating: 0, count: slotCount)
    return p
  }()
  static let lock = Mutex<Void>(())
  static let installed = Atomic<Bool>(false)

  /// Registers `path`; returns its slot, or `nil` when the table is full or the path too long.
  static func register(_ path: String) -> Int? {
    let utf8 = Array(path.utf8)
    guard utf8.count < slotSize else { return nil }
    return lock.withLock { _ in
      for slot in 0..<slotCount where live[slot] == 0 {
        let dst = paths + slot * slotSize
        utf8.withUnsafeBufferPointer { src in
          for i in 0..<src.count { dst[i] = CChar(bitPattern: src[i]) }
        }
        dst[utf8.count] = 0
        live[slot] = 1
        return slot
      }
      return nil
    }
  }

  /// Forgets a slot after its file was renamed or removed.
  static func unregister(_ slot: Int) {
    lock.withLock { _ in live[slot] = 0 }
  }

  /// Paths currently registered (for tests and diagnostics).
  public static var registeredPaths: [String] {
    lock.withLock { _ in
      (0..<slotCount).filter { live[$0] != 0 }.map { String(cString: paths + $0 * slotSize) }
    }
  }

  /// Installs the SIGINT and SIGTERM handlers once. A signal that is ignored (as under `nohup`)
  /// stays ignored.
  public static func installSignalHandlers() {
    guard !installed.exchange(true, ordering: .acquiringAndReleasing) else { return }
    _ = paths  // initialize the tables now, never inside the handler
    _ = live
    for sig in [SIGINT, SIGTERM] {
      let old = signal(sig, cleanupSignalHandler)
      if let old, unsafeBitCast(old, to: Int.self) == 1 {  // SIG_IGN
        _ = signal(sig, old)
      }
    }
  }

  /// Unlinks every registered path. Only async-signal-safe calls.
  static func unlinkAll() {
    for slot in 0..<slotCount where live[slot] != 0 {
      _ = unlink(paths + slot * slotSize)
    }
  }
}

private func cleanupSignalHandler(_ sig: Int32) {
  TemporaryFileCleanup.unlinkAll()
  _ = signal(sig, SIG_DFL)
  _ = raise(sig)
}
