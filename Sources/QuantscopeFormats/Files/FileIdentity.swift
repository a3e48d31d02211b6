import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A file as the kernel knows it: device and inode. Two paths name the same file exactly when
/// their identities (after following symbolic links) are equal — whatever links, `..` or hard
/// links lie between them.
public struct FileIdentity: Hashable, Sendable, CustomStringConvertible {
  /// The device the file is on (`st_dev`).
  public var device: UInt64
  /// The inode number (`st_ino`).
  public var inode: UInt64

  init(_ st: stat) {
    device = UInt64(st.st_dev)
    inode = UInt64(st.st_ino)
  }

  /// The identity of the file `path` names after following links; `nil` if nothing is there.
  public init?(path: String) {
    guard let st = SystemCalls.status(path) else { return nil }
    self.init(st)
  }

  public var description: String { "device \(device), inode \(inode)" }
}

/// Every file currently mapped by a ``MappedFile``, so the output layer can refuse to replace an
/// input that is being read even when a caller forgot to name it (a safety net; commands still
/// pass their inputs explicitly, see ``OutputFile/checkTargets(_:overwrite:inputs:)``).
enum OpenInputs {
  private static let live = Mutex<[FileIdentity: (path: String, count: Int)]>([:])

  static func add(_ id: FileIdentity, path: String) {
    live.withLock { table in
      if let entry = table[id] {
        table[id] = (entry.path, entry.count + 1)
      } else {
        table[id] = (path, 1)
      }
    }
  }

  static func remove(_ id: FileIdentity) {
    live.withLock { table in
      guard let entry = table[id] else { return }
      table[id] = entry.count > 1 ? (entry.path, entry.count - 1) : nil
    }
  }

  /// The path of the mapped input with identity `id`, if one is mapped.
  static func path(of id: FileIdentity) -> String? {
    live.withLock { $0[id]?.path }
  }
}
