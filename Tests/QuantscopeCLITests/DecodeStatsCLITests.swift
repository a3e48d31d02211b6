import Foundation
import QuantscopeCodecs
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// Runs the built `quantscope` binary (next to the test bundle in `.build/debug`).
private enum CLI {
  static let binary: URL? = {
    var candidates: [URL] = []
    if let argv0 = ProcessInfo.processInfo.arguments.first {
      candidates.append(URL(fileURLWithPath: argv0).deletingLastPathComponent().appendingPathComponent("quantscope"))
    }
    candidates.append(Bundle.main.bundleURL.appendingPathComponent("quantscope"))
    candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("quantscope"))
    candidates.append(TestPaths.repository.appendingPathComponent(".build/debug/quantscope"))
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
  }()

  enum CLIError: Error { case binaryNotFound }

  struct Output {
    var status: Int32
    var stdout: Data
    var stderr: String
  }

  static func run(_ arguments: [String], in directory: URL? = nil) throws -> Output {
    let p = Process()
    guard let binary else { throw CLIError.binaryNotFound }
    p.executableURL = binary
    p.arguments = arguments
    if let directory { p.currentDirectoryURL = directory }
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Output(status: p.terminationStatus, stdout: o, stderr: String(decoding: e, as: UTF8.self))
  }

  /// Runs a python3 script (argv[1...] = `arguments`) and parses its JSON output.
  static func python(_ script: String, _ arguments: [String]) throws -> [String: Any] {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-W", "ignore", "-c", script] + arguments
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0, "python3: \(String(decoding: errors, as: UTF8.self))")
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
  }
}

/// The golden GGUF: `TestPaths.golden` in the main checkout; from a git worktree nested deeper,
/// the nearest `shared/golden` found walking up from the repository.
private let golden: String = {
  let name = "ggml-quants.gguf"
  var candidates = [TestPaths.golden.appendingPathComponent(name)]
  var dir = TestPaths.repository
  while dir.path != "/" {
    dir = dir.deletingLastPathComponent()
    candidates.append(dir.appendingPathComponent("shared/golden").appendingPathComponent(name))
  }
  return (candidates.first { FileManager.default.fileExists(atPath: $0.path) } ?? candidates[0]).path
}()

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
    let result = try CLI.run(["decode", golden, "--tensor", "in.gauss"], in: dir)
    #expect(result.status == 0, "\(result.stderr)")
    let npy = dir.appendingPathComponent("in.gauss.npy").path
    let o = try CLI.python(
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
    let result = try CLI.run(["decode", golden, "--tensor", "gauss.q8_0", "-o", out])
    #expect(result.status == 0, "\(result.stderr)")
    let o = try CLI.python(
      readGolden + """
        a = np.load(sys.argv[2])
        ref = tensor('gauss.q8_0.f32').astype(np.float32)
        print(json.dumps({'shape': list(a.shape), 'same': bool((a.view(np.uint32) == ref.view(np.uint32)).all())}))
        """, [golden, out])
    #expect(o["shape"] as? [Int] == [8, 512])
    #expect(o["same"] as? Bool == true)
  }

  @Test func `raw output to stdout, row ranges, f16 and bf16`() throws {
    let dir = try TestPaths.temporaryDirectory("cli-raw")
    defer { try? FileManager.default.removeItem(at: dir) }
    let stdout = try CLI.run(["decode", golden, "--tensor", "in.large", "-o", "-", "--rows", "2:5"])
    #expect(stdout.status == 0, "\(stdout.stderr)")
    let raw = dir.appendingPathComponent("rows.f32")
    try stdout.stdout.write(to: raw)
    let f16 = dir.appendingPathComponent("x.f16").path
    let bf16 = dir.appendingPathComponent("x.bf16").path
    #expect(try CLI.run(["decode", golden, "--tensor", "in.large", "-o", f16]).status == 0)
    #expect(try CLI.run(["decode", golden, "--tensor", "in.large", "-o", bf16, "--format", "bf16"]).status == 0)
    let o = try CLI.python(
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
    let result = try CLI.run(["decode", golden, "--tensors", #"^(in|im)\.(gauss|tiny)$"#, "-o", out])
    #expect(result.status == 0, "\(result.stderr)")
    let o = try CLI.python(
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
    let result = try CLI.run(["stats", golden, "--tensors", #"^in\."#, "--json", "--top", "5"])
    #expect(result.status == 0, "\(result.stderr)")
    let list = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]])
    #expect(list.count == 7)
    let dir = try TestPaths.temporaryDirectory("cli-stats")
    defer { try? FileManager.default.removeItem(at: dir) }
    let json = dir.appendingPathComponent("stats.json")
    try result.stdout.write(to: json)
    let o = try CLI.python(
      readGolden + """
        import scipy.stats as st
        worst = 0.0
        topok = True
        for e in json.load(open(sys.argv[2])):
            x = tensor(e['name']).astype(np.float64).ravel()
            ref = {'mean': x.mean(), 'std': x.std(), 'min': x.min(), 'max': x.max(),
                   'excess_kurtosis': st.kurtosis(x), 'rms': np.sqrt(np.mean(x * x))}
            for k, v in ref.items():
                if v != 0:
                    worst = max(worst, abs(e[k] - v) / abs(v))
                elif e[k] != 0:
                    worst = max(worst, abs(e[k]))
            top = np.argsort(-np.abs(x), kind='stable')[:5]
            topok = topok and [t['index'] for t in e['top']] == [int(i) for i in top]
        print(json.dumps({'worst': worst, 'top': topok}))
        """, [golden, json.path])
    let worst = try #require(o["worst"] as? Double)
    #expect(worst <= 1e-9, "largest relative difference \(worst)")
    #expect(o["top"] as? Bool == true)
  }

  /// Writes a DeepSeek-style safetensors file with numpy: a 300×200 F8_E4M3 weight with a 3×2
  /// F32 `weight_scale_inv`, and a BF16 norm.
  static func writeFP8Checkpoint(_ path: String) throws {
    _ = try CLI.python(
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

  /// Whether this build can read safetensors (the reader is built on another branch).
  static let readsSafetensors: Bool = {
    guard let dir = try? TestPaths.temporaryDirectory("cli-st-probe") else { return false }
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("probe.safetensors").path
    guard (try? writeFP8Checkpoint(path)) != nil else { return false }
    return (try? CLI.run(["inspect", path]).status) == 0
  }()

  @Test(.enabled(if: readsSafetensors, "needs the safetensors reader"))
  func `FP8 weights in a safetensors checkpoint decode dequantized`() throws {
    let dir = try TestPaths.temporaryDirectory("cli-fp8")
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("model.safetensors").path
    try Self.writeFP8Checkpoint(input)
    let npy = dir.appendingPathComponent("w.npy").path
    let all = dir.appendingPathComponent("all.safetensors").path
    let one = try CLI.run(["decode", input, "--tensor", "model.layers.0.mlp.down_proj.weight", "-o", npy])
    #expect(one.status == 0, "\(one.stderr)")
    let many = try CLI.run(["decode", input, "--tensors", ".", "-o", all])
    #expect(many.status == 0, "\(many.stderr)")
    let o = try CLI.python(
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
    let missing = try CLI.run(["decode", golden, "--tensor", "no.such.tensor", "-o", "-"])
    #expect(missing.status == 1)
    #expect(missing.stderr.hasPrefix("quantscope: error: ") && missing.stderr.contains("no.such.tensor"))
    let zst = try CLI.run(["decode", golden, "--tensor", "in.gauss", "-o", "/tmp/quantscope-never.npy.zst"])
    #expect(zst.status == 1)
    #expect(!FileManager.default.fileExists(atPath: "/tmp/quantscope-never.npy.zst"))
    let rows = try CLI.run(["decode", golden, "--tensor", "in.gauss", "-o", "-", "--rows", "3:99"])
    #expect(rows.status == 1 && rows.stderr.contains("--rows"))
    let usage = try CLI.run(["decode", golden])
    #expect(usage.status == 64)
  }
}
