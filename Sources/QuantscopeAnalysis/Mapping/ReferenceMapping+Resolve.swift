import QuantscopeFormats

extension ReferenceMapping {
  /// How `reference` maps onto the GGUF `model`: by equal names when the reference is a GGUF,
  /// else through the architecture map named by the model's `general.architecture` (or the
  /// checkpoint's `model_type`), skipping layers past `num_hidden_layers`; with the head counts
  /// llama's Q/K permutation needs.
  public static func resolve(reference: any TensorCollection, for model: GGUFModel) throws -> (
    mapping: ReferenceMapping, heads: HeadCounts?
  ) {
    let arch = model["general.architecture"]?.string
    let referencePath = reference.files.first?.path ?? ""
    // Another architecture's reference would fail later on the first shape, which hides the cause.
    func checkSame(_ other: String?, _ how: String) throws {
      guard let arch, let other, other != arch else { return }
      throw FormatError(
        .mismatch, path: referencePath,
        "architecture \(arch) vs \(other): the candidate is \(arch) but the reference \(how)")
    }
    if let gguf = reference as? GGUFModel {
      try checkSame(gguf["general.architecture"]?.string, "is a \(gguf["general.architecture"]?.string ?? "?") GGUF")
      return (ReferenceMapping(identity: reference), nil)
    }
    let config = ModelConfig(reference.metadataEntries)
    if let type = config.modelType, let referenceMap = ArchitectureMap.named(type) {
      try checkSame(referenceMap.architecture, "has model_type \(type) in config.json")
    }
    guard let name = arch ?? config.modelType, let map = ArchitectureMap.named(name) else {
      throw FormatError(
        .unsupported,
        path: model.files[0].path,
        "no HF→GGUF name map for architecture '\(arch ?? config.modelType ?? "?")' (known: "
          + ArchitectureMap.all.map(\.architecture).joined(separator: ", ") + ")")
    }
    let mapping = try ReferenceMapping(reference: reference, architecture: map, firstSkippedLayer: config.hiddenLayers)
    var heads: HeadCounts? = nil
    if let a = arch {
      let q = model["\(a).attention.head_count"]?.integer ?? config.attentionHeads
      let k = model["\(a).attention.head_count_kv"]?.integer ?? config.keyValueHeads ?? q
      if let q, let k { heads = HeadCounts(query: q, key: k) }
    }
    return (mapping, heads)
  }

  /// A mapping that pairs tensors by equal names (a GGUF reference).
  public init(identity reference: any TensorCollection) {
    var entries: [String: Entry] = [:]
    for t in reference.tensors {
      entries[t.name] = Entry(name: t.name, sources: [t], layout: .same, kvbPart: nil)
    }
    self.init(architecture: nil, entries: entries, unmapped: [], skipped: [], scales: [:])
  }
}
