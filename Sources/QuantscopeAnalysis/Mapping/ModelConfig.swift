import QuantscopeFormats

/// The hyper-parameters of a Hugging Face `config.json` that mapping needs.
public struct ModelConfig: Sendable {
  /// `model_type`.
  public var modelType: String?
  /// `num_hidden_layers`: layers from here on (DeepSeek's MTP) are not in GGUFs.
  public var hiddenLayers: Int?
  /// `num_attention_heads`.
  public var attentionHeads: Int?
  /// `num_key_value_heads`.
  public var keyValueHeads: Int?
  /// `qk_nope_head_dim` (DeepSeek MLA).
  public var nopeHeadDim: Int?
  /// `v_head_dim` (DeepSeek MLA).
  public var valueHeadDim: Int?
  /// `first_k_dense_replace` (DeepSeek: leading dense blocks).
  public var leadingDenseBlocks: Int?
  /// `n_routed_experts` or `num_local_experts`.
  public var expertCount: Int?

  /// Reads the `config.*` entries of a checkpoint's metadata.
  public init(_ entries: [(key: String, value: GGUFValue)]) {
    self.init { key in
      let value = entries.first { $0.key == "config." + key }?.value
      return (value?.string, value?.integer)
    }
  }

  /// Reads a parsed `config.json`.
  public init(json: JSONValue) {
    self.init { key in (json[key]?.string, json[key]?.int) }
  }

  /// Reads each key as a string or an integer through `value`.
  init(_ value: (String) -> (string: String?, integer: Int?)) {
    modelType = value("model_type").string
    hiddenLayers = value("num_hidden_layers").integer
    attentionHeads = value("num_attention_heads").integer
    keyValueHeads = value("num_key_value_heads").integer
    nopeHeadDim = value("qk_nope_head_dim").integer
    valueHeadDim = value("v_head_dim").integer
    leadingDenseBlocks = value("first_k_dense_replace").integer
    expertCount = value("n_routed_experts").integer ?? value("num_local_experts").integer
  }
}
