import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// The one output layer: a file that appears at its name only when it is complete.
///
/// Bytes go to a temporary file in the same directory, named `.NAME.tmp-PID-RANDOM`. ``commit()``
/// flushes it, `fsync`s it, renames it to `NAME` and `fsync`s the directory. If anything fails,
/// or the `OutputFile` is released without ``commit()``, the temporary file is removed. A killed
/// process (`kill -9`) can leave a dot-named temporary file behind, but never a partial file at
/// the final name. With ``TemporaryFileCleanup/installSignalHandlers()`` SIGINT and SIGTERM also
/// remove live temporary files, however many there are.
///
/// Several outputs that form one set (the shards of a split GGUF) are committed together with
/// ``commitAll(_:)``: every file is complete and synced under its temporary name first, then all
/// are renamed; if any rename fails, the files they replaced are put back, so the directory holds
/// either the whole new set or what it held before.
///
/// An output is never an input: a final name that is the same file (device and inode, after
/// following links) as one of the `inputs` given, or as any file a ``MappedFile`` has mapped, is
/// refused before anything is written, `--force` or not. Only regular files are replaced: a
/// device, FIFO or socket at the final name is refused (write to `-` for standard output).
/// Cleanup removes only files this process created, checked by inode, never a name another
/// process may have renamed into place meanwhile.
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
  private var cleanupEntry: TemporaryFileCleanup.Entry?
  /// The temporary file's device and inode: cleanup removes a name only while it still is ours.
  private var identity: FileIdentity?

  private enum State { case open, prepared, committed, failed }
  private var state = State.open

  /// Starts writing `path`.
  ///
  /// - Parameters:
  ///   - path: the final name, or `-` for standard output.
  ///   - overwrite: replace an existing file at `path`. Default `false`: refuse, both now and at
  ///     ``commit()``.
  ///   - compression: `nil` (default) picks zstd for names ending in `.zst` and none otherwise;
  ///     standard output is then uncompressed.
  ///   - inputs: every input path of the operation; `path` may not be the same file as any of
  ///     them (see ``checkTargets(_:overwrite:inputs:)``).
  ///   - bufferSize: bytes collected before each `write(2)`.
  /// - Throws: ``FormatError`` when `path` exists (and `overwrite` is `false`), is a directory or
  ///   any other non-regular file, is one of the inputs, or its directory does not exist or is
  ///   not writable.
  public init(
    path: String, overwrite: Bool = false, compression: Compression? = nil, inputs: [String] = [],
    bufferSize: Int = 1 << 20
  ) throws {
    self.path = path
    self.overwrite = overwrite
    isStandardOutput = path == "-"
    let compression = compression ?? (path == "-" ? .none : .implied(by: path))
    self.compression = compression
    if !isStandardOutput {
      try Self.checkTargets([path], overwrite: overwrite, inputs: inputs)
    }
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
    let (dir, base) = OutputFile.split(path)
    directory = dir
    var attempt = 0
    var created: (fd: Int32, path: String)
    while true {
      let random = String(UInt32.random(in: 0...UInt32.max), radix: 16)
      let candidate =
        (dir == "." && !path.hasPrefix("./") ? "" : dir + "/")
        + ".\(base).tmp-\(SystemCalls.processID)-\(random)"
      do {
        created = (try SystemCalls.createExclusive(candidate), candidate)
        break
      } catch let error as FormatError {
        // A name clash with another temporary file: try another random suffix.
        attempt += 1
        if attempt < 16 && SystemCalls.exists(candidate) { continue }
        buffer.deallocate()
        throw FormatError(.io, path: path, "temporary file in \(dir): \(error.message)")
      }
    }
    fd = created.fd
    temporaryPath = created.path
    identity = (try? SystemCalls.fileStatus(created.fd, path: created.path)).map(FileIdentity.init)
    cleanupEntry = TemporaryFileCleanup.removeOnInterrupt(file: created.path)
  }

  deinit {
    if (state == .open || state == .prepared) && !isStandardOutput { discardTemporary() }
    buffer.deallocate()
  }

  /// Checks final names before any work: each must not be a directory or other non-regular file,
  /// must not exist unless `overwrite`, must have an existing directory, and must not be the
  /// same file (device and inode after following links) as any of `inputs` or any file mapped
  /// by a ``MappedFile`` — not even with `overwrite`. `-` (standard output) is skipped.
  ///
  /// Callers writing several files (a split set) call it with all names at once, so a bad
  /// name is refused before hours of work rather than after the first shard.
  /// - Throws: ``FormatError`` naming the output (and the input it would destroy).
  public static func checkTargets(_ paths: [String], overwrite: Bool, inputs: [String] = []) throws {
    var inputIdentities: [(FileIdentity, String)] = []
    for input in inputs where input != "-" {
      if let id = FileIdentity(path: input) { inputIdentities.append((id, input)) }
    }
    for path in paths where path != "-" {
      guard !path.isEmpty else { throw FormatError(.usage, path: path, "empty output path") }
      if let st = SystemCalls.status(path) {
        let kind = st.st_mode & S_IFMT
        if kind == S_IFDIR { throw FormatError(.unsupported, path: path, "is a directory") }
        let id = FileIdentity(st)
        if let input = inputIdentities.first(where: { $0.0 == id })?.1 ?? OpenInputs.path(of: id) {
          let same = input == path ? "is an input" : "is the same file as the input \(input)"
          throw FormatError(.mismatch, path: path, "\(same); refusing to write an output over an input")
        }
        if kind != S_IFREG {
          throw FormatError(
            .unsupported,
            path: path,
            "is \(SystemCalls.kindName(kind)), not a regular file; refusing to replace it (use - for standard output)")
        }
        if !overwrite { throw FormatError(.alreadyExists, path: path, "already exists (not overwriting)") }
      } else if !overwrite && SystemCalls.exists(path) {
        // A dangling symbolic link: replacing it is replacing something.
        throw FormatError(.alreadyExists, path: path, "already exists (not overwriting)")
      }
      let dir = split(path).directory
      guard SystemCalls.isDirectory(dir) else {
        throw FormatError(
          .notFound, path: path, "directory \(dir) does not exist")
      }
    }
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

  /// Finishes writing without publishing: flushes, `fsync`s and closes the temporary file, which
  /// stays (registered for cleanup) until ``commit()`` or ``commitAll(_:)`` renames it. Readers
  /// may check ``temporaryPath`` in between (requant reads its output back there, so a bad
  /// output is never published). For standard output, only flushes.
  public func prepare() throws {
    try ensureOpen()
    do {
      if let compressor { try compressor.finish { try self.writeEncoded($0) } }
      try flush()
      guard temporaryPath != nil else { return }
      try SystemCalls.sync(fd, path: path)
      let closing = fd
      fd = -1
      try SystemCalls.closeChecked(closing, path: path)
    } catch {
      fail()
      throw error
    }
    state = .prepared
  }

  /// Finishes the output: flushes, `fsync`s, moves the temporary file to the final name and
  /// `fsync`s the directory. For standard output, only flushes.
  ///
  /// If the directory `fsync` fails after the rename, the new file is removed again and a file
  /// it replaced is put back, so an error always means "nothing changed".
  public func commit() throws {
    try Self.commitAll([self])
  }

  /// Commits several outputs as one set: all are finished and synced under their temporary
  /// names, then renamed one after another while SIGINT and SIGTERM are held back (a signal in
  /// that window takes effect once the set is complete or rolled back). Before a file at a final
  /// name is replaced, it gets a second hard link `.NAME.prev-PID-RANDOM`; if a rename or a
  /// directory `fsync` fails, the new files are removed and the previous ones renamed back.
  ///
  /// - Throws: the first ``FormatError``; every output is then abandoned and the final names
  ///   hold what they held before.
  public static func commitAll(_ outputs: [OutputFile]) throws {
    do {
      for o in outputs where o.state == .open { try o.prepare() }
      for o in outputs { try o.ensurePrepared() }
    } catch {
      for o in outputs { o.abandon() }
      throw error
    }
    for o in outputs where o.isStandardOutput { o.state = .committed }
    let files = outputs.filter { !$0.isStandardOutput }
    guard !files.isEmpty else { return }
    try TemporaryFileCleanup.holdingSignals {
      var placed: [(file: OutputFile, previous: String?)] = []
      do {
        for o in files {
          let previous = o.overwrite ? try o.keepPrevious() : nil
          do {
            try o.moveIntoPlace()
          } catch {
            if let previous { SystemCalls.unlinkQuietly(previous) }
            throw error
          }
          placed.append((o, previous))
        }
        var synced = Set<String>()
        for o in files where synced.insert(o.directory).inserted {
          do {
            try SystemCalls.syncDirectory(o.directory)
          } catch let error as FormatError {
            throw FormatError(.io, path: o.path, "output removed: \(error.message)")
          }
        }
      } catch {
        for (o, previous) in placed.reversed() {
          if let previous {
            SystemCalls.renameQuietly(previous, to: o.path)
          } else {
            o.removeFinalIfOurs()
          }
        }
        for o in files { o.fail() }
        throw error
      }
      for (o, previous) in placed {
        if let previous { SystemCalls.unlinkQuietly(previous) }
        o.state = .committed
        o.releaseCleanupEntry()
      }
    }
  }

  /// Gives up the output: removes the temporary file. Does nothing after ``commit()``.
  public func abandon() {
    if state == .open || state == .prepared { fail() }
  }

  /// Gives the file now at the final name a second name, so it can be put back if the set
  /// fails; `nil` when there is nothing at the final name.
  private func keepPrevious() throws -> String? {
    guard SystemCalls.exists(path) else { return nil }
    let (dir, base) = OutputFile.split(path)
    for _ in 0..<16 {
      let random = String(UInt32.random(in: 0...UInt32.max), radix: 16)
      let candidate =
        (dir == "." && !path.hasPrefix("./") ? "" : dir + "/")
        + ".\(base).prev-\(SystemCalls.processID)-\(random)"
      switch SystemCalls.linkPlain(path, candidate) {
      case nil: return candidate
      case EEXIST?: continue
      case ENOENT?: return nil  // removed meanwhile: nothing to keep
      case let code?:
        errno = code
        throw FormatError(.io, path: path, SystemCalls.errnoMessage("cannot keep the previous file as \(candidate)"))
      }
    }
    throw FormatError(.io, path: path, "cannot find a free name to keep the previous file")
  }

  private func moveIntoPlace() throws {
    guard let temporaryPath else { return }
    if overwrite {
      try SystemCalls.rename(temporaryPath, to: path)
      return
    }
    // link(2) fails with EEXIST if the name appeared since init: no race with another writer.
    switch SystemCalls.hardLink(temporaryPath, path) {
    case nil:
      SystemCalls.unlinkQuietly(temporaryPath)
    case EEXIST?:
      throw FormatError(.alreadyExists, path: path, "already exists (not overwriting)")
    case let code? where code == EPERM || code == EOPNOTSUPP || code == ENOTSUP || code == EMLINK:
      // File systems without hard links (FAT, some FUSE): check, then rename.
      if SystemCalls.exists(path) { throw FormatError(.alreadyExists, path: path, "already exists (not overwriting)") }
      try SystemCalls.rename(temporaryPath, to: path)
    case let code?:
      errno = code
      throw FormatError(.io, path: path, SystemCalls.errnoMessage("cannot move \(temporaryPath) to final name"))
    }
  }

  /// Removes the final name only while it is still this output's file (another run may have
  /// renamed its own file there since).
  private func removeFinalIfOurs() {
    if let identity, let st = SystemCalls.linkStatus(path), FileIdentity(st) == identity {
      SystemCalls.unlinkQuietly(path)
    }
  }

  private func ensureOpen() throws {
    switch state {
    case .open: return
    case .prepared: throw FormatError(.invalidState, path: path, "output already finished")
    case .committed: throw FormatError(.invalidState, path: path, "output already committed")
    case .failed: throw FormatError(.invalidState, path: path, "output abandoned after an earlier error")
    }
  }

  private func ensurePrepared() throws {
    if state == .prepared || (isStandardOutput && state == .open) { return }
    try ensureOpen()
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
    let wasLive = state == .open || state == .prepared
    state = .failed
    if wasLive && !isStandardOutput { discardTemporary() }
  }

  /// Removes the temporary file, only while it is still the file this output created.
  private func discardTemporary() {
    if fd >= 0 {
      SystemCalls.close(fd)
      fd = -1
    }
    if let temporaryPath, let st = SystemCalls.linkStatus(temporaryPath),
      identity == nil || FileIdentity(st) == identity
    {
      SystemCalls.unlinkQuietly(temporaryPath)
    }
    releaseCleanupEntry()
  }

  private func releaseCleanupEntry() {
    cleanupEntry?.release()
    cleanupEntry = nil
  }
}

/// Removes live temporary output files when the process is interrupted.
///
/// Each ``OutputFile`` registers its temporary path in a linked list of C strings that grows
/// without limit (a split run may have hundreds of shards in flight). Nodes are allocated outside
/// the handler and never freed, only marked dead, so the handler for SIGINT and SIGTERM can walk
/// the list without locks and unlink every live path (`unlink` is async-signal-safe); it then
/// restores the default action and re-raises the signal, so the exit status still says "killed
/// by signal" (a shell shows 130 for SIGINT, 143 for SIGTERM), as coreutils do.
///
/// While a set of outputs is being renamed into place (``holdingSignals(_:)``) the handler only
/// records the signal; it is acted on when the set is complete or rolled back, so an interrupt
/// never leaves half a set.
///
/// Work that is not an output registers the same way (``removeOnInterrupt(file:)``,
/// ``removeOnInterrupt(directory:)``, ``killOnInterrupt(_:)``): a scratch folder, its files and
/// the child processes writing them. The handler walks the list newest first, so a child started
/// after its files were registered is killed (and reaped) before they are unlinked, and a folder
/// registered before its files is removed after them.
public enum TemporaryFileCleanup {
  /// A registration: a node of the list, until ``release()``.
  public struct Entry: @unchecked Sendable {
    let node: UnsafeMutableRawPointer

    /// Forgets the registration: the path is not removed (or the process not killed) on an
    /// interrupt any more. Call it once the work is done or the path removed.
    public func release() { TemporaryFileCleanup.unregister(self) }
  }

  /// What the handler does with a node; 0 marks a released one.
  enum Action: UInt {
    case unlinkFile = 1
    case removeDirectory = 2
    case killProcess = 3
  }

  // Node layout: [next: UInt][action: UInt][payload: a path's bytes and NUL, or a pid as Int].
  // Raw C storage because the signal handler may not allocate, lock or touch Swift objects.
  static let head = Atomic<UInt>(0)
  static let lock = Mutex<Void>(())
  static let installed = Atomic<Bool>(false)
  /// Non-zero while a set of outputs is being renamed: the handler then only records the signal.
  static let holding = Atomic<Int>(0)
  /// The signal that arrived while ``holding`` was set (0: none).
  static let pending = Atomic<Int32>(0)

  /// Registers the file at `path` (which need not exist yet) for removal if the process is
  /// interrupted by SIGINT or SIGTERM, until the entry is released.
  public static func removeOnInterrupt(file path: String) -> Entry { register(path: path, action: .unlinkFile) }

  /// Registers the directory at `path` for removal (`rmdir`: it goes only once empty, so register
  /// it before the files it will hold) if the process is interrupted, until the entry is released.
  public static func removeOnInterrupt(directory path: String) -> Entry {
    register(path: path, action: .removeDirectory)
  }

  /// Registers a child process to be killed (SIGKILL, then reaped, so that it writes nothing more)
  /// if this process is interrupted, until the entry is released. Release it once the child was
  /// waited for: its pid may be reused afterwards.
  public static func killOnInterrupt(_ pid: pid_t) -> Entry {
    let node = UnsafeMutableRawPointer.allocate(byteCount: 16 + MemoryLayout<Int>.size, alignment: 8)
    node.storeBytes(of: Int(pid), toByteOffset: 16, as: Int.self)
    return publish(node, action: .killProcess)
  }

  static func register(path: String, action: Action) -> Entry {
    let utf8 = Array(path.utf8)
    let node = UnsafeMutableRawPointer.allocate(byteCount: 16 + utf8.count + 1, alignment: 8)
    let text = (node + 16).assumingMemoryBound(to: UInt8.self)
    for i in 0..<utf8.count { text[i] = utf8[i] }
    text[utf8.count] = 0
    return publish(node, action: action)
  }

  private static func publish(_ node: UnsafeMutableRawPointer, action: Action) -> Entry {
    node.storeBytes(of: action.rawValue, toByteOffset: 8, as: UInt.self)
    lock.withLock { _ in
      node.storeBytes(of: head.load(ordering: .acquiring), toByteOffset: 0, as: UInt.self)
      // Published only when complete: the handler sees the node whole or not at all.
      head.store(UInt(bitPattern: node), ordering: .releasing)
    }
    return Entry(node: node)
  }

  /// Forgets a path after its file was renamed or removed.
  static func unregister(_ entry: Entry) {
    lock.withLock { _ in entry.node.storeBytes(of: 0, toByteOffset: 8, as: UInt.self) }
  }

  /// Paths currently registered (for tests and diagnostics).
  public static var registeredPaths: [String] {
    lock.withLock { _ in
      var out: [String] = []
      var p = head.load(ordering: .acquiring)
      while let node = UnsafeMutableRawPointer(bitPattern: p) {
        let action = node.load(fromByteOffset: 8, as: UInt.self)
        if action != 0 && action != Action.killProcess.rawValue {
          out.append(String(cString: (node + 16).assumingMemoryBound(to: CChar.self)))
        }
        p = node.load(fromByteOffset: 0, as: UInt.self)
      }
      return out
    }
  }

  /// Installs the SIGINT and SIGTERM handlers once. A signal that is ignored (as under `nohup`)
  /// stays ignored.
  public static func installSignalHandlers() {
    guard !installed.exchange(true, ordering: .acquiringAndReleasing) else { return }
    _ = head.load(ordering: .relaxed)  // initialize the globals now, never inside the handler
    _ = holding.load(ordering: .relaxed)
    _ = pending.load(ordering: .relaxed)
    var handled = sigset_t()
    sigemptyset(&handled)
    for sig in [SIGINT, SIGTERM] {
      let old = signal(sig, cleanupSignalHandler)
      if let old, unsafeBitCast(old, to: Int.self) == 1 {  // SIG_IGN
        _ = signal(sig, old)
      } else {
        sigaddset(&handled, sig)
      }
    }
    // A mask is inherited across exec: a parent that starts us from a thread blocking these
    // signals (as libdispatch's worker threads do) would make them pend forever, and the run
    // could not be stopped. The calling thread (main, before any other) unblocks them; threads
    // started later inherit that.
    _ = pthread_sigmask(SIG_UNBLOCK, &handled, nil)
  }

  /// Runs `body` with SIGINT and SIGTERM held back: a signal arriving meanwhile is acted on
  /// (temporary files removed, the signal re-raised) when `body` returns or throws.
  public static func holdingSignals<T>(_ body: () throws -> T) rethrows -> T {
    holding.add(1, ordering: .sequentiallyConsistent)
    defer {
      if holding.subtract(1, ordering: .sequentiallyConsistent).newValue == 0 {
        let sig = pending.exchange(0, ordering: .sequentiallyConsistent)
        if sig != 0 { terminate(sig) }
      }
    }
    return try body()
  }

  /// Kills every registered child and removes every registered path, newest first. Only
  /// async-signal-safe calls.
  static func unlinkAll() {
    var p = head.load(ordering: .acquiring)
    while let node = UnsafeMutableRawPointer(bitPattern: p) {
      let payload = node + 16
      switch node.load(fromByteOffset: 8, as: UInt.self) {
      case Action.unlinkFile.rawValue:
        _ = unlink(payload.assumingMemoryBound(to: CChar.self))
      case Action.removeDirectory.rawValue:
        _ = rmdir(payload.assumingMemoryBound(to: CChar.self))
      case Action.killProcess.rawValue:
        let pid = pid_t(payload.load(as: Int.self))
        // SIGKILL cannot be caught, so the wait is short; once it has exited the child writes
        // nothing into the files unlinked next. WNOWAIT leaves it to be reaped by whoever waits
        // for it (Foundation's Process), not stolen from them.
        if kill(pid, SIGKILL) == 0 {
          var info = siginfo_t()
          _ = waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT)
        }
      default:
        break
      }
      p = node.load(fromByteOffset: 0, as: UInt.self)
    }
  }

  /// Removes temporary files and dies by `sig` with its default action.
  static func terminate(_ sig: Int32) {
    unlinkAll()
    _ = signal(sig, SIG_DFL)
    _ = raise(sig)
  }
}

private func cleanupSignalHandler(_ sig: Int32) {
  if TemporaryFileCleanup.holding.load(ordering: .sequentiallyConsistent) > 0 {
    TemporaryFileCleanup.pending.store(sig, ordering: .sequentiallyConsistent)
    return
  }
  TemporaryFileCleanup.terminate(sig)
}

extension OutputFile {
  /// Writes `text` as the whole of `path` under the output contract (temporary name, fsync,
  /// rename; never over an input; an existing file only with `overwrite`); `-` is standard output.
  public static func write(_ text: String, to path: String, overwrite: Bool, inputs: [String]) throws {
    let out = try OutputFile(path: path, overwrite: overwrite, inputs: inputs)
    try out.write(text)
    try out.commit()
  }
}
