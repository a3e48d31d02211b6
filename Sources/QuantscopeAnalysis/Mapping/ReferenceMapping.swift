import QuantscopeCodecs
import QuantscopeFormats

/// How the reference values are computed from FP8 × scale products.
public enum ReferencePrecision: String, Sendable, CaseIterable {
  /// FP8 × scale evaluated exactly (in double): the checkpoint's true values.
  case exact
  /// The f32 product rounded to bf16 (round to nearest even), which is what DeepSeek's
  /// `fp8_cast_bf16.py` and a BF16 GGUF hold.
  case bf16
}

/// The reference checkpoint's tensors, renamed and re-laid-out as GGUF tensors of one architecture.
///
/// Built once from tensor names (no data is read). ``rows(for:candidateShape:)`` then gives, for a
/// GGUF tensor name, a ``ReferenceRows`` view that decodes the reference values in the GGUF
/// tensor's layout.
public struct ReferenceMapping: Sendable {
  /// One GGUF tensor's reference: its sources and layout change.
  public struct Entry: Sendable {
    /// The GGUF tensor name.
    public let name: String
    /// The HF tensors it is made of (several for stacked experts).
    public let sources: [TensorInfo]
    /// The layout change.
    public let layout: ArchitectureMap.Layout
    /// For the split `kv_b_proj`, which part this entry is.
    public let kvbPart: KVBPart?
  }

  /// The parts DeepSeek's `kv_b_proj` is written as.
  public enum KVBPart: Sendable { case legacy, k, v }

  /// The map used (`nil` when tensors are paired by equal names).
  public let architecture: ArchitectureMap?
  /// Entries by GGUF name.
  public let entries: [String: Entry]
  /// Reference tensors that no rule maps (reported, never dropped silently).
  public let unmapped: [String]
  /// Reference tensors deliberately skipped (the MTP layers past `num_hidden_layers`).
  public let skipped: [String]
  /// Scale tensors consumed as partners of FP8 weights.
  public let scales: [String: TensorInfo]

  init(
    architecture: ArchitectureMap?, entries: [String: Entry], unmapped: [String], skipped: [String],
    scales: [String: TensorInfo]
  ) {
    self.architecture = architecture
    self.entries = entries
    self.unmapped = unmapped
    self.skipped = skipped
    self.scales = scales
  }

  /// Suffixes of tensors that hold activation or cache scales, which play no part in weights.
  public static let ignoredSuffixes = [
    "input_scale", "k_scale", "v_scale", "kv_scale", "activation_scale", "qscale_act", "input_scale_ub",
    "weight_zero_point",
  ]

  /// Maps `reference`'s tensors with `architecture`.
  ///
  /// - Parameter firstSkippedLayer: layers from this index on are skipped (DeepSeek's MTP layer
  ///   61 when `num_hidden_layers` is 61); `nil` keeps every layer.
  public init(reference: any TensorCollection, architecture: ArchitectureMap, firstSkippedLayer: Int?) throws {
    self.architecture = architecture
    var entries: [String: Entry] = [:]
    var unmapped: [String] = []
    var skipped: [String] = []
    var scales: [String: TensorInfo] = [:]
    var experts: [String: [Int: TensorInfo]] = [:]
    var expertOrigins: [String: String] = [:]

    let byName = reference.tensorsByName
    // Scales are those a weight claims as its partner; anything else is mapped or reported.
    var partnerNames = Set<String>()
    for t in reference.tensors {
      if let s = ScalePartners.scale(for: t, in: byName) { partnerNames.insert(s.name) }
    }
    func isScale(_ name: String) -> Bool { partnerNames.contains(name) }
    func add(_ name: String, _ entry: Entry) throws {
      if entries[name] != nil {
        throw FormatError(path: entry.sources.first?.file.path ?? "", "two reference tensors map to \(name)",
          tensor: entry.sources.first?.name)
      }
      entries[name] = entry
    }

    for tensor in reference.tensors {
      let name = tensor.name
      if isScale(name) {
        scales[name] = tensor
        continue
      }
      if Self.ignoredSuffixes.contains(where: { name.hasSuffix("." + $0) }) { continue }
      let parsed = HFName(name)
      if let layer = parsed.layer, let first = firstSkippedLayer, layer >= first {
        skipped.append(name)
        continue
      }
      if let layer = parsed.layer, let expert = parsed.expert {
        guard let target = architecture.perExpert[parsed.suffix] else {
          unmapped.append(name)
          continue
        }
        let gguf = "blk.\(layer).\(target)"
        if experts[gguf, default: [:]].updateValue(tensor, forKey: expert) != nil {
          throw FormatError(path: tensor.file.path, "expert \(expert) appears twice", tensor: name)
        }
        expertOrigins[gguf] = parsed.expertPattern
        continue
      }
      let target: ArchitectureMap.Target?
      let prefix: String
      if let layer = parsed.layer {
        target = architecture.perLayer[parsed.suffix]
        prefix = "blk.\(layer)."
      } else {
        target = architecture.globals[parsed.suffix]
        prefix = ""
      }
      guard let target else {
        unmapped.append(name)
        continue
      }
      if target.layout == .splitKVB {
        let base = prefix + "attn_"
        try add(base + "kv_b.weight", Entry(name: base + "kv_b.weight", sources: [tensor], layout: .same, kvbPart: .legacy))
        try add(base + "k_b.weight", Entry(name: base + "k_b.weight", sources: [tensor], layout: .splitKVB, kvbPart: .k))
        try add(base + "v_b.weight", Entry(name: base + "v_b.weight", sources: [tensor], layout: .splitKVB, kvbPart: .v))
      } else {
        try add(prefix + target.name, Entry(name: prefix + target.name, sources: [tensor], layout: target.layout, kvbPart: nil))
      }
    }

    for (gguf, byExpert) in experts {
      let count = byExpert.count
      guard let maxExpert = byExpert.keys.max(), maxExpert == count - 1 else {
        let path = byExpert.values.first?.file.path ?? ""
        throw FormatError(path: path, "experts of \(gguf) are not numbered 0…\(count - 1)")
      }
      let sources = (0..<count).map { byExpert[$0]! }
      try add(gguf, Entry(name: gguf, sources: sources, layout: .same, kvbPart: nil))
    }

    self.entries = entries
    self.unmapped = unmapped
    self.skipped = skipped
    self.scales = scales
  }

  /// The scale partner of an FP8 weight, if the checkpoint has one.
  public func scale(for weight: TensorInfo) -> TensorInfo? {
    ScalePartners.scale(for: weight, in: scales)
  }
}

/// A Hugging Face tensor name split into layer, expert and the rest.
struct HFName {
  var layer: Int?
  var expert: Int?
  var suffix: String
  var expertPattern: String = ""

  init(_ full: String) {
    var name = Substring(full)
    for prefix in ["language_model.", "model.language_model."] where name.hasPrefix(prefix) {
      name = name.dropFirst(prefix.count)
      if !name.hasPrefix("model.") && name.hasPrefix("layers.") { name = "model." + name }
    }
    let layers = "model.layers."
    guard name.hasPrefix(layers) else {
      suffix = String(name)
      return
    }
    let rest = name.dropFirst(layers.count)
    guard let dot = rest.firstIndex(of: "."), let l = Int(rest[..<dot]) else {
      suffix = String(name)
      return
    }
    layer = l
    let inner = rest[rest.index(after: dot)...]
    let experts = "mlp.experts."
    if inner.hasPrefix(experts) {
      let e = inner.dropFirst(experts.count)
      if let d = e.firstIndex(of: "."), let idx = Int(e[..<d]) {
        expert = idx
        suffix = String(e[e.index(after: d)...])
        expertPattern = "model.layers.\(l).mlp.experts.{…}.\(suffix)"
        return
      }
    }
    suffix = String(inner)
  }
}
