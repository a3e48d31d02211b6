#if canImport(Glibc)
  import Glibc
#endif

/// A safetensors checkpoint: one file, a directory with `model.safetensors.index.json`, or a list
/// of shards, presented as one set of tensors.
///
/// Every shard is validated as the Rust crate validates it (``SafetensorsFile``). With an index,
/// every file it names must exist and hold the tensors it maps there, and every tensor of a shard
/// must be in the index (llama.cpp's converter makes the same check). Without an index, a tensor
/// name may appear in only one file. A `config.json` beside the shards is read when present.
///
/// Only headers are read: opening a 700 GB checkpoint maps its files and touches a few MB.
public struct SafetensorsCheckpoint: TensorCollection {
  /// The shards, in shard order.
  public let shards: [SafetensorsFile]
  /// The index, when the checkpoint has one.
  public let index: SafetensorsIndex?
  /// The parsed `config.json` beside the shards, when present.
  public let config: JSONValue?
  /// The path of `config.json`, when present.
  public let configPath: String?
  /// Every tensor: shard order, then data offset.
  public let tensors: [TensorInfo]
  /// The shards' `__metadata__` strings (each key once, first shard first), then `config.KEY`
  /// entries from `config.json`, nested keys joined with dots.
  public let metadataEntries: [(key: String, value: GGUFValue)]

  /// Position in ``tensors`` of each name, for lookups in checkpoints of ~100,000 tensors.
  let indexByName: [String: Int]

  /// The mapped shard files, in shard order.
  public var files: [MappedFile] { shards.map(\.file) }

  /// The tensor with this name, if any, found by hashing rather than a linear search.
  public func tensor(named name: String) -> TensorInfo? {
    indexByName[name].map { tensors[$0] }
  }

  /// Opens a checkpoint from one file, a directory, an index `.json`, or a list of shard files.
  public init(paths: [String]) throws {
    guard let first = paths.first else { throw FormatError(.usage, path: "", "no input given") }
    var directory = Self.directory(of: first)
    var shardPaths: [String]
    var index: SafetensorsIndex?
    if paths.count == 1, Self.isDirectory(first) {
      directory = first
      let indexPath = Self.join(first, SafetensorsIndex.fileName)
      if Self.isRegularFile(indexPath) {
        index = try SafetensorsIndex(path: indexPath)
        shardPaths = []
      } else {
        shardPaths = try Self.listSafetensors(in: first)
        guard !shardPaths.isEmpty else {
          throw FormatError(
            .notFound, path: first, "directory holds no \(SafetensorsIndex.fileName) and no .safetensors files")
        }
      }
    } else if paths.count == 1, first.hasSuffix(".json") {
      index = try SafetensorsIndex(path: first)
      shardPaths = []
    } else {
      for p in paths where p.hasSuffix(".json") || Self.isDirectory(p) {
        throw FormatError(.usage, path: p, "give an index or a directory alone, or a list of .safetensors shards")
      }
      shardPaths = paths
    }

    let shardNames = index?.shardFiles ?? []
    if let index {
      shardPaths = []
      var firstUse: [String: SafetensorsIndex.Entry] = [:]
      for entry in index.weightMap where firstUse[entry.file] == nil { firstUse[entry.file] = entry }
      for name in shardNames {
        let p = Self.join(directory, name)
        guard Self.isRegularFile(p) else {
          let entry = firstUse[name]
          throw FormatError(
            .notFound,
            path: index.path, "shard file \(name) named in the index does not exist", tensor: entry?.tensor,
            at: entry.map { .byte($0.offset) })
        }
        shardPaths.append(p)
      }
    }

    let shards = try shardPaths.map { try SafetensorsFile(path: $0) }

    // Where each tensor is, checking that no name is in two shards.
    var location: [String: (shard: Int, tensor: Int)] = [:]
    location.reserveCapacity(shards.reduce(0) { $0 + $1.tensors.count })
    for (s, shard) in shards.enumerated() {
      for (t, tensor) in shard.tensors.enumerated() {
        if let other = location[tensor.name] {
          throw FormatError(
            .malformed,
            path: shard.path, "tensor is also in \(shards[other.shard].path)", tensor: tensor.name,
            at: .header(shard.headerOffsets[t]))
        }
        location[tensor.name] = (s, t)
      }
    }

    if let index {
      let shardOf = Dictionary(
        shardNames.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
      var listed = Set<String>()
      listed.reserveCapacity(index.weightMap.count)
      for entry in index.weightMap {
        guard let s = shardOf[entry.file], let where_ = location[entry.tensor], where_.shard == s else {
          throw FormatError(
            .malformed,
            path: index.path, "tensor is not in its shard \(entry.file)", tensor: entry.tensor, at: .byte(entry.offset))
        }
        listed.insert(entry.tensor)
      }
      for shard in shards {
        for (t, tensor) in shard.tensors.enumerated() where !listed.contains(tensor.name) {
          throw FormatError(
            .malformed,
            path: shard.path, "tensor is not listed in \(SafetensorsIndex.fileName)", tensor: tensor.name,
            at: .header(shard.headerOffsets[t]))
        }
      }
    }

    var config: JSONValue?
    var configPath: String?
    let candidate = Self.join(directory, "config.json")
    if Self.isRegularFile(candidate) {
      let file = try MappedFile(path: candidate)
      let value = try JSONValue.parse(file.allBytes, path: candidate)
      guard case .object = value else {
        throw FormatError(
          .malformed, path: candidate, "config.json is not a JSON object", at: .byte(0))
      }
      config = value
      configPath = candidate
    }

    var entries: [(key: String, value: GGUFValue)] = []
    var seen = Set<String>()
    for shard in shards {
      for (key, value) in shard.metadata where !seen.contains(key) {
        seen.insert(key)
        entries.append((key, .string(value)))
      }
    }
    if let config { Self.flatten(config, prefix: "config", into: &entries) }

    self.shards = shards
    self.index = index
    self.config = config
    self.configPath = configPath
    let all = shards.flatMap(\.tensors)
    self.tensors = all
    self.indexByName = Dictionary(all.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
    self.metadataEntries = entries
  }

  /// Opens a checkpoint from one path (file, directory or index).
  public init(path: String) throws {
    try self.init(paths: [path])
  }

  // MARK: config.json as metadata entries

  /// Adds `value` under `prefix`: objects recurse with dotted keys, `null` is left out.
  static func flatten(_ value: JSONValue, prefix: String, into entries: inout [(key: String, value: GGUFValue)]) {
    if case .object(let members) = value {
      for m in members { flatten(m.value, prefix: prefix + "." + m.key, into: &entries) }
    } else if let v = ggufValue(value) {
      entries.append((prefix, v))
    }
  }

  /// A JSON value as a GGUF value: integers as int64, other numbers as float64, arrays typed by
  /// their elements (mixed integers and floats become float64; other mixtures, and objects inside
  /// arrays, become their JSON text).
  static func ggufValue(_ value: JSONValue) -> GGUFValue? {
    switch value {
    case .null: return nil
    case .bool(let b): return .bool(b)
    case .integer(let i): return .int64(i)
    case .number(let d): return .float64(d)
    case .unsigned(let u): return .uint64(u)
    case .string(let s): return .string(s)
    case .object: return .string(value.serialized)
    case .array(let elements):
      let converted = elements.map { ggufValue($0) ?? .string("null") }
      let types = Set(converted.map(\.type))
      if types.count <= 1 {
        return .array(elementType: types.first ?? .string, converted)
      }
      if types == [.int64, .float64] {
        return .array(elementType: .float64, converted.map { .float64($0.number ?? .nan) })
      }
      return .array(elementType: .string, elements.map { .string($0.serialized) })
    }
  }

  // MARK: paths

  static func join(_ directory: String, _ name: String) -> String {
    directory.hasSuffix("/") ? directory + name : directory + "/" + name
  }

  static func directory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
  }

  static func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
  }

  static func isRegularFile(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
  }

  /// The `.safetensors` files of a directory, by name.
  static func listSafetensors(in directory: String) throws -> [String] {
    guard let dir = opendir(directory) else { throw FormatError(.io, path: directory, "cannot list directory") }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
      let name = withUnsafePointer(to: entry.pointee.d_name) {
        $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
      }
      if name.hasSuffix(".safetensors"), isRegularFile(join(directory, name)) { names.append(name) }
    }
    return names.sorted { $0.utf8Precedes($1) }.map { join(directory, $0) }
  }
}
