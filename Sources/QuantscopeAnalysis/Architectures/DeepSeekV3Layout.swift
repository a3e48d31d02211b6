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
        throw FormatError(.notFound, path: path, "config has no \(key)")
      }
      // 2^24 bounds every dimension so products of three of them stay far from overflow.
      guard let i = v.int, i >= (allowZero ? 0 : 1), i <= 1 << 24 else {
        throw FormatError(
          .malformed, path: path, "config \(key) must be an integer between \(allowZero ? 0 : 1) and 2^24")
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
        throw FormatError(
          .malformed, path: path, "config quantization_config.weight_block_size must be two positive integers")
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
/// Tensors are in module order (embedding, layers 0…, final norm and `lm_head`, then MTP
/// layers), each weight followed by its scale, and are cut into `shardCount` files of equal
/// byte share. The data inside each file is in the same order. That is not the reference
/// writer's dtype-first order, but it is what the published files show: written this way the
/// 163 headers total 11,888,912 bytes against the published 11,888,393, whereas dtype-first
/// order (scales first, with short offsets) would give 11,538,952. For the V3 config this gives
/// 91,991 tensors and 684,531,386,000 elements, as in the real checkpoint.
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
    public let elementCount: Int
    /// Bytes of data.
    public let byteCount: Int

    /// Creates a tensor, checking that its size does not overflow.
    init(name: String, dtype: SafetensorsDType, shape: [Int]) throws {
      guard let bytes = SafetensorsTensorSpec(name: name, dtype: dtype, shape: shape).byteCount,
        let elements = SafetensorsTensorSpec(name: name, dtype: dtype, shape: shape).elementCount
      else {
        throw FormatError(
          .outOfBounds, path: "config.json", "config gives tensor a size that overflows", tensor: name)
      }
      self.name = name
      self.dtype = dtype
      self.shape = shape
      self.shard = 0
      self.elementCount = elements
      self.byteCount = bytes
    }
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

  /// The most tensors a config may describe (the 671B checkpoint has 91,991), so a hostile
  /// config cannot make the generator allocate without bound.
  public static let maxTensorCount = 10_000_000

  /// Derives the tensor list and spreads it over `shardCount` files.
  ///
  /// - Throws: ``FormatError`` when the config describes more than ``maxTensorCount`` tensors
  ///   or sizes that overflow.
  public init(config: DeepSeekV3Config, shardCount: Int = DeepSeekV3Layout.deepSeekV3ShardCount) throws {
    self.config = config
    // Every count is at most 2^24 (checked when reading config.json); check anyway.
    let layers = config.numHiddenLayers.addingReportingOverflow(config.nextNPredictLayers)
    let perLayer = config.routedExperts.multipliedReportingOverflow(by: 6)
    let estimate = layers.partialValue.multipliedReportingOverflow(by: perLayer.partialValue &+ 40)
    guard !layers.overflow, !perLayer.overflow, !estimate.overflow, config.numHiddenLayers >= 0,
      config.moeLayerFrequency >= 1,
      config.nextNPredictLayers >= 0, config.routedExperts >= 0,
      estimate.partialValue <= Self.maxTensorCount
    else {
      throw FormatError(
        .malformed,
        path: "config.json",
        "config describes more than \(Self.maxTensorCount) tensors or has a negative count or zero moe_layer_freq")
    }
    let moduleOrder = try Self.tensorsInModuleOrder(config)
    var total = 0
    for t in moduleOrder {
      let (sum, o) = total.addingReportingOverflow(t.byteCount)
      guard !o else {
        throw FormatError(
          .outOfBounds, path: "config.json", "config gives a checkpoint size that overflows")
      }
      total = sum
    }
    let count = max(1, min(shardCount, moduleOrder.count))
    self.shardCount = count
    // A tensor goes to the shard whose equal byte share holds its first byte. Every tensor is
    // smaller than a share for real configs, so no shard is left empty.
    var start = 0
    var placed: [Tensor] = []
    placed.reserveCapacity(moduleOrder.count)
    for var t in moduleOrder {
      let share = total == 0 ? 0 : Int((Double(start) / Double(total)) * Double(count))
      t.shard = min(count - 1, share)
      placed.append(t)
      start += t.byteCount
    }
    tensors = placed
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

  /// Every shard's file name and tensors in file order, ready for a writer.
  public var shards: [(fileName: String, tensors: [SafetensorsTensorSpec])] {
    var result = (0..<shardCount).map { (fileName: fileName(shard: $0), tensors: [SafetensorsTensorSpec]()) }
    for t in tensors where t.shard >= 0 && t.shard < shardCount { result[t.shard].tensors.append(t.spec) }
    return result
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
  static func tensorsInModuleOrder(_ c: DeepSeekV3Config) throws -> [Tensor] {
    var out: [Tensor] = []
    let fp8 = c.fp8BlockSize
    func plain(_ name: String, _ dtype: SafetensorsDType, _ shape: [Int]) throws {
      out.append(try Tensor(name: name, dtype: dtype, shape: shape))
    }
    /// A linear weight `[out, in]`: FP8 plus its scale when the checkpoint is FP8.
    func linear(_ name: String, _ rows: Int, _ cols: Int) throws {
      if let fp8, fp8.count == 2, fp8[0] > 0, fp8[1] > 0 {
        try plain(name + ".weight", .F8_E4M3, [rows, cols])
        try plain(
          name + ".weight_scale_inv", .F32,
          [rows <= 0 ? 0 : (rows - 1) / fp8[0] + 1, cols <= 0 ? 0 : (cols - 1) / fp8[1] + 1])
      } else {
        try plain(name + ".weight", .BF16, [rows, cols])
      }
    }
    /// `a + b` for dimensions built from config values.
    func add(_ a: Int, _ b: Int) throws -> Int {
      let (p, o) = a.addingReportingOverflow(b)
      guard !o else { throw FormatError(.outOfBounds, path: "config.json", "config gives a dimension that overflows") }
      return p
    }
    /// `a × b` for dimensions built from config values.
    func dim(_ a: Int, _ b: Int) throws -> Int {
      let (p, o) = a.multipliedReportingOverflow(by: b)
      guard !o else { throw FormatError(.outOfBounds, path: "config.json", "config gives a dimension that overflows") }
      return p
    }
    let h = c.hiddenSize
    let qHead = try add(c.qkNopeHeadDim, c.qkRopeHeadDim)
    try plain("model.embed_tokens.weight", .BF16, [c.vocabSize, h])
    func layer(_ l: Int) throws {
      let p = "model.layers.\(l)."
      if l >= c.numHiddenLayers {
        // MTP extras come first in DeepSeek's MTP module (embed, norms, projection).
        try plain(p + "embed_tokens.weight", .BF16, [c.vocabSize, h])
        try plain(p + "enorm.weight", .BF16, [h])
        try plain(p + "hnorm.weight", .BF16, [h])
        try plain(p + "eh_proj.weight", .BF16, [h, try dim(h, 2)])
      }
      if let q = c.qLoraRank {
        try linear(p + "self_attn.q_a_proj", q, h)
        try plain(p + "self_attn.q_a_layernorm.weight", .BF16, [q])
        try linear(p + "self_attn.q_b_proj", try dim(c.attentionHeads, qHead), q)
      } else {
        try linear(p + "self_attn.q_proj", try dim(c.attentionHeads, qHead), h)
      }
      try linear(p + "self_attn.kv_a_proj_with_mqa", try add(c.kvLoraRank, c.qkRopeHeadDim), h)
      try plain(p + "self_attn.kv_a_layernorm.weight", .BF16, [c.kvLoraRank])
      try linear(
        p + "self_attn.kv_b_proj", try dim(c.attentionHeads, try add(c.qkNopeHeadDim, c.vHeadDim)), c.kvLoraRank)
      try linear(p + "self_attn.o_proj", h, try dim(c.attentionHeads, c.vHeadDim))
      if c.isMoE(layer: l) {
        try plain(p + "mlp.gate.weight", .BF16, [c.routedExperts, h])
        if c.hasScoreCorrectionBias { try plain(p + "mlp.gate.e_score_correction_bias", .F32, [c.routedExperts]) }
        for e in 0..<c.routedExperts {
          try linear(p + "mlp.experts.\(e).gate_proj", c.moeIntermediateSize, h)
          try linear(p + "mlp.experts.\(e).up_proj", c.moeIntermediateSize, h)
          try linear(p + "mlp.experts.\(e).down_proj", h, c.moeIntermediateSize)
        }
        if c.sharedExperts > 0 {
          let inter = try dim(c.moeIntermediateSize, c.sharedExperts)
          try linear(p + "mlp.shared_experts.gate_proj", inter, h)
          try linear(p + "mlp.shared_experts.up_proj", inter, h)
          try linear(p + "mlp.shared_experts.down_proj", h, inter)
        }
      } else {
        try linear(p + "mlp.gate_proj", c.intermediateSize, h)
        try linear(p + "mlp.up_proj", c.intermediateSize, h)
        try linear(p + "mlp.down_proj", h, c.intermediateSize)
      }
      try plain(p + "input_layernorm.weight", .BF16, [h])
      try plain(p + "post_attention_layernorm.weight", .BF16, [h])
      if l >= c.numHiddenLayers {
        try plain(p + "shared_head.norm.weight", .BF16, [h])
        try plain(p + "shared_head.head.weight", .BF16, [c.vocabSize, h])
      }
    }
    for l in 0..<c.numHiddenLayers { try layer(l) }
    try plain("model.norm.weight", .BF16, [h])
    if !c.tieWordEmbeddings { try plain("lm_head.weight", .BF16, [c.vocabSize, h]) }
    for l in c.numHiddenLayers..<(c.numHiddenLayers + c.nextNPredictLayers) { try layer(l) }
    return out
  }
}
