import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// Plan and recipes fixtures, run through the shared ``CLI`` runner.
enum PlanCLI {
  /// The golden GGUF.
  static let goldenGGUF = TestPaths.goldenFile("ggml-quants.gguf")

  /// Writes a tiny 4-block llama GGUF with gguf-py: hidden 256, FFN inner 96 (so ffn_down rows need the
  /// row-length fallback), F32 data.
  static func writeTinyLlama(to path: String) throws {
    let script = """
      import sys, numpy as np, gguf
      w = gguf.GGUFWriter(sys.argv[1], "llama")
      w.add_block_count(4)
      H, F, V = 256, 96, 64
      def t(name, rows, cols):
          w.add_tensor(name, np.zeros((rows, cols), dtype=np.float32))
      t("token_embd.weight", V, H)
      for i in range(4):
          b = f"blk.{i}."
          w.add_tensor(b + "attn_norm.weight", np.ones(H, dtype=np.float32))
          t(b + "attn_q.weight", H, H); t(b + "attn_k.weight", 64, H); t(b + "attn_v.weight", 64, H)
          t(b + "attn_output.weight", H, H)
          w.add_tensor(b + "ffn_norm.weight", np.ones(H, dtype=np.float32))
          t(b + "ffn_gate.weight", F, H); t(b + "ffn_up.weight", F, H); t(b + "ffn_down.weight", H, F)
      w.add_tensor("output_norm.weight", np.ones(H, dtype=np.float32))
      t("output.weight", V, H)
      w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
      """
    let r = try python(script, [path])
    guard r.status == 0 else { throw CommandError(message: "gguf-py failed: \(r.stderr)") }
  }

  struct CommandError: Error { let message: String }

  /// The plan's JSON, decoded.
  static func json(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
  }
}

@Suite struct `recipes command` {
  @Test func `recipes list names every preset`() throws {
    let r = try quantscope("recipes", "list")
    #expect(r.status == 0)
    for name in ["q4_k_m", "q3_k_m", "q2_k", "q2_k_l", "dq3_k_m"] { #expect(r.stdout.contains("\n\(name) ")) }
  }

  @Test func `recipes show dq3_k_m prints the template with the note that the rest is inferred`() throws {
    let r = try quantscope("recipes", "show", "dq3_k_m")
    #expect(r.status == 0)
    #expect(r.stdout.contains("Only the ffn_down_exps rule is stated by the paper"))
    #expect(r.stdout.contains("the rest is inferred"))
    #expect(r.stdout.contains(#"blk\.{{moe_first:2}}\.ffn_down_exps=q6_k"#))
    let expanded = try quantscope("recipes", "show", "dq3_k_m", "--blocks", "61", "--dense-blocks", "3")
    #expect(expanded.status == 0)
    #expect(expanded.stdout.contains("\n" + #"blk\.(3|4)\.ffn_down_exps=q6_k"# + "\n"))
    #expect(expanded.stdout.contains(#"blk\.(5|10|15|20|25|30|35|40|45|50|55|60)\.ffn_down_exps=q4_k"#))
    #expect(expanded.stdout.contains("Only the ffn_down_exps rule is stated by the paper"))
  }

  @Test func `recipes show errors: unknown name, wrong architecture`() throws {
    let unknown = try quantscope("recipes", "show", "q9_k")
    #expect(unknown.status == 64)  // a name the user typed: a usage mistake
    #expect(unknown.stderr.hasPrefix("quantscope: error: q9_k: no such recipe file or preset"))
    let arch = try quantscope("recipes", "show", "dq3_k_m", "--arch", "llama")
    #expect(arch.status == 64)
    #expect(arch.stderr.contains("meant for deepseek2, not llama"))
    #expect(try quantscope("recipes", "show", "q4_k_m", "--arch", "gemma3").status == 0)
  }
}

@Suite struct `plan command` {
  @Test func `plan on the golden GGUF: every tensor, totals and sizes agree with gguf-py's block sizes`() throws {
    let r = try quantscope("plan", PlanCLI.goldenGGUF, "--recipe", "q4_k_m", "--arch", "llama", "--json")
    #expect(r.status == 0, "\(r.stderr)")
    let plan = try PlanCLI.json(r.stdout)
    let tensors = try #require(plan["tensors"] as? [[String: Any]])
    #expect(tensors.count == 497)
    // Independent oracle: gguf-py's GGML_QUANT_SIZES for every tensor's planned type and ne, and gguf-py's
    // reader for the current types and byte sizes (everything but `in.superweight` is kept as it is).
    let oracle = """
      import sys, json, gguf
      plan = json.load(open(sys.argv[1]))
      r = gguf.GGUFReader(sys.argv[2])
      cur = {t.name: (t.tensor_type.name, int(t.n_bytes)) for t in r.tensors}
      total = 0
      for t in plan["tensors"]:
          bs, ts = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType[t["target"]]]
          n = 1
          for d in t["ne"]: n *= d
          b = n // bs * ts
          assert b == t["bytes"], t
          if t["name"] != "in.superweight":
              assert (t["target"], t["bytes"]) == cur[t["name"]], t
          total += b
      assert total == plan["total_bytes"], total
      print("ok", total)
      """
    let dir = try TestPaths.temporaryDirectory("plan-json")
    defer { try? FileManager.default.removeItem(at: dir) }
    let jsonPath = dir.appendingPathComponent("plan.json").path
    try r.stdout.write(toFile: jsonPath, atomically: true, encoding: .utf8)
    let check = try python(oracle, [jsonPath, PlanCLI.goldenGGUF])
    #expect(check.status == 0, "\(check.stderr)")
    #expect(check.stdout.hasPrefix("ok "))
    let superweight = try #require(tensors.first { $0["name"] as? String == "in.superweight" })
    #expect(superweight["target"] as? String == "Q4_K")
    #expect((plan["rule_hits"] as? [[String: Any]])?.contains { $0["rule"] as? String == "keep: not a weight" } == true)
  }

  @Test func `plan on a tiny llama GGUF: llama.cpp's Q4_K_M choices, fallbacks, --rule precedence, text output`() throws
  {
    let dir = try TestPaths.temporaryDirectory("plan-tiny")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("tiny.gguf").path
    try PlanCLI.writeTinyLlama(to: path)

    let r = try quantscope("plan", path, "--recipe", "q4_k_m", "--json", "--rule", #"blk\.0\.attn_v=q8_0"#)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.isEmpty)
    let plan = try PlanCLI.json(r.stdout)
    #expect(plan["block_count"] as? Int == 4)
    let tensors = try #require(plan["tensors"] as? [[String: Any]])
    func target(_ name: String) -> String? { tensors.first { $0["name"] as? String == name }?["target"] as? String }
    // use_more_bits(i, 4) holds for i = 2, 3 of the attn_v counter. As in llama-quantize 0c1e570 a --tensor-type
    // rule replaces the mix rules for its tensor, so blk.0 does not advance the counter: blk.1, 2, 3 are i = 0, 1, 2.
    #expect(target("blk.0.attn_v.weight") == "Q8_0")  // --rule wins over the recipe
    #expect(target("blk.1.attn_v.weight") == "Q4_K")
    #expect(target("blk.2.attn_v.weight") == "Q4_K")
    #expect(target("blk.3.attn_v.weight") == "Q6_K")
    // ffn_down rows are 96 long: q4_k falls back to Q5_0, q6_k to Q8_0.
    #expect(target("blk.0.ffn_down.weight") == "Q5_0")
    #expect(target("blk.3.ffn_down.weight") == "Q8_0")
    #expect(target("output.weight") == "Q6_K")
    #expect(target("token_embd.weight") == "Q4_K")
    #expect(target("blk.0.attn_norm.weight") == "F32")
    let down = try #require(tensors.first { $0["name"] as? String == "blk.0.ffn_down.weight" })
    #expect(down["rule_type"] as? String == "Q4_K")
    #expect(down["fallback"] as? String == "Q4_K → Q5_0 (ne[0] = 96)")
    #expect(down["bytes"] as? Int == 256 * 3 * 22)
    #expect(tensors[0]["decided_by"] as? String == "Q4_K_M mix (llama.cpp 0c1e570)")
    #expect(plan["mixes"] as? String == "0c1e570")
    #expect(plan["llama_quantize"] as? String == "Q4_K_M")
    let hits = try #require(plan["rule_hits"] as? [[String: Any]])
    #expect(hits.first?["rule"] as? String == #"blk\.0\.attn_v=q8_0 (--rule)"#)
    #expect(hits.first?["count"] as? Int == 1)

    let text = try quantscope("plan", path, "--recipe", "q4_k_m", "--rule", #"blk\.0\.attn_v=q8_0"#)
    #expect(text.status == 0)
    #expect(text.stdout.contains("blk.0.ffn_down.weight"))
    #expect(text.stdout.contains("fallback Q4_K → Q5_0 (ne[0] = 96)"))
    let totalLine = try #require(text.stdout.split(separator: "\n").first { $0.hasPrefix("total: ") })
    let bytes = try #require(plan["total_bytes"] as? Int)
    let bpw = try #require(plan["bits_per_weight"] as? Double)
    // A small model's size is said in the unit that fits, not as 0.00 GiB; counts have separators.
    #expect(bytes > 1024 && bytes < 1 << 20)
    let kib = String(format: "%.2f KiB", Double(bytes) / 1024)
    #expect(totalLine.contains(" bytes = \(kib), \(String(format: "%.3f", bpw)) bits per weight"), "\(totalLine)")
    #expect(totalLine.contains(bytes >= 1000 ? "," : ""))
    #expect(!text.stdout.contains("0.00 GiB"))
    #expect(text.stdout.contains("hits  rule"))
    #expect(text.stdout.contains("type "))

    // --tensors plans the whole model and reports the matching tensors with their own totals.
    let some = try quantscope(
      "plan", path, "--recipe", "q4_k_m", "--rule", #"blk\.0\.attn_v=q8_0"#, "--tensors", "ffn_down", "--json")
    #expect(some.status == 0, "\(some.stderr)")
    let part = try #require(try JSONSerialization.jsonObject(with: some.data) as? [String: Any])
    let partTensors = try #require(part["tensors"] as? [[String: Any]])
    #expect(!partTensors.isEmpty && partTensors.allSatisfy { ($0["name"] as? String)?.contains("ffn_down") == true })
    let wholeDown = tensors.filter { ($0["name"] as? String)?.contains("ffn_down") == true }
    #expect(partTensors.map { $0["target"] as? String } == wholeDown.map { $0["target"] as? String })
    #expect(part["total_bytes"] as? Int == wholeDown.reduce(0) { $0 + ($1["bytes"] as? Int ?? 0) })
    let partHits = try #require(part["rule_hits"] as? [[String: Any]])
    #expect(partHits.reduce(0) { $0 + ($1["count"] as? Int ?? 0) } >= partTensors.count)
    let none = try quantscope("plan", path, "--recipe", "q4_k_m", "--tensors", "no_such_tensor")
    #expect(none.status == 1 && none.stderr.contains("no_such_tensor"), "\(none.stderr)")
  }

  @Test func `plan errors: empty checkpoint directory, bad rule, bad recipe file line, --kv-b mismatch`() throws {
    let dir = try TestPaths.temporaryDirectory("plan-errors")
    defer { try? FileManager.default.removeItem(at: dir) }
    let st = try quantscope("plan", dir.path, "--recipe", "q4_k_m")
    #expect(st.status == 1)
    #expect(st.stderr.hasPrefix("quantscope: error: \(dir.path): directory holds no model.safetensors.index.json"))

    let golden = PlanCLI.goldenGGUF
    let rule = try quantscope("plan", golden, "--recipe", "q4_k_m", "--rule", "attn_v")
    #expect(rule.status == 64)
    #expect(rule.stderr.hasPrefix("quantscope: error: --rule: malformed rule 'attn_v'"))

    let file = dir.appendingPathComponent("mix.txt").path
    try "# name: mix\nattn_v=q4_k\nffn_down=q7_k\n".write(toFile: file, atomically: true, encoding: .utf8)
    let bad = try quantscope("plan", golden, "--recipe", file)
    #expect(bad.status == 1)
    #expect(bad.stderr.hasPrefix("quantscope: error: \(file):3: invalid quantization type 'q7_k' (valid: q2_k, "))

    let kvb = try quantscope("plan", golden, "--recipe", "q4_k_m", "--kv-b", "legacy")
    #expect(kvb.status == 1)
    #expect(kvb.stderr.contains("no attn_kv_b tensors"))
  }
}
