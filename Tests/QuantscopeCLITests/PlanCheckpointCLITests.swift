import Foundation
import QuantscopeAnalysis
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// `plan` on the DeepSeek-V3/R1 FP8 checkpoint layout — 163 sparse shards with real names, dtypes,
/// shapes and header sizes, data as holes — mapped to GGUF names as the converter does (legacy
/// `attn_kv_b` layout): the paper's Table 1 figures.
@Suite("plan on the sparse DeepSeek-V3 FP8 checkpoint")
struct PlanCheckpointCLITests {
  static let checkpoint: Result<URL, Error> = Result {
    let config = try Array(Self.configText.utf8).withUnsafeBytes { try JSONValue.parse($0, path: "config.json") }
    let layout = try DeepSeekV3Layout(config: try DeepSeekV3Config(json: config))
    let dir = try TestPaths.temporaryDirectory("plan-sparse")
    try SparseCheckpoint.write(shards: layout.shards, config: config, to: dir.path)
    return dir
  }

  static let configText = """
    {"architectures":["DeepseekV3ForCausalLM"],"model_type":"deepseek_v3","hidden_size":7168,
     "intermediate_size":18432,"moe_intermediate_size":2048,"num_hidden_layers":61,"first_k_dense_replace":3,
     "moe_layer_freq":1,"n_routed_experts":256,"n_shared_experts":1,"num_experts_per_tok":8,
     "num_attention_heads":128,"num_key_value_heads":128,"q_lora_rank":1536,"kv_lora_rank":512,
     "qk_nope_head_dim":128,"qk_rope_head_dim":64,"v_head_dim":128,"vocab_size":129280,
     "num_nextn_predict_layers":1,"tie_word_embeddings":false,"topk_method":"noaux_tc",
     "quantization_config":{"activation_scheme":"dynamic","fmt":"e4m3","quant_method":"fp8","weight_block_size":[128,128]}}
    """

  @Test(arguments: [
    ("q4_k_m", "376.65", 4.822), ("q3_k_m", "297.27", 3.805), ("dq3_k_m", "280.42", 3.590), ("q2_k_l", "227.47", 2.912),
  ])
  func `plan gives the paper's Table 1 size`(preset: String, gib: String, bpw: Double) throws {
    let dir = try Self.checkpoint.get()
    // Table 1 was made with the llama.cpp of early 2025: --mixes paper (llama.cpp 8733e0c).
    let r = try quantscope("plan", dir.path, "--recipe", preset, "--kv-b", "legacy", "--mixes", "paper", "--json")
    #expect(r.status == 0, "\(r.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: r.data) as? [String: Any])
    let bytes = try #require(object["total_bytes"] as? Int, "\(object.keys.sorted())")
    let parameters = try #require(object["total_parameters"] as? Int)
    #expect(String(format: "%.2f", Double(bytes) / 1_073_741_824) == gib)
    #expect(abs(Double(bytes) * 8 / Double(parameters) - bpw) < 0.0006)
    #expect(parameters == 671_026_419_200)
    let tensors = try #require(object["tensors"] as? [Any])
    #expect(tensors.count == 1025, "legacy attn_kv_b layout: 1025 GGUF tensors")
    #expect(object["mixes"] as? String == (preset == "dq3_k_m" ? nil : "paper"))
    let text = try quantscope("plan", dir.path, "--recipe", preset, "--kv-b", "legacy", "--mixes", "paper")
    #expect(text.stdout.contains("= \(gib) GiB, "), "\(text.stdout.suffix(600))")
    if preset == "q3_k_m" { #expect(text.stdout.contains("= 297.27 GiB, 3.805 bits per weight")) }
  }

  @Test(arguments: [("q4_k_m", "376.77"), ("q3_k_m", "297.40"), ("q2_k_l", "227.56")])
  func `the newest mix rules give the legacy attn_kv_b more bits`(preset: String, gib: String) throws {
    let dir = try Self.checkpoint.get()
    let r = try quantscope("plan", dir.path, "--recipe", preset, "--kv-b", "legacy")
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("= \(gib) GiB"))
    #expect(r.stdout.contains("mix rules 0c1e570 (llama.cpp 0c1e57098"))
  }

  @Test func `a directory with only config.json plans the same tensors`() throws {
    let dir = try TestPaths.temporaryDirectory("plan-config-only")
    try Self.configText.write(toFile: dir.appendingPathComponent("config.json").path, atomically: true, encoding: .utf8)
    let fromConfig = try quantscope("plan", dir.path, "--recipe", "dq3_k_m", "--kv-b", "legacy", "--json")
    #expect(fromConfig.status == 0, "\(fromConfig.stderr)")
    let fromCheckpoint = try quantscope(
      "plan", try Self.checkpoint.get().path, "--recipe", "dq3_k_m", "--kv-b", "legacy", "--json")
    let a = try #require(try JSONSerialization.jsonObject(with: fromConfig.data) as? [String: Any])
    let b = try #require(try JSONSerialization.jsonObject(with: fromCheckpoint.data) as? [String: Any])
    #expect(a["total_bytes"] as? Int == b["total_bytes"] as? Int)
    #expect((a["tensors"] as? [Any])?.count == 1025)
  }

  @Test func `plan states the kv_b layout it planned and why, in the table and in JSON`() throws {
    let dir = try Self.checkpoint.get().path
    let assumed = try quantscope("plan", dir, "--recipe", "q4_k_m")
    #expect(assumed.status == 0, "\(assumed.stderr)")
    #expect(assumed.stdout.contains("kv_b layout: split (attn_k_b + attn_v_b), assumed; --kv-b legacy plans"))
    let chosen = try quantscope("plan", dir, "--recipe", "q4_k_m", "--kv-b", "legacy", "--json")
    let object = try #require(try JSONSerialization.jsonObject(with: chosen.data) as? [String: Any])
    #expect(object["kv_b_layout"] as? String == "legacy")
    #expect(object["kv_b_layout_basis"] as? String == "option")
    let keys = Array(String(decoding: chosen.data, as: UTF8.self).split(separator: "\n").prefix(9))
    #expect(keys.contains { $0.contains("\"kv_b_layout\": \"legacy\"") }, "next to the other model facts")
  }

  @Test func `inspect reads the 671B checkpoint in seconds with memory independent of its size`() throws {
    let dir = try Self.checkpoint.get()
    // Time and peak RSS of the child, measured by Python's resource module.
    let r = try python(
      """
      import resource, subprocess, sys, time, json
      t = time.monotonic()
      p = subprocess.run([sys.argv[1], "inspect", sys.argv[2], "--json", "--no-tensors"], capture_output=True)
      elapsed = time.monotonic() - t
      peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
      print(json.dumps(dict(status=p.returncode, seconds=elapsed, peak=peak, out=p.stdout.decode())))
      """, [CLI.binary, dir.path])
    let o = try #require(try JSONSerialization.jsonObject(with: r.data) as? [String: Any])
    #expect(o["status"] as? Int == 0)
    let seconds = try #require(o["seconds"] as? Double), peak = try #require(o["peak"] as? Int)
    print("inspect of the sparse DeepSeek-V3 FP8 checkpoint (688 GB of data): \(seconds) s, peak RSS \(peak >> 20) MiB")
    #expect(seconds < 60, "generous bound for a debug build on a loaded 2-core machine")
    #expect(peak < 1 << 30, "peak RSS must not grow with the 688 GB of tensor data")
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data((o["out"] as? String ?? "").utf8)) as? [String: Any])
    let totals = try #require(json["totals"] as? [String: Any])
    #expect(totals["tensors"] as? Int == 91_991)
    #expect(totals["bytes"] as? Int == 688_574_839_360)
  }

  @Test func `the split kv_b layout has 1086 tensors`() throws {
    let dir = try Self.checkpoint.get()
    let r = try quantscope("plan", dir.path, "--recipe", "q4_k_m", "--json")
    let object = try #require(try JSONSerialization.jsonObject(with: r.data) as? [String: Any])
    #expect((object["tensors"] as? [Any])?.count == 1086)
  }
}
