import QuantscopeFormats

/// The parts of a DeepSeek-V2/V3/R1 `config.json` that decide the checkpoint's tensors.
public struct DeepSeekV3Config: Sendable, Equatable {
  /// `hidden_size` (7168 for V3).
  public var hiddenSize: Int
  /// `num_hidden_layers` (61); MTP layers follow them.
  public var numHiddenLayers: Int
  /// `first_k_dense_replace` (3): layers below this use a dense MLP.
  public var firstKDenseReplace: Int
  /// `moe_layer_freq` (1): every n-th layer from `firstKDenseReplace` on is MoE.
  public var moeLayerFrequency: Int
  /// `n_routed_experts` (256); 0 for a model without experts.
  public var routedExperts: Int
  /// `n_shared_experts` (1).
  public var sharedExperts: Int
  /// `moe_intermediate_size` (2048).
  public var moeIntermediateSize: Int
  /// `intermediate_size` (18432) of the dense layers.
  public var intermediateSize: Int
  /// `q_lora_rank` (1536); `nil` (V2-Lite) means a plain `q_proj`.
  public var qLoraRank: Int?
  /// `kv_lora_rank` (512).
  public var kvLoraRank: Int
  /// `qk_nope_head_dim` (128).
  public var qkNopeHeadDim: Int
  /// `qk_rope_head_dim` (64).
  public var qkRopeHeadDim: Int
  /// `v_head_dim` (128).
  public var vHeadDim: Int
  /// `num_attention_heads` (128).
  public var attentionHeads: Int
  /// `vocab_size` (129280).
  public var vocabSize: Int
  /// `num_nextn_predict_layers` (1): MTP layers stored after the main layers.
  public var nextNPredictLayers: Int
  /// `tie_word_embeddings` (false): when true there is no `lm_head.weight`.
  public var tieWordEmbeddings: Bool
  /// Whether the router has `e_score_correction_bias` (`topk_method` `noaux_tc`, V3 and later).
  public var hasScoreCorrectionBias: Bool
  /// `quantization_config.weight_block_size` ([128, 128]) when the linear weights are stored
  /// as block-scaled FP8; `nil` for a BF16 checkpoint.
  public var fp8BlockSize: [Int]?

  /// DeepSeek-V3 / R1 (671B), as published.
  public static let v3 = DeepSeekV3Config(
    hiddenSize: 7168, numHiddenLayers: 61, firstKDenseReplace: 3, moeLayerFrequency: 1, routedExperts: 256,
    sharedExperts: 1, moeIntermediateSize: 2048, intermediateSize: 18432, qLoraRank: 1536, kvLoraRank: 512,
    qkNopeHeadDim: 128, qkRopeHeadDim: 64, vHeadDim: 128, attentionHeads: 128, vocabSize: 129280,
    nextNPredictLayers: 1, tieWordEmbeddings: false, hasScoreCorrectionBias: true, fp8BlockSize: [128, 128])

  /// Creates a config from its fields.
  public init(
    hiddenSize: Int, numHiddenLayers: Int, firstKDenseReplace: Int, moeLayerFrequency: Int, routedExperts: Int,
    sharedExperts: Int, moeIntermediateSize: Int, intermediateSize: Int, qLoraRank: Int?, kvLoraRank: Int,
    qkNopeHeadDim: Int, qkRopeHeadDim: Int, vHeadDim: Int, attentionHeads: Int, vocabSize: Int,
    nextNPredictLayers: Int, tieWordEmbeddings: Bool, hasScoreCorrectionBias: Bool, fp8BlockSize: [Int]?
  ) {
    self.hiddenSize = hiddenSize
    self.numHiddenLayers = numHiddenLayers
    self.firstKDenseReplace = firstKDenseReplace
    self.moeLayerFrequency = moeLayerFrequency
    self.routedExperts = routedExperts
    self.sharedExperts = sharedExperts
    self.moeIntermediateSize = moeIntermediateSize
    self.intermediateSize = intermediateSize
    self.qLoraRank = qLoraRank
    self.kvLoraRank = kvLoraRank
    self.qkNopeHeadDim = qkNopeHeadDim
    self.qkRopeHeadDim = qkRopeHeadDim
    self.vHeadDim = vHeadDim
    self.attentionHeads = attentionHeads
    self.vocabSize = vocabSize
    self.nextNPredictLayers = nextNPredictLayers
    self.tieWordEmbeddings = tieWordEmbeddings
    self.hasScoreCorrectionBias = hasScoreCorrectionBias
    self.fp8BlockSize = fp8BlockSize
  }

  /// Reads a parsed `config.json`. Sizes must be positive integers (counts may be 0) small
  /// enough that no tensor's size overflows; `path` is named in errors.
  public init(json: JSONValue, path: String = "config.json") throws {
    func int(_ key: String, default value: Int? = nil, allowZero: Bool = false) throws -> Int {
      guard let v = json[key], !v.isNull else {
        if let value { return value }
        throw FormatError(path: path, "config has no \(key)")
      }
      // 2^24 bounds every dimension so products of three of them stay far from overflow.
      guard let i = v.int, i >= (allowZero ? 0 : 1), i <= 1 << 24 else {
        throw FormatError(path: path, "config \(key) must be an integer between \(allowZero ? 0 : 1) and 2^24")
      }
      return i
    }
    hiddenSize = try int("hidden_size")
    numHiddenLayers = try int("num_hidden_layers")
    firstKDenseReplace = try int("first_k_dense_replace", default: 0, allowZero: true)
    moeLayerFrequency = try int("moe_layer_freq", default: 1)
    routedExperts = try int("n_routed_experts", default: 0, allowZero: true)
    sharedExperts = try int("n_shared_experts", default: 0, allowZero: true)
    moeIntermediateSize = try int("moe_intermediate_size", default: 1)
    intermediateSize = try int("intermediate_size")
    qLoraRank = (json["q_lora_rank"]?.isNull ?? true) ? nil : try int("q_lora_rank")
    kvLoraRank = try int("kv_lora_rank")
    qkNopeHeadDim = try int("qk_nope_head_dim")
    qkRopeHeadDim = try int("qk_rope_head_dim")
    vHeadDim = try int("v_head_dim")
    attentionHeads = try int("num_attention_heads")
    vocabSize = try int("vocab_size")
    nextNPredictLayers = try int("num_nextn_predict_layers", default: 0, allowZero: true)
    tieWordEmbeddings = json["tie_word_embeddings"]?.bool ?? false
    hasScoreCorrectionBias = json["topk_method"]?.string == "noaux_tc"
    if let q = json["quantization_config"], q["quant_method"]?.string == "fp8" {
      guard let block = q["weight_block_size"]?.array?.compactMap(\.int), block.count == 2,
        block.allSatisfy({ $0 >= 1 && $0 <= 1 << 24 })
      else {
        throw FormatError(path: path, "config quantization_config.weight_block_size must be two positive integers")
      }
      fp8BlockSize = block
    } else {
      fp8BlockSize = nil
    }
  }

  /// Whether layer `layer` (main or MTP) has a mixture-of-experts MLP.
  public func isMoE(layer: Int) -> Bool {
    routedExperts > 0 && layer >= firstKDenseReplace && layer % moeLayerFrequency == 0
  }
}

/// The tensors of a DeepSeek-V3-style Hugging Face checkpoint, derived from `config.json`
/// alone: names, dtypes, shapes and their assignment to shard files.
///
/// With FP8 (`quantization_config.quant_method` `fp8`), every linear projection of attention
/// and MLP is `F8_E4M3` with an `F32` `weight_scale_inv` of shape
/// `[ceil(out/128), ceil(in/128)]`; embeddings, norms, the router and the MTP extras are `BF16`;
/// `e_score_correction_bias` is `F32`. Layers `numHiddenLayers…` are MTP layers: a full decoder
/// layer plus `eh_proj`, `enorm`, `hnorm`, `embed_tokens`, `shared_head.{head,norm}`.
///
/// Shards are filled in module order (embedding, layers 0…, final norm and `lm_head`, then MTP
/// layers) by equal byte share, so each of `shardCount` files gets about the same size; inside
/// a file tensors are in the reference writer's order (F32, then BF16, then F8; by name), which
/// is also the order of their data. For the published V3 config this gives 91,991 tensors and
/// 684,531,386,000 elements in 163 files, as in the real checkpoint.
public struct DeepSeekV3Layout: Sendable {
  /// One tensor of the checkpoint.
  public struct Tensor: Sendable, Hashable {
    /// The Hugging Face name (`model.layers.3.mlp.experts.7.down_proj.weight`).
    public var name: String
    /// The stored dtype.
    public var dtype: SafetensorsDType
    /// The shape, outermost first (`[out, in]` for a linear weight).
    public var shape: [Int]
    /// The shard it is in, from 0.
    public var shard: Int

    /// Number of elements.
    public var elementCount: Int { shape.reduce(1, *) }
    /// Bytes of data.
    public var byteCount: Int { elementCount * dtype.bits / 8 }
    /// As a writer spec.
    public var spec: SafetensorsTensorSpec { SafetensorsTensorSpec(name: name, dtype: dtype, shape: shape) }
  }

  /// The config it was derived from.
  public let config: DeepSeekV3Config
  /// Number of shard files.
  public let shardCount: Int
  /// Every tensor in file order: shard by shard, in data order within each.
  public let tensors: [Tensor]

  /// The published checkpoint's shard count.
  public static let deepSeekV3ShardCount = 163

  /// Derives the tensor list and spreads it over `shardCount` files.
  public init(config: DeepSeekV3Config, shardCount: Int = DeepSeekV3Layout.deepSeekV3ShardCount) {
    self.config = config
    let moduleOrder = Self.tensorsInModuleOrder(config)
    let total = moduleOrder.reduce(0) { $0 + $1.byteCount }
    let count = max(1, min(shardCount, moduleOrder.count))
    self.shardCount = count
    // A tensor goes to the shard whose equal byte share holds its first byte. Every tensor is
    // smaller than a share for real configs, so no shard is left empty.
    var start = 0
    var byShard = [[Tensor]](repeating: [], count: count)
    for var t in moduleOrder {
      let share = total == 0 ? 0 : Int((Double(start) / Double(total)) * Double(count))
      t.shard = min(count - 1, share)
      byShard[t.shard].append(t)
      start += t.byteCount
    }
    tensors = byShard.flatMap { shard in
      shard.sorted {
        if $0.dtype != $1.dtype { return $0.dtype.crateOrder > $1.dtype.crateOrder }
        return $0.name.utf8.lexicographicallyPrecedes($1.name.utf8)
      }
    }
  }

  /// The file name of shard `shard` (from 0): `model-00001-of-000163.safetensors`, with
  /// DeepSeek's six-digit total.
  public func fileName(shard: Int) -> String {
    "model-\(Self.pad(shard + 1, 5))-of-\(Self.pad(shardCount, 6)).safetensors"
  }

  /// The tensors of one shard, in file order, as writer specs.
  public func specs(shard: Int) -> [SafetensorsTensorSpec] {
    tensors.filter { $0.shard == shard }.map(\.spec)
  }

  /// Total number of elements, FP8 scales included.
  public var elementCount: Int { tensors.reduce(0) { $0 + $1.elementCount } }
  /// Total bytes of tensor data.
  public var byteCount: Int { tensors.reduce(0) { $0 + $1.byteCount } }
  /// Elements of layers below `numHiddenLayers` and the globals, without scales: the
  /// model's advertised parameter count (671,026,419,200 for V3).
  public var mainModelParameterCount: Int {
    tensors.filter { !$0.name.hasSuffix("_scale_inv") && !isMTP($0.name) }.reduce(0) { $0 + $1.elementCount }
  }

  /// Whether `name` belongs to an MTP layer (index ≥ `numHiddenLayers`), which GGUF converters drop.
  public func isMTP(_ name: String) -> Bool {
    guard name.hasPrefix("model.layers.") else { return false }
    let rest = name.dropFirst("model.layers.".count)
    guard let layer = Int(rest.prefix { $0.isNumber }) else { return false }
    return layer >= config.numHiddenLayers
  }

  static func pad(_ n: Int, _ width: Int) -> String {
    let s = String(n)
    return String(repeating: "0", count: max(0, width - s.count)) + s
  }

  /// Every tensor in `nn.Module` registration order (the order the model's `state_dict`
  /// lists them), shard not yet assigned.
  static func tensorsInModuleOrder(_ c: DeepSeekV3Config) -> [Tensor] {
    var out: [Tensor] = []
    let fp8 = c.fp8BlockSize
    func plain(_ name: String, _ dtype: SafetensorsDType, _ shape: [Int]) {
      out.append(Tensor(name: name, dtype: dtype, shape: shape, shard: 0))
    }
    /// A linear weight `[out, in]`: FP8 plus its scale when the checkpoint is FP8.
    func linear(_ name: String, _ rows: Int, _ cols: Int) {
      if let fp8 {
        plain(name + ".weight", .F8_E4M3, [rows, cols])
        plain(name + ".weight_scale_inv", .F32, [(rows + fp8[0] - 1) / fp8[0], (cols + fp8[1] - 1) / fp8[1]])
      } else {
        plain(name + ".weight", .BF16, [rows, cols])
      }
    }
    let h = c.hiddenSize
    let qHead = c.qkNopeHeadDim + c.qkRopeHeadDim
    plain("model.embed_tokens.weight", .BF16, [c.vocabSize, h])
    func layer(_ l: Int) {
      let p = "model.layers.\(l)."
      if l >= c.numHiddenLayers {
        // MTP extras come first in DeepSeek's MTP module (embed, norms, projection).
        plain(p + "embed_tokens.weight", .BF16, [c.vocabSize, h])
        plain(p + "enorm.weight", .BF16, [h])
        plain(p + "hnorm.weight", .BF16, [h])
        plain(p + "eh_proj.weight", .BF16, [h, 2 * h])
      }
      if let q = c.qLoraRank {
        linear(p + "self_attn.q_a_proj", q, h)
        plain(p + "self_attn.q_a_layernorm.weight", .BF16, [q])
        linear(p + "self_attn.q_b_proj", c.attentionHeads * qHead, q)
      } else {
        linear(p + "self_attn.q_proj", c.attentionHeads * qHead, h)
      }
      linear(p + "self_attn.kv_a_proj_with_mqa", c.kvLoraRank + c.qkRopeHeadDim, h)
      plain(p + "self_attn.kv_a_layernorm.weight", .BF16, [c.kvLoraRank])
      linear(p + "self_attn.kv_b_proj", c.attentionHeads * (c.qkNopeHeadDim + c.vHeadDim), c.kvLoraRank)
      linear(p + "self_attn.o_proj", h, c.attentionHeads * c.vHeadDim)
      if c.isMoE(layer: l) {
        plain(p + "mlp.gate.weight", .BF16, [c.routedExperts, h])
        if c.hasScoreCorrectionBias { plain(p + "mlp.gate.e_score_correction_bias", .F32, [c.routedExperts]) }
        for e in 0..<c.routedExperts {
          linear(p + "mlp.experts.\(e).gate_proj", c.moeIntermediateSize, h)
          linear(p + "mlp.experts.\(e).up_proj", c.moeIntermediateSize, h)
          linear(p + "mlp.experts.\(e).down_proj", h, c.moeIntermediateSize)
        }
        if c.sharedExperts > 0 {
          let inter = c.moeIntermediateSize * c.sharedExperts
          linear(p + "mlp.shared_experts.gate_proj", inter, h)
          linear(p + "mlp.shared_experts.up_proj", inter, h)
          linear(p + "mlp.shared_experts.down_proj", h, inter)
        }
      } else {
        linear(p + "mlp.gate_proj", c.intermediateSize, h)
        linear(p + "mlp.up_proj", c.intermediateSize, h)
        linear(p + "mlp.down_proj", h, c.intermediateSize)
      }
      plain(p + "input_layernorm.weight", .BF16, [h])
      plain(p + "post_attention_layernorm.weight", .BF16, [h])
      if l >= c.numHiddenLayers {
        plain(p + "shared_head.norm.weight", .BF16, [h])
        plain(p + "shared_head.head.weight", .BF16, [c.vocabSize, h])
      }
    }
    for l in 0..<c.numHiddenLayers { layer(l) }
    plain("model.norm.weight", .BF16, [h])
    if !c.tieWordEmbeddings { plain("lm_head.weight", .BF16, [c.vocabSize, h]) }
    for l in c.numHiddenLayers..<(c.numHiddenLayers + c.nextNPredictLayers) { layer(l) }
    return out
  }
}
