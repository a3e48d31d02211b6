import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The one place where quantscope talks to the operating system about files.
///
/// Each function is a thin typed wrapper over one C call that turns `-1` into a thrown
/// ``FormatError`` carrying `strerror(errno)`.
enum SystemCalls {
  static func errnoMessage(_ what: String) -> String {
    "\(what): \(String(cString: strerror(errno)))"
  }

  /// Opens an input for reading without ever blocking: `O_NONBLOCK` makes `open` of a FIFO with
  /// no writer return at once (instead of waiting for one), and the `fstat` that follows refuses
  /// anything that is not a regular file. Returns the descriptor and its status.
  /// The corresponding C functions are `open(O_RDONLY | O_NONBLOCK)` and `fstat`.
  static func openRegularInput(_ path: String) throws -> (fd: Int32, status: stat) {
    let fd = try open(path, flags: O_RDONLY | O_NONBLOCK)
    do {
      let st = try fileStatus(fd, path: path)
      let kind = st.st_mode & S_IFMT
      guard kind == S_IFREG else {
        throw FormatError(
          .unsupported, path: path, kind == S_IFDIR ? "is a directory" : "not a regular file (\(kindName(kind)))")
      }
      return (fd, st)
    } catch {
      close(fd)
      throw error
    }
  }

  /// The kind of file a `st_mode` names, in words.
  static func kindName(_ kind: mode_t) -> String {
    switch kind {
    case S_IFREG: "a regular file"
    case S_IFDIR: "a directory"
    case S_IFCHR: "a character device"
    case S_IFBLK: "a block device"
    case S_IFIFO: "a FIFO"
    case S_IFSOCK: "a socket"
    case S_IFLNK: "a symbolic link"
    default: "an unknown kind of file"
    }
  }

  /// The status of `path` after following symbolic links, or `nil` if it does not exist.
  /// The corresponding C function is `stat`.
  static func status(_ path: String) -> stat? {
    var st = stat()
    return stat(path, &st) == 0 ? st : nil
  }

  /// The status of `path` itself (a symbolic link is not followed), or `nil`.
  /// The corresponding C function is `lstat`.
  static func linkStatus(_ path: String) -> stat? {
    var st = stat()
    return lstat(path, &st) == 0 ? st : nil
  }

  /// Opens `path` with `flags`. The corresponding C function is `open`.
  static func open(_ path: String, flags: Int32, mode: mode_t = 0) throws -> Int32 {
    while true {
      let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
      if fd >= 0 { return fd }
      if errno == EINTR { continue }
      throw FormatError(.io, path: path, errnoMessage("cannot open"))
    }
  }

  /// The size and kind of an open file. The corresponding C function is `fstat`.
  static func fileStatus(_ fd: Int32, path: String) throws -> stat {
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw FormatError(.io, path: path, errnoMessage("cannot stat")) }
    return st
  }

  /// Closes a descriptor, ignoring errors on read-only files. The corresponding C function is `close`.
  static func close(_ fd: Int32) { _ = Glibc.close(fd) }

  /// Maps `count` bytes of `fd` read-only and private. The corresponding C function is `mmap`.
  static func mapReadOnly(_ fd: Int32, count: Int, path: String) throws -> UnsafeRawPointer {
    let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
    guard let p, p != MAP_FAILED else { throw FormatError(.io, path: path, errnoMessage("cannot map")) }
    return UnsafeRawPointer(p)
  }

  /// Unmaps a mapping made by ``mapReadOnly(_:count:path:)``. The corresponding C function is `munmap`.
  static func unmap(_ base: UnsafeRawPointer, count: Int) {
    _ = munmap(UnsafeMutableRawPointer(mutating: base), count)
  }

  /// Gives the kernel a hint about how a range will be read. The corresponding C function is `madvise`.
  static func advise(_ base: UnsafeRawPointer, count: Int, advice: Int32) {
    _ = madvise(UnsafeMutableRawPointer(mutating: base), count, advice)
  }

  /// The size of a memory page. The corresponding C function is `sysconf(_SC_PAGESIZE)`.
  static let pageSize: Int = Int(sysconf(Int32(_SC_PAGESIZE)))
}

// MARK: - Writing files

extension SystemCalls {
  /// Creates `path` for writing, failing if anything already exists at that name.
  ///
  /// - Parameter mode: permission bits before the process umask is applied.
  /// The corresponding C function is `open(path, O_WRONLY | O_CREAT | O_EXCL, mode)`.
  static func createExclusive(_ path: String, mode: mode_t = 0o666) throws -> Int32 {
    while true {
      let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
      if fd >= 0 { return fd }
      if errno == EINTR { continue }
      throw FormatError(.io, path: path, errnoMessage("cannot create"))
    }
  }

  /// Writes all of `bytes` to `fd`, retrying after partial writes and `EINTR`.
  ///
  /// - Parameters:
  ///   - path: named in the error, and matched against an installed ``FaultPlan``.
  ///   - offset: how many bytes were written to this file before, for the error message.
  /// The corresponding C function is `write`.
  static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String, offset: Int) throws {
    guard var p = bytes.baseAddress else { return }
    var left = bytes.count
    var done = offset
    while left > 0 {
      var n: Int
      if FaultInjection.isArmed, let injected = FaultInjection.interceptWrite(path: path, count: left) {
        switch injected {
        case .partial(let allowed): n = Glibc.write(fd, p, allowed)
        case .fail(let code): n = -1; errno = code
        }
      } else {
        n = Glibc.write(fd, p, left)
      }
      if n < 0 {
        if errno == EINTR { continue }
        throw FormatError(.io, path: path, errnoMessage("cannot write"), at: .byte(done))
      }
      if n == 0 { throw FormatError(.io, path: path, "cannot write: no progress", at: .byte(done)) }
      p += n
      left -= n
      done += n
    }
  }

  /// Reads exactly `buffer.count` bytes at `offset` of `fd`, retrying after short reads and `EINTR`.
  /// The corresponding C function is `pread`.
  static func readAll(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int, path: String) throws {
    guard var p = buffer.baseAddress else { return }
    var left = buffer.count
    var at = offset
    while left > 0 {
      let n = Glibc.pread(fd, p, left, off_t(at))
      if n < 0 {
        if errno == EINTR { continue }
        throw FormatError(.io, path: path, errnoMessage("cannot read"), at: .byte(at))
      }
      if n == 0 { throw FormatError(.truncated, path: path, "ends early: cannot read", at: .byte(at)) }
      p += n
      left -= n
      at += n
    }
  }

  /// Flushes a file's data and metadata to stable storage. The corresponding C function is `fsync`.
  static func sync(_ fd: Int32, path: String) throws {
    if FaultInjection.isArmed, let code = FaultInjection.interceptSync(path: path) {
      errno = code
      throw FormatError(.io, path: path, errnoMessage("cannot fsync"))
    }
    while Glibc.fsync(fd) != 0 {
      if errno == EINTR { continue }
      // Pipes, terminals and some special files cannot be synced; that is not a failure.
      if errno == EINVAL || errno == EROFS { return }
      throw FormatError(.io, path: path, errnoMessage("cannot fsync"))
    }
  }

  /// Closes a descriptor that was written to, reporting a failure (which can mean lost data on
  /// network file systems). The corresponding C function is `close`.
  static func closeChecked(_ fd: Int32, path: String) throws {
    if Glibc.close(fd) != 0 && errno != EINTR {
      throw FormatError(.io, path: path, errnoMessage("cannot close"))
    }
  }

  /// Flushes a directory's entries, making a rename inside it durable.
  /// The corresponding C functions are `open(O_RDONLY | O_DIRECTORY)` and `fsync`.
  static func syncDirectory(_ directory: String) throws {
    if FaultInjection.isArmed, let code = FaultInjection.interceptSync(path: directory + "/") {
      errno = code
      throw FormatError(.io, path: directory, errnoMessage("cannot fsync directory"))
    }
    let fd = try open(directory, flags: O_RDONLY | O_DIRECTORY)
    defer { close(fd) }
    while Glibc.fsync(fd) != 0 {
      if errno == EINTR { continue }
      if errno == EINVAL || errno == EROFS { return }
      throw FormatError(.io, path: directory, errnoMessage("cannot fsync directory"))
    }
  }

  /// Moves `from` to `to`, replacing `to` if it exists. The corresponding C function is `rename`.
  static func rename(_ from: String, to: String) throws {
    if FaultInjection.isArmed, let code = FaultInjection.interceptRename(path: to) {
      errno = code
      throw FormatError(.io, path: to, errnoMessage("cannot rename \(from) to final name"))
    }
    guard Glibc.rename(from, to) == 0 else {
      throw FormatError(.io, path: to, errnoMessage("cannot rename \(from) to final name"))
    }
  }

  /// Gives `existing` the additional name `new`, failing with `EEXIST` if `new` exists.
  /// Returns the `errno` on failure instead of throwing, so callers can fall back.
  /// The corresponding C function is `link`.
  static func hardLink(_ existing: String, _ new: String) -> Int32? {
    if FaultInjection.isArmed, let code = FaultInjection.interceptRename(path: new) { return code }
    return Glibc.link(existing, new) == 0 ? nil : errno
  }

  /// Gives `existing` the additional name `new` without fault injection (used to keep a file
  /// that is about to be replaced); returns the `errno` on failure. The corresponding C
  /// function is `link`.
  static func linkPlain(_ existing: String, _ new: String) -> Int32? {
    Glibc.link(existing, new) == 0 ? nil : errno
  }

  /// Moves `from` to `to`, ignoring errors (used to roll back). The corresponding C function
  /// is `rename`.
  static func renameQuietly(_ from: String, to: String) { _ = Glibc.rename(from, to) }

  /// Removes a name; errors are ignored (used for cleanup). The corresponding C function is `unlink`.
  static func unlinkQuietly(_ path: String) { _ = Glibc.unlink(path) }

  /// Whether anything (file, directory, dangling link) exists at `path`.
  /// The corresponding C function is `lstat`.
  static func exists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
  }

  /// Whether `path` names a directory. The corresponding C function is `stat`.
  static func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
  }

  /// Whether `fd` is a terminal. The corresponding C function is `isatty`.
  static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

  /// The process id, used to make temporary names unique. The corresponding C function is `getpid`.
  static var processID: Int32 { getpid() }
}

// MARK: - Fault injection for tests

/// A planned failure of the file-writing system calls, for testing that outputs never appear
/// half-written.
///
/// A plan applies only to paths that start with ``scope`` (normally a test's own temporary
/// directory plus `/`), so tests running in parallel in other directories are not affected.
/// While no plan is installed, the cost to every write is one relaxed atomic load.
///
/// `package` visibility: the package's tests install plans; the shipped libraries do not offer
/// them (swift-system keeps its mocking out of the public API the same way).
package struct FaultPlan: Sendable, Hashable, CustomStringConvertible {
  /// Which call fails, and how.
  package enum Failure: Sendable, Hashable {
    /// `write` stores bytes up to file offset `atByte` (counted over all files in scope), then
    /// fails with `errno`.
    case writeFails(atByte: Int, errno: Int32)
    /// Like ``writeFails(atByte:errno:)`` with `ENOSPC`: the disk fills up at `atByte`.
    case noSpace(atByte: Int)
    /// `fsync` of a written file fails with `errno`.
    case fsyncFails(errno: Int32)
    /// Renaming (or linking) the finished temporary file to its final name fails with `errno`.
    case renameFails(errno: Int32)
    /// `fsync` of the directory after the rename fails with `EIO`.
    case directorySyncFails
  }

  /// Path prefix the plan applies to.
  package var scope: String
  /// The failure to inject.
  package var failure: Failure

  /// Creates a plan that injects `failure` into calls on paths starting with `scope`.
  package init(scope: String, failure: Failure) {
    self.scope = scope
    self.failure = failure
  }

  /// The failure in words, for test messages.
  package var description: String {
    switch failure {
    case .writeFails(let n, let e): "write fails at byte \(n) (errno \(e))"
    case .noSpace(let n): "ENOSPC at byte \(n)"
    case .fsyncFails(let e): "fsync fails (errno \(e))"
    case .renameFails(let e): "rename fails (errno \(e))"
    case .directorySyncFails: "directory fsync fails"
    }
  }

  /// Runs `body` with this plan installed, removing it afterwards even if `body` throws.
  package func whileInstalled<T>(_ body: () throws -> T) rethrows -> T {
    let id = FaultInjection.install(self)
    defer { FaultInjection.remove(id) }
    return try body()
  }
}

/// The installed fault plans and how far each has got.
enum FaultInjection {
  enum WriteOutcome { case partial(Int), fail(Int32) }

  struct Active {
    var plan: FaultPlan
    var bytesSeen = 0
  }

  static let armedCount = Atomic<Int>(0)
  static let plans = Mutex<(nextID: Int, active: [Int: Active])>((0, [:]))

  /// Whether any plan is installed; the only cost in production.
  @inline(__always) static var isArmed: Bool { armedCount.load(ordering: .relaxed) > 0 }

  static func install(_ plan: FaultPlan) -> Int {
    let id = plans.withLock { state in
      state.nextID += 1
      state.active[state.nextID] = Active(plan: plan)
      return state.nextID
    }
    armedCount.add(1, ordering: .relaxed)
    return id
  }

  static func remove(_ id: Int) {
    plans.withLock { _ = $0.active.removeValue(forKey: id) }
    armedCount.subtract(1, ordering: .relaxed)
  }

  static func interceptWrite(path: String, count: Int) -> WriteOutcome? {
    plans.withLock { state in
      for (id, var a) in state.active where path.hasPrefix(a.plan.scope) {
        let limit: Int, code: Int32
        switch a.plan.failure {
        case .writeFails(let n, let e): (limit, code) = (n, e)
        case .noSpace(let n): (limit, code) = (n, ENOSPC)
        default: continue
        }
        if a.bytesSeen >= limit { return .fail(code) }
        if a.bytesSeen + count > limit {
          let allowed = limit - a.bytesSeen
          a.bytesSeen = limit
          state.active[id] = a
          return .partial(allowed)
        }
        a.bytesSeen += count
        state.active[id] = a
      }
      return nil
    }
  }

  /// `path` ends in `/` for a directory sync.
  static func interceptSync(path: String) -> Int32? {
    plans.withLock { state in
      for a in state.active.values where path.hasPrefix(a.plan.scope) {
        switch a.plan.failure {
        case .fsyncFails(let e) where !path.hasSuffix("/"): return e
        case .directorySyncFails where path.hasSuffix("/"): return EIO
        default: continue
        }
      }
      return nil
    }
  }

  static func interceptRename(path: String) -> Int32? {
    plans.withLock { state in
      for a in state.active.values where path.hasPrefix(a.plan.scope) {
        if case .renameFails(let e) = a.plan.failure { return e }
      }
      return nil
    }
  }
}
