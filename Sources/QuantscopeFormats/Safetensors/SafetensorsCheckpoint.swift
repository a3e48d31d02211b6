/// A safetensors checkpoint: one file, a directory with `model.safetensors.index.json`, or a list
/// of shards, presented as one set of tensors.
public struct SafetensorsCheckpoint: TensorCollection {
  public let files: [MappedFile]
  public let tensors: [TensorInfo]
  public let metadataEntries: [(key: String, value: GGUFValue)]

  /// Opens a checkpoint from a file, a directory, or a list of shard files.
  public init(paths: [String]) throws {
    throw FormatError(path: paths.first ?? "", "safetensors reading is not built yet")
  }
}
