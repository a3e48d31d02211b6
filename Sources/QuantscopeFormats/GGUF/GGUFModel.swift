/// A GGUF model: one file, or every shard of a `NAME-0000N-of-0000M.gguf` split set, presented
/// as one set of tensors.
public struct GGUFModel: TensorCollection {
  /// The shards in order (one for a single file).
  public let shards: [GGUFFile]

  /// Opens the GGUF at `path`; when it is one shard of a split set, opens all of them.
  public init(path: String) throws {
    shards = [try GGUFFile(path: path)]
  }

  public var files: [MappedFile] { shards.map(\.file) }
  public var tensors: [TensorInfo] { shards.flatMap(\.tensors) }
  public var metadataEntries: [(key: String, value: GGUFValue)] { shards[0].metadata }
  /// Metadata of the first shard (gguf-split writes the full metadata there).
  public var metadata: [(key: String, value: GGUFValue)] { shards[0].metadata }
  /// The value of a metadata key in the first shard.
  public subscript(key: String) -> GGUFValue? { shards[0][key] }
}
