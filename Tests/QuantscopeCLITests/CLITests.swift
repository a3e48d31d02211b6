import Foundation
import QuantscopeTestSupport
import Testing

/// A golden file.
func golden(_ name: String) -> String { TestPaths.goldenFile(name) }

/// gguf-py's tensor list of each file: name, type id, ne, absolute data offset, byte count.
let pyTensors = """
  import sys, json, gguf
  out = []
  for p in sys.argv[1:]:
      r = gguf.GGUFReader(p)
      for t in r.tensors:
          out.append({"file": p, "name": t.name, "type": t.tensor_type.name, "type_id": int(t.tensor_type),
                      "ne": [int(x) for x in t.shape], "offset": int(t.data_offset), "bytes": int(t.n_bytes)})
  print(json.dumps(out))
  """

/// Writes GGUFs with gguf-py: `argv[2]` is `little`, `big` or `split` (2 tensors per shard),
/// or `nan-f32` / `nan-q8` / `clean` / `overlap` for verify.
let pyWriter = """
  import sys, struct, numpy as np, gguf
  out, mode = sys.argv[1], sys.argv[2]
  end = gguf.GGUFEndian.BIG if mode.startswith("big") else gguf.GGUFEndian.LITTLE
  w = gguf.GGUFWriter(out, "llama", endianess=end, split_max_tensors=2 if mode == "split" else 0)
  w.add_uint8("t.u8", 200); w.add_int8("t.i8", -100); w.add_uint16("t.u16", 60000); w.add_int16("t.i16", -30000)
  w.add_uint32("t.u32", 4000000000); w.add_int32("t.i32", -2000000000); w.add_float32("t.f32", 0.25)
  w.add_bool("t.bool", True); w.add_string("t.str", "h\\u00e9llo"); w.add_uint64("t.u64", 2**64 - 1)
  w.add_int64("t.i64", -2**63); w.add_float64("t.f64", -1.5e300); w.add_array("t.arr.str", ["a", "bc"])
  w.add_array("t.arr.i32", list(range(20))); w.add_array("t.arr.nested", [[1, 2], [3]])
  emb = np.arange(64, dtype=np.float32).reshape(8, 8)
  if mode.endswith("nan-f32"):
      emb[5, 3] = np.nan
  w.add_tensor("token_embd.weight", emb)
  w.add_tensor("blk.0.attn_norm.weight", np.ones(8, dtype=np.float16))
  # Raw Q8_0 bytes are not swapped by gguf-py, so store d (1.0, or NaN in block 2) in file order.
  hi = 0 if mode.startswith("big") else 1
  q = np.zeros((4, 34), dtype=np.uint8); q[:, hi] = 0x3c
  if mode.endswith("nan-q8"):
      q[2, hi] = 0x7e
  w.add_tensor("blk.0.ffn_down.weight", q, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
  w.add_tensor("blk.1.ffn_up.weight", np.arange(24, dtype=np.float32).reshape(2, 3, 4))
  w.add_tensor("output.weight", np.ones((4, 8), dtype=np.float32))
  w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
  if mode == "unknown-type":
      r = gguf.GGUFReader(out)
      f = r.tensors[1].field
      at = f.offset + sum(int(p.nbytes) for p in f.parts) - 12
      del r
      with open(out, "r+b") as fh:
          fh.seek(at); fh.write(struct.pack("<I", 99))
  if mode == "overlap":
      r = gguf.GGUFReader(out)
      f = r.tensors[1].field
      at = f.offset + sum(int(p.nbytes) for p in f.parts) - 8
      del r
      with open(out, "r+b") as fh:
          fh.seek(at); fh.write(struct.pack("<Q", 128))
  """

@Suite("quantscope inspect and verify")
struct CLITests {
  func inspectJSON(_ path: String, _ extra: String...) throws -> [String: Any] {
    let r = try CLI.quantscope(["inspect", path, "--json"] + extra)
    #expect(r.status == 0, "\(r.stderr)")
    return try #require(try JSONSerialization.jsonObject(with: r.data) as? [String: Any])
  }

  /// Writes `inspect --json` of `path` to a file in `dir`; returns the file's path.
  func writeInspectJSON(_ path: String, into dir: URL) throws -> String {
    let r = try CLI.quantscope(["inspect", path, "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let out = dir.appendingPathComponent("inspect.json")
    try r.data.write(to: out)
    return out.path
  }

  /// Checks that our `inspect --json` and gguf-py agree on every tensor of `files`.
  func crossCheck(_ path: String, files: [String]) throws {
    let ours = try #require(try inspectJSON(path)["tensors"] as? [[String: Any]])
    let py = try #require(
      try JSONSerialization.jsonObject(with: try python(pyTensors, files).data) as? [[String: Any]])
    #expect(ours.count == py.count)
    #expect(!ours.isEmpty)
    for (o, p) in zip(ours, py) {
      let name = p["name"] as? String ?? "?"
      #expect(o["name"] as? String == name)
      #expect(o["type"] as? String == p["type"] as? String, "\(name)")
      #expect(o["type_id"] as? Int == p["type_id"] as? Int, "\(name)")
      #expect(o["ne"] as? [Int] == p["ne"] as? [Int], "\(name)")
      #expect(o["offset"] as? Int == p["offset"] as? Int, "\(name)")
      #expect(o["bytes"] as? Int == p["bytes"] as? Int, "\(name)")
      #expect(o["file"] as? String == p["file"] as? String, "\(name)")
    }
  }

  @Test func `inspect agrees with gguf-py on the golden file`() throws {
    let path = golden("ggml-quants.gguf")
    try crossCheck(path, files: [path])
    let json = try inspectJSON(path)
    let totals = try #require(json["totals"] as? [String: Any])
    #expect(totals["tensors"] as? Int == 497)
    let types = try #require(json["types"] as? [[String: Any]])
    #expect(types.reduce(0) { $0 + ($1["tensors"] as? Int ?? 0) } == 497)
    #expect(types.reduce(0) { $0 + ($1["bytes"] as? Int ?? 0) } == totals["bytes"] as? Int)
  }

  @Test(arguments: ["little", "big"])
  func `inspect agrees with gguf-py on files gguf-py wrote`(mode: String) throws {
    let dir = try TestPaths.temporaryDirectory("cli-\(mode)")
    let path = dir.appendingPathComponent("\(mode).gguf").path
    _ = try python(pyWriter, [path, mode])
    try crossCheck(path, files: [path])
    let json = try inspectJSON(path, "--full")
    #expect(json["big_endian"] as? Bool == (mode == "big"))
    let meta = try #require(json["metadata"] as? [[String: Any]])
    func entry(_ key: String) -> [String: Any]? { meta.first { $0["key"] as? String == key } }
    #expect(entry("t.arr.nested")?["type"] as? String == "ARRAY[ARRAY[INT32]]")
    #expect(entry("t.arr.nested")?["value"] as? [[Int]] == [[1, 2], [3]])
    #expect(entry("t.i16")?["value"] as? Int == -30000)
    #expect(entry("t.u32")?["value"] as? Int == 4_000_000_000)
    #expect(entry("t.i64")?["value"] as? Int == Int.min)
    #expect(entry("t.f64")?["value"] as? Double == -1.5e300)
    #expect(entry("t.str")?["value"] as? String == "héllo")
    #expect(entry("t.bool")?["value"] as? Bool == true)
    #expect((entry("t.arr.i32")?["value"] as? [Int])?.count == 20)
    // A UINT64 above Int64.max is printed exactly, as Python's json module reads it.
    let u64 = try CLI.pythonJSON(
      "import sys, json; m = json.load(open(sys.argv[1]))['metadata']; "
        + "print(json.dumps({'exact': next(e['value'] for e in m if e['key'] == 't.u64') == 2**64 - 1}))",
      [try writeInspectJSON(path, into: dir)])
    #expect(u64["exact"] as? Bool == true)
    // Without --full, long arrays are shortened but keep their count.
    let short = try #require(try inspectJSON(path)["metadata"] as? [[String: Any]])
    let arr = try #require(short.first { $0["key"] as? String == "t.arr.i32" })
    #expect((arr["value"] as? [Int]) == Array(0..<8))
    #expect(arr["count"] as? Int == 20)
  }

  @Test func `inspect agrees with gguf-py on a split set opened from any shard`() throws {
    let dir = try TestPaths.temporaryDirectory("cli-split")
    let base = dir.appendingPathComponent("model.gguf").path
    _ = try python(pyWriter, [base, "split"])
    let shards = (1...3).map { dir.appendingPathComponent("model-0000\($0)-of-00003.gguf").path }
    for shard in shards { try crossCheck(shard, files: shards) }
    let json = try inspectJSON(shards[2])
    #expect((json["files"] as? [[String: Any]])?.count == 3)
    // Remove a shard: a clean error naming it, exit status 1.
    try FileManager.default.removeItem(atPath: shards[1])
    let r = try quantscope("inspect", shards[0])
    #expect(r.status == 1)
    #expect(r.stderr.hasPrefix("quantscope: error: \(shards[1]): missing shard 2 of 3"))
    let v = try quantscope("verify", shards[2])
    #expect(v.status == 2)
    #expect(v.stdout.contains("missing shard 2 of 3"))
  }

  @Test func `inspect text, markdown, filters and layers`() throws {
    let path = golden("ggml-quants.gguf")
    let text = try quantscope("inspect", path, "--tensors", "^gauss\\.q8_0$")
    #expect(text.status == 0)
    #expect(text.stdout.contains("gauss.q8_0"))
    #expect(!text.stdout.contains("gauss.q8_0.im"))
    #expect(text.stdout.contains("Q8_0  [8, 512]"))
    #expect(text.stdout.contains("8.500"))
    let md = try quantscope("inspect", path, "--markdown", "--no-tensors")
    #expect(md.stdout.contains("| type | tensors | parameters | bytes | bpw |"))
    #expect(!md.stdout.contains("## Tensors"))

    let dir = try TestPaths.temporaryDirectory("cli-layers")
    let file = dir.appendingPathComponent("l.gguf").path
    _ = try python(pyWriter, [file, "little"])
    let json = try inspectJSON(file, "--by-layer")
    let layers = try #require(json["layers"] as? [[String: Any]])
    #expect(layers.map { $0["layer"] as? Int } == [0, 1, nil])
    #expect(layers.map { $0["tensors"] as? Int } == [2, 1, 2])
    #expect(layers[0]["bytes"] as? Int == 16 + 136)
    #expect(json["tensors"] == nil)
    let bad = try quantscope("inspect", file, "--tensors", "(")
    #expect(bad.status == 64)
  }

  @Test func `an unknown tensor type is listed and the others still read`() throws {
    let dir = try TestPaths.temporaryDirectory("cli-unknown")
    let path = dir.appendingPathComponent("u.gguf").path
    _ = try python(pyWriter, [path, "unknown-type"])
    let json = try inspectJSON(path)
    let tensors = try #require(json["tensors"] as? [[String: Any]])
    #expect(tensors.count == 5)
    #expect(tensors[1]["type_id"] as? Int == 99)
    #expect(tensors[1]["usable"] as? Bool == false)
    #expect(tensors[1]["bytes"] as? Int == 0)
    #expect(tensors[2]["type"] as? String == "Q8_0")
    let text = try quantscope("inspect", path)
    #expect(text.stdout.contains("type99 (unusable)"))
    let v = try quantscope("verify", path)
    #expect(v.status == 2)
    #expect(v.stdout.contains("[unusable-type]"))
  }

  @Test func `verify exit codes and findings`() throws {
    let dir = try TestPaths.temporaryDirectory("cli-verify")
    func make(_ mode: String) throws -> String {
      let path = dir.appendingPathComponent("\(mode).gguf").path
      _ = try python(pyWriter, [path, mode])
      return path
    }
    let clean = try quantscope("verify", "--deep", try make("clean"), golden("ggml-quants.gguf"))
    #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")

    let nanF32 = try quantscope("verify", "--deep", try make("nan-f32"))
    #expect(nanF32.status == 2)
    #expect(nanF32.stdout.contains("[non-finite-value] value 43 is NaN (tensor token_embd.weight, block 43"))
    // Without --deep the value is not read.
    #expect(try quantscope("verify", dir.appendingPathComponent("nan-f32.gguf").path).status == 0)

    // Big-endian files: values and scales are read in the file's byte order.
    #expect(try quantscope("verify", "--deep", try make("big")).status == 0)
    let bigNaN = try quantscope("verify", "--deep", try make("big-nan-f32"), try make("big-nan-q8"))
    #expect(bigNaN.status == 2)
    #expect(bigNaN.stdout.contains("value 43 is NaN (tensor token_embd.weight, block 43"))
    #expect(bigNaN.stdout.contains("scale d is NaN (tensor blk.0.ffn_down.weight, block 2"))

    let nanQ8 = try quantscope("verify", "--deep", try make("nan-q8"))
    #expect(nanQ8.status == 2)
    #expect(nanQ8.stdout.contains("Q8_0 block scale d is NaN (tensor blk.0.ffn_down.weight, block 2"))

    let overlap = try quantscope("verify", try make("overlap"))
    #expect(overlap.status == 2)
    #expect(
      overlap.stdout.contains(
        "[overlap] data overlaps tensor token_embd.weight by 16 bytes (tensor blk.0.attn_norm.weight"))
    #expect(overlap.stdout.contains("[offset-order] data offset 128, expected 256"))

    let missing = try quantscope("verify", dir.appendingPathComponent("nope.gguf").path)
    #expect(missing.status == 1)
    #expect(missing.stderr.hasPrefix("quantscope: error: "))
  }
}
