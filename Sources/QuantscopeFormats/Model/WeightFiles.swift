#if canImport(Glibc)
  import Glibc
#endif

/// Opens weight files of any supported format.
public enum WeightFiles {
  /// The format of a path, decided from its contents (GGUF magic) or, for safetensors, its name
  /// or being a directory.
  public enum Format: Sendable { case gguf, safetensors }

  /// Detects the format of `path`.
  public static func format(of path: String) throws -> Format {
    var st = stat()
    guard stat(path, &st) == 0 else { throw FormatError(.notFound, path: path, "no such file or directory") }
    if (st.st_mode & S_IFMT) == S_IFDIR { return .safetensors }
    let file = try MappedFile(path: path)
    if file.size >= 4, file.allBytes.prefix(4).elementsEqual("GGUF".utf8) { return .gguf }
    if path.hasSuffix(".safetensors") || path.hasSuffix(".json") { return .safetensors }
    // safetensors starts with a u64 header length followed by '{' (JSON whitespace may come
    // first: the reference reader accepts it).
    let bytes = file.allBytes
    var i = 8
    while i < bytes.count, i < 4096, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
    if i < bytes.count, bytes[i] == UInt8(ascii: "{") { return .safetensors }
    throw FormatError(.badMagic, path: path, "neither GGUF nor safetensors", at: .byte(0))
  }

  /// Opens `paths` (one GGUF, one shard of a split GGUF set, a safetensors file, a checkpoint
  /// directory, or several safetensors shards) as one tensor collection.
  ///
  /// - Parameter allowingTruncation: open a GGUF cut off before the end of its tensor data
  ///   (see ``GGUFModel/init(truncatedPath:)``) instead of throwing.
  public static func open(_ paths: [String], allowingTruncation: Bool = false) throws -> any TensorCollection {
    guard let first = paths.first else { throw FormatError(.usage, path: "", "no input given") }
    switch try format(of: first) {
    case .gguf:
      guard paths.count == 1 else {
        throw FormatError(
          .usage, path: paths[1], "give one GGUF path; the other shards of a split set are found by name")
      }
      return allowingTruncation ? try GGUFModel(truncatedPath: first) : try GGUFModel(path: first)
    case .safetensors:
      return try SafetensorsCheckpoint(paths: paths)
    }
  }
}
