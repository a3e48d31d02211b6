import QuantscopeFormats

/// Part of a model's tensors with the model's files and metadata, for library calls that take a
/// whole ``TensorCollection`` when `--tensors` narrowed it.
struct SelectedTensors: TensorCollection {
  let files: [MappedFile]
  let tensors: [TensorInfo]
  let metadataEntries: [(key: String, value: GGUFValue)]

  /// The tensors of `model` that `keep` accepts.
  init(_ model: any TensorCollection, keeping keep: (String) -> Bool) {
    files = model.files
    tensors = model.tensors.filter { keep($0.name) }
    metadataEntries = model.metadataEntries
  }
}
