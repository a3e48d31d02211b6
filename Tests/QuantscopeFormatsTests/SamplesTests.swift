import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// The bundled samples (written by `scripts/make-samples.py`) exist, parse with `GGUFFile`, and agree with
/// gguf-py's `GGUFReader` and with the Python mapping oracle (`scripts/deepseek_mapping.py`).
@Suite("Bundled samples")
struct SamplesTests {
  static let mixFiles = ["deepseek-tiny-Q4_K_M.gguf", "deepseek-tiny-Q3_K_M.gguf"]
  static let splitFiles = ["deepseek-tiny-Q8_0-00001-of-00002.gguf", "deepseek-tiny-Q8_0-00002-of-00002.gguf"]
  static let ggufFiles = mixFiles + splitFiles
  static let checkpoint = "deepseek-tiny-fp8"
  static let checkpointFiles = [
    "config.json", "model.safetensors.index.json",
    "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
  ]

  static func path(_ name: String) -> String { TestPaths.samples.appendingPathComponent(name).path }

  /// Runs `python3 -c script args…` and returns its standard output; a non-zero exit is a test failure.
  static func python(_ script: String, _ arguments: [String]) throws -> Data {
    let r = try ProcessRunner.run(program: "python3", ["-c", script] + arguments, in: TestPaths.repository)
    try #require(r.status == 0, "python3 failed: \(arguments): \(r.stderrText)")
    return r.stdout
  }

  /// Tensor list as gguf-py reads it: name, type id, ne, absolute data offset, byte count.
  static func readerTensors(_ file: String) throws -> [[Any]] {
    let script = """
      import json, sys, gguf
      r = gguf.GGUFReader(sys.argv[1])
      print(json.dumps([[t.name, int(t.tensor_type), [int(x) for x in t.shape], int(t.data_offset), int(t.n_bytes)]
                        for t in r.tensors]))
      """
    let data = try python(script, [path(file)])
    return try #require(try JSONSerialization.jsonObject(with: data) as? [[Any]])
  }

  /// The oracle's GGUF tensor names, in writing order, for a layout.
  static func mappedNames(layout: String) throws -> [String] {
    let script = """
      import json, sys
      sys.path.insert(0, "scripts")
      import deepseek_mapping as dm
      ck = dm.Checkpoint(sys.argv[1])
      print(json.dumps(list(dm.gguf_map(ck.config, sys.argv[2], set(ck.weight_map)))))
      """
    let data = try python(script, [path(checkpoint), layout])
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String])
  }

  /// Runs `python3 scripts/make-samples.py args…`; a non-zero exit is a test failure.
  static func makeSamples(_ arguments: [String]) throws {
    let script = "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
    _ = try python(script, ["scripts/make-samples.py"] + arguments)
  }

  @Test func `regenerating the samples gives the committed bytes`() throws {
    let directory = try TestPaths.temporaryDirectory("samples")
    defer { try? FileManager.default.removeItem(at: directory) }
    try Self.makeSamples(["--out", directory.path])
    let names = Self.ggufFiles + Self.checkpointFiles.map { "\(Self.checkpoint)/\($0)" } + ["README.md"]
    for name in names {
      let committed = try Data(contentsOf: URL(fileURLWithPath: Self.path(name)))
      let regenerated = try Data(contentsOf: directory.appendingPathComponent(name))
      #expect(committed == regenerated, "\(name) differs from what scripts/make-samples.py writes")
    }
  }

  @Test func `the generator's quantizers reproduce ggml's golden vectors`() throws {
    let golden = TestPaths.golden.appendingPathComponent("ggml-quants.gguf").path
    try Self.makeSamples(["--golden", golden, "--check-only"])
  }

  @Test func `the oracle CLI writes float64 dequantized arrays in HF shape`() throws {
    let directory = try TestPaths.temporaryDirectory("oracle")
    defer { try? FileManager.default.removeItem(at: directory) }
    let out = directory.appendingPathComponent("kv_a.npy").path
    let script = "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
    _ = try Self.python(
      script,
      [
        "scripts/deepseek_mapping.py", "dequant", Self.path(Self.checkpoint),
        "model.layers.0.self_attn.kv_a_proj_with_mqa.weight", out,
      ])
    let data = try Data(contentsOf: URL(fileURLWithPath: out))
    let header = String(decoding: data.prefix(128), as: UTF8.self)
    #expect(header.contains("'descr': '<f8'"))
    // kv_lora_rank + qk_rope_head_dim rows (a partial last FP8 tile), hidden_size columns.
    #expect(header.contains("'shape': (288, 256)"))
  }

  @Test func `every sample file exists and is not empty`() throws {
    let names = Self.ggufFiles + Self.checkpointFiles.map { "\(Self.checkpoint)/\($0)" } + ["README.md"]
    for name in names {
      let attributes = try FileManager.default.attributesOfItem(atPath: Self.path(name))
      let size = try #require(attributes[.size] as? NSNumber).intValue
      #expect(size > 0, "\(name) is empty")
    }
  }

  @Test(arguments: ggufFiles)
  func `GGUFFile agrees with gguf-py's reader`(file: String) throws {
    let gguf = try GGUFFile(path: Self.path(file))
    let expected = try Self.readerTensors(file)
    #expect(gguf.tensors.count == expected.count)
    #expect(!gguf.tensors.isEmpty)
    for (tensor, row) in zip(gguf.tensors, expected) {
      let name = try #require(row[0] as? String)
      let typeID = try #require(row[1] as? Int)
      let ne = try #require(row[2] as? [Int])
      let offset = try #require(row[3] as? Int)
      let bytes = try #require(row[4] as? Int)
      #expect(tensor.name == name)
      #expect(tensor.encoding == .ggml(GGMLType(id: UInt32(typeID))), "\(name)")
      #expect(tensor.ne == ne, "\(name)")
      #expect(tensor.dataOffset == offset, "\(name)")
      #expect(tensor.byteCount == bytes, "\(name)")
    }
  }

  @Test(arguments: mixFiles)
  func `mix files are current-layout deepseek2 files with several quantizations`(file: String) throws {
    let gguf = try GGUFFile(path: Self.path(file))
    #expect(gguf["general.architecture"] == .string("deepseek2"))
    #expect(gguf["deepseek2.attention.key_length_mla"] != nil)
    #expect(gguf["deepseek2.attention.head_count_kv"]?.integer == 1)
    #expect(gguf["split.count"] == nil)
    #expect(gguf.tensors.map(\.name) == (try Self.mappedNames(layout: "current")))
    let quantized = Set(
      gguf.tensors.compactMap { t -> GGMLType? in
        guard case .ggml(let type) = t.encoding, type.isQuantized else { return nil }
        return type
      })
    #expect(quantized.count >= 2, "\(file) has quantized types \(quantized)")
    // Norms, the router and the bias stay F32, as llama.cpp's converter and quantizer leave them.
    for tensor in gguf.tensors
    where tensor.name.hasSuffix("_norm.weight") || tensor.name.contains("ffn_gate_inp")
      || tensor.name.hasSuffix(".bias")
    {
      #expect(tensor.encoding == .ggml(.f32), "\(tensor.name)")
    }
    // Experts are stacked with the expert index outermost (ne[2] = n_routed_experts).
    let experts = try #require(gguf["deepseek2.expert_count"]?.integer)
    let down = try #require(gguf.tensors.first { $0.name == "blk.1.ffn_down_exps.weight" })
    #expect(down.ne.count == 3 && down.ne[2] == experts)
  }

  @Test func `the Q8_0 split set has gguf-split keys and metadata only in its first shard`() throws {
    let first = try GGUFFile(path: Self.path(Self.splitFiles[0]))
    let second = try GGUFFile(path: Self.path(Self.splitFiles[1]))
    let total = first.tensors.count + second.tensors.count
    #expect(first["split.no"] == .uint16(0))
    #expect(second["split.no"] == .uint16(1))
    for shard in [first, second] {
      #expect(shard["split.count"] == .uint16(2))
      #expect(shard["split.tensors.count"] == .int32(Int32(total)))
    }
    #expect(first["general.architecture"] == .string("deepseek2"))
    #expect(first["deepseek2.attention.key_length_mla"] == nil)  // legacy layout
    #expect(second.metadata.map(\.key).sorted() == ["split.count", "split.no", "split.tensors.count"])
    let names = first.tensors.map(\.name) + second.tensors.map(\.name)
    #expect(names == (try Self.mappedNames(layout: "legacy")))
    for tensor in first.tensors + second.tensors
    where !tensor.name.hasSuffix("_norm.weight")
      && !tensor.name.contains("ffn_gate_inp") && !tensor.name.hasSuffix(".bias")
    {
      #expect(tensor.encoding == .ggml(.q8_0), "\(tensor.name)")
    }
  }

  @Test func `the FP8 checkpoint shards are well-formed and match their index`() throws {
    let indexData = try Data(
      contentsOf: URL(fileURLWithPath: Self.path("\(Self.checkpoint)/model.safetensors.index.json")))
    let index = try #require(try JSONSerialization.jsonObject(with: indexData) as? [String: Any])
    let weightMap = try #require(index["weight_map"] as? [String: String])
    var seen: [String: String] = [:]
    for shard in Self.checkpointFiles where shard.hasSuffix(".safetensors") {
      let data = try Data(contentsOf: URL(fileURLWithPath: Self.path("\(Self.checkpoint)/\(shard)")))
      try #require(data.count >= 8)
      let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
      #expect(headerLength % 8 == 0, "header padded to 8 bytes")
      let header = try #require(
        try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as? [String: Any])
      var end = 0
      for (name, value) in header where name != "__metadata__" {
        let entry = try #require(value as? [String: Any])
        let offsets = try #require(entry["data_offsets"] as? [Int])
        let shape = try #require(entry["shape"] as? [Int])
        let dtype = try #require(entry["dtype"] as? String)
        let width = try #require(["F8_E4M3": 1, "BF16": 2, "F32": 4][dtype], "\(name): \(dtype)")
        #expect(offsets[1] - offsets[0] == shape.reduce(width, *), "\(name)")
        end = max(end, offsets[1])
        seen[name] = shard
        if dtype == "F8_E4M3" {
          // Every FP8 weight has a 128x128-tile F32 scale partner.
          let scale = try #require(header[name + "_scale_inv"] as? [String: Any], "\(name) has no scale")
          #expect(scale["dtype"] as? String == "F32")
          #expect(scale["shape"] as? [Int] == shape.map { ($0 + 127) / 128 }, "\(name)")
        }
      }
      #expect(8 + headerLength + end == data.count, "\(shard): no gap or trailing bytes")
    }
    #expect(seen == weightMap)
  }
}
