import Synchronization

/// `hash --shard K/N` and its merge.
///
/// The per-tensor hashes split among shards like any other per-tensor work. The whole-model hash
/// cannot: it is one XXH3 stream over every tensor's bytes in name order, and no stream state of
/// one shard can be continued by another. So the parts carry the per-tensor hashes and the merge
/// streams the whole-model hash itself, one sequential read of the data at disk speed.
extension TensorHashing {
  /// The per-tensor hashes of this shard's share of `tensors` (by bytes, see ``ShardPartition``),
  /// in hashing order.
  ///
  /// - Throws: ``FormatError`` when a tensor's data lies outside its file.
  public static func hashShard(
    _ tensors: [TensorInfo], shard: ShardSpec, threads: Int? = nil, progress: (any ProgressObserver)? = nil
  ) throws -> [TensorHash] {
    let mine = sortedByName(shard.select(tensors, bytes: \.byteCount))
    let views = try mine.map { ShardRegion(try $0.bytes()) }
    progress?.start(total: mine.reduce(0) { $0 + $1.byteCount })
    defer { progress?.finish() }
    let digests = Mutex<[XXH3Digest128?]>(Array(repeating: nil, count: mine.count))
    try ParallelWork.run(count: views.count, threads: threads ?? ParallelWork.availableCores) { i in
      let hasher = XXH3Hasher128()
      var offset = 0
      let bytes = views[i].bytes
      while offset < bytes.count {
        let n = min(chunkSize, bytes.count - offset)
        hasher.update(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n]))
        progress?.advance(by: n)
        offset += n
      }
      let d = hasher.digest()
      digests.withLock { $0[i] = d }
    }
    let all = digests.withLock { $0 }
    return zip(mine, all).map { t, d in
      TensorHash(name: t.name, type: t.encoding.name, shape: t.shape, bytes: t.byteCount, xxh3_128: d!)
    }
  }

  /// The manifest of the whole job from the parts' per-tensor hashes: they must cover exactly
  /// `tensors` (the same selection of the same model, reopened), in any order; the whole-model
  /// hash is streamed from `tensors`' bytes.
  ///
  /// - Throws: ``FormatError`` naming `path` when the parts do not cover `tensors` exactly or
  ///   disagree with them.
  public static func merge(
    _ parts: [[TensorHash]], tensors: [TensorInfo], files: [String], path: String,
    progress: (any ProgressObserver)? = nil
  ) throws -> HashManifest {
    let ordered = sortedByName(tensors)
    var byName: [String: TensorHash] = [:]
    for part in parts {
      for h in part {
        guard byName.updateValue(h, forKey: h.name) == nil else {
          throw FormatError(.mismatch, path: path, "tensor hashed by two parts", tensor: h.name)
        }
      }
    }
    guard byName.count == ordered.count else {
      throw FormatError(
        .mismatch, path: path, "the parts hash \(byName.count) tensors; the model's selection has \(ordered.count)")
    }
    var entries: [TensorHash] = []
    entries.reserveCapacity(ordered.count)
    for t in ordered {
      guard let h = byName[t.name], h.bytes == t.byteCount, h.type == t.encoding.name, h.shape == t.shape else {
        throw FormatError(.mismatch, path: path, "no part hashed this tensor as the model holds it", tensor: t.name)
      }
      entries.append(h)
    }
    progress?.start(total: ordered.reduce(0) { $0 + $1.byteCount })
    defer { progress?.finish() }
    let whole = XXH3Hasher128()
    for t in ordered {
      let bytes = try t.bytes()
      var offset = 0
      while offset < bytes.count {
        let n = min(chunkSize, bytes.count - offset)
        whole.update(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n]))
        progress?.advance(by: n)
        offset += n
      }
    }
    return HashManifest(files: files, tensors: entries, model: whole.digest())
  }
}

extension TensorHash {
  /// The entry as a part records it.
  public var partialJSON: JSONValue {
    .members([
      ("name", .string(name)), ("type", .string(type)), ("shape", .array(shape.map { .int($0) })),
      ("bytes", .int(bytes)), ("xxh3_128", .string(xxh3_128.hex)),
    ])
  }

  /// The entry written by ``partialJSON``; `nil` when malformed.
  public init?(partialJSON v: JSONValue) {
    guard let name = v["name"]?.string, let type = v["type"]?.string, let shape = v["shape"]?.array,
      let bytes = v["bytes"]?.int, let digest = v["xxh3_128"]?.string.flatMap(XXH3Digest128.init(hex:))
    else { return nil }
    self.init(name: name, type: type, shape: shape.compactMap(\.int), bytes: bytes, xxh3_128: digest)
  }
}

/// A tensor's mapped bytes, shared read-only between workers.
private struct ShardRegion: @unchecked Sendable {
  // Sendable: points into a read-only mapping that outlives the hashing run.
  let bytes: UnsafeRawBufferPointer
  init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }
}
