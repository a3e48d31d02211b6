import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Turns a SIGBUS from a mapped input file into a one-line error instead of a crash.
///
/// When a file shrinks (is truncated or rewritten) while quantscope has it mapped, touching a
/// page past its new end raises SIGBUS. Every range handed out by ``MappedFile`` was checked
/// against the size at open, so this can only happen when the file changed underneath. With
/// ``installSignalHandler()`` the process then prints
/// `quantscope: error: PATH: input file changed while being read (SIGBUS)`, removes live
/// temporary outputs (see ``TemporaryFileCleanup``) and exits with status 1.
///
/// The handler uses only async-signal-safe calls (`write`, `unlink`, `_exit`) and plain reads of
/// a fixed table of mappings (base, size, path) that ``MappedFile`` fills in; a mapping beyond
/// the table's slots is reported without its path.
public enum MappedInputGuard {
  static let slotCount = 256
  static let pathBytes = Int(PATH_MAX)

  // Raw C storage: the handler may not allocate, lock or touch Swift objects.
  nonisolated(unsafe) static let bases: UnsafeMutablePointer<UInt> = {
    let p = UnsafeMutablePointer<UInt>.allocate(capacity: slotCount)
    p.initialize(repeating: 0, count: slotCount)
    return p
  }()
  nonisolated(unsafe) static let sizes: UnsafeMutablePointer<UInt> = {
    let p = UnsafeMutablePointer<UInt>.allocate(capacity: slotCount)
    p.initialize(repeating: 0, count: slotCount)
    return p
  }()
  nonisolated(unsafe) static let paths: UnsafeMutablePointer<UInt8> = {
    let p = UnsafeMutablePointer<UInt8>.allocate(capacity: slotCount * pathBytes)
    p.initialize(repeating: 0, count: slotCount * pathBytes)
    return p
  }()
  static let lock = Mutex<Void>(())
  static let installed = Atomic<Bool>(false)
  /// Set by the first thread to take a SIGBUS: several workers reading the shrunk file fault at
  /// once, and only one may print the message.
  static let reporting = Atomic<Bool>(false)

  /// Records a mapping so the handler can name its file; returns the slot, or `nil` if full.
  static func register(base: UnsafeRawPointer, size: Int, path: String) -> Int? {
    let utf8 = Array(path.utf8.prefix(pathBytes - 1))
    return lock.withLock { _ in
      for slot in 0..<slotCount where bases[slot] == 0 {
        let dst = paths + slot * pathBytes
        for i in 0..<utf8.count { dst[i] = utf8[i] }
        dst[utf8.count] = 0
        sizes[slot] = UInt(size)
        bases[slot] = UInt(bitPattern: base)
        return slot
      }
      return nil
    }
  }

  /// Forgets a mapping before it is unmapped.
  static func unregister(_ slot: Int) {
    lock.withLock { _ in bases[slot] = 0 }
  }

  /// Installs the SIGBUS handler (once per process). Only the command-line tool calls this: a
  /// library user keeps whatever SIGBUS handling their process has.
  public static func installSignalHandler() {
    guard !installed.exchange(true, ordering: .acquiringAndReleasing) else { return }
    _ = bases  // initialize the tables now, never inside the handler
    _ = sizes
    _ = paths
    _ = TemporaryFileCleanup.head.load(ordering: .relaxed)
    _ = reporting.load(ordering: .relaxed)
    var action = sigaction()
    action.__sigaction_handler.sa_sigaction = busErrorHandler
    action.sa_flags = SA_SIGINFO
    sigemptyset(&action.sa_mask)
    _ = sigaction(SIGBUS, &action, nil)
  }
}

/// Writes a C buffer to standard error with `write(2)` only.
private func writeError(_ p: UnsafePointer<UInt8>, _ count: Int) {
  var done = 0
  while done < count {
    let n = write(2, p + done, count - done)
    if n <= 0 { return }
    done += n
  }
}

private func writeError(_ s: StaticString) {
  writeError(s.utf8Start, s.utf8CodeUnitCount)
}

private func busErrorHandler(
  _ sig: Int32, _ info: UnsafeMutablePointer<siginfo_t>?, _ context: UnsafeMutableRawPointer?
) {
  // Another thread is already reporting and about to exit the process: wait for it.
  if MappedInputGuard.reporting.exchange(true, ordering: .acquiringAndReleasing) {
    while true { pause() }
  }
  let address = UInt(bitPattern: info?.pointee._sifields._sigfault.si_addr)
  writeError("quantscope: error: ")
  var named = false
  for slot in 0..<MappedInputGuard.slotCount {
    let base = MappedInputGuard.bases[slot]
    if base != 0 && address >= base && address - base < MappedInputGuard.sizes[slot] {
      let path = UnsafePointer(MappedInputGuard.paths + slot * MappedInputGuard.pathBytes)
      writeError(path, strlen(UnsafeRawPointer(path).assumingMemoryBound(to: CChar.self)))
      writeError(": ")
      named = true
      break
    }
  }
  if !named { writeError("a mapped file: ") }
  writeError("input file changed while being read (SIGBUS)\n")
  TemporaryFileCleanup.unlinkAll()
  _exit(1)
}
