import Foundation
import QuantscopeCodecs
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// The golden GGUF.
private let golden = TestPaths.goldenFile("ggml-quants.gguf")

/// gguf-py's view of a golden tensor, for comparisons in python.
private let readGolden = """
  import sys, json, numpy as np, gguf, ml_dtypes
  r = gguf.GGUFReader(sys.argv[1])
  def tensor(name):
      t = next(t for t in r.tensors if t.name == name)
      return np.asarray(t.data).reshape([int(d) for d in reversed(t.shape)])

  """

@Suite("decode and stats commands")
struct DecodeStatsCLITests {
  @Test func `decode writes an npy that numpy loads with the right shape and bits`() throws {
    let dir = try TestPaths.temporaryDirectory("cli-decode")
    defer { try? FileManager.default.removeItem(at: dir) }
    let result = try CLI.quantscope(["decode", golden, "--tensor", "in.gauss"], in: dir)
    #expect(result.status == 0, "\(result.stderr)")
    let npy = dir.appendingPathComponent("in.gauss.npy").path
    let o = try CLI.pythonJSON(
      readGolden + """
        a = np.load(sys.argv[2])
        ref = tensor('in.gauss').astype(np.float32)
        print(json.dumps({'shape': list(a.shape), 'dtype': str(a.dtype),
          'same': bool(a.shape == ref.shape and (a.view(np.uint32) == ref.view(np.uint32)).all())}))
        """, [golden, npy])
    #expect(o["shape"] as? [Int] == [8, 512])
    #expect(o["dtype"] as? String == "float32")
    #expect(o["same"] as? Bool == true)
    // No temporary file is left behind.
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }
    #expect(leftovers.isEmpty)
  }

  @Test(.enabled(if: Codecs.codec(for: .q8_0) != nil, "needs the Q8_0 codec"))
  func `a decoded Q8_0 tensor equals ggml's dequantization`() throws {
    let dir = try TestPaths.temporaryDirectory("cli-q8")
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("q8.npy").path
    let result = try CLI.quantscope(["decode", golden, "--tensor", "gauss.q8_0", "-o", out])
    #expect(result.status == 0, "\(result.stderr)")
    let o = try CLI.pythonJSON(
      readGolden + """
        a = np.load(sys.argv[2])
        ref = tensor('gauss.q8_0.f32').astype(np.float32)
        print(json.dumps({'shape': list(a.shape), 'same': bool((a.view(np.uint32) == ref.view(np.uint32)).all())}))
        """, [golden, out])
    #expect(o["shape"] as? [Int] == [8, 512])
    #expect(o["same"] as? Bool == true)
  }

  @Test func `zstd output: a .zst name or --zstd; zstd -d restores the npy numpy loads`() throws {
    let dir = try TestPaths.temporaryDirectory("cli-decode-zst")
    defer { try? FileManager.default.removeItem(at: dir) }
    let plain = dir.appendingPathComponent("plain.npy").path
    let named = dir.appendingPathComponent("named.npy.zst").path
    #expect(try CLI.quantscope(["decode", golden, "--tensor", "in.large", "-o", plain]).status == 0)
    let r = try CLI.quantscope(["decode", golden, "--tensor", "in.large", "-o", named])
    #expect(r.status == 0, "\(r.stderr)")
    // --zstd without -o: the default name gets .zst.
    let flagged = try CLI.quantscope(["decode", golden, "--tensor", "in.large", "--zstd"], in: dir)
    #expect(flagged.status == 0, "\(flagged.stderr)")
    let defaultName = dir.appendingPathComponent("in.large.npy.zst").path
    for file in [named, defaultName] {
      let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
      #expect(Array(bytes.prefix(4)) == [0x28, 0xB5, 0x2F, 0xFD], "\(file) is not a zstd frame")
      let unzstd = try CLI.run("/usr/bin/env", ["zstd", "-d", "-q", "-f", file, "-o", file + ".npy"])
      #expect(unzstd.status == 0, "\(unzstd.stderr)")
      // Decompressed, it is the same file decode writes uncompressed.
      #expect(
        try Data(contentsOf: URL(fileURLWithPath: file + ".npy")) == Data(contentsOf: URL(fileURLWithPath: plain)))
    }
    let o = try CLI.pythonJSON(
      readGolden + """
        a = np.load(sys.argv[2])
        ref = tensor('in.large').astype(np.float32)
        print(json.dumps({'shape': list(a.shape), 'same': bool((a.view(np.uint32) == ref.view(np.uint32)).all())}))
        """, [golden, named + ".npy"])
    #expect(o["shape"] as? [Int] == [8, 512])
    #expect(o["same"] as? Bool == true)
    // Compressed raw floats on standard output.
    let piped = try CLI.quantscope(["decode", golden, "--tensor", "in.large", "-o", "-", "--zstd", "--rows", "0:2"])
    #expect(piped.status == 0)
    #expect(Array(piped.data.prefix(4)) == [0x28, 0xB5, 0x2F, 0xFD])
  }

  @Test func `raw output to stdout, row ranges, f16 and bf16`() throws {
    let dir = try TestPaths.temporaryDirectory("cli-raw")
    defer { try? FileManager.default.removeItem(at: dir) }
    let stdout = try CLI.quantscope(["decode", golden, "--tensor", "in.large", "-o", "-", "--rows", "2:5"])
    #expect(stdout.status == 0, "\(stdout.stderr)")
    let raw = dir.appendingPathComponent("rows.f32")
    try stdout.data.write(to: raw)
    let f16 = dir.appendingPathComponent("x.f16").path
    let bf16 = dir.appendingPathComponent("x.bf16").path
    #expect(try CLI.quantscope(["decode", golden, "--tensor", "in.large", "-o", f16]).status == 0)
    #expect(try CLI.quantscope(["decode", golden, "--tensor", "in.large", "-o", bf16, "--format", "bf16"]).status == 0)
    let o = try CLI.pythonJSON(
      readGolden + """
        ref = tensor('in.large').astype(np.float32)
        rows = np.fromfile(sys.argv[2], dtype='<f4')
        h = np.fromfile(sys.argv[3], dtype='<u2')
        b = np.fromfile(sys.argv[4], dtype='<u2')
        bref = gguf.quants.quantize(ref, gguf.GGMLQuantizationType.BF16).view(np.uint16).ravel()
        print(json.dumps({
          'rows': bool(rows.size == 3 * 512 and (rows.view(np.uint32) == ref[2:5].ravel().view(np.uint32)).all()),
          'f16': bool((h == ref.astype(np.float16).view(np.uint16).ravel()).all()),
          'bf16': bool((b == bref).all())}))
        """, [golden, raw.path, f16, bf16])
    #expect(o["rows"] as? Bool == true)
    #expect(o["f16"] as? Bool == true)
    #expect(o["bf16"] as? Bool == true)
  }

  @Test func `several tensors make a safetensors file`() throws {
    let dir = try TestPaths.temporaryDirectory("cli-st")
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("in.safetensors").path
    let result = try CLI.quantscope(["decode", golden, "--tensors", #"^(in|im)\.(gauss|tiny)$"#, "-o", out])
    #expect(result.status == 0, "\(result.stderr)")
    let o = try CLI.pythonJSON(
      readGolden + """
        raw = open(sys.argv[2], 'rb').read()
        n = int.from_bytes(raw[:8], 'little')
        header = json.loads(raw[8:8+n])
        data = raw[8+n:]
        ok = {}
        end = 0
        for name, e in header.items():
            b, f = e['data_offsets']
            a = np.frombuffer(data[b:f], dtype='<f4').reshape(e['shape'])
            ref = tensor(name).astype(np.float32)
            ok[name] = bool(e['dtype'] == 'F32' and a.shape == ref.shape and (a.view(np.uint32) == ref.view(np.uint32)).all())
            end = max(end, f)
        print(json.dumps({'ok': ok, 'aligned': n % 8 == 0, 'complete': end == len(data)}))
        """, [golden, out])
    #expect(o["ok"] as? [String: Bool] == ["in.gauss": true, "in.tiny": true, "im.gauss": true, "im.tiny": true])
    #expect(o["aligned"] as? Bool == true)
    #expect(o["complete"] as? Bool == true)
  }

  @Test func `stats agrees with numpy and scipy`() throws {
    let result = try CLI.quantscope(["stats", golden, "--tensors", #"^in\."#, "--json", "--super-weights", "5"])
    #expect(result.status == 0, "\(result.stderr)")
    let document = try #require(try JSONSerialization.jsonObject(with: result.data) as? [String: Any])
    #expect(document["schema"] as? String == "quantscope.stats/2")
    let list = try #require(document["tensors"] as? [[String: Any]])
    #expect(list.count == 7)
    let dir = try TestPaths.temporaryDirectory("cli-stats")
    defer { try? FileManager.default.removeItem(at: dir) }
    let json = dir.appendingPathComponent("stats.json")
    try result.data.write(to: json)
    let o = try CLI.pythonJSON(
      readGolden + """
        import scipy.stats as st
        worst = 0.0
        topok = True
        for e in json.load(open(sys.argv[2]))['tensors']:
            x = tensor(e['name']).astype(np.float64).ravel()
            ref = {'mean': x.mean(), 'std': x.std(), 'min': x.min(), 'max': x.max(),
                   'excess_kurtosis': st.kurtosis(x), 'rms': np.sqrt(np.mean(x * x))}
            for k, v in ref.items():
                if v != 0:
                    worst = max(worst, abs(e[k] - v) / abs(v))
                elif e[k] != 0:
                    worst = max(worst, abs(e[k]))
            top = np.argsort(-np.abs(x), kind='stable')[:5]
            topok = topok and [t['index'] for t in e['super_weights']] == [int(i) for i in top]
        print(json.dumps({'worst': worst, 'top': topok}))
        """, [golden, json.path])
    let worst = try #require(o["worst"] as? Double)
    #expect(worst <= 1e-9, "largest relative difference \(worst)")
    #expect(o["top"] as? Bool == true)
  }

  /// Writes a DeepSeek-style safetensors file with numpy: a 300×200 F8_E4M3 weight with a 3×2
  /// F32 `weight_scale_inv`, and a BF16 norm.
  static func writeFP8Checkpoint(_ path: String) throws {
    _ = try CLI.pythonJSON(
      """
      import sys, json, numpy as np, ml_dtypes
      rng = np.random.default_rng(7)
      codes = rng.integers(0, 256, size=(300, 200), dtype=np.uint8)
      codes[(codes & 0x7F) == 0x7F] = 0x3C
      scale = (rng.random((3, 2)) * 0.01).astype('<f4')
      norm = rng.standard_normal(200).astype(ml_dtypes.bfloat16)
      parts = [('model.layers.0.mlp.down_proj.weight', 'F8_E4M3', [300, 200], codes.tobytes()),
               ('model.layers.0.mlp.down_proj.weight_scale_inv', 'F32', [3, 2], scale.tobytes()),
               ('model.norm.weight', 'BF16', [200], norm.tobytes())]
      header, off = {}, 0
      for name, dt, shape, b in parts:
          header[name] = {'dtype': dt, 'shape': shape, 'data_offsets': [off, off + len(b)]}
          off += len(b)
      h = json.dumps(header).encode()
      h += b' ' * ((8 - len(h) % 8) % 8)
      with open(sys.argv[1], 'wb') as f:
          f.write(len(h).to_bytes(8, 'little') + h + b''.join(p[3] for p in parts))
      print('{}')
      """, [path])
  }

  @Test func `FP8 weights in a safetensors checkpoint decode dequantized`() throws {
    let dir = try TestPaths.temporaryDirectory("cli-fp8")
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("model.safetensors").path
    try Self.writeFP8Checkpoint(input)
    let npy = dir.appendingPathComponent("w.npy").path
    let all = dir.appendingPathComponent("all.safetensors").path
    let one = try CLI.quantscope(["decode", input, "--tensor", "model.layers.0.mlp.down_proj.weight", "-o", npy])
    #expect(one.status == 0, "\(one.stderr)")
    let many = try CLI.quantscope(["decode", input, "--tensors", ".", "-o", all])
    #expect(many.status == 0, "\(many.stderr)")
    let o = try CLI.pythonJSON(
      """
      import sys, json, numpy as np, ml_dtypes
      raw = open(sys.argv[1], 'rb').read()
      def read(raw):
          n = int.from_bytes(raw[:8], 'little'); h = json.loads(raw[8:8+n]); d = raw[8+n:]
          return h, d
      h, d = read(raw)
      def get(h, d, name, dtype):
          b, e = h[name]['data_offsets']
          return np.frombuffer(d[b:e], dtype=dtype).reshape(h[name]['shape'])
      w = get(h, d, 'model.layers.0.mlp.down_proj.weight', ml_dtypes.float8_e4m3fn).astype(np.float32)
      s = get(h, d, 'model.layers.0.mlp.down_proj.weight_scale_inv', '<f4')
      ref = w * np.repeat(np.repeat(s, 128, 0), 128, 1)[:300, :200]
      norm = get(h, d, 'model.norm.weight', ml_dtypes.bfloat16).astype(np.float32)
      a = np.load(sys.argv[2])
      oh, od = read(open(sys.argv[3], 'rb').read())
      print(json.dumps({
        'npy': bool(a.shape == (300, 200) and (a.view(np.uint32) == ref.view(np.uint32)).all()),
        'names': sorted(oh.keys()),
        'weight': bool((get(oh, od, 'model.layers.0.mlp.down_proj.weight', '<f4') == ref).all()),
        'norm': bool((get(oh, od, 'model.norm.weight', '<f4') == norm).all())}))
      """, [input, npy, all])
    #expect(o["npy"] as? Bool == true)
    #expect(o["names"] as? [String] == ["model.layers.0.mlp.down_proj.weight", "model.norm.weight"])
    #expect(o["weight"] as? Bool == true)
    #expect(o["norm"] as? Bool == true)
  }

  @Test func `errors are one line and exit 1`() throws {
    let missing = try CLI.quantscope(["decode", golden, "--tensor", "no.such.tensor", "-o", "-"])
    #expect(missing.status == 1)
    #expect(missing.stderr.hasPrefix("quantscope: error: ") && missing.stderr.contains("no.such.tensor"))
    // An existing output is kept (exit 1, one line) unless --force.
    let dir = try TestPaths.temporaryDirectory("cli-decode-exists")
    defer { try? FileManager.default.removeItem(at: dir) }
    let existing = dir.appendingPathComponent("x.npy").path
    try Data("keep".utf8).write(to: URL(fileURLWithPath: existing))
    let refused = try CLI.quantscope(["decode", golden, "--tensor", "in.gauss", "-o", existing])
    #expect(refused.status == 1)
    #expect(refused.stderr.hasPrefix("quantscope: error: ") && refused.stderr.contains("already exists"))
    #expect(try Data(contentsOf: URL(fileURLWithPath: existing)) == Data("keep".utf8))
    #expect(try CLI.quantscope(["decode", golden, "--tensor", "in.gauss", "-o", existing, "--force"]).status == 0)
    #expect(try Data(contentsOf: URL(fileURLWithPath: existing)).count > 4)
    let rows = try CLI.quantscope(["decode", golden, "--tensor", "in.gauss", "-o", "-", "--rows", "3:99"])
    #expect(rows.status == 1 && rows.stderr.contains("--rows"))
    let usage = try CLI.quantscope(["decode", golden])
    #expect(usage.status == 64)
  }
}
