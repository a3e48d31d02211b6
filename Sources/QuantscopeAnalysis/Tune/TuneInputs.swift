import QuantscopeFormats

/// What `tune` reads: the layout to tune (as `plan` reads it) and the reference values mapped onto
/// its GGUF names (as `diff` maps them).
public struct TuneInputs: Sendable {
  /// The model whose tensors are tuned.
  public let source: PlanSource
  /// The reference mapped onto the model's names.
  public let mapping: ReferenceMapping
  /// Head counts for llama's Q/K permutation.
  public let heads: ReferenceMapping.HeadCounts?

  /// Reads `source` (a GGUF, a safetensors checkpoint, or a DeepSeek directory holding only
  /// `config.json`) and maps `reference` (or the source itself when no reference is given) onto it.
  ///
  /// - Throws: ``FormatError`` when either cannot be read or mapped.
  public static func load(
    source: [String], reference: [String], architecture: String? = nil, kvB: ArchitectureMap.KVBLayout? = nil
  ) throws -> TuneInputs {
    let loaded = try PlanSource.load(source, architecture: architecture, kvB: kvB)
    let values = try WeightFiles.open(reference.isEmpty ? source : reference)
    if loaded.kind == .gguf {
      let gguf = try GGUFModel(path: source[0])
      let (mapping, heads) = try ReferenceMapping.resolve(reference: values, for: gguf)
      return TuneInputs(source: loaded, mapping: mapping, heads: heads)
    }
    if let gguf = values as? GGUFModel {
      return TuneInputs(source: loaded, mapping: ReferenceMapping(identity: gguf), heads: nil)
    }
    let config = ModelConfig(values.metadataEntries)
    let name = architecture ?? loaded.model.architecture ?? config.modelType ?? ""
    guard let map = ArchitectureMap.named(name) else {
      throw FormatError(.unsupported, path: reference.first ?? source[0], "no HF→GGUF name map for '\(name)'")
    }
    let mapping = try ReferenceMapping(reference: values, architecture: map, firstSkippedLayer: config.hiddenLayers)
    var heads: ReferenceMapping.HeadCounts? = nil
    if let q = config.attentionHeads { heads = .init(query: q, key: config.keyValueHeads ?? q) }
    return TuneInputs(source: loaded, mapping: mapping, heads: heads)
  }
}
