import QuantscopeFormats

/// A layout-level comparison of two GGUF releases of one model, without decoding: which tensors
/// were added or removed, changed type or shape, and whether bytes of tensors whose type and shape
/// agree are identical. Only those tensors are hashed, so comparing two 300 GB sets reads their
/// headers and only the data that could be equal.
public struct LayoutComparison: Sendable {
  /// How one tensor present in both files differs.
  public struct Change: Sendable, Equatable {
    /// Tensor name.
    public let name: String
    /// Type in A and in B.
    public let typeA: String, typeB: String
    /// Shape in A and in B (row-major).
    public let shapeA: [Int], shapeB: [Int]
    /// Byte counts in A and B.
    public let bytesA: Int, bytesB: Int
  }

  /// A recipe rule that turns A's choice into B's for a group of tensors.
  public struct RuleChange: Sendable, Equatable, CustomStringConvertible {
    /// The tensor-name pattern (regex, llama-quantize `--tensor-type` syntax).
    public let pattern: String
    /// Type in A (lower-case ggml name).
    public let from: String
    /// Type in B.
    public let to: String
    /// Tensors covered.
    public let tensors: [String]
    public var description: String { "\(pattern): \(from) → \(to)" }
    /// The rule as llama-quantize takes it (`PATTERN=TYPE`).
    public var rule: String { "\(pattern)=\(to)" }
  }

  /// Tensors only in B.
  public let added: [String]
  /// Tensors only in A.
  public let removed: [String]
  /// Tensors whose type changed.
  public let typeChanged: [Change]
  /// Tensors whose shape changed (type may also have changed).
  public let shapeChanged: [Change]
  /// Tensors with equal type and shape and identical bytes.
  public let identical: [String]
  /// Tensors with equal type and shape but different bytes.
  public let differentBytes: [String]
  /// Bytes per type in A and B.
  public let bytesByType: [(type: String, a: Int, b: Int)]
  /// Type changes grouped into rules.
  public let rules: [RuleChange]

  /// Compares `a` with `b`; `hash` returns a digest of a tensor's bytes (XXH3-128 in the CLI).
  public init(
    a: any TensorCollection, b: any TensorCollection, threads: Int = ParallelWork.availableCores,
    hash: @Sendable (TensorInfo) throws -> String
  ) throws {
    let mapA = a.tensorsByName, mapB = b.tensorsByName
    added = b.tensors.map(\.name).filter { mapA[$0] == nil }
    removed = a.tensors.map(\.name).filter { mapB[$0] == nil }
    var typeChanged: [Change] = [], shapeChanged: [Change] = []
    var sameLayout: [(TensorInfo, TensorInfo)] = []
    for ta in a.tensors {
      guard let tb = mapB[ta.name] else { continue }
      let change = Change(
        name: ta.name, typeA: ta.encoding.name, typeB: tb.encoding.name, shapeA: ta.shape, shapeB: tb.shape,
        bytesA: ta.byteCount, bytesB: tb.byteCount)
      if ta.shape != tb.shape { shapeChanged.append(change) }
      if ta.encoding != tb.encoding { typeChanged.append(change) }
      if ta.shape == tb.shape && ta.encoding == tb.encoding { sameLayout.append((ta, tb)) }
    }
    self.typeChanged = typeChanged
    self.shapeChanged = shapeChanged

    let equal = UnsafeMutableBufferPointer<Bool>.allocate(capacity: max(1, sameLayout.count))
    defer { equal.deallocate() }
    equal.initialize(repeating: false)
    let out = UnsafeSendable(equal)
    let pairs = UnsafeSendable(sameLayout)
    // Hash the larger tensors first so the threads finish together.
    let order = sameLayout.indices.sorted { sameLayout[$0].0.byteCount > sameLayout[$1].0.byteCount }
    try ParallelWork.run(count: order.count, threads: threads) { k in
      let i = order[k]
      let (ta, tb) = pairs.value[i]
      out.value[i] = try hash(ta) == hash(tb)
    }
    identical = sameLayout.indices.filter { equal[$0] }.map { sameLayout[$0].0.name }
    differentBytes = sameLayout.indices.filter { !equal[$0] }.map { sameLayout[$0].0.name }

    var bytes: [String: (Int, Int)] = [:]
    for t in a.tensors { bytes[t.encoding.name, default: (0, 0)].0 += t.byteCount }
    for t in b.tensors { bytes[t.encoding.name, default: (0, 0)].1 += t.byteCount }
    bytesByType = bytes.sorted { $0.key < $1.key }.map { (type: $0.key, a: $0.value.0, b: $0.value.1) }
    rules = Self.groupRules(typeChanged)
  }

  /// Groups type changes by (tensor kind, from, to) into one rule per group, naming the blocks
  /// exactly: `blk\.(3|4)\.ffn_down_exps\.weight`; a tensor outside blocks gets an anchored rule.
  static func groupRules(_ changes: [Change]) -> [RuleChange] {
    struct Key: Hashable { let kind: String; let from: String; let to: String }
    var groups: [Key: [(Int?, String)]] = [:]
    var order: [Key] = []
    for c in changes {
      let layer = Diff.layerIndex(c.name)
      let kind = layer == nil ? c.name : String(c.name.drop { $0 != "." }.dropFirst().drop { $0 != "." }.dropFirst())
      let key = Key(kind: kind, from: c.typeA.lowercased(), to: c.typeB.lowercased())
      if groups[key] == nil { order.append(key) }
      groups[key, default: []].append((layer, c.name))
    }
    return order.map { key in
      let members = groups[key]!
      let escapedKind = escapeRegex(key.kind)
      let layers = members.compactMap(\.0)
      let pattern: String
      if layers.isEmpty {
        pattern = "^" + escapedKind + "$"
      } else if layers.count == 1 {
        pattern = "blk\\.\(layers[0])\\." + escapedKind
      } else {
        pattern = "blk\\.(" + layers.sorted().map(String.init).joined(separator: "|") + ")\\." + escapedKind
      }
      return RuleChange(pattern: pattern, from: key.from, to: key.to, tensors: members.map(\.1))
    }
  }

  static func escapeRegex(_ s: String) -> String {
    var out = ""
    for c in s {
      if ".^$*+?()[]{}|\\".contains(c) { out.append("\\") }
      out.append(c)
    }
    return out
  }
}
