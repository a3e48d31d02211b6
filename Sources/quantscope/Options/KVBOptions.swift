import ArgumentParser
import QuantscopeAnalysis

/// `--kv-b`, shared by `plan` and `requant`: DeepSeek's kv_b layout.
///
/// From a safetensors checkpoint it chooses how `kv_b_proj` is converted; for a GGUF, whose layout
/// is fixed, it is a check that the file has that layout.
struct KVBOptions: ParsableArguments {
  @Option(help: "DeepSeek kv_b layout: split (attn_k_b + attn_v_b) or legacy (attn_kv_b).")
  var kvB: ArchitectureMap.KVBLayout?

  /// Throws when `model` (read from the GGUF `source`) lacks the layout `--kv-b` names.
  func check(_ model: PlanModel, source: String) throws {
    try PlanSource.checkKVBLayout(of: model, is: kvB, source: source)
  }
}

extension ArchitectureMap.KVBLayout: ExpressibleByArgument {}
