import Foundation
import QuantscopeAnalysis
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// The plan source loader: a config-only DeepSeek-V3 directory, the kv_b layout it states, and the
/// parameter count the dq3_k_m recipe's comment quotes.
@Suite("plan source")
struct PlanSourceTests {
  /// DeepSeek-V3's published `config.json` (the fields the layout needs).
  static let configText = """
    {"model_type":"deepseek_v3","hidden_size":7168,"intermediate_size":18432,"moe_intermediate_size":2048,
     "num_hidden_layers":61,"first_k_dense_replace":3,"moe_layer_freq":1,"n_routed_experts":256,
     "n_shared_experts":1,"num_attention_heads":128,"num_key_value_heads":128,"q_lora_rank":1536,
     "kv_lora_rank":512,"qk_nope_head_dim":128,"qk_rope_head_dim":64,"v_head_dim":128,"vocab_size":129280,
     "num_nextn_predict_layers":1,"tie_word_embeddings":false,"topk_method":"noaux_tc",
     "quantization_config":{"fmt":"e4m3","quant_method":"fp8","weight_block_size":[128,128]}}
    """

  static let directory: Result<URL, Error> = Result {
    let dir = try TestPaths.temporaryDirectory("plan-source-config")
    try configText.write(toFile: dir.appendingPathComponent("config.json").path, atomically: true, encoding: .utf8)
    return dir
  }

  @Test func `a config-only directory states the kv_b layout it assumed or was given`() throws {
    let dir = try Self.directory.get().path
    let assumed = try PlanSource.load([dir])
    #expect(assumed.kind == .configOnly)
    #expect(assumed.kvB == PlanSource.KVBChoice(layout: .split, basis: .default))
    #expect(assumed.model.tensors.contains { $0.name == "blk.0.attn_k_b.weight" })
    let legacy = try PlanSource.load([dir], kvB: .legacy)
    #expect(legacy.kvB == PlanSource.KVBChoice(layout: .legacy, basis: .option))
    #expect(legacy.model.tensors.contains { $0.name == "blk.0.attn_kv_b.weight" })
    #expect(!legacy.model.tensors.contains { $0.name.hasSuffix("attn_k_b.weight") })
  }

  @Test func `a GGUF without kv_b tensors states no layout, and refuses one asked for`() throws {
    let golden = TestPaths.goldenFile("ggml-quants.gguf")
    let source = try PlanSource.load([golden])
    #expect(source.kind == .gguf)
    #expect(source.kvB == nil)
    #expect(!source.model.tensors.isEmpty)
    let error = try #require(throws: FormatError.self) { try PlanSource.load([golden], kvB: .split) }
    #expect(error.message.contains("no attn_k_b/attn_v_b tensors"))
  }

  @Test func `a directory of another architecture with only config.json is refused naming it`() throws {
    let dir = try TestPaths.temporaryDirectory("plan-source-llama")
    try #"{"model_type":"llama"}"#.write(
      toFile: dir.appendingPathComponent("config.json").path, atomically: true, encoding: .utf8)
    let error = try #require(throws: FormatError.self) { try PlanSource.load([dir.path]) }
    #expect(error.path == dir.path)
    #expect(error.message.contains("only config.json is here"))
  }

  /// The dq3_k_m recipe justifies its inferred rules with a size over DeepSeek-V3's parameter
  /// count: that count must be the one `plan` computes from the model's configuration (the
  /// legacy attn_kv_b layout the comment speaks of, and the split one: the count is the same).
  @Test func `the dq3_k_m comment's parameter count is what plan computes for DeepSeek-V3`() throws {
    let preset = try #require(Presets.named("dq3_k_m"))
    let match = try #require(preset.text.firstMatch(of: /over ([0-9,]+) parameters/))
    let quoted = try #require(Int(match.1.filter { $0 != "," }))
    let dir = try Self.directory.get().path
    for layout in ArchitectureMap.KVBLayout.allCases {
      let source = try PlanSource.load([dir], kvB: layout)
      let plan = try Planner.plan(
        model: source.model, recipe: try Recipe.load("dq3_k_m", context: source.model.context),
        options: PlanOptions())
      #expect(plan.totalParameters == quoted, "\(layout)")
    }
    // And both equal the element count of the checkpoint's main model (no scales, no MTP layer).
    let layout = try DeepSeekV3Layout(config: .v3)
    #expect(layout.mainModelParameterCount == quoted)
  }
}
