/// Part of a model's tensors with the model's files and metadata, for calls that take a whole
/// ``TensorCollection`` when only some tensors are wanted (`compare --tensors`).
public struct SelectedTensors: TensorCollection {
  public let files: [MappedFile]
  public let tensors: [TensorInfo]
  public let metadataEntries: [(key: String, value: GGUFValue)]

  /// The tensors of `model` whose name `keep` accepts, in the model's order.
  public init(_ model: any TensorCollection, keeping keep: (String) -> Bool) {
    files = model.files
    tensors = model.tensors.filter { keep($0.name) }
    metadataEntries = model.metadataEntries
  }
}
