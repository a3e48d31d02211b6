import Foundation

/// What one shard of a sharded run writes (`--shard K/N -o PART`): the mergeable sums behind the
/// command's figures, wrapped in what `merge` needs to refuse a wrong set of parts.
///
/// The document (schema `quantscope.partial/1`) holds the command, the job — the identity of the
/// inputs and every option that changes the result — and its hash, the quantscope version, the
/// shard `K/N` and the command's payload. Parts merge only when they share the command, the job
/// hash and the version, and cover shards 1…N exactly once.
public struct PartialResult: Sendable {
  /// The schema of the document.
  public static let schema = "quantscope.partial/1"

  /// The command that wrote the part (`diff`, `hash`).
  public let command: String
  /// The job: `inputs` (see ``identity(of:as:)``) and `options`, as the command records them.
  public let job: JSONValue
  /// XXH3-128 of the job's compact serialization: equal for the parts of one job.
  public let jobHash: String
  /// The quantscope version that wrote the part.
  public let version: String
  /// Which shard this is.
  public let shard: ShardSpec
  /// The command's mergeable result for this shard's share of the work.
  public let payload: JSONValue

  /// A part written by this quantscope.
  public init(command: String, job: JSONValue, shard: ShardSpec, payload: JSONValue) {
    self.init(command: command, job: job, version: QuantscopeVersion.number, shard: shard, payload: payload)
  }

  init(command: String, job: JSONValue, version: String, shard: ShardSpec, payload: JSONValue) {
    self.command = command
    self.job = job
    self.jobHash = XXH3.hash128(Array(job.serialized.utf8)).hex
    self.version = version
    self.shard = shard
    self.payload = payload
  }

  /// The document; `quantscope_version` is the writer's, as in every quantscope document.
  public var jsonDocument: JSONValue {
    .members([
      ("schema", .string(Self.schema)), ("quantscope_version", .string(version)), ("command", .string(command)),
      ("job_xxh3_128", .string(jobHash)), ("shard", .int(shard.index)), ("shards", .int(shard.count)),
      ("job", job), ("payload", payload),
    ])
  }

  /// The document as compact JSON text, newline-terminated (parts are for machines; compact keeps
  /// the per-tensor sums of a large model small).
  public var jsonText: String { jsonDocument.serialized + "\n" }

  /// Reads a part written by ``jsonText`` (zstd-compressed or not).
  ///
  /// - Throws: ``FormatError`` naming `path` when it is not a quantscope partial result.
  public static func read(path: String) throws -> PartialResult {
    let file = try MappedFile(path: path)
    let bytes = file.allBytes
    if bytes.count >= 4 && bytes.prefix(4).elementsEqual(zstdMagic) {
      let text = try ZstdDecompressor.decompress(bytes, label: path)
      return try text.withUnsafeBytes { try PartialResult(JSONValue.parse($0, path: path), path: path) }
    }
    guard bytes.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{") else {
      throw FormatError(.badMagic, path: path, "is not a JSON document, not a part written by --shard")
    }
    return try PartialResult(JSONValue.parse(bytes, path: path), path: path)
  }

  /// A part from its parsed document.
  public init(_ value: JSONValue, path: String) throws {
    guard value["schema"]?.string == Self.schema else {
      let found = value["schema"]?.string.map { "a \($0) document" } ?? "no quantscope partial result"
      throw FormatError(
        .mismatch, path: path, "is \(found), not a part written by --shard (schema \(Self.schema))")
    }
    guard let version = value["quantscope_version"]?.string, let command = value["command"]?.string,
      let index = value["shard"]?.int, let count = value["shards"]?.int, let job = value["job"],
      let payload = value["payload"], let hash = value["job_xxh3_128"]?.string
    else {
      throw FormatError(.malformed, path: path, "partial result lacks one of command, shard, shards, job, payload")
    }
    let shard: ShardSpec
    do { shard = try ShardSpec(index: index, count: count) } catch {
      throw FormatError(.malformed, path: path, "bad shard \(index)/\(count)")
    }
    self.init(command: command, job: job, version: version, shard: shard, payload: payload)
    guard jobHash == hash else {
      throw FormatError(.malformed, path: path, "the job does not match its recorded hash: the file was edited")
    }
  }

  /// Checks that `parts` (read from `paths`, same order) are the whole of one job — same command,
  /// quantscope version and job, shards 1…N each exactly once — and returns them in shard order,
  /// whatever order they were given in.
  ///
  /// - Throws: ``FormatError`` naming the offending file: a part of another job or written by
  ///   another quantscope version, a shard given twice, or the shards missing.
  public static func complete(_ parts: [PartialResult], paths: [String]) throws -> [PartialResult] {
    precondition(parts.count == paths.count)
    guard let first = parts.first else { throw FormatError(.usage, path: "", "merge needs at least one part") }
    var byShard: [Int: Int] = [:]
    for (i, part) in parts.enumerated() {
      if part.version != QuantscopeVersion.number {
        throw FormatError(
          .mismatch, path: paths[i],
          "was written by quantscope \(part.version); this is \(QuantscopeVersion.number): rerun the shards with one "
            + "version")
      }
      if part.command != first.command {
        throw FormatError(
          .mismatch, path: paths[i], "is a part of '\(part.command)', \(paths[0]) of '\(first.command)'")
      }
      if part.jobHash != first.jobHash || part.shard.count != first.shard.count {
        throw FormatError(
          .mismatch, path: paths[i],
          "is a part of another job (job \(part.jobHash.prefix(12)), \(part.shard.count) shards) than \(paths[0]) "
            + "(job \(first.jobHash.prefix(12)), \(first.shard.count) shards): other inputs or options")
      }
      if let earlier = byShard[part.shard.index] {
        throw FormatError(
          .mismatch, path: paths[i], "is shard \(part.shard) again: \(paths[earlier]) is that shard already")
      }
      byShard[part.shard.index] = i
    }
    let missing = (1...first.shard.count).filter { byShard[$0] == nil }
    if !missing.isEmpty {
      let list = missing.prefix(10).map(String.init).joined(separator: ", ") + (missing.count > 10 ? ", …" : "")
      throw FormatError(
        .mismatch, path: paths[0],
        "\(missing.count) of \(first.shard.count) shards missing (shard \(list)): merge needs every part of the job")
    }
    return (1...first.shard.count).map { parts[byShard[$0]!] }
  }

  /// The identity of a model's files as a job records it: for each file its path as opened, its
  /// size and the XXH3-128 of its first MiB (the header, for a GGUF or safetensors file), and the
  /// XXH3-128 of the tensor table (names, types, shapes, files, offsets). A part of a job run on
  /// other or changed files does not merge with the others.
  public static func identity(of model: any TensorCollection, as given: [String]) -> JSONValue {
    let files: [JSONValue] = model.files.map { f in
      let prefix = UnsafeRawBufferPointer(rebasing: f.allBytes.prefix(1 << 20))
      return .members([
        ("path", .string(f.path)), ("size", .int(f.size)), ("head_xxh3_128", .string(XXH3.hash128(prefix).hex)),
      ])
    }
    var table = ""
    let fileIndex = Dictionary(model.files.enumerated().map { ($1.path, $0) }, uniquingKeysWith: { a, _ in a })
    for t in model.tensors {
      table += "\(t.name)\u{0}\(t.encoding.name)\u{0}\(t.shape)\u{0}\(fileIndex[t.file.path] ?? -1)\u{0}"
      table += "\(t.dataOffset)\u{0}\(t.byteCount)\n"
    }
    return .members([
      ("given", .array(given.map { .string($0) })), ("files", .array(files)),
      ("tensor_table_xxh3_128", .string(XXH3.hash128(Array(table.utf8)).hex)),
    ])
  }
}

extension JSONValue {
  /// A `Double` that survives a JSON round trip bit for bit: a number in the shortest form that
  /// reads back as the same value, or the strings `inf`, `-inf`, `nan` (JSON has none of them),
  /// and `-0.0` as a string since the writer prints it as `0.0`.
  public static func exact(_ d: Double) -> JSONValue {
    if d.isNaN { return .string("nan") }
    if d.isInfinite { return .string(d < 0 ? "-inf" : "inf") }
    if d == 0 && d.sign == .minus { return .string("-0.0") }
    return .number(d)
  }

  /// The value written by ``exact(_:)``.
  public var exactDouble: Double? {
    switch string {
    case "nan": return .nan
    case "inf": return .infinity
    case "-inf": return -.infinity
    case "-0.0": return -0.0
    default: return double
    }
  }
}
