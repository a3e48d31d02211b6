import Foundation
import QuantscopeFormats

/// How `attribute` partitions the tensors that differ between two GGUFs of one model.
public enum AttributionGrouping: Sendable, Equatable, CustomStringConvertible {
  /// One group per tensor kind (`ffn_down`, `attn_v`, …; non-layer tensors by name).
  case kind
  /// One group per layer (`blk.N`); tensors outside layers form one group `other`.
  case layer
  /// One group per kind and layer (`blk.N.ffn_down`).
  case kindAndLayer
  /// One group per regular expression, in the order given; a tensor belongs to the first that matches, tensors
  /// matching none form the group `other`.
  case patterns([String])

  /// Parses `--groups`: `kind`, `layer`, `kind,layer`, or one or more regular expressions.
  ///
  /// - Throws: ``FormatError`` (kind `.usage`) for an invalid regular expression.
  public init(arguments: [String]) throws {
    switch arguments {
    case [], ["kind"]: self = .kind
    case ["layer"]: self = .layer
    case ["kind,layer"], ["layer,kind"], ["kind", "layer"]: self = .kindAndLayer
    default:
      for pattern in arguments { _ = try TensorNameFilter(pattern) }
      self = .patterns(arguments)
    }
  }

  /// `kind`, `layer`, `kind,layer` or the patterns joined by spaces.
  public var description: String {
    switch self {
    case .kind: "kind"
    case .layer: "layer"
    case .kindAndLayer: "kind,layer"
    case .patterns(let p): p.joined(separator: " ")
    }
  }
}

/// A set of tensors degraded together in one hybrid file.
public struct AttributionGroup: Sendable, Equatable {
  /// The group's name (`ffn_down`, `blk.3`, `blk.3.ffn_down`, or the pattern).
  public let label: String
  /// GGUF tensor names, in file order.
  public let tensors: [String]

  /// A group.
  public init(label: String, tensors: [String]) {
    self.label = label
    self.tensors = tensors
  }
}

extension AttributionGroup {
  /// The tensors of `candidate` whose type or bytes differ from `base`'s, in `candidate`'s order.
  ///
  /// Byte equality is checked by XXH3-128 only when the types agree (different types always differ).
  ///
  /// - Throws: ``FormatError`` (`.mismatch`) when the two files do not hold the same tensor names and shapes:
  ///   attribution swaps tensors between them, so they must be two quantizations of one model.
  public static func differingTensors(base: GGUFModel, candidate: GGUFModel) throws -> [String] {
    let baseByName = base.tensorsByName
    let candidatePath = candidate.files[0].path
    for tensor in base.tensors where candidate.tensor(named: tensor.name) == nil {
      throw FormatError(
        .mismatch, path: candidatePath,
        "has no tensor \(tensor.name) (BASE has it): BASE and CANDIDATE must be quantizations of one model",
        tensor: tensor.name)
    }
    var differing: [String] = []
    for tensor in candidate.tensors {
      guard let other = baseByName[tensor.name] else {
        throw FormatError(
          .mismatch, path: candidatePath,
          "has tensor \(tensor.name) that BASE (\(base.files[0].path)) lacks: BASE and CANDIDATE must be "
            + "quantizations of one model", tensor: tensor.name)
      }
      guard other.shape == tensor.shape else {
        throw FormatError(
          .mismatch, path: candidatePath,
          "shape \(tensor.shape) differs from BASE's \(other.shape): BASE and CANDIDATE must be quantizations of "
            + "one model", tensor: tensor.name)
      }
      if other.encoding != tensor.encoding {
        differing.append(tensor.name)
      } else if try XXH3.hash128(other.bytes()) != XXH3.hash128(tensor.bytes()) {
        differing.append(tensor.name)
      }
    }
    return differing
  }

  /// Partitions `tensors` (names, in file order) by `grouping`; groups keep the order of their first tensor
  /// (patterns: the order given). Empty groups are dropped.
  public static func partition(_ tensors: [String], by grouping: AttributionGrouping) throws -> [AttributionGroup] {
    var order: [String] = []
    var members: [String: [String]] = [:]
    func add(_ label: String, _ name: String) {
      if members[label] == nil { order.append(label) }
      members[label, default: []].append(name)
    }
    switch grouping {
    case .kind:
      for name in tensors { add(Diff.kind(name), name) }
    case .layer:
      for name in tensors { add(Diff.layerIndex(name).map { "blk.\($0)" } ?? "other", name) }
    case .kindAndLayer:
      for name in tensors {
        add(Diff.layerIndex(name).map { "blk.\($0).\(Diff.kind(name))" } ?? Diff.kind(name), name)
      }
    case .patterns(let patterns):
      let filters = try patterns.map { try TensorNameFilter($0) }
      order = patterns
      for name in tensors {
        let label = filters.firstIndex { $0.matches(name) }.map { patterns[$0] } ?? "other"
        if label == "other" && members["other"] == nil { order.append("other") }
        members[label, default: []].append(name)
      }
    }
    return order.compactMap { label in
      members[label].map { AttributionGroup(label: label, tensors: $0) }
    }
  }
}
