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

  /// Opens `path` with `flags`. The corresponding C function is `open`.
  static func open(_ path: String, flags: Int32, mode: mode_t = 0) throws -> Int32 {
    while true {
      let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
      if fd >= 0 { return fd }
      if errno == EINTR { continue }
      throw FormatError(path: path, errnoMessage("cannot open"))
    }
  }

  /// The size and kind of an open file. The corresponding C function is `fstat`.
  static func fileStatus(_ fd: Int32, path: String) throws -> stat {
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw FormatError(path: path, errnoMessage("cannot stat")) }
    return st
  }

  /// Closes a descriptor, ignoring errors on read-only files. The corresponding C function is `close`.
  static func close(_ fd: Int32) { _ = Glibc.close(fd) }

  /// Maps `count` bytes of `fd` read-only and private. The corresponding C function is `mmap`.
  static func mapReadOnly(_ fd: Int32, count: Int, path: String) throws -> UnsafeRawPointer {
    let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
    guard let p, p != MAP_FAILED else { throw FormatError(path: path, errnoMessage("cannot map")) }
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
