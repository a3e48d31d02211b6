import Foundation
import QuantscopeAnalysis
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// `diff` against numpy: a DeepSeek-shaped FP8 checkpoint and GGUFs quantized from it by ggml's
/// reference quantizers (libgguf) are written by `Tests/Support/python/diff_fixture.py`, which also
/// computes every tensor's MSE, NMSE and cosine in float64 from gguf-py's dequantization.
@Suite("diff against numpy", .serialized)
struct DiffOracleTests {
  static let fixture: Result<URL, Error> = Result {
    let dir = try TestPaths.temporaryDirectory("diff-fixture")
    try PythonOracle.script("diff_fixture.py", [dir.path])
    return dir
  }

  struct Expected: Decodable {
    let type: String
    let mse: Double
    let nmse: Double
    let cosine: Double
    let max_abs: Double
    let mse_vs_bf16: Double?
  }

  func expected(_ dir: URL) throws -> [String: [String: Expected]] {
    try JSONDecoder().decode(
      [String: [String: Expected]].self, from: Data(contentsOf: dir.appendingPathComponent("expected.json")))
  }

  static func close(_ a: Double, _ b: Double, rel: Double = 1e-9) -> Bool {
    if a == b { return true }
    return abs(a - b) <= rel * max(abs(a), abs(b))
  }

  @Test(arguments: ["legacy.gguf", "split.gguf"])
  func `every tensor's MSE and cosine agree with numpy to 1e-9`(file: String) throws {
    let dir = try Self.fixture.get()
    let want = try #require(try expected(dir)[file])
    let reference = try WeightFiles.open([dir.appendingPathComponent("ref").path])
    let candidate = try GGUFModel(path: dir.appendingPathComponent(file).path)
    var options = Diff.Options()
    options.threads = 2
    let diff = try Diff.compute(candidate: candidate, reference: reference, options: options)
    #expect(diff.missingReference.isEmpty)
    #expect(diff.unmappedReference.isEmpty)
    #expect(!diff.skippedReference.isEmpty, "the MTP layer must be skipped, not dropped silently")
    #expect(diff.tensors.count == want.count)
    for t in diff.tensors {
      let w = try #require(want[t.name], "\(t.name) not in numpy's list")
      let m = try #require(t.metrics, "\(t.name) has no metrics")
      #expect(t.type == w.type, "\(t.name)")
      #expect(Self.close(m.mse, w.mse), "\(t.name): mse \(m.mse) vs numpy \(w.mse)")
      #expect(Self.close(m.nmse, w.nmse), "\(t.name): nmse \(m.nmse) vs numpy \(w.nmse)")
      #expect(Self.close(m.cosine, w.cosine), "\(t.name): cosine \(m.cosine) vs numpy \(w.cosine)")
      #expect(Self.close(m.maxAbsoluteError, w.max_abs), "\(t.name): max abs \(m.maxAbsoluteError) vs \(w.max_abs)")
    }
  }

  @Test func `a shape mismatch is an error naming both sides`() throws {
    let dir = try Self.fixture.get()
    let path = dir.appendingPathComponent("wrong-shape.gguf").path
    try PythonOracle.run([
      "-c",
      """
      import sys, numpy as np, gguf
      w = gguf.GGUFWriter(sys.argv[1], "deepseek2")
      w.add_tensor("token_embd.weight", np.zeros((10, 256), np.float32))
      w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
      """, path,
    ])
    let reference = try WeightFiles.open([dir.appendingPathComponent("ref").path])
    let candidate = try GGUFModel(path: path)
    let error = try #require(throws: FormatError.self) { try Diff.compute(candidate: candidate, reference: reference) }
    // The error's place is the reference side; the message names both sides' shapes.
    #expect(error.kind == .mismatch)
    #expect(error.tensor == "model.embed_tokens.weight")
    #expect(error.path.hasPrefix(dir.appendingPathComponent("ref").path))
    #expect(error.description.contains("[10, 256]"))
    #expect(error.description.contains("model.embed_tokens.weight [300, 256]"))
  }

  @Test func `imatrix-weighted NMSE agrees with numpy, expert by expert`() throws {
    let dir = try Self.fixture.get()
    let oracle = try PythonOracle.run([
      "-c",
      """
      import sys, json, numpy as np, gguf
      d = sys.argv[1]
      ref = np.load(d + "/split-ref.npz")
      im = {t.name: t for t in gguf.GGUFReader(d + "/imatrix.gguf").tensors}
      out = {}
      for t in gguf.GGUFReader(d + "/split.gguf").tensors:
          if t.name + ".in_sum2" not in im: continue
          x = ref[t.name].astype(np.float64)
          deq = gguf.quants.dequantize(np.array(t.data), t.tensor_type).astype(np.float64).reshape(x.shape)
          n = x.shape[-1]
          sums = np.array(im[t.name + ".in_sum2"].data, np.float32).reshape(-1, n)
          counts = np.array(im[t.name + ".counts"].data, np.float32).reshape(-1)
          w = (sums / counts[:, None]).astype(np.float32).astype(np.float64)
          w = w[:, None, :] if x.ndim == 3 else w[0][None, :]
          e = deq - x
          out[t.name] = float(np.sum(w * e * e) / np.sum(w * x * x))
      print(json.dumps(out))
      """, dir.path,
    ])
    let want = try #require(try JSONSerialization.jsonObject(with: Data(oracle.utf8)) as? [String: Double])
    var options = Diff.Options()
    options.importance = try ImportanceMatrix(path: dir.appendingPathComponent("imatrix.gguf").path)
    let reference = try WeightFiles.open([dir.appendingPathComponent("ref").path])
    let candidate = try GGUFModel(path: dir.appendingPathComponent("split.gguf").path)
    let diff = try Diff.compute(candidate: candidate, reference: reference, options: options)
    #expect(want.count > 20)
    for t in diff.tensors {
      guard let w = want[t.name] else {
        #expect(t.metrics?.weightedNMSE == nil, "\(t.name) has no imatrix entry")
        continue
      }
      let got = try #require(t.metrics?.weightedNMSE, "\(t.name)")
      #expect(Self.close(got, w), "\(t.name): weighted NMSE \(got) vs numpy \(w)")
    }
  }

  @Test func `results do not depend on the thread count`() throws {
    let dir = try Self.fixture.get()
    let reference = try WeightFiles.open([dir.appendingPathComponent("ref").path])
    let candidate = try GGUFModel(path: dir.appendingPathComponent("split.gguf").path)
    var one = Diff.Options()
    one.threads = 1
    var many = Diff.Options()
    many.threads = 5
    let a = try Diff.compute(candidate: candidate, reference: reference, options: one)
    let b = try Diff.compute(candidate: candidate, reference: reference, options: many)
    #expect(a.tensors.map(\.sums) == b.tensors.map(\.sums))
  }

  @Test func `a BF16 GGUF shows zero error against the bf16-rounded reference`() throws {
    let dir = try Self.fixture.get()
    let reference = try WeightFiles.open([dir.appendingPathComponent("ref").path])
    let candidate = try GGUFModel(path: dir.appendingPathComponent("bf16.gguf").path)
    var options = Diff.Options()
    options.precision = .bf16
    let diff = try Diff.compute(candidate: candidate, reference: reference, options: options)
    #expect(diff.tensors.count == (try expected(dir)["bf16.gguf"]?.count))
    for t in diff.tensors {
      #expect(t.metrics?.mse == 0, "\(t.name) (\(t.type)) mse \(String(describing: t.metrics?.mse))")
    }
    options.precision = .exact
    let exact = try Diff.compute(candidate: candidate, reference: reference, options: options)
    let want = try #require(try expected(dir)["bf16.gguf"])
    #expect(
      exact.tensors.contains { ($0.metrics?.mse ?? 0) > 0 }, "bf16 rounding must show against the exact reference")
    for t in exact.tensors {
      #expect(Self.close(try #require(t.metrics).mse, try #require(want[t.name]).mse), "\(t.name)")
    }
  }
}

/// The HF→GGUF maps of other architectures: a BF16 checkpoint and an F32 GGUF converted from it
/// the way llama.cpp does (llama Q/K permuted, gemma norms plus one) must show zero error.
@Suite("architecture maps")
struct ArchitectureMapTests {
  static let fixture: Result<URL, Error> = Result {
    let dir = try TestPaths.temporaryDirectory("arch-fixture")
    try PythonOracle.script("arch_fixture.py", [dir.path])
    return dir
  }

  @Test(arguments: ["llama", "qwen3", "gemma3"])
  func `converted GGUF matches its checkpoint exactly`(arch: String) throws {
    let dir = try Self.fixture.get().appendingPathComponent(arch)
    let reference = try WeightFiles.open([dir.appendingPathComponent("ref").path])
    let candidate = try GGUFModel(path: dir.appendingPathComponent("model.gguf").path)
    let diff = try Diff.compute(candidate: candidate, reference: reference)
    #expect(diff.architecture == arch)
    #expect(diff.missingReference.isEmpty)
    #expect(diff.unmappedReference.isEmpty)
    #expect(diff.tensors.count == candidate.tensors.count)
    for t in diff.tensors {
      #expect(t.metrics?.mse == 0, "\(t.name): mse \(String(describing: t.metrics?.mse))")
    }
  }

  @Test func `unpermuting llama Q is needed`() throws {
    // Without head counts the permuted tensors cannot be matched: an error, not a silent mismatch.
    let dir = try Self.fixture.get().appendingPathComponent("llama")
    let reference = try WeightFiles.open([dir.appendingPathComponent("ref").path])
    let mapping = try ReferenceMapping(reference: reference, architecture: .llama, firstSkippedLayer: nil)
    #expect(throws: FormatError.self) {
      _ = try mapping.rows(for: "blk.0.attn_q.weight", candidateShape: [64, 64], precision: .exact, heads: nil)
    }
  }
}

/// GGUF against GGUF: two quantizations of one model, tensors paired by name.
@Suite("diff GGUF against GGUF")
struct DiffGGUFPairTests {
  @Test func `every tensor's MSE agrees with numpy on gguf-py's dequantization`() throws {
    let q3 = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q3_K_M.gguf").path
    let q4 = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q4_K_M.gguf").path
    let oracle = try PythonOracle.run([
      "-c",
      """
      import sys, json, numpy as np, gguf
      a = {t.name: t for t in gguf.GGUFReader(sys.argv[1]).tensors}
      out = {}
      for t in gguf.GGUFReader(sys.argv[2]).tensors:
          x = gguf.quants.dequantize(np.array(t.data), t.tensor_type).astype(np.float64)
          y = gguf.quants.dequantize(np.array(a[t.name].data), a[t.name].tensor_type).astype(np.float64)
          out[t.name] = float(np.mean((y - x) ** 2))
      print(json.dumps(out))
      """, q3, q4,
    ])
    let want = try #require(try JSONSerialization.jsonObject(with: Data(oracle.utf8)) as? [String: Double])
    let diff = try Diff.compute(candidate: try GGUFModel(path: q3), reference: try GGUFModel(path: q4))
    #expect(diff.tensors.count == want.count)
    for t in diff.tensors {
      #expect(DiffOracleTests.close(try #require(t.metrics).mse, try #require(want[t.name])), "\(t.name)")
    }
  }
}
