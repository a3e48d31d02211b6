import QuantscopeFormats

extension ArchitectureMap {
  /// Suffixes of tensors that hold activation or cache scales, which play no part in weights.
  public static let ignoredSuffixes = [
    "input_scale", "k_scale", "v_scale", "kv_scale", "activation_scale", "qscale_act", "input_scale_ub",
    "weight_zero_point",
  ]

  /// The result of mapping names: GGUF tensors with their sources, and what was left over.
  public struct NameMapping<Item> {
    /// One GGUF tensor.
    public struct Tensor {
      /// GGUF name.
      public let name: String
      /// Its HF sources (several for stacked experts, in expert order).
      public let sources: [Item]
      /// The layout change.
      public let layout: Layout
      /// For DeepSeek's `kv_b_proj`, which part this is.
      public let kvbPart: ReferenceMapping.KVBPart?
    }
    /// GGUF tensors, in source order (each `kv_b_proj` gives its three possible parts).
    public var tensors: [Tensor] = []
    /// Items no rule maps.
    public var unmapped: [Item] = []
    /// Items of skipped layers (MTP).
    public var skipped: [Item] = []
  }

  /// Maps HF-named items (tensors, or names with shapes) to GGUF tensors: the one place that
  /// reads the tables. Scale tensors must already be removed; activation scales are ignored.
  ///
  /// - Throws: when two items map to one GGUF name or experts are not numbered `0…n−1`.
  public func map<Item>(_ items: [Item], name: (Item) -> String, firstSkippedLayer: Int?) throws -> NameMapping<Item> {
    var result = NameMapping<Item>()
    var seen = Set<String>()
    var experts: [String: [Int: Item]] = [:]
    var expertOrder: [String] = []
    func add(_ t: NameMapping<Item>.Tensor) throws {
      guard seen.insert(t.name).inserted else {
        throw FormatError(.malformed, path: "", "two reference tensors map to \(t.name)", tensor: name(t.sources[0]))
      }
      result.tensors.append(t)
    }
    for item in items {
      let full = name(item)
      if Self.ignoredSuffixes.contains(where: { full.hasSuffix("." + $0) }) { continue }
      let parsed = HFName(full)
      if let layer = parsed.layer, let first = firstSkippedLayer, layer >= first {
        result.skipped.append(item)
        continue
      }
      if let layer = parsed.layer, let expert = parsed.expert {
        guard let target = perExpert[parsed.suffix] else {
          result.unmapped.append(item)
          continue
        }
        let gguf = "blk.\(layer).\(target)"
        if experts[gguf] == nil { expertOrder.append(gguf) }
        if experts[gguf, default: [:]].updateValue(item, forKey: expert) != nil {
          throw FormatError(.malformed, path: "", "expert \(expert) appears twice", tensor: full)
        }
        continue
      }
      let prefix = parsed.layer.map { "blk.\($0)." } ?? ""
      guard let target = parsed.layer == nil ? globals[parsed.suffix] : perLayer[parsed.suffix] else {
        result.unmapped.append(item)
        continue
      }
      if target.layout == .splitKVB {
        let base = prefix + "attn_"
        try add(.init(name: base + "kv_b.weight", sources: [item], layout: .same, kvbPart: .legacy))
        try add(.init(name: base + "k_b.weight", sources: [item], layout: .splitKVB, kvbPart: .k))
        try add(.init(name: base + "v_b.weight", sources: [item], layout: .splitKVB, kvbPart: .v))
      } else {
        try add(.init(name: prefix + target.name, sources: [item], layout: target.layout, kvbPart: nil))
      }
    }
    for gguf in expertOrder {
      let byExpert = experts[gguf]!
      let count = byExpert.count
      guard byExpert.keys.max() == count - 1 else {
        throw FormatError(.malformed, path: "", "experts of \(gguf) are not numbered 0…\(count - 1)", tensor: gguf)
      }
      try add(.init(name: gguf, sources: (0..<count).map { byExpert[$0]! }, layout: .same, kvbPart: nil))
    }
    return result
  }
}
