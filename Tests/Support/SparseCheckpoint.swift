import QuantscopeFormats

/// Writes full-size sharded safetensors checkpoints whose data are holes: real headers, every
/// file `ftruncate`d to its full size, plus `model.safetensors.index.json` and `config.json`.
/// A 688 GB DeepSeek-V3 layout takes a few MB of disk and a second or two to write.
public enum SparseCheckpoint {
  /// What was written.
  public struct Summary: Sendable {
    /// Sum of the shard file sizes (headers plus data).
    public var fileBytes: Int
    /// Sum of tensor data bytes (the index's `total_size`).
    public var dataBytes: Int
    /// Number of tensors.
    public var tensorCount: Int
  }

  /// Writes each shard (file name and tensors in file order) into `directory`, then the index
  /// and, when given, `config.json`. Each shard carries `__metadata__` `{"format": "pt"}`, as
  /// PyTorch-saved checkpoints do.
  @discardableResult
  public static func write(
    shards: [(fileName: String, tensors: [SafetensorsTensorSpec])], config: JSONValue?, to directory: String
  ) throws -> Summary {
    var summary = Summary(fileBytes: 0, dataBytes: 0, tensorCount: 0)
    var weightMap: [(tensor: String, file: String)] = []
    for shard in shards {
      let path = directory + "/" + shard.fileName
      let layout = try SafetensorsLayout(
        tensors: shard.tensors, metadata: [("format", "pt")], order: .asGiven, path: path)
      try SafetensorsWriter.writeSparse(to: path, layout: layout)
      summary.fileBytes += layout.fileSize
      summary.dataBytes += layout.dataSize
      summary.tensorCount += shard.tensors.count
      for t in shard.tensors { weightMap.append((t.name, shard.fileName)) }
    }
    try SafetensorsWriter.writeIndex(
      to: directory + "/" + "model.safetensors.index.json", weightMap: weightMap, totalSize: summary.dataBytes)
    if let config { try SafetensorsWriter.writeJSON(config, to: directory + "/config.json") }
    return summary
  }
}
