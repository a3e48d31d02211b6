import Foundation
import QuantscopeFormats

/// What a plan starts from: the model description read from a GGUF, a safetensors checkpoint
/// (names mapped as llama.cpp's converter maps them) or a DeepSeek-V2/V3 directory holding only
/// `config.json`, with what was assumed on the way.
public struct PlanSource: Sendable {
  /// The kind of files the model was read from.
  public enum Kind: String, Sendable {
    /// A GGUF file or split set: names, shapes and types as stored.
    case gguf
    /// A safetensors checkpoint: shapes from its headers, names mapped to GGUF's.
    case safetensors
    /// A directory holding only `config.json`: shapes derived from the configuration.
    case configOnly = "config_only"
  }

  /// Why the plan uses the kv_b layout it uses.
  public enum KVBBasis: String, Sendable {
    /// The GGUF holds that layout.
    case file
    /// The caller chose it.
    case option
    /// Nothing chose it: the converter's current layout (`split`) was assumed.
    case `default`
  }

  /// The kv_b layout a plan of a DeepSeek (MLA) model describes, and why.
  public struct KVBChoice: Sendable, Equatable {
    /// `split` (`attn_k_b` + `attn_v_b`) or `legacy` (`attn_kv_b`).
    public let layout: ArchitectureMap.KVBLayout
    /// Why that layout.
    public let basis: KVBBasis

    /// A layout and why it was used.
    public init(layout: ArchitectureMap.KVBLayout, basis: KVBBasis) {
      self.layout = layout
      self.basis = basis
    }
  }

  /// The tensors to plan, named the GGUF way.
  public var model: PlanModel
  /// Where they came from.
  public let kind: Kind
  /// Checkpoint tensors no rule maps (left out of the plan); empty for a GGUF.
  public let unmapped: [String]
  /// The kv_b layout the model describes; `nil` when it has no kv_b tensors (not a DeepSeek MLA model).
  public let kvB: KVBChoice?

  /// Reads the model to plan from `paths` (a GGUF file or split set, safetensors files, shards
  /// or a directory).
  ///
  /// - Parameters:
  ///   - paths: the source as given; the first names the format.
  ///   - architecture: the architecture map for a checkpoint, instead of its `model_type`.
  ///   - kvB: the kv_b layout to convert a checkpoint to (default `split`); for a GGUF, the layout
  ///     it must hold.
  /// - Throws: ``FormatError`` naming the source when it cannot be read, its architecture is
  ///   unknown, or a GGUF lacks the kv_b layout asked for.
  public static func load(
    _ paths: [String], architecture: String? = nil, kvB: ArchitectureMap.KVBLayout? = nil
  ) throws -> PlanSource {
    guard let first = paths.first else {
      throw FormatError(.usage, path: "", "no source to plan")
    }
    switch try WeightFiles.format(of: first) {
    case .gguf:
      let model = PlanModel(collection: try WeightFiles.open(paths))
      let held = try checkKVBLayout(of: model, is: kvB, source: first)
      return PlanSource(
        model: model, kind: .gguf, unmapped: [], kvB: held.map { KVBChoice(layout: $0, basis: .file) })
    case .safetensors:
      let layout = kvB ?? .split
      let choice = KVBChoice(layout: layout, basis: kvB == nil ? .default : .option)
      if let configOnly = try configOnlyModel(paths, architecture: architecture, kvB: layout) {
        return PlanSource(model: configOnly, kind: .configOnly, unmapped: [], kvB: choice.ifUsed(by: configOnly))
      }
      let checkpoint = try WeightFiles.open(paths)
      let config = ModelConfig(checkpoint.metadataEntries)
      guard let name = architecture ?? config.modelType, let map = ArchitectureMap.named(name) else {
        throw FormatError(.usage, path: first, "cannot tell the architecture (no config.json model_type); give --arch")
      }
      let (model, unmapped) = try PlanModel.converted(
        from: checkpoint.tensors.map { ($0.name, $0.shape) }, config: config, architecture: map, kvB: layout)
      return PlanSource(model: model, kind: .safetensors, unmapped: unmapped, kvB: choice.ifUsed(by: model))
    }
  }

  /// A directory holding only `config.json`: the DeepSeek-V3 checkpoint's tensors are derived
  /// from the config (other architectures need their safetensors headers); `nil` when the
  /// source is not such a directory.
  static func configOnlyModel(
    _ paths: [String], architecture: String?, kvB: ArchitectureMap.KVBLayout
  ) throws -> PlanModel? {
    let dir = paths[0]
    let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    guard paths.count == 1, files.contains("config.json"),
      !files.contains(where: { $0.hasSuffix(".safetensors") || $0 == "model.safetensors.index.json" })
    else { return nil }
    let file = try MappedFile(path: dir + "/config.json")
    let json = try JSONValue.parse(file.allBytes, path: file.path)
    let config = ModelConfig(json: json)
    guard let name = architecture ?? config.modelType, let map = ArchitectureMap.named(name),
      map.architecture == "deepseek2"
    else {
      throw FormatError(
        .unsupported, path: dir,
        "only config.json is here; deriving shapes from a config is supported for DeepSeek-V2/V3 "
          + "(model_type deepseek_v3); give the checkpoint's safetensors files otherwise")
    }
    let layout = try DeepSeekV3Layout(config: try DeepSeekV3Config(json: json, path: file.path))
    return try PlanModel.converted(
      from: layout.tensors.map { ($0.name, $0.shape) }, config: config, architecture: map, kvB: kvB
    ).model
  }
}

extension PlanSource.KVBChoice {
  /// This choice when `model` has kv_b tensors (the choice shaped it), else `nil`.
  fileprivate func ifUsed(by model: PlanModel) -> Self? {
    let suffixes = [".attn_kv_b.weight", ".attn_k_b.weight", ".attn_v_b.weight"]
    return model.tensors.contains { t in suffixes.contains { t.name.hasSuffix($0) } } ? self : nil
  }
}

extension PlanSource {
  /// The kv_b layout a GGUF's tensors hold (`nil` without kv_b tensors), after checking it is
  /// `expected` when one is given: a GGUF's layout is fixed, so `--kv-b` can only confirm it.
  /// - Throws: ``FormatError`` naming `source` when the GGUF lacks the expected layout.
  @discardableResult
  public static func checkKVBLayout(
    of model: PlanModel, is expected: ArchitectureMap.KVBLayout?, source: String
  ) throws -> ArchitectureMap.KVBLayout? {
    let hasLegacy = model.tensors.contains { $0.name.hasSuffix(".attn_kv_b.weight") }
    let hasSplit = model.tensors.contains { $0.name.hasSuffix(".attn_k_b.weight") }
    if let expected, (expected == .legacy && !hasLegacy) || (expected == .split && !hasSplit) {
      throw FormatError(
        .mismatch, path: source,
        "the GGUF has no \(expected == .legacy ? "attn_kv_b" : "attn_k_b/attn_v_b") tensors; "
          + "--kv-b chooses the layout only when planning from a safetensors checkpoint")
    }
    return hasSplit ? .split : hasLegacy ? .legacy : nil
  }
}
