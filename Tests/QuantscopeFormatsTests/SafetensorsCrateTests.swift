import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// The Python interpreter that has the `safetensors` package (the Rust crate's binding), from
/// `QUANTSCOPE_SAFETENSORS_PYTHON` or `python3`; `nil` when the package is not installed.
let crateOraclePython: String? = {
  let candidate = ProcessInfo.processInfo.environment["QUANTSCOPE_SAFETENSORS_PYTHON"] ?? "python3"
  let probe = try? ProcessRunner.run(program: candidate, ["-c", "import safetensors"])
  return probe?.status == 0 ? candidate : nil
}()

/// Loads every file given with the Rust crate (`safetensors.deserialize`) and prints, per
/// file, either the error or the tensors with their data.
let crateOracleScript = #"""
  import json, sys
  from safetensors import deserialize
  result = {}
  for path in sys.argv[1:]:
      with open(path, "rb") as f:
          data = f.read()
      try:
          tensors = deserialize(data)
          result[path] = {"ok": [[n, d["dtype"], list(d["shape"]), bytes(d["data"]).hex()] for n, d in tensors]}
      except Exception as e:
          result[path] = {"error": str(e)}
  print(json.dumps(result))
  """#

/// A header that is valid JSON but stresses the crate's rules, with data of `size` zero bytes.
func crateCase(_ header: String, _ size: Int = 0) -> [UInt8] {
  safetensorsBytes(header, data: Array(repeating: 0, count: size))
}

/// Hand-made edge cases, valid and not.
let crateCorpus: [[UInt8]] = {
  let f32 = #""dtype": "F32", "shape": [1]"#
  var cases: [[UInt8]] = [
    [], [1, 0, 0], crateCase("{}"), crateCase(" \t{}\r\n "), crateCase("{}\0"), crateCase(""), crateCase("[]"),
    crateCase("\u{FEFF}{}"), crateCase(#"{"__metadata__": null}"#), crateCase(#"{"__metadata__": {"a": null}}"#),
    crateCase(#"{"__metadata__": {}, "__metadata__": {}}"#), crateCase(#"{"__metadata__": 5}"#),
    safetensorsBytes("{}", declaredLength: 100_000_001), safetensorsBytes("{}", declaredLength: 3),
    crateCase(#"{"w": {\#(f32), "data_offsets": [0, 4]}}"#, 4),
    crateCase(#"{"w": ["F32", [1], [0, 4]]}"#, 4),
    crateCase(#"{"w": ["F32", [1]]}"#, 4),
    crateCase(#"{"w": ["F32", [1], [0, 4], 0]}"#, 4),
    crateCase(#"{"w": {\#(f32), "data_offsets": [0, 4]}}"#, 3),
    crateCase(#"{"w": {\#(f32), "data_offsets": [0, 4]}}"#, 5),
    crateCase(#"{"w": {\#(f32), "data_offsets": [0, 4], "x": [1, {"y": null}]}}"#, 4),
    crateCase(#"{"w": {\#(f32), "data_offsets": [0, 4], "x": 1.5e999}}"#, 4),
    crateCase(#"{"w": {\#(f32), "data_offsets": [0, 4], "x": "\ud800"}}"#, 4),
    crateCase(#"{"w": {\#(f32), "data_offsets": [0, 4], "x": "\ud83d\ude00"}}"#, 4),
    crateCase(#"{"w": {\#(f32), "data_offsets": [0, 4], "dtype": "F32"}}"#, 4),
    crateCase(#"{"w": {"dtype": "F32", "shape": [-0], "data_offsets": [0, 0]}}"#),
    crateCase(#"{"w": {"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]}}"#, 4),
    crateCase(#"{"w": {"dtype": "F8_E4M3FN", "shape": [1], "data_offsets": [0, 1]}}"#, 1),
    crateCase(#"{"w": {"dtype": "f32", "shape": [1], "data_offsets": [0, 4]}}"#, 4),
    crateCase(#"{"w": {\#(f32), "data_offsets": [4, 8]}, "v": {\#(f32), "data_offsets": [0, 4]}}"#, 8),
    crateCase(#"{"w": {\#(f32), "data_offsets": [0, 4]}, "v": {\#(f32), "data_offsets": [8, 12]}}"#, 12),
    crateCase(
      #"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "v": {\#(f32), "data_offsets": [4, 8]}}"#, 8),
    crateCase(
      #"{"w": {\#(f32), "data_offsets": [0, 4]}, "v": {"dtype": "F32", "shape": [0], "data_offsets": [4, 0]}}"#, 4),
    crateCase(
      #"{"w": {\#(f32), "data_offsets": [0, 4]}, "v": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}}"#, 4),
    crateCase(
      #"{"w": {\#(f32), "data_offsets": [0, 4]}, "w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}"#, 1),
    crateCase(#"{"w": {"dtype": "F4", "shape": [3], "data_offsets": [0, 2]}}"#, 2),
    crateCase(#"{"w": {"dtype": "F4", "shape": [4], "data_offsets": [0, 2]}}"#, 2),
    crateCase(#"{"w": {"dtype": "F6_E3M2", "shape": [4], "data_offsets": [0, 3]}}"#, 3),
    crateCase(#"{"w": {"dtype": "C64", "shape": [], "data_offsets": [0, 8]}}"#, 8),
    crateCase(#"{"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 4]}}"#, 4),
    crateCase(#"{"w": {"dtype": "F32", "shape": [2305843009213693952], "data_offsets": [0, 4]}}"#, 4),
    crateCase(#"{"w": {"dtype": "F32", "shape": [18446744073709551616], "data_offsets": [0, 4]}}"#, 4),
    crateCase(#"{"w": {\#(f32), "data_offsets": [0, 18446744073709551615]}}"#, 4),
    crateCase(#"{"a\u0000": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}"#, 1),
  ]
  for n in [124, 125, 126, 127] {
    let deep = String(repeating: "[", count: n) + String(repeating: "]", count: n)
    cases.append(crateCase(#"{"w": {\#(f32), "data_offsets": [0, 4], "x": "# + deep + "}}", 4))
  }
  return cases
}()

// No `.enabled(if:)`: the package is a test dependency (scripts/setup --test), so a missing one
// fails each test through `#require(crateOraclePython)` instead of skipping the suite.
@Suite("safetensors against the Rust crate")
struct SafetensorsCrateTests {
  /// Every edge case and every random corruption must load in both readers or fail in both,
  /// and what loads must give the same tensors and bytes.
  @Test func `same verdicts and tensors as the crate`() throws {
    let python = try #require(crateOraclePython, "the safetensors Python package is missing: scripts/setup --test")
    let dir = try TestPaths.temporaryDirectory("st-crate")
    defer { try? FileManager.default.removeItem(at: dir) }
    let corpus = crateCorpus + randomCorruptions(count: 400)
    var paths: [String] = []
    for (i, bytes) in corpus.enumerated() { paths.append(try writeFile(dir, "case\(i).safetensors", bytes)) }
    let script = dir.appendingPathComponent("oracle.py")
    try Data(crateOracleScript.utf8).write(to: script)
    let run = try ProcessRunner.run(program: python, [script.path] + paths)
    try #require(run.status == 0, "\(run.stderrText)")
    let verdicts = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: [String: Any]])

    var agreedOK = 0
    var agreedError = 0
    for (i, path) in paths.enumerated() {
      let crate = try #require(verdicts[path])
      let ours = Result { try SafetensorsFile(path: path) }
      switch (ours, crate["ok"] as? [[Any]]) {
      case (.success(let file), let tensors?):
        let expected = tensors.compactMap { t -> String? in
          guard let n = t[0] as? String, let d = t[1] as? String, let s = t[2] as? [Int], let h = t[3] as? String else {
            return nil
          }
          return "\(n) \(d) \(s) \(h)"
        }.sorted()
        let got = try file.tensors.map { t in
          "\(t.name) \(t.encoding.name) \(t.shape) \(try t.bytes().map { String(format: "%02x", $0) }.joined())"
        }.sorted()
        #expect(got == expected, "case \(i)")
        agreedOK += 1
      case (.failure(let error), nil):
        #expect(error is FormatError, "case \(i)")
        agreedError += 1
      case (.success, nil):
        Issue.record("case \(i): we load it, the crate says \(crate["error"] ?? "?"): \(Array(corpus[i]))")
      case (.failure(let error), _?):
        Issue.record("case \(i): the crate loads it, we say \(error): \(String(decoding: corpus[i], as: UTF8.self))")
      }
    }
    print("crate agreement: \(agreedOK) loaded by both, \(agreedError) rejected by both, of \(corpus.count)")
    #expect(agreedOK > 10 && agreedError > 30)
  }

  /// The crate's own writer (`safetensors.serialize`) must produce byte for byte what our
  /// writer produces: same order (dtype, then name), same JSON, same padding.
  @Test func `our writer matches the crate's writer byte for byte`() throws {
    let python = try #require(crateOraclePython, "the safetensors Python package is missing: scripts/setup --test")
    let dir = try TestPaths.temporaryDirectory("st-crate-writer")
    defer { try? FileManager.default.removeItem(at: dir) }
    var tensors: [(spec: SafetensorsTensorSpec, data: [UInt8])] = []
    for (i, dtype) in SafetensorsDType.allCases.enumerated() {
      // The binding cannot write F6 (its TensorSpec does not know the type).
      guard dtype != .F6_E2M3, dtype != .F6_E3M2 else { continue }
      for (j, shape) in [[3, 8], [], [0, 2]].enumerated() where dtype.bits >= 8 || shape == [3, 8] {
        let spec = SafetensorsTensorSpec(name: "m.\(j).\(dtype.rawValue.lowercased())", dtype: dtype, shape: shape)
        let n = try #require(spec.byteCount)
        tensors.append((spec, (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }))
      }
    }
    tensors.append((SafetensorsTensorSpec(name: "B.upper", dtype: .F32, shape: [1]), [1, 2, 3, 4]))
    tensors.append((SafetensorsTensorSpec(name: "été", dtype: .F32, shape: [1]), [5, 6, 7, 8]))
    let metadata: [(key: String, value: String)] = [("format", "pt")]
    let ours = dir.appendingPathComponent("ours.safetensors").path
    try SafetensorsWriter.write(to: ours, tensors: tensors, metadata: metadata)

    let manifest: [[String: Any]] = tensors.map {
      [
        "name": $0.spec.name, "dtype": $0.spec.dtype.rawValue, "shape": $0.spec.shape,
        "hex": $0.data.map { String(format: "%02x", $0) }.joined(),
      ]
    }
    let manifestPath = dir.appendingPathComponent("manifest.json")
    try JSONSerialization.data(withJSONObject: manifest).write(to: manifestPath)
    // The binding takes torch-style dtype names, and for F4 the storage shape (two per byte).
    let script = """
      import json, sys
      import numpy as np
      from safetensors import serialize, TensorSpec
      NAMES = {"BOOL": "bool", "U8": "uint8", "I8": "int8", "U16": "uint16", "I16": "int16",
               "U32": "uint32", "I32": "int32", "U64": "uint64", "I64": "int64", "F16": "float16",
               "F32": "float32", "F64": "float64", "BF16": "bfloat16", "C64": "complex64",
               "F8_E4M3": "float8_e4m3fn", "F8_E4M3FNUZ": "float8_e4m3fnuz", "F8_E5M2": "float8_e5m2",
               "F8_E5M2FNUZ": "float8_e5m2fnuz", "F8_E8M0": "float8_e8m0fnu", "F4": "float4_e2m1fn_x2"}
      items = json.load(open(sys.argv[1]))
      buffers, specs = [], {}
      for t in items:
          buf = np.frombuffer(bytes.fromhex(t["hex"]) or b"\\0", dtype=np.uint8).copy()
          buffers.append(buf)
          shape = list(t["shape"])
          if t["dtype"] == "F4":
              shape[-1] //= 2
          specs[t["name"]] = TensorSpec(dtype=NAMES[t["dtype"]], shape=shape, data_ptr=buf.ctypes.data,
                                        data_len=len(t["hex"]) // 2)
      open(sys.argv[2], "wb").write(serialize(specs, metadata={"format": "pt"}))
      """
    let theirs = dir.appendingPathComponent("theirs.safetensors").path
    let run = try ProcessRunner.run(program: python, ["-c", script, manifestPath.path, theirs])
    try #require(run.status == 0, "\(run.stderrText)")
    let a = try Data(contentsOf: URL(fileURLWithPath: ours))
    let b = try Data(contentsOf: URL(fileURLWithPath: theirs))
    #expect(a.count == b.count)
    #expect(
      a == b, "\(String(decoding: a.prefix(600), as: UTF8.self)) vs \(String(decoding: b.prefix(600), as: UTF8.self))")
  }
}
