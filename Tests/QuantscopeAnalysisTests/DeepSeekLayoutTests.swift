import Foundation
import QuantscopeAnalysis
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// The DeepSeek-V3 / R1 `config.json` as published (keys and values of the HF file).
let deepSeekV3ConfigText = #"""
  {
    "architectures": ["DeepseekV3ForCausalLM"],
    "attention_bias": false,
    "attention_dropout": 0.0,
    "auto_map": {
      "AutoConfig": "configuration_deepseek.DeepseekV3Config",
      "AutoModel": "modeling_deepseek.DeepseekV3Model",
      "AutoModelForCausalLM": "modeling_deepseek.DeepseekV3ForCausalLM"
    },
    "aux_loss_alpha": 0.001,
    "bos_token_id": 0,
    "eos_token_id": 1,
    "ep_size": 1,
    "first_k_dense_replace": 3,
    "hidden_act": "silu",
    "hidden_size": 7168,
    "initializer_range": 0.02,
    "intermediate_size": 18432,
    "kv_lora_rank": 512,
    "max_position_embeddings": 163840,
    "model_type": "deepseek_v3",
    "moe_intermediate_size": 2048,
    "moe_layer_freq": 1,
    "n_group": 8,
    "n_routed_experts": 256,
    "n_shared_experts": 1,
    "norm_topk_prob": true,
    "num_attention_heads": 128,
    "num_experts_per_tok": 8,
    "num_hidden_layers": 61,
    "num_key_value_heads": 128,
    "num_nextn_predict_layers": 1,
    "q_lora_rank": 1536,
    "qk_nope_head_dim": 128,
    "qk_rope_head_dim": 64,
    "quantization_config": {
      "activation_scheme": "dynamic",
      "fmt": "e4m3",
      "quant_method": "fp8",
      "weight_block_size": [128, 128]
    },
    "rms_norm_eps": 1e-06,
    "rope_scaling": {
      "beta_fast": 32,
      "beta_slow": 1,
      "factor": 40,
      "mscale": 1.0,
      "mscale_all_dim": 1.0,
      "original_max_position_embeddings": 4096,
      "type": "yarn"
    },
    "rope_theta": 10000,
    "routed_scaling_factor": 2.5,
    "scoring_func": "sigmoid",
    "tie_word_embeddings": false,
    "topk_group": 4,
    "topk_method": "noaux_tc",
    "torch_dtype": "bfloat16",
    "transformers_version": "4.46.3",
    "use_cache": true,
    "v_head_dim": 128,
    "vocab_size": 129280
  }
  """#

func parseDeepSeekConfig() throws -> JSONValue {
  let bytes = Array(deepSeekV3ConfigText.utf8)
  return try bytes.withUnsafeBytes { try JSONValue.parse($0, path: "config.json") }
}

/// Reads a `kB` field of /proc/self/status in bytes.
func procStatus(_ field: String) -> Int? {
  guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
  for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
    let digits = line.split(separator: " ").compactMap { Int($0) }
    if let kb = digits.first { return kb * 1024 }
  }
  return nil
}

@Suite("DeepSeek-V3 layout")
struct DeepSeekLayoutTests {
  @Test func `config json gives the published V3 config`() throws {
    let config = try DeepSeekV3Config(json: try parseDeepSeekConfig())
    #expect(config == .v3)
  }

  @Test func `bad config values are format errors`() throws {
    var json = try parseDeepSeekConfig()
    guard case .object(var members) = json else { Issue.record("not an object"); return }
    members.removeAll { $0.key == "hidden_size" }
    #expect(throws: FormatError.self) { try DeepSeekV3Config(json: .object(members)) }
    members.append(JSONMember(key: "hidden_size", value: .integer(-7)))
    json = .object(members)
    #expect(throws: FormatError.self) { try DeepSeekV3Config(json: json) }
  }

  /// Totals from the reference (§2.3), which match a published header dump of DeepSeek-R1.
  @Test func `tensor inventory matches the published checkpoint`() throws {
    let layout = try DeepSeekV3Layout(config: .v3)
    #expect(layout.tensors.count == 91_991)
    #expect(layout.tensors.filter { $0.dtype == .F8_E4M3 }.count == 45_808)
    #expect(layout.tensors.filter { $0.dtype == .F32 }.count == 45_867)
    #expect(layout.tensors.filter { $0.dtype == .BF16 }.count == 316)
    #expect(layout.elementCount == 684_531_386_000)
    #expect(layout.byteCount == 688_574_839_360)
    #expect(layout.mainModelParameterCount == 671_026_419_200)
    #expect(layout.tensors.filter { !layout.isMTP($0.name) }.count == 90_427)
    #expect(layout.tensors.filter { $0.name.hasPrefix("model.layers.61.") }.count == 1_564)
    #expect(Set(layout.tensors.map(\.name)).count == layout.tensors.count)

    let byName = Dictionary(uniqueKeysWithValues: layout.tensors.map { ($0.name, $0) })
    let kvA = byName["model.layers.0.self_attn.kv_a_proj_with_mqa.weight"]
    #expect(kvA?.shape == [576, 7168])
    #expect(kvA?.dtype == .F8_E4M3)
    #expect(byName["model.layers.0.self_attn.kv_a_proj_with_mqa.weight_scale_inv"]?.shape == [5, 56])
    #expect(byName["model.layers.0.self_attn.q_b_proj.weight_scale_inv"]?.shape == [192, 12])
    #expect(byName["model.layers.60.self_attn.o_proj.weight_scale_inv"]?.shape == [56, 128])
    #expect(byName["model.layers.2.mlp.down_proj.weight_scale_inv"]?.shape == [56, 144])
    #expect(byName["model.layers.3.mlp.experts.255.down_proj.weight"]?.shape == [7168, 2048])
    #expect(byName["model.layers.3.mlp.gate.weight"]?.dtype == .BF16)
    #expect(byName["model.layers.3.mlp.gate.e_score_correction_bias"]?.dtype == .F32)
    #expect(byName["model.layers.2.mlp.gate.weight"] == nil)
    #expect(byName["model.layers.61.eh_proj.weight"]?.dtype == .BF16)
    #expect(byName["model.layers.61.eh_proj.weight"]?.shape == [7168, 14336])
    #expect(byName["model.layers.61.shared_head.head.weight"]?.shape == [129280, 7168])
    #expect(byName["lm_head.weight"]?.shape == [129280, 7168])
  }

  @Test func `shards are 163 non-empty files in order`() throws {
    let layout = try DeepSeekV3Layout(config: .v3)
    #expect(layout.shardCount == 163)
    #expect(layout.fileName(shard: 0) == "model-00001-of-000163.safetensors")
    #expect(layout.fileName(shard: 162) == "model-00163-of-000163.safetensors")
    var sizes = [Int](repeating: 0, count: 163)
    var previous = 0
    for t in layout.tensors {
      #expect(t.shard >= previous)  // file order: shard by shard
      previous = t.shard
      sizes[t.shard] += t.byteCount
    }
    #expect(sizes.allSatisfy { $0 > 0 })
    // Equal shares of 688.6 GB: every shard within one embedding (1.85 GB) of 4.22 GB.
    #expect(sizes.allSatisfy { abs($0 - 688_574_839_360 / 163) < 129_280 * 7168 * 2 })
    // Module order: the embedding is in the first file, the MTP layer in the last.
    #expect(layout.tensors.first { $0.name == "model.embed_tokens.weight" }?.shard == 0)
    #expect(layout.tensors.first { $0.name == "model.layers.61.shared_head.head.weight" }?.shard == 162)
    #expect(
      layout.tensors.first { $0.name == "model.layers.30.mlp.experts.0.up_proj.weight" }.map {
        (60...100).contains($0.shard)
      } == true)
  }

  @Test func `a BF16 config without q_lora has q_proj and no scales`() throws {
    var c = DeepSeekV3Config.v3
    c.qLoraRank = nil
    c.fp8BlockSize = nil
    c.numHiddenLayers = 2
    c.firstKDenseReplace = 1
    c.nextNPredictLayers = 0
    let layout = try DeepSeekV3Layout(config: c, shardCount: 4)
    let names = Set(layout.tensors.map(\.name))
    #expect(names.contains("model.layers.0.self_attn.q_proj.weight"))
    #expect(!names.contains { $0.contains("q_a_proj") || $0.hasSuffix("_scale_inv") })
    #expect(layout.tensors.allSatisfy { $0.dtype != .F8_E4M3 })
    // 3 globals; dense layer: 5 attention + 3 MLP + 2 norms; MoE layer: 5 attention, router
    // weight and bias, 256 × 3 experts, 3 shared, 2 norms.
    #expect(layout.tensors.count == 3 + (5 + 3 + 2) + (5 + 2 + 768 + 3 + 2))
  }

  @Test func `hostile configs are errors, not traps`() throws {
    var c = DeepSeekV3Config.v3
    c.routedExperts = 1 << 24
    #expect(throws: FormatError.self) { try DeepSeekV3Layout(config: c) }
    c = .v3
    c.attentionHeads = Int.max / 2
    #expect(throws: FormatError.self) { try DeepSeekV3Layout(config: c) }
    c = .v3
    c.moeLayerFrequency = 0
    #expect(throws: FormatError.self) { try DeepSeekV3Layout(config: c) }
    c = .v3
    c.numHiddenLayers = -1
    #expect(throws: FormatError.self) { try DeepSeekV3Layout(config: c) }
    // From JSON every size is bounded, and a huge but bounded config is still rejected cleanly.
    var json = try parseDeepSeekConfig()
    guard case .object(var members) = json else {
      Issue.record("the DeepSeek-V3 config.json is not an object")
      return
    }
    for key in ["hidden_size", "vocab_size", "num_attention_heads", "q_lora_rank", "qk_nope_head_dim"] {
      members.removeAll { $0.key == key }
      members.append(JSONMember(key: key, value: .integer(1 << 24)))
    }
    json = .object(members)
    let big = try DeepSeekV3Config(json: json)
    #expect(throws: FormatError.self) { try DeepSeekV3Layout(config: big) }
  }

  /// The whole 671B checkpoint as sparse files: real headers, data as holes. Opening it must be
  /// fast and take memory independent of the 688 GB of data.
  @Test func `sparse 671B checkpoint opens quickly in bounded memory`() throws {
    let configJSON = try parseDeepSeekConfig()
    let layout = try DeepSeekV3Layout(config: try DeepSeekV3Config(json: configJSON))
    let dir = try TestPaths.temporaryDirectory("deepseek-sparse")
    defer { try? FileManager.default.removeItem(at: dir) }

    let writeStart = ContinuousClock.now
    let shards = layout.shards
    #expect(shards[5].tensors == layout.specs(shard: 5))
    let summary = try SparseCheckpoint.write(shards: shards, config: configJSON, to: dir.path)
    let writeTime = ContinuousClock.now - writeStart
    let headerBytes = summary.fileBytes - summary.dataBytes
    print(
      "sparse DeepSeek-V3: wrote \(shards.count) shards, \(summary.tensorCount) tensors, "
        + "\(summary.fileBytes) file bytes (\(headerBytes) header bytes) in \(writeTime)")
    #expect(summary.dataBytes == 688_574_839_360)
    // The published files have 11,888,393 bytes of headers (8-byte lengths included). The shard
    // boundaries are not known exactly, so offsets may differ by a digit here and there: allow
    // 0.1 %. (Dtype-first order inside files would be 3 % smaller and fail this.)
    #expect(abs(headerBytes - 11_888_393) < 11_888_393 / 1000)

    let rssBefore = procStatus("VmRSS") ?? 0
    let openStart = ContinuousClock.now
    let collection = try WeightFiles.open([dir.path])
    let openTime = ContinuousClock.now - openStart
    let peak = procStatus("VmHWM") ?? 0
    let rssAfter = procStatus("VmRSS") ?? 0
    let totalElements = collection.tensors.reduce(0) { $0 + $1.elementCount }
    let totalBytes = collection.tensors.reduce(0) { $0 + $1.byteCount }
    print(
      "sparse DeepSeek-V3: opened \(collection.tensors.count) tensors, \(totalElements) elements, "
        + "\(totalBytes) bytes in \(openTime); RSS \(rssBefore >> 20) → \(rssAfter >> 20) MiB, peak \(peak >> 20) MiB")

    #expect(collection.files.count == 163)
    #expect(collection.tensors.count == 91_991)
    #expect(totalElements == layout.elementCount)
    #expect((671_000_000_000...685_000_000_000).contains(totalElements))
    #expect(totalBytes == 688_574_839_360)
    #expect(collection.files.reduce(0) { $0 + $1.size } == summary.fileBytes)
    // File order is the generator's order: shard by shard, data offset within each.
    #expect(collection.tensors.map(\.name) == layout.tensors.map(\.name))
    #expect(collection.tensors.map(\.shape) == layout.tensors.map(\.shape))
    #expect(openTime < .seconds(120))
    #expect(rssAfter - rssBefore < 2 << 30)
    #expect(peak - rssBefore < 2 << 30)

    let checkpoint = try #require(collection as? SafetensorsCheckpoint)
    #expect(checkpoint.index?.weightMap.count == 91_991)
    #expect(try DeepSeekV3Config(json: #require(checkpoint.config)) == .v3)
    let entries = Dictionary(checkpoint.metadataEntries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
    #expect(entries["format"] == .string("pt"))
    #expect(entries["config.hidden_size"] == .int64(7168))
    #expect(
      entries["config.quantization_config.weight_block_size"]
        == .array(elementType: .int64, [.int64(128), .int64(128)]))
    #expect(entries["config.rms_norm_eps"] == .float64(1e-6))

    // The Rust crate accepts every generated header and finds the same tensors (the safetensors
    // Python package is a test dependency, installed by scripts/setup --test; it maps the files
    // and reads only headers).
    let python = ProcessInfo.processInfo.environment["QUANTSCOPE_SAFETENSORS_PYTHON"] ?? "python3"
    let script = """
      import json, sys
      from safetensors import safe_open
      index = json.load(open(sys.argv[1] + "/model.safetensors.index.json"))
      names = []
      for f in sorted(set(index["weight_map"].values())):
          with safe_open(sys.argv[1] + "/" + f, framework="numpy") as st:
              names += list(st.keys())
      print(json.dumps({"count": len(names), "unique": len(set(names))}))
      """
    let run = try ProcessRunner.run(program: python, ["-c", script, dir.path])
    let output = run.stdout
    #expect(run.status == 0, "\(run.stderrText)")
    let crate = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Int], "\(run.stderrText)")
    #expect(crate["count"] == 91_991)
    #expect(crate["unique"] == 91_991)

    // Data are holes and read as zeros.
    let scale = try #require(checkpoint.tensor(named: "model.layers.61.self_attn.kv_a_proj_with_mqa.weight_scale_inv"))
    #expect(scale.shape == [5, 56])
    #expect(try scale.bytes().allSatisfy { $0 == 0 })
  }
}
