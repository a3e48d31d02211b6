import Foundation
import Synchronization

/// The XXH3-128 hash of one tensor's raw bytes, with what identifies the tensor.
public struct TensorHash: Sendable, Equatable {
  /// The tensor's name.
  public var name: String
  /// Its encoding's name (`Q4_K`, `BF16`).
  public var type: String
  /// Row-major shape, outermost first.
  public var shape: [Int]
  /// Number of data bytes.
  public var bytes: Int
  /// XXH3-128 (seed 0) of the data bytes exactly as stored in the file.
  public var xxh3_128: XXH3Digest128

  /// Creates an entry.
  public init(name: String, type: String, shape: [Int], bytes: Int, xxh3_128: XXH3Digest128) {
    self.name = name
    self.type = type
    self.shape = shape
    self.bytes = bytes
    self.xxh3_128 = xxh3_128
  }
}

/// The hashes of a model's tensors: what `quantscope hash -o` writes and `--check` reads.
///
/// JSON layout (format version 1):
///
/// ```json
/// {
///   "schema": "quantscope.hash/1",
///   "quantscope_version": "0.1.0",
///   "format": "quantscope-hash",
///   "version": 1,
///   "algorithm": "xxh3-128",
///   "files": [
///     "model.gguf"
///   ],
///   "tensor_count": 2,
///   "total_bytes": 4608,
///   "model_xxh3_128": "…32 hex digits…",
///   "tensors": [
///     {"name":"blk.0.attn_k.weight","type":"Q4_K","shape":[32,256],"bytes":4608,"xxh3_128":"…"}
///   ]
/// }
/// ```
///
/// Hex digests are the canonical big-endian form (`xxhsum -H2`). Tensors are listed in the
/// order of ``TensorHashing/sortedByName(_:)``. The whole-model hash is defined in
/// ``TensorHashing``. `schema` and `quantscope_version` are those of every quantscope JSON
/// document; the reader keys on `format` and `version` (manifests written before `schema`
/// existed read the same).
public struct HashManifest: Sendable, Equatable {
  /// The value of the `format` field.
  public static let formatName = "quantscope-hash"
  /// The format version this code writes and reads.
  public static let formatVersion = 1

  /// The model's files as given when hashing (not compared by `--check`).
  public var files: [String]
  /// Per-tensor hashes, in name order.
  public var tensors: [TensorHash]
  /// The whole-model hash.
  public var model: XXH3Digest128

  /// Creates a manifest.
  public init(files: [String], tensors: [TensorHash], model: XXH3Digest128) {
    self.files = files
    self.tensors = tensors
    self.model = model
  }

  /// Sum of the tensors' byte counts.
  public var totalBytes: Int { tensors.reduce(0) { $0 + $1.bytes } }

  /// The manifest as JSON text, one tensor per line so that manifests diff well: the shared
  /// document writer (``JSONDocumentStream``), like every other quantscope JSON document.
  public func jsonText() -> String {
    var out = ""
    var document = JSONDocumentStream(
      schema: "quantscope.hash/1",
      [
        ("format", .string(Self.formatName)),
        ("version", .int(Self.formatVersion)),
        ("algorithm", .string("xxh3-128")),
        ("files", .array(files.map { .string($0) })),
        ("tensor_count", .int(tensors.count)),
        ("total_bytes", .int(totalBytes)),
        ("model_xxh3_128", .string(model.hex)),
      ],
      arrayKey: "tensors"
    ) { out += $0 }
    for t in tensors {
      document.append(
        .members([
          ("name", .string(t.name)), ("type", .string(t.type)), ("shape", .array(t.shape.map { .int($0) })),
          ("bytes", .int(t.bytes)), ("xxh3_128", .string(t.xxh3_128.hex)),
        ]))
    }
    document.finish()
    return out
  }

  /// A JSON string literal for `s`.
  static func json(_ s: String) -> String { JSONValue.string(s).serialized }

  private struct Wire: Decodable {
    struct Tensor: Decodable {
      var name: String
      var type: String
      var shape: [Int]
      var bytes: Int
      var xxh3_128: String
    }
    var format: String
    var version: Int
    var algorithm: String
    var files: [String]
    var model_xxh3_128: String
    var tensors: [Tensor]
  }

  /// Parses manifest JSON read from `path` (named in errors).
  public init(json: [UInt8], path: String) throws {
    let wire: Wire
    do {
      wire = try JSONDecoder().decode(Wire.self, from: Data(json))
    } catch {
      throw FormatError(.badMagic, path: path, "not a quantscope hash manifest: \(Self.describe(error))")
    }
    guard wire.format == Self.formatName else {
      throw FormatError(.badMagic, path: path, "not a quantscope hash manifest (format \(Self.json(wire.format)))")
    }
    guard wire.version == Self.formatVersion else {
      throw FormatError(
        .unsupported, path: path,
        "hash manifest version \(wire.version) is not supported (expected \(Self.formatVersion))")
    }
    guard wire.algorithm == "xxh3-128" else {
      throw FormatError(.unsupported, path: path, "hash algorithm \(Self.json(wire.algorithm)) is not supported")
    }
    guard let model = XXH3Digest128(hex: wire.model_xxh3_128) else {
      throw FormatError(.malformed, path: path, "model_xxh3_128 is not 32 hex digits")
    }
    var tensors: [TensorHash] = []
    tensors.reserveCapacity(wire.tensors.count)
    for t in wire.tensors {
      guard let digest = XXH3Digest128(hex: t.xxh3_128) else {
        throw FormatError(.malformed, path: path, "xxh3_128 is not 32 hex digits", tensor: t.name)
      }
      tensors.append(TensorHash(name: t.name, type: t.type, shape: t.shape, bytes: t.bytes, xxh3_128: digest))
    }
    self.init(files: wire.files, tensors: tensors, model: model)
  }

  private static func describe(_ error: Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, _): "missing field \(key.stringValue)"
    case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
      "wrong type at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
    case DecodingError.dataCorrupted: "invalid JSON"
    default: "\(error)"
    }
  }

  /// Reads a manifest file, plain JSON or zstd-compressed (recognized by its magic bytes).
  public static func read(path: String) throws -> HashManifest {
    let file = try MappedFile(path: path)
    let bytes = file.allBytes
    if bytes.count >= 4 && bytes.prefix(4).elementsEqual(zstdMagic) {
      return try HashManifest(json: ZstdDecompressor.decompress(bytes, label: path), path: path)
    }
    return try HashManifest(json: Array(bytes), path: path)
  }

  /// Writes the manifest through ``OutputFile``: complete or not at all, zstd-compressed when
  /// `path` ends in `.zst`, standard output for `-`.
  public func write(to path: String, overwrite: Bool = false) throws {
    let out = try OutputFile(path: path, overwrite: overwrite)
    try write(to: out)
    try out.commit()
  }

  /// Writes the manifest's JSON text to `sink` (which the caller finishes, e.g. commits).
  public func write(to sink: some ByteSink) throws {
    try sink.write(jsonText())
  }
}

/// How a model differs from a manifest.
public struct HashComparison: Sendable, Equatable {
  /// A tensor present on both sides whose bytes, type, shape or size differ.
  public struct Change: Sendable, Equatable {
    /// The manifest's entry.
    public var expected: TensorHash
    /// The model's entry now.
    public var actual: TensorHash

    /// What differs, in words: `bytes differ`, `type Q4_K → Q6_K`, ….
    public var reasons: [String] {
      var r: [String] = []
      if expected.type != actual.type { r.append("type \(expected.type) → \(actual.type)") }
      if expected.shape != actual.shape { r.append("shape \(expected.shape) → \(actual.shape)") }
      if expected.bytes != actual.bytes { r.append("size \(expected.bytes) → \(actual.bytes) bytes") }
      if expected.xxh3_128 != actual.xxh3_128 {
        r.append("xxh3_128 \(expected.xxh3_128.hex) → \(actual.xxh3_128.hex)")
      }
      return r
    }
  }

  /// Tensors on both sides that differ, in name order.
  public var changed: [Change]
  /// Tensors in the manifest but not in the model.
  public var missing: [String]
  /// Tensors in the model but not in the manifest.
  public var extra: [String]
  /// Whether the whole-model hashes agree; `nil` when they were not compared (a selection of
  /// tensors was checked against a manifest of more).
  public var modelHashMatches: Bool?

  /// No difference of any kind.
  public var isIdentical: Bool { changed.isEmpty && missing.isEmpty && extra.isEmpty && modelHashMatches != false }
}

/// Hashing a model's tensors with XXH3-128.
///
/// **Per-tensor hash**: XXH3-128 (seed 0) of the tensor's data bytes exactly as stored in the
/// file (for GGUF, the quantized blocks; for safetensors, the raw little-endian values), without
/// padding, name or shape.
///
/// **Whole-model hash**: XXH3-128 (seed 0) of the concatenation of the data bytes of every hashed
/// tensor, the tensors taken in ascending lexicographic order of their names compared as UTF-8
/// byte strings. Names, types, shapes, metadata and file layout do not enter it: two files that
/// store the same tensor bytes under the same name order have the same whole-model hash,
/// whatever their container format or sharding.
///
/// Both are computed in one run on all cores: one worker streams the whole-model hash while the
/// others hash tensors in parallel (each tensor's state is streamed by one thread).
public enum TensorHashing {
  /// `tensors` in hashing order: ascending by name as UTF-8 bytes (stable for equal names).
  public static func sortedByName(_ tensors: [TensorInfo]) -> [TensorInfo] {
    let keyed = tensors.enumerated().map { (Array($0.element.name.utf8), $0.offset, $0.element) }
    return keyed.sorted { a, b in
      a.0 == b.0 ? a.1 < b.1 : a.0.lexicographicallyPrecedes(b.0)
    }.map(\.2)
  }

  /// Bytes hashed between progress reports and between checks of other workers' errors.
  static let chunkSize = 16 << 20

  /// Hashes `tensors` (all of a collection's, or a selection), returning a manifest.
  ///
  /// - Parameters:
  ///   - files: recorded in the manifest.
  ///   - threads: workers to use; `nil` for one per core. At least two run, so that the
  ///     whole-model stream and the per-tensor hashes proceed together.
  ///   - progress: told the total (the tensors' data bytes) and advanced as hashing proceeds, from
  ///     worker threads. Every byte is hashed twice (its tensor's hash and the whole-model
  ///     stream); progress counts the two passes together in units of data bytes, so that the
  ///     total a user sees is the size of the data, reached exactly when both passes end.
  /// - Throws: ``FormatError`` when a tensor's data lies outside its file.
  public static func hash(
    _ tensors: [TensorInfo], files: [String], threads: Int? = nil, progress: (any ProgressObserver)? = nil
  ) throws -> HashManifest {
    let ordered = sortedByName(tensors)
    let views = try ordered.map { try $0.bytes() }
    let totalBytes = ordered.reduce(0) { $0 + $1.byteCount }
    let progress = progress.map { HalvedProgress($0) }
    progress?.start(total: totalBytes)
    defer { progress?.finish() }

    let job = Job(count: ordered.count)
    let workers = max(2, threads ?? ParallelWork.availableCores)
    let regions = views.map { Region($0) }
    // Item 0, handed out first, streams the whole-model hash while the other workers hash
    // tensors (item i + 1 is tensor i).
    try ParallelWork.run(count: regions.count + 1, threads: workers) { item in
      let hasher = XXH3Hasher128()
      guard item > 0 else {
        for region in regions { feed(region.bytes, into: { hasher.update($0) }, progress: progress) }
        job.whole.withLock { $0 = hasher.digest() }
        return
      }
      feed(regions[item - 1].bytes, into: { hasher.update($0) }, progress: progress)
      let d = hasher.digest()
      job.digests.withLock { $0[item - 1] = d }
    }

    let digests = job.digests.withLock { $0 }
    guard let model = job.whole.withLock({ $0 }) else {
      throw FormatError(.invalidState, path: files.first ?? "", "hashing did not finish")
    }
    var entries: [TensorHash] = []
    entries.reserveCapacity(ordered.count)
    for (t, d) in zip(ordered, digests) {
      guard let d else { throw FormatError(.invalidState, path: t.file.path, "hashing did not finish", tensor: t.name) }
      entries.append(TensorHash(name: t.name, type: t.encoding.name, shape: t.shape, bytes: t.byteCount, xxh3_128: d))
    }
    return HashManifest(files: files, tensors: entries, model: model)
  }

  /// Hashes every tensor of `model`.
  public static func hash(
    _ model: any TensorCollection, threads: Int? = nil, progress: (any ProgressObserver)? = nil
  ) throws -> HashManifest {
    try hash(model.tensors, files: model.files.map(\.path), threads: threads, progress: progress)
  }

  /// Compares the tensors of `expected` that `keeping` selects with `actual`, which was hashed
  /// from the same selection. The model hashes are compared only when the selection left none of
  /// the manifest's tensors out: otherwise the manifest's model hash covers tensors not hashed.
  public static func compare(
    expected: HashManifest, actual: HashManifest, keeping: (String) -> Bool
  ) -> HashComparison {
    var narrowed = expected
    narrowed.tensors = expected.tensors.filter { keeping($0.name) }
    return compare(
      expected: narrowed, actual: actual, compareModelHash: narrowed.tensors.count == expected.tensors.count)
  }

  /// Compares a model's hashes with a manifest's, tensor by tensor (by name).
  ///
  /// - Parameter compareModelHash: also compare the whole-model hashes. Pass `false` when
  ///   `expected` was narrowed to a selection after it was written: its model hash then covers
  ///   tensors that `actual` does not.
  public static func compare(
    expected: HashManifest, actual: HashManifest, compareModelHash: Bool = true
  ) -> HashComparison {
    var now: [String: TensorHash] = [:]
    for t in actual.tensors where now[t.name] == nil { now[t.name] = t }
    var seen = Set<String>()
    var changed: [HashComparison.Change] = []
    var missing: [String] = []
    for e in expected.tensors where seen.insert(e.name).inserted {
      guard let a = now[e.name] else {
        missing.append(e.name)
        continue
      }
      if a != e { changed.append(.init(expected: e, actual: a)) }
    }
    let extra = actual.tensors.map(\.name).filter { !seen.contains($0) }
    return HashComparison(
      changed: changed, missing: missing, extra: extra,
      modelHashMatches: compareModelHash ? expected.model == actual.model : nil)
  }

  private static func feed(
    _ bytes: UnsafeRawBufferPointer, into update: (UnsafeRawBufferPointer) -> Void,
    progress: (any ProgressObserver)?
  ) {
    var offset = 0
    while offset < bytes.count {
      let n = min(chunkSize, bytes.count - offset)
      update(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n]))
      progress?.advance(by: n)
      offset += n
    }
  }

  /// Passes on half of the bytes reported to it: two passes over the data count as one pass of
  /// data bytes. The halves telescope (each report passes on `⌊new/2⌋ − ⌊old/2⌋` of the running
  /// sum), so the inner observer reaches the data size exactly, whatever the interleaving.
  private final class HalvedProgress: ProgressObserver {
    let inner: any ProgressObserver
    let hashed = Atomic<Int>(0)
    init(_ inner: any ProgressObserver) { self.inner = inner }
    func start(total: Int) { inner.start(total: total) }
    func finish() { inner.finish() }
    func advance(by count: Int) {
      let new = hashed.add(count, ordering: .relaxed).newValue
      let delta = new / 2 - (new - count) / 2
      if delta > 0 { inner.advance(by: delta) }
    }
  }

  /// A tensor's mapped bytes, shared read-only between workers.
  private struct Region: @unchecked Sendable {
    // Sendable: points into a read-only mapping that outlives the hashing run.
    let bytes: UnsafeRawBufferPointer
    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }
  }

  /// The shared state of one hashing run.
  private final class Job: Sendable {
    let whole = Mutex<XXH3Digest128?>(nil)
    let digests: Mutex<[XXH3Digest128?]>
    init(count: Int) { digests = Mutex(Array(repeating: nil, count: count)) }
  }
}
