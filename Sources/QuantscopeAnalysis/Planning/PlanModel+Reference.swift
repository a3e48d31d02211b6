import QuantscopeCodecs
import QuantscopeFormats

extension PlanModel {
  /// The GGUF tensors llama.cpp's converter would write from a Hugging Face checkpoint, given only
  /// names and shapes (safetensors headers, or a layout derived from `config.json`).
  ///
  /// Names are mapped with the architecture's table; experts are stacked; DeepSeek's `kv_b_proj`
  /// becomes `attn_k_b` + `attn_v_b` (`kvB: .split`) or `attn_kv_b` (`.legacy`). Scale tensors and
  /// activation scales are left out; layers from `num_hidden_layers` on (MTP) are skipped.
  ///
  /// - Parameters:
  ///   - tensors: HF names and shapes (row-major).
  ///   - config: the checkpoint's `config.json` values.
  ///   - architecture: the map to use.
  /// - Returns: the model and the HF names no rule maps.
  public static func converted(
    from tensors: [(name: String, shape: [Int])], config: ModelConfig, architecture: ArchitectureMap,
    kvB: ArchitectureMap.KVBLayout
  ) throws -> (model: PlanModel, unmapped: [String]) {
    let weights = tensors.filter { !ScalePartners.isScaleName($0.name) }
    let mapped = try architecture.map(weights, name: \.name, firstSkippedLayer: config.hiddenLayers)
    var inputs: [PlanInput] = []
    for t in mapped.tensors {
      let shape = t.sources[0].shape
      switch t.kvbPart {
      case .legacy?:
        guard kvB == .legacy else { continue }
        inputs.append(PlanInput(name: t.name, ne: shape.reversed(), currentType: nil))
      case .k?, .v?:
        guard kvB == .split else { continue }
        guard shape.count == 2, let nope = config.nopeHeadDim, let v = config.valueHeadDim, nope + v > 0,
          shape[0] % (nope + v) == 0
        else {
          throw FormatError(
            .malformed,
            path: "",
            "splitting kv_b_proj \(shape) needs qk_nope_head_dim and v_head_dim in config.json",
            tensor: t.sources[0].name)
        }
        let heads = shape[0] / (nope + v), rank = shape[1]
        let ne = t.kvbPart == .k ? [nope, rank, heads] : [rank, v, heads]
        inputs.append(PlanInput(name: t.name, ne: ne, currentType: nil))
      case nil:
        let ne = Array(shape.reversed()) + (t.sources.count > 1 ? [t.sources.count] : [])
        inputs.append(PlanInput(name: t.name, ne: ne, currentType: nil))
      }
    }
    let model = PlanModel(
      tensors: inputs, architecture: architecture.architecture, blockCount: config.hiddenLayers,
      leadingDenseBlocks: config.leadingDenseBlocks, expertCount: config.expertCount)
    return (model, mapped.unmapped.map(\.name))
  }
}
