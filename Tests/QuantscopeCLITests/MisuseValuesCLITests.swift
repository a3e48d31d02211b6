import Foundation
import QuantscopeTestSupport
import Testing

/// Issue 16 §5–6, "promises under misuse": wrong scales and non-finite numbers are never
/// silent, and gates tell the truth. Each case asserts the exit status, the message and the
/// files left on disk.
///
/// Fixtures are copies of the bundled samples with a few bytes changed: the FP8 checkpoint's
/// first shard holds `model.layers.0.mlp.down_proj.weight_scale_inv` (F32 [2,4], weight
/// [256,512]) and `up_proj.weight_scale_inv` (F32 [4,2], weight [512,256]), whose header entries
/// and values are patched in place.
@Suite("misuse: values and gates")
struct MisuseValuesCLITests {
  static let samples = TestPaths.samples
  static let q3 = samples.appendingPathComponent("deepseek-tiny-Q3_K_M.gguf").path
  static let q8 = samples.appendingPathComponent("deepseek-tiny-Q8_0-00001-of-00002.gguf").path
  static let fp8 = samples.appendingPathComponent("deepseek-tiny-fp8").path
  static let shard1 = "model-00001-of-00002.safetensors"

  /// A copy of the FP8 sample checkpoint in a fresh directory, with `patch` applied to shard 1's
  /// bytes (header included).
  static func checkpoint(_ label: String, patch: (inout [UInt8]) throws -> Void) throws -> URL {
    let dir = try TestPaths.temporaryDirectory(label)
    let ref = dir.appendingPathComponent("ref")
    try FileManager.default.copyItem(atPath: fp8, toPath: ref.path)
    let url = ref.appendingPathComponent(shard1)
    var bytes = [UInt8](try Data(contentsOf: url))
    try patch(&bytes)
    try Data(bytes).write(to: url)
    return dir
  }

  /// Replaces the one occurrence of `old` in the safetensors header by `new` (same length).
  static func replaceInHeader(_ bytes: inout [UInt8], _ old: String, _ new: String) throws {
    let o = Array(old.utf8), n = Array(new.utf8)
    precondition(o.count == n.count)
    let headerEnd = 8 + Int(bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) })
    let hits = (8...(headerEnd - o.count)).filter { Array(bytes[$0..<$0 + o.count]) == o }
    try #require(hits.count == 1, "\(old) occurs \(hits.count) times in the header")
    bytes.replaceSubrange(hits[0]..<hits[0] + n.count, with: n)
  }

  /// Absolute offset and byte count of a tensor, from `inspect --json`.
  static func location(_ path: String, _ name: String) throws -> (offset: Int, bytes: Int) {
    let r = try quantscope(
      "inspect", path, "--json", "--tensors", "^" + NSRegularExpression.escapedPattern(for: name) + "$")
    try #require(r.status == 0, "\(r.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: r.data) as? [String: Any])
    let t = try #require((object["tensors"] as? [[String: Any]])?.first)
    return (try #require(t["offset"] as? Int), try #require(t["bytes"] as? Int))
  }

  static let nanF32: [UInt8] = [0x00, 0x00, 0xC0, 0x7F]

  /// Sets F32 entry `index` of tensor `name` in the sample shard to NaN.
  static func nanScale(_ name: String, entry index: Int) throws -> (inout [UInt8]) throws -> Void {
    let at = try location(fp8, name).offset + 4 * index
    return { bytes in bytes.replaceSubrange(at..<at + 4, with: nanF32) }
  }

  static func json(_ r: CLI.Run) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: r.data) as? [String: Any], "stdout is not JSON: \(r.stderr)")
  }

  static func tensor(_ object: [String: Any], _ name: String) throws -> [String: Any] {
    try #require((object["tensors"] as? [[String: Any]])?.first { $0["name"] as? String == name }, "\(name) missing")
  }

  // MARK: §5 wrong scale shapes

  @Test(arguments: ["[4,2]", "[1,8]"])
  func `a block scale of the wrong shape is an error naming it, its shape and the expected one`(shape: String) throws {
    let dir = try Self.checkpoint("scale-shape") { bytes in
      try Self.replaceInHeader(
        &bytes, "\"model.layers.0.mlp.down_proj.weight_scale_inv\":{\"dtype\":\"F32\",\"shape\":[2,4]",
        "\"model.layers.0.mlp.down_proj.weight_scale_inv\":{\"dtype\":\"F32\",\"shape\":\(shape)")
    }
    defer { try? FileManager.default.removeItem(at: dir) }
    let ref = dir.appendingPathComponent("ref").path
    let report = dir.appendingPathComponent("report.html").path
    let shown = "[" + shape.dropFirst().dropLast().replacingOccurrences(of: ",", with: ", ") + "]"
    let expected = [
      "model.layers.0.mlp.down_proj.weight_scale_inv", "scale shape \(shown)", "expected [2, 4]", "128×128",
    ]

    let diff = try quantscope("diff", Self.q3, "--ref", ref, "--report", report)
    #expect(diff.status == 1, "\(diff.stdout)")
    #expect(diff.stderr.hasPrefix("quantscope: error: \(ref)/\(Self.shard1): "), "\(diff.stderr)")
    for part in expected { #expect(diff.stderr.contains(part), "diff: \(part) in \(diff.stderr)") }
    #expect(diff.stderr.split(separator: "\n").count == 1)
    #expect(!FileManager.default.fileExists(atPath: report), "no report for a failed diff")

    let stats = try quantscope("stats", ref, "--tensors", "layers\\.0\\.mlp\\.down_proj\\.weight$")
    #expect(stats.status == 1)
    for part in expected { #expect(stats.stderr.contains(part), "stats: \(part) in \(stats.stderr)") }

    let out = dir.appendingPathComponent("out")
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    let decode = try quantscope(
      "decode", ref, "--tensor", "model.layers.0.mlp.down_proj.weight", "-o", out.appendingPathComponent("d.npy").path)
    #expect(decode.status == 1)
    for part in expected { #expect(decode.stderr.contains(part), "decode: \(part) in \(decode.stderr)") }

    let requant = try quantscope(
      "requant", Self.q3, "-o", out.appendingPathComponent("r.gguf").path, "--rule", "blk\\.0\\.ffn_down\\.weight=q6_k",
      "--ref", ref)
    #expect(requant.status == 1)
    for part in expected { #expect(requant.stderr.contains(part), "requant: \(part) in \(requant.stderr)") }
    let left = try CLI.listing(out)
    #expect(left.isEmpty, "nothing written: \(left)")
  }

  @Test func `the block size comes from config.json weight_block_size`() throws {
    let dir = try Self.checkpoint("block-size") { _ in }
    defer { try? FileManager.default.removeItem(at: dir) }
    let config = dir.appendingPathComponent("ref/config.json")
    var text = try String(contentsOf: config, encoding: .utf8)
    let compact = text.replacingOccurrences(of: " ", with: "").replacingOccurrences(of: "\n", with: "")
    try #require(compact.contains("\"weight_block_size\":[128,128]"))
    let range = try #require(text.range(of: "\"weight_block_size\""))
    let close = try #require(text[range.upperBound...].firstIndex(of: "]"))
    text.replaceSubrange(range.lowerBound...close, with: "\"weight_block_size\": [64, 128]")
    try text.write(to: config, atomically: true, encoding: .utf8)
    let r = try quantscope(
      "stats", dir.appendingPathComponent("ref").path, "--tensors", "layers\\.0\\.mlp\\.down_proj\\.weight$")
    #expect(r.status == 1)
    #expect(r.stderr.contains("down_proj.weight_scale_inv"), "\(r.stderr)")
    #expect(r.stderr.contains("expected [4, 4] for 64×128 blocks"), "\(r.stderr)")
  }

  // MARK: §5 non-finite values

  @Test func `a NaN scale tile makes the tensor and its roll-ups n/a, warns, and fails every gate`() throws {
    let dir = try Self.checkpoint(
      "nan-scale", patch: try Self.nanScale("model.layers.0.mlp.up_proj.weight_scale_inv", entry: 2))
    defer { try? FileManager.default.removeItem(at: dir) }
    let ref = dir.appendingPathComponent("ref").path

    let j = try quantscope("diff", Self.q3, "--ref", ref, "--json")
    #expect(j.status == 0, "\(j.stderr)")
    #expect(
      j.stderr.contains(
        "quantscope: warning: \(Self.q3): blk.0.ffn_up.weight: 16384 NaN/Inf reference and 0 NaN/Inf candidate"),
      "\(j.stderr)")
    #expect(
      j.stderr.contains("first at [128,0]"), "scale entry 2 of the [4,2] grid is [1, 0]: rows 128..<256: \(j.stderr)")
    let object = try Self.json(j)
    let up = try Self.tensor(object, "blk.0.ffn_up.weight")
    #expect(up["non_finite_reference"] as? Int == 16384)
    #expect(up["non_finite_candidate"] as? Int == 0)
    for key in ["mse", "nmse", "nmse_db", "cosine", "snr_db", "max_abs", "rel_frobenius"] {
      #expect(up[key] is NSNull, "\(key) = \(String(describing: up[key]))")
    }
    let clean = try Self.tensor(object, "blk.0.ffn_gate.weight")
    #expect(clean["cosine"] is Double && clean["non_finite_reference"] as? Int == 0)
    let model = try #require(object["model"] as? [String: Any])
    #expect(model["cosine"] is NSNull && model["non_finite_reference"] as? Int == 16384)
    let layer0 = try #require((object["layers"] as? [[String: Any]])?.first { $0["label"] as? String == "blk.0" })
    #expect(layer0["nmse_db"] is NSNull)
    #expect(object["gate"] is NSNull, "no --fail-above, no gate")

    let table = try quantscope("diff", Self.q3, "--ref", ref, "--sort", "nmse")
    #expect(table.status == 0)
    let first = try #require(table.stdout.split(separator: "\n").dropFirst(2).first)
    #expect(first.hasPrefix("blk.0.ffn_up.weight") && first.contains("n/a"), "worst first, n/a: \(first)")
    #expect(
      table.stdout.contains(
        "tensors with NaN/Inf values, metrics n/a (1): blk.0.ffn_up.weight (16384 reference, 0 candidate)"))
    let wholeModel = try #require(table.stdout.split(separator: "\n").first { $0.hasPrefix("model ") })
    #expect(wholeModel.contains("n/a") && !wholeModel.contains("1.000000"), "\(wholeModel)")

    // A lenient threshold every finite tensor passes still fails on the NaN tile.
    let gate = try quantscope("diff", Self.q3, "--ref", ref, "--fail-above", "cosine=0.5", "--json")
    #expect(gate.status == 2, "\(gate.stderr)")
    #expect(
      gate.stderr.contains(
        "quantscope: gate failed: 1 tensor(s) exceed the threshold (cosine < 0.5); 1 of them have NaN/Inf values"),
      "\(gate.stderr)")
    #expect(gate.stderr.contains("fail every threshold: blk.0.ffn_up.weight (16384 reference, 0 candidate)"))
    let g = try #require(try Self.json(gate)["gate"] as? [String: Any])
    #expect(g["passed"] as? Bool == false)
    let failure = try #require((g["failures"] as? [[String: Any]])?.first)
    #expect(failure["non_finite_tensors"] as? [String] == ["blk.0.ffn_up.weight"])
    #expect(failure["worst"] is NSNull, "no finite tensor is below cosine 0.5")
  }

  @Test func `an all-NaN reference embedding has no score and fails the gate`() throws {
    let embed = try Self.location(Self.fp8, "model.embed_tokens.weight")
    let dir = try Self.checkpoint("nan-embed") { bytes in
      for i in stride(from: embed.offset, to: embed.offset + embed.bytes, by: 2) {
        bytes[i] = 0xC0
        bytes[i + 1] = 0x7F
      }
    }
    defer { try? FileManager.default.removeItem(at: dir) }
    let ref = dir.appendingPathComponent("ref").path
    let r = try quantscope("diff", Self.q3, "--ref", ref, "--fail-above", "cosine=0.9999", "--json")
    #expect(r.status == 2, "\(r.stderr)")
    let object = try Self.json(r)
    let t = try Self.tensor(object, "token_embd.weight")
    #expect(t["mse"] is NSNull && t["cosine"] is NSNull, "never mse 0, cosine 1")
    #expect(t["non_finite_reference"] as? Int == 300 * 256)
    #expect((object["model"] as? [String: Any])?["cosine"] is NSNull)
    #expect(r.stderr.contains("token_embd.weight (76800 reference, 0 candidate)"), "\(r.stderr)")
  }

  @Test func `one NaN FP8 code and one NaN candidate value are counted on their own side`() throws {
    let down = try Self.location(Self.fp8, "model.layers.0.mlp.down_proj.weight")
    let dir = try Self.checkpoint("nan-code") { bytes in bytes[down.offset + 513] = 0x7F }  // row 1, column 1
    defer { try? FileManager.default.removeItem(at: dir) }
    let candidate = dir.appendingPathComponent("cand.gguf")
    try FileManager.default.copyItem(atPath: Self.q3, toPath: candidate.path)
    let norm = try Self.location(Self.q3, "blk.0.attn_q_a_norm.weight")  // F32
    var bytes = [UInt8](try Data(contentsOf: candidate))
    bytes.replaceSubrange(norm.offset + 4 * 7..<norm.offset + 4 * 8, with: [0x00, 0x00, 0x80, 0x7F])  // +Inf at [7]
    try Data(bytes).write(to: candidate)

    let r = try quantscope("diff", candidate.path, "--ref", dir.appendingPathComponent("ref").path, "--json")
    #expect(r.status == 0, "\(r.stderr)")
    let object = try Self.json(r)
    let d = try Self.tensor(object, "blk.0.ffn_down.weight")
    #expect(d["non_finite_reference"] as? Int == 1 && d["non_finite_candidate"] as? Int == 0)
    #expect(d["first_non_finite_at"] as? [Int] == [1, 1])
    #expect(d["cosine"] is NSNull)
    let n = try Self.tensor(object, "blk.0.attn_q_a_norm.weight")
    #expect(n["non_finite_reference"] as? Int == 0 && n["non_finite_candidate"] as? Int == 1)
    #expect(n["nmse_db"] is NSNull)
    #expect(
      r.stderr.contains(
        "blk.0.attn_q_a_norm.weight: 0 NaN/Inf reference and 1 NaN/Inf candidate value(s), first at [7]"),
      "\(r.stderr)")
    let csv = try quantscope("diff", candidate.path, "--ref", dir.appendingPathComponent("ref").path, "--csv")
    let line = try #require(csv.stdout.split(separator: "\n").first { $0.hasPrefix("blk.0.attn_q_a_norm.weight,") })
    #expect(line.hasSuffix(",,,,,,,,,,0,1"), "empty metric cells, then the counts: \(line)")
  }

  @Test func `requant refuses a NaN scale tile naming the scale entry and tile, unless allowed`() throws {
    let dir = try Self.checkpoint(
      "requant-nan", patch: try Self.nanScale("model.layers.0.mlp.up_proj.weight_scale_inv", entry: 3))
    defer { try? FileManager.default.removeItem(at: dir) }
    let ref = dir.appendingPathComponent("ref").path
    let out = dir.appendingPathComponent("out")
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    let target = out.appendingPathComponent("r.gguf").path
    let args = ["requant", Self.q3, "-o", target, "--rule", "blk\\.0\\.ffn_up\\.weight=q4_k", "--ref", ref]

    let refused = try CLI.quantscope(args)
    #expect(refused.status == 1)
    let scaleOffset = try Self.location(ref, "model.layers.0.mlp.up_proj.weight_scale_inv").offset + 12
    #expect(
      refused.stderr == "quantscope: error: \(ref)/\(Self.shard1): scale entry [1, 1] is nan: tile rows 128..<256, "
        + "columns 128..<256 of model.layers.0.mlp.up_proj.weight dequantizes to non-finite values (1 of 8 scale "
        + "entries are NaN/Inf); refusing to quantize it (--allow-non-finite quantizes it as ggml does) "
        + "(tensor model.layers.0.mlp.up_proj.weight_scale_inv, data at byte \(scaleOffset))\n", "\(refused.stderr)")
    #expect(try CLI.listing(out).isEmpty)

    let allowed = try CLI.quantscope(args + ["--allow-non-finite"])
    #expect(allowed.status == 0, "\(allowed.stderr)")
    #expect(
      allowed.stderr == "quantscope: warning: 1 tensor(s): quantized from non-finite values (--allow-non-finite): "
        + "scale entry [1, 1] is nan: tile rows 128..<256, columns 128..<256 of model.layers.0.mlp.up_proj.weight "
        + "dequantizes to non-finite values (1 of 8 scale entries are NaN/Inf)\n", "\(allowed.stderr)")
    #expect(try CLI.listing(out) == ["r.gguf"])
  }

  @Test func `requant refuses values too large for the type's f16 scales, as llama-quantize does`() throws {
    let embed = try Self.location(Self.fp8, "model.embed_tokens.weight")
    // bfloat16 1.0e30 (0x7149) at row 2, column 40: finite, but Q8_0's d = amax/127 overflows f16.
    let dir = try Self.checkpoint("requant-huge") { bytes in
      let at = embed.offset + 2 * (2 * 256 + 40)
      bytes[at] = 0x49
      bytes[at + 1] = 0x71
    }
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("out")
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    let args = [
      "requant", Self.q3, "-o", out.appendingPathComponent("r.gguf").path, "--rule", "token_embd\\.weight=q8_0",
      "--ref", dir.appendingPathComponent("ref").path,
    ]
    let r = try CLI.quantscope(args)
    #expect(r.status == 1)
    #expect(
      r.stderr.contains(
        "quantizing token_embd.weight (from model.embed_tokens.weight) to Q8_0 gave d = +Inf in "
          + "the block at row 2, columns 32..<64: its values do not fit the type; refusing to write it"), "\(r.stderr)")
    let left = try CLI.listing(out)
    #expect(left.isEmpty, "\(left)")
    let allowed = try CLI.quantscope(args + ["--allow-non-finite"])
    #expect(allowed.status == 0, "\(allowed.stderr)")
    let verify = try quantscope("verify", "--deep", out.appendingPathComponent("r.gguf").path)
    #expect(verify.status == 2, "what was let through is still found: \(verify.stdout)")
    #expect(verify.stdout.contains("Q8_0 block scale d is +Inf (tensor token_embd.weight"), "\(verify.stdout)")
  }

  @Test func `verify checks a checkpoint's scales, and with --deep its float values`() throws {
    let down = try Self.location(Self.fp8, "model.layers.0.mlp.down_proj.weight")
    let nan = try Self.nanScale("model.layers.0.mlp.up_proj.weight_scale_inv", entry: 3)
    let dir = try Self.checkpoint("verify-st") { bytes in
      try nan(&bytes)
      bytes[down.offset + 513] = 0x7F  // row 1, column 1: E4M3 NaN
    }
    defer { try? FileManager.default.removeItem(at: dir) }
    let ref = dir.appendingPathComponent("ref").path
    let clean = try quantscope("verify", Self.fp8, "--deep")
    #expect(clean.status == 0, "\(clean.stdout)")
    #expect(clean.stdout.contains("ok (2 files, 233 tensors, scales checked, values checked)"))

    let scaleLine =
      "\(ref)/\(Self.shard1): [non-finite-scale] scale entry [1, 1] is nan: rows 128..<256, columns "
      + "128..<256 of model.layers.0.mlp.up_proj.weight dequantize to NaN/Inf (tensor "
      + "model.layers.0.mlp.up_proj.weight_scale_inv, block 3, offset "
    let shallow = try quantscope("verify", ref)
    #expect(shallow.status == 2)
    #expect(shallow.stdout.hasPrefix(scaleLine), "\(shallow.stdout)")
    #expect(shallow.stdout.contains("1 problem (2 files, 233 tensors, scales checked)"))
    let deep = try quantscope("verify", ref, "--deep")
    #expect(deep.status == 2)
    #expect(
      deep.stdout.contains(
        "[non-finite-value] value [1, 1] is NaN (tensor model.layers.0.mlp.down_proj.weight, "
          + "block 513, offset \(down.offset + 513))"), "\(deep.stdout)")
    #expect(deep.stdout.contains("2 problems"))

    let shape = try Self.checkpoint("verify-shape") { bytes in
      try Self.replaceInHeader(
        &bytes, "\"model.layers.0.mlp.down_proj.weight_scale_inv\":{\"dtype\":\"F32\",\"shape\":[2,4]",
        "\"model.layers.0.mlp.down_proj.weight_scale_inv\":{\"dtype\":\"F32\",\"shape\":[4,2]")
    }
    defer { try? FileManager.default.removeItem(at: shape) }
    let wrong = try quantscope("verify", shape.appendingPathComponent("ref").path)
    #expect(wrong.status == 2)
    #expect(
      wrong.stdout.contains(
        "[scale-shape] scale shape [4, 2] does not fit weight model.layers.0.mlp.down_proj.weight "
          + "of shape [256, 512]: expected [2, 4]"), "\(wrong.stdout)")
  }

  @Test func `requant refuses a NaN weight value naming the tensor, row and column`() throws {
    let up = try Self.location(Self.fp8, "model.layers.0.mlp.up_proj.weight")
    let dir = try Self.checkpoint("requant-nan-code") { bytes in bytes[up.offset + 300 * 256 + 5] = 0xFF }
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("out")
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    let r = try quantscope(
      "requant", Self.q3, "-o", out.appendingPathComponent("r.gguf").path, "--rule", "blk\\.0\\.ffn_up\\.weight=q4_k",
      "--ref", dir.appendingPathComponent("ref").path)
    #expect(r.status == 1)
    #expect(
      r.stderr.contains("at row 300, column 5 of blk.0.ffn_up.weight (from model.layers.0.mlp.up_proj.weight × "),
      "\(r.stderr)")
    #expect(r.stderr.contains("is not finite") && r.stderr.contains("--allow-non-finite"))
    let left = try CLI.listing(out)
    #expect(left.isEmpty, "no output, no temporary file: \(left)")
  }

  // MARK: §5 thresholds that cannot fail

  @Test(arguments: [
    ("cosine=nan", "finite number"), ("nmse_db=inf", "finite number"), ("snr_db=-inf", "finite number"),
    ("cosine=2", "could never pass"), ("cosine=-1.5", "could never fail"), ("mse=-1", "could never pass"),
    ("nmse_db=abc", "is not a number"), ("psnr=3", "METRIC=VALUE"),
  ])
  func `a threshold that can never fail or never pass is a usage error`(threshold: String, message: String) throws {
    let dir = try TestPaths.temporaryDirectory("bad-threshold")
    defer { try? FileManager.default.removeItem(at: dir) }
    let report = dir.appendingPathComponent("r.html").path
    let r = try quantscope("diff", Self.q3, "--ref", Self.fp8, "--fail-above", threshold, "--report", report)
    #expect(r.status == 64)
    #expect(r.stderr.contains("--fail-above") && r.stderr.contains(message), "\(r.stderr)")
    #expect(r.stdout.isEmpty)
    #expect(!FileManager.default.fileExists(atPath: report))
  }

  // MARK: §6 empty --tensors selections

  @Test func `a --tensors pattern that matches nothing is an error in every subcommand`() throws {
    let dir = try TestPaths.temporaryDirectory("empty-filter")
    defer { try? FileManager.default.removeItem(at: dir) }
    let pattern = "blk.1.ffn_up_exp.weight"
    let nearest = "(nearest: blk.1.ffn_up_exps.weight, blk.1.ffn_up_shexp.weight, blk.2.ffn_up_exps.weight)"
    let manifest = try quantscope("hash", Self.q3, "-o", dir.appendingPathComponent("all.json").path)
    #expect(manifest.status == 0)
    let cases: [(String, [String])] = [
      ("inspect", ["inspect", Self.q3, "--tensors", pattern]),
      (
        "diff",
        [
          "diff", Self.q3, "--ref", Self.fp8, "--tensors", pattern, "--fail-above", "nmse_db=-15",
          "--report", dir.appendingPathComponent("r.html").path,
        ]
      ),
      ("hash", ["hash", Self.q3, "--tensors", pattern, "-o", dir.appendingPathComponent("h.json").path]),
      (
        "hash --check", ["hash", Self.q3, "--tensors", pattern, "--check", dir.appendingPathComponent("all.json").path]
      ),
      ("stats", ["stats", Self.q3, "--tensors", pattern]),
      ("decode", ["decode", Self.q3, "--tensors", pattern, "-o", dir.appendingPathComponent("d.safetensors").path]),
      (
        "decode + --tensor",
        [
          "decode", Self.q3, "--tensor", "output_norm.weight", "--tensors", pattern,
          "-o", dir.appendingPathComponent("d.safetensors").path,
        ]
      ),
    ]
    for (label, args) in cases {
      let r = try CLI.quantscope(args)
      #expect(r.status == 1, "\(label): \(r.status) \(r.stderr)")
      #expect(
        r.stderr == "quantscope: error: \(Self.q3): --tensors '\(pattern)' matches no tensor \(nearest)\n",
        "\(label): \(r.stderr)")
    }
    #expect(try CLI.listing(dir) == ["all.json"], "only the manifest written before")
    // The safetensors side names its own nearest tensors.
    let st = try quantscope("stats", Self.fp8, "--tensors", "model\\.layers\\.0\\.mlp\\.up_prj\\.weight")
    #expect(st.status == 1)
    #expect(st.stderr.contains("(nearest: model.layers.0.mlp.up_proj.weight,"), "\(st.stderr)")
    let named = try quantscope("decode", Self.q3, "--tensor", "blk.0.ffn_up.weights")
    #expect(
      named.status == 1 && named.stderr.contains("no tensor named blk.0.ffn_up.weights (nearest: blk.0.ffn_up.weight,"))
  }

  // MARK: §6 the worst tensor and the gate in JSON

  @Test func `the gate names the worst tensor in each failing metric's order and is in the JSON`() throws {
    // token_embd (first in the file) is also the worst; without it the first failing tensor is not.
    let r = try quantscope(
      "diff", Self.q3, "--ref", Self.fp8, "--tensors", "blk\\.", "--fail-above", "nmse_db=-25",
      "--fail-above", "cosine=0.9995", "--json", "--sort", "file")
    #expect(r.status == 2)
    let object = try Self.json(r)
    let tensors = try #require(object["tensors"] as? [[String: Any]])
    // JSON has no infinities: a non-finite figure is null. Every tensor here is finite, so a null
    // nmse_db is an exact tensor's (nmse 0, -inf dB); cosine and values are never null here.
    func number(_ v: Any?) -> Double { (v as? Double) ?? -.infinity }
    let nmse = tensors.map { ($0["name"] as? String ?? "", number($0["nmse_db"])) }
    let cosine = tensors.map { ($0["name"] as? String ?? "", number($0["cosine"])) }
    let failingNMSE = nmse.filter { $0.1 > -25 }
    let worstNMSE = try #require(nmse.max { $0.1 < $1.1 })
    let worstCosine = try #require(cosine.min { $0.1 < $1.1 })
    // The case the issue reports: the first failing tensor in file order is not the worst.
    try #require(failingNMSE.count > 1 && failingNMSE[0].0 != worstNMSE.0, "fixture no longer shows the bug")

    let g = try #require(object["gate"] as? [String: Any])
    #expect(g["passed"] as? Bool == false)
    #expect(g["tensors_compared"] as? Int == tensors.count)
    let thresholds = try #require(g["thresholds"] as? [[String: Any]])
    #expect(thresholds.map { $0["metric"] as? String } == ["nmse_db", "cosine"])
    #expect(thresholds.map { $0["fails_when"] as? String } == ["above", "below"])
    let failures = try #require(g["failures"] as? [[String: Any]])
    #expect(failures.count == 2)
    #expect(failures[0]["worst"] as? String == worstNMSE.0)
    #expect(failures[0]["worst_value"] as? Double == worstNMSE.1)
    let listed = try #require(failures[0]["tensors"] as? [[String: Any]])
    #expect(Set(listed.map { $0["name"] as? String ?? "" }) == Set(failingNMSE.map(\.0)))
    let values = listed.map { number($0["value"]) }
    #expect(values == values.sorted(by: >), "worst first")
    #expect(failures[1]["worst"] as? String == worstCosine.0)
    #expect(r.stderr.contains("exceed the threshold (nmse_db > -25), worst: \(worstNMSE.0) (nmse_db "), "\(r.stderr)")
    #expect(
      r.stderr.contains("exceed the threshold (cosine < 0.9995), worst: \(worstCosine.0) (cosine "), "\(r.stderr)")

    let pass = try quantscope("diff", Self.q3, "--ref", Self.fp8, "--fail-above", "nmse_db=0", "--json")
    #expect(pass.status == 0)
    let passed = try #require(try Self.json(pass)["gate"] as? [String: Any])
    #expect(passed["passed"] as? Bool == true && (passed["failures"] as? [Any])?.isEmpty == true)
  }

  @Test func `a gate over no compared tensor fails`() throws {
    // attn_k_b has no counterpart in the legacy-layout Q8_0 set: the selection is not empty,
    // but nothing is compared.
    let r = try quantscope(
      "diff", Self.q3, "--ref", Self.q8, "--tensors", "attn_k_b", "--fail-above", "nmse_db=-15", "--json")
    #expect(r.status == 2, "\(r.stderr)")
    #expect(r.stderr.contains("quantscope: gate failed: no tensor was compared"), "\(r.stderr)")
    #expect(
      r.stderr.contains(
        "quantscope: warning: the gate judged 0 tensor(s); 4 candidate tensor(s) have no reference "
          + "and were not judged: blk.0.attn_k_b.weight, blk.1.attn_k_b.weight,"), "\(r.stderr)")
    let object = try Self.json(r)
    let g = try #require(object["gate"] as? [String: Any])
    #expect(g["passed"] as? Bool == false && g["tensors_compared"] as? Int == 0)
    #expect((g["not_compared"] as? [String])?.count == 4)
    #expect((object["model"] as? [String: Any])?["cosine"] is NSNull, "no perfect score over nothing")
  }
}
