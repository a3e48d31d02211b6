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
/// Built once from tensor names (no data is read). ``rows(for:candidateShape:precision:heads:)`` then gives, for a
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
  /// The block shape of block scales (`config.json` `weight_block_size`; `nil`: 128×128).
  public let blockSize: (rows: Int, columns: Int)?

  init(
    architecture: ArchitectureMap?, entries: [String: Entry], unmapped: [String], skipped: [String],
    scales: [String: TensorInfo], blockSize: (rows: Int, columns: Int)? = nil
  ) {
    self.architecture = architecture
    self.entries = entries
    self.unmapped = unmapped
    self.skipped = skipped
    self.scales = scales
    self.blockSize = blockSize
  }

  /// Maps `reference`'s tensors with `architecture`.
  ///
  /// - Parameter firstSkippedLayer: layers from this index on are skipped (DeepSeek's MTP layer
  ///   61 when `num_hidden_layers` is 61); `nil` keeps every layer.
  public init(reference: any TensorCollection, architecture: ArchitectureMap, firstSkippedLayer: Int?) throws {
    let byName = reference.tensorsByName
    // Scales are those a weight claims as its partner; anything else is mapped or reported.
    var scales: [String: TensorInfo] = [:]
    for t in reference.tensors {
      if let s = ScalePartners.scale(for: t, in: byName) { scales[s.name] = s }
    }
    let mapped = try architecture.map(
      reference.tensors.filter { scales[$0.name] == nil }, name: \.name, firstSkippedLayer: firstSkippedLayer)
    var entries: [String: Entry] = [:]
    for m in mapped.tensors {
      entries[m.name] = Entry(name: m.name, sources: m.sources, layout: m.layout, kvbPart: m.kvbPart)
    }
    self.init(
      architecture: architecture, entries: entries, unmapped: mapped.unmapped.map(\.name),
      skipped: mapped.skipped.map(\.name), scales: scales, blockSize: try ScalePartners.blockSize(of: reference))
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
