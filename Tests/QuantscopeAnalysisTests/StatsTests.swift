import Foundation
import QuantscopeAnalysis
import QuantscopeCodecs
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// numpy/scipy as an independent oracle: the script gets a file of `input` bytes as argv[1]
/// and prints JSON.
private func numpyJSON(_ script: String, input: [UInt8]) throws -> [String: Any] {
  let dir = try TestPaths.temporaryDirectory("stats-oracle")
  defer { try? FileManager.default.removeItem(at: dir) }
  let url = dir.appendingPathComponent("in.bin")
  try Data(input).write(to: url)
  let r = try ProcessRunner.run(program: "python3", ["-W", "ignore", "-c", script, url.path])
  try #require(r.status == 0, "python3 failed: \(r.stderrText)")
  return try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
}

/// One raw tensor in a file of its own.
private func tensor(_ name: String, _ encoding: TensorEncoding, shape: [Int], bytes: [UInt8], offset: Int = 0) throws
  -> TensorInfo
{
  let dir = try TestPaths.temporaryDirectory("stats")
  let url = dir.appendingPathComponent("t.bin")
  try Data([UInt8](repeating: 0, count: offset) + bytes).write(to: url)
  let file = try MappedFile(path: url.path)
  try? FileManager.default.removeItem(at: dir)
  return TensorInfo(
    name: name, encoding: encoding, shape: shape, elementCount: shape.reduce(1, *), byteCount: bytes.count,
    file: file, dataOffset: offset)
}

private let oracle = """
  import sys, json, numpy as np, scipy.stats as st
  x = np.fromfile(sys.argv[1], dtype='<f4').astype(np.float64)
  fin = np.isfinite(x)
  f = x[fin]
  mag = np.where(fin, np.abs(x), -1.0)
  top = np.argsort(-mag, kind='stable')[:K]
  print(json.dumps({
    'mean': f.mean(), 'std': f.std(), 'min': f.min(), 'max': f.max(), 'kurtosis': st.kurtosis(f),
    'rms': float(np.sqrt(np.mean(f * f))), 'absmax': float(np.abs(f).max()),
    'zeros': int((x == 0).sum()), 'nan': int(np.isnan(x).sum()), 'posinf': int((x == np.inf).sum()),
    'neginf': int((x == -np.inf).sum()), 'top': [int(i) for i in top], 'topv': [float(x[i]) for i in top]}))
  """

private func close(_ a: Double, _ b: Any?, _ what: String) {
  guard let b = b as? Double else {
    Issue.record("oracle has no \(what)")
    return
  }
  let rel = abs(a - b) / max(abs(b), 1e-300)
  #expect(rel <= 1e-9, "\(what): \(a) vs numpy \(b) (relative \(rel))")
}

private func check(_ s: TensorStatistics, against o: [String: Any], rowLength: Int) {
  close(s.mean, o["mean"], "mean")
  close(s.standardDeviation, o["std"], "std")
  close(s.min, o["min"], "min")
  close(s.max, o["max"], "max")
  close(s.kurtosis, o["kurtosis"], "kurtosis")
  close(s.rms, o["rms"], "rms")
  close(s.absMax, o["absmax"], "absmax")
  #expect(s.zeroCount == o["zeros"] as? Int)
  #expect(s.nanCount == o["nan"] as? Int)
  #expect(s.positiveInfinityCount == o["posinf"] as? Int)
  #expect(s.negativeInfinityCount == o["neginf"] as? Int)
  let top = o["top"] as? [Int] ?? []
  #expect(s.top.map(\.index) == top, "top-k positions")
  // Compared as Float: Foundation's JSON parser may be off in the last bits of a Double.
  #expect(s.top.map(\.value) == (o["topv"] as? [Double] ?? []).map { Float($0) })
  #expect(s.top.allSatisfy { $0.row * rowLength + $0.column == $0.index })
}

/// Heavy-tailed values (Gaussian times a random scale), zeros, planted outliers with a tie, and
/// a few NaN/Inf.
private func heavyTailed(count: Int, seed: UInt64) -> [Float] {
  var rng = SplitMix(seed: seed)
  var xs = (0..<count).map { _ -> Float in
    let u1 = Double.random(in: Double.ulpOfOne..<1, using: &rng)
    let u2 = Double.random(in: 0..<1, using: &rng)
    let g = (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    let scale = Double.random(in: 0..<1, using: &rng) < 0.05 ? 8.0 : 0.02
    return Float(g * scale)
  }
  for i in stride(from: 7, to: count, by: 97) { xs[i] = 0 }
  xs[count / 3] = 50
  xs[count / 2] = -50  // ties |50| with the one above: the lower index ranks first
  xs[count - 1] = -73.5
  xs[11] = .nan
  xs[count / 4] = .infinity
  xs[count / 5] = -.infinity
  return xs
}

@Suite("Tensor statistics")
struct StatsTests {
  @Test func `matches numpy and scipy on a heavy-tailed tensor, whole-row tiles`() throws {
    let xs = heavyTailed(count: 300 * 1000, seed: 1)
    let bytes = xs.withUnsafeBytes { [UInt8]($0) }
    let t = try tensor("t", .safetensors(.F32), shape: [300, 1000], bytes: bytes, offset: 3)
    let s = try TensorStatistics.compute(try TensorDecoder(t), topK: 10, tileElements: 4096)
    #expect(s.count == xs.count && s.finiteCount == xs.count - 3)
    check(s, against: try numpyJSON("K = 10\n" + oracle, input: bytes), rowLength: 1000)
    #expect(s.top[0].value == -73.5 && s.top[1].value == 50 && s.top[2].value == -50)
    #expect(s.top[0].row == 299 && s.top[0].column == 999)
  }

  @Test func `long rows are split into pieces with the same results`() throws {
    let xs = heavyTailed(count: 3 * 50_000, seed: 2)
    let bytes = xs.withUnsafeBytes { [UInt8]($0) }
    let t = try tensor("t", .safetensors(.F32), shape: [3, 50_000], bytes: bytes)
    let s = try TensorStatistics.compute(try TensorDecoder(t), topK: 5, tileElements: 4096)
    check(s, against: try numpyJSON("K = 5\n" + oracle, input: bytes), rowLength: 50_000)
  }

  @Test func `results do not depend on the number of threads`() throws {
    let xs = heavyTailed(count: 512 * 700, seed: 3)
    let t = try tensor("t", .safetensors(.F32), shape: [512, 700], bytes: xs.withUnsafeBytes { [UInt8]($0) })
    let d = try TensorDecoder(t)
    let one = try TensorStatistics.compute(d, topK: 6, tileElements: 2048, threads: 1)
    for threads in [2, 3, 8] {
      let s = try TensorStatistics.compute(d, topK: 6, tileElements: 2048, threads: threads)
      #expect(
        s.mean.bitPattern == one.mean.bitPattern && s.standardDeviation.bitPattern == one.standardDeviation.bitPattern)
      #expect(s.kurtosis.bitPattern == one.kurtosis.bitPattern && s.rms.bitPattern == one.rms.bitPattern)
      #expect(s.top == one.top && s.min == one.min && s.max == one.max && s.zeroCount == one.zeroCount)
    }
  }

  @Test func `FP8 weights are summarized dequantized`() throws {
    var rng = SplitMix(seed: 4)
    let codes = (0..<(200 * 300)).map { _ in
      UInt8.random(in: 0...0x7E, using: &rng) | (Bool.random(using: &rng) ? 0x80 : 0)
    }
    let scales: [Float] = [0.001, 0.002, 0.003, 0.0005, 0.25, 1.5]  // 2 × 3 tiles of 128×128 (edges partial)
    let dir = try TestPaths.temporaryDirectory("stats-fp8")
    let url = dir.appendingPathComponent("t.bin")
    try Data(codes + scales.withUnsafeBytes { [UInt8]($0) }).write(to: url)
    let file = try MappedFile(path: url.path)
    try? FileManager.default.removeItem(at: dir)
    let w = TensorInfo(
      name: "x.weight", encoding: .safetensors(.F8_E4M3), shape: [200, 300], elementCount: 60000, byteCount: 60000,
      file: file, dataOffset: 0)
    let s = TensorInfo(
      name: "x.weight_scale_inv", encoding: .safetensors(.F32), shape: [2, 3], elementCount: 6, byteCount: 24,
      file: file, dataOffset: 60000)
    let stats = try TensorStatistics.compute(
      try TensorDecoder(w, partnersIn: ["x.weight": w, "x.weight_scale_inv": s]), topK: 4)
    let dequantized = try PythonOracle2.dequantize(codes: codes, scales: scales)
    check(stats, against: try numpyJSON("K = 4\n" + oracle, input: dequantized), rowLength: 300)
  }

  @Test func `constant and empty tensors`() throws {
    let t = try tensor(
      "c", .safetensors(.F32), shape: [4, 4], bytes: [Float](repeating: 2, count: 16).withUnsafeBytes { [UInt8]($0) })
    let s = try TensorStatistics.compute(try TensorDecoder(t))
    #expect(s.mean == 2 && s.standardDeviation == 0 && s.kurtosis.isNaN && s.rms == 2 && s.zeroFraction == 0)
    let e = try tensor("e", .safetensors(.F32), shape: [0, 4], bytes: [])
    let z = try TensorStatistics.compute(try TensorDecoder(e))
    #expect(z.count == 0 && z.mean.isNaN && z.top.isEmpty)
  }
}

/// numpy's dequantization of the FP8 fixture, as float32 bytes.
private enum PythonOracle2 {
  static func dequantize(codes: [UInt8], scales: [Float]) throws -> [UInt8] {
    let dir = try TestPaths.temporaryDirectory("stats-dq")
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("in.bin")
    try Data(codes + scales.withUnsafeBytes { [UInt8]($0) }).write(to: url)
    let script =
      """
      import sys, numpy as np, ml_dtypes
      raw = np.fromfile(sys.argv[1], dtype=np.uint8)
      w = raw[:60000].view(ml_dtypes.float8_e4m3fn).astype(np.float32).reshape(200, 300)
      s = raw[60000:].view('<f4').reshape(2, 3)
      y = w * np.repeat(np.repeat(s, 128, 0), 128, 1)[:200, :300]
      sys.stdout.buffer.write(y.astype('<f4').tobytes())
      """
    let run = try ProcessRunner.run(program: "python3", ["-c", script, url.path])
    try #require(run.status == 0, "python3 failed: \(run.stderrText)")
    return [UInt8](run.stdout)
  }
}
