/// A sharded checkpoint's `model.safetensors.index.json` (a transformers / huggingface_hub
/// convention): `{"metadata": {...}, "weight_map": {"TENSOR": "SHARD FILE", ...}}`.
public struct SafetensorsIndex: Sendable {
  /// One `weight_map` entry.
  public struct Entry: Sendable, Equatable {
    /// The tensor's name.
    public var tensor: String
    /// The shard file, relative to the index's directory.
    public var file: String
    /// The absolute offset of the entry's key in the index file, for error messages.
    public var offset: Int
  }

  /// The index file's path.
  public let path: String
  /// The `weight_map` entries in file order (a repeated tensor keeps its last entry).
  public let weightMap: [Entry]
  /// The `metadata` object, when present (`total_size` is not relied on: DeepSeek's own
  /// tools write `{}`).
  public let metadata: JSONValue?

  /// The usual name of the index file.
  public static let fileName = "model.safetensors.index.json"

  /// The shard files named by the index, each once, in name order (which is shard order for
  /// the `model-00001-of-00005.safetensors` naming, with either digit count).
  public var shardFiles: [String] {
    Array(Set(weightMap.map(\.file))).sorted { $0.utf8Precedes($1) }
  }

  /// Reads the index at `path`.
  public init(path: String) throws {
    let file = try MappedFile(path: path)
    try self.init(bytes: file.allBytes, path: path)
  }

  /// Parses an index held in memory; `path` is named in errors.
  public init(bytes: UnsafeRawBufferPointer, path: String) throws {
    self.path = path
    var parser = try JSONParser(bytes, path: path, baseOffset: 0)
    parser.skipWhitespace()
    guard parser.peek == UInt8(ascii: "{") else { throw parser.error("index is not a JSON object") }
    var entries: [Entry] = []
    var indexByName: [String: Int] = [:]
    var metadata: JSONValue?
    var sawWeightMap = false
    try parser.parseObject { parser, key, _ in
      switch key {
      case "weight_map":
        sawWeightMap = true
        guard parser.peek == UInt8(ascii: "{") else { throw parser.error("weight_map is not a JSON object") }
        try parser.parseObject { parser, tensor, tensorOffset in
          guard parser.peek == UInt8(ascii: "\"") else {
            throw parser.error("weight_map value is not a file name", at: parser.pos, tensor: tensor)
          }
          let valueOffset = parser.pos
          let file = try parser.parseString()
          guard !file.isEmpty, !file.hasPrefix("/"), !file.split(separator: "/").contains("..") else {
            throw parser.error(
              "shard file name \"\(file)\" must be relative to the index", at: valueOffset, tensor: tensor)
          }
          let entry = Entry(tensor: tensor, file: file, offset: tensorOffset)
          if let i = indexByName[tensor] {
            entries[i] = entry
          } else {
            indexByName[tensor] = entries.count
            entries.append(entry)
          }
        }
      case "metadata":
        metadata = try parser.parseValue(depth: 1)
      default:
        try parser.skipValue(depth: 1)
      }
    }
    try parser.expectEnd()
    guard sawWeightMap else { throw FormatError(.notFound, path: path, "index has no weight_map", at: .byte(0)) }
    weightMap = entries
    self.metadata = metadata
  }
}
