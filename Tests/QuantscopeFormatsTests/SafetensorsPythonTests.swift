import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// An independent writer: numpy + ml_dtypes produce the values, Python's `json` writes the
/// header (with its own spacing, `\u` escapes and key order), data in an order unrelated to the
/// header's, no alignment padding. It writes a manifest of what it wrote.
let pythonSafetensorsWriter = #"""
  import json, os, sys
  import numpy as np
  import ml_dtypes

  out = sys.argv[1]
  rng = np.random.default_rng(20260529)

  NUMPY = {
      "BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "U16": np.uint16, "I16": np.int16,
      "U32": np.uint32, "I32": np.int32, "U64": np.uint64, "I64": np.int64,
      "F16": np.float16, "F32": np.float32, "F64": np.float64, "C64": np.complex64,
      "BF16": ml_dtypes.bfloat16, "F8_E4M3": ml_dtypes.float8_e4m3fn, "F8_E5M2": ml_dtypes.float8_e5m2,
      "F8_E4M3FNUZ": ml_dtypes.float8_e4m3fnuz, "F8_E5M2FNUZ": ml_dtypes.float8_e5m2fnuz,
      "F8_E8M0": ml_dtypes.float8_e8m0fnu,
  }
  PACKED_BITS = {"F4": 4, "F6_E2M3": 6, "F6_E3M2": 6}

  def values(dtype, shape):
      n = int(np.prod(shape, dtype=np.int64))
      if dtype in PACKED_BITS:
          # Sub-byte types are stored packed; the header shape counts elements.
          return rng.integers(0, 256, size=n * PACKED_BITS[dtype] // 8, dtype=np.uint8).tobytes()
      t = NUMPY[dtype]
      if dtype == "BOOL":
          a = rng.integers(0, 2, size=shape).astype(t)
      elif dtype[0] in "UI":
          info = np.iinfo(t)
          a = rng.integers(info.min, info.max, size=shape, dtype=t, endpoint=True)
      elif dtype == "C64":
          a = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(t)
      elif dtype == "F8_E8M0":
          a = np.exp2(rng.integers(-20, 20, size=shape)).astype(t)
      else:
          a = (rng.standard_normal(shape) * 3).astype(t)
      return np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()

  def write(path, tensors, metadata, pad=b"", lead=b""):
      """tensors: list of (name, dtype, shape, bytes). Data goes in reverse name order."""
      order = sorted(tensors, key=lambda t: t[0], reverse=True)
      header, offset, placed = {}, 0, {}
      for name, dtype, shape, data in order:
          placed[name] = (offset, offset + len(data))
          offset += len(data)
      keys = [t[0] for t in tensors]
      rng.shuffle(keys)
      byname = {t[0]: t for t in tensors}
      if metadata is not None:
          header["__metadata__"] = metadata
      for k in keys:
          _, dtype, shape, _ = byname[k]
          header[k] = {"shape": list(shape), "data_offsets": list(placed[k]), "dtype": dtype}
      text = lead + json.dumps(header).encode() + pad
      start = 8 + len(text)
      with open(path, "wb") as f:
          f.write(len(text).to_bytes(8, "little"))
          f.write(text)
          for name, dtype, shape, data in order:
              f.write(data)
      return [{"name": n, "dtype": d, "shape": list(s), "offset": start + placed[n][0],
               "nbytes": len(b), "hex": b.hex()} for n, d, s, b in tensors]

  manifest = {}
  shapes = [[3, 4], [5], [], [2, 0, 3], [2, 2, 2, 2]]
  tensors = []
  for i, dtype in enumerate(list(NUMPY) + list(PACKED_BITS)):
      shape = shapes[i % len(shapes)] if dtype not in PACKED_BITS else [4, 6]
      name = "layer.%d.w\u00e9/%s" % (i, dtype.lower())
      tensors.append((name, dtype, shape, values(dtype, shape)))
  manifest["all.safetensors"] = write(os.path.join(out, "all.safetensors"), tensors,
                                       {"format": "np", "note": "caf\u00e9 \"quoted\""})
  manifest["padded.safetensors"] = write(os.path.join(out, "padded.safetensors"),
                                         tensors[:3], None, pad=b"   \n", lead=b"\t ")

  os.mkdir(os.path.join(out, "ckpt"))
  index = {"metadata": {"total_size": 0}, "weight_map": {}}
  expected_order = []
  for s in range(3):
      fname = "model-%05d-of-%06d.safetensors" % (s + 1, 3)
      ts = [("model.layers.%d.%s" % (s, n), "BF16" if n != "scale" else "F32", [8, 16] if n != "scale" else [1, 1],
             None) for n in ("q", "k", "scale")]
      ts = [(n, d, sh, values(d, sh)) for n, d, sh, _ in ts]
      entries = write(os.path.join(out, "ckpt", fname), ts, {"format": "pt"})
      manifest["ckpt/" + fname] = entries
      expected_order += [e["name"] for e in sorted(entries, key=lambda e: e["offset"])]
      for n, _, _, b in ts:
          index["weight_map"][n] = fname
          index["metadata"]["total_size"] += len(b)
  with open(os.path.join(out, "ckpt", "model.safetensors.index.json"), "w") as f:
      json.dump(index, f, indent=2)
  with open(os.path.join(out, "ckpt", "config.json"), "w") as f:
      json.dump({"model_type": "toy", "hidden_size": 16, "rope": {"theta": 1e4}}, f, indent=2)
  manifest["order"] = expected_order
  with open(os.path.join(out, "manifest.json"), "w") as f:
      json.dump(manifest, f)
  """#

@Suite("safetensors against an independent Python writer")
struct SafetensorsPythonTests {
  @Test func `files written by numpy and json read back exactly`() throws {
    let dir = try TestPaths.temporaryDirectory("st-py")
    defer { try? FileManager.default.removeItem(at: dir) }
    let script = dir.appendingPathComponent("write.py")
    try Data(pythonSafetensorsWriter.utf8).write(to: script)
    let run = try ProcessRunner.run(program: "python3", [script.path, dir.path])
    try #require(run.status == 0, "python3 failed: \(run.stderrText)")

    let manifestData = try Data(contentsOf: dir.appendingPathComponent("manifest.json"))
    let manifest = try #require(try JSONSerialization.jsonObject(with: manifestData) as? [String: Any])
    var dtypesSeen = Set<String>()
    var checked = 0
    for (file, value) in manifest where file != "order" {
      let expected = try #require(value as? [[String: Any]])
      let st = try SafetensorsFile(path: dir.appendingPathComponent(file).path)
      #expect(st.tensors.count == expected.count, "\(file)")
      let byName = Dictionary(uniqueKeysWithValues: st.tensors.map { ($0.name, $0) })
      for e in expected {
        let name = try #require(e["name"] as? String)
        let t = try #require(byName[name], "\(file): \(name) missing")
        let dtype = try #require(e["dtype"] as? String)
        dtypesSeen.insert(dtype)
        #expect(t.encoding.name == dtype, "\(name)")
        #expect(t.shape == (e["shape"] as? [Int]), "\(name)")
        #expect(t.dataOffset == (e["offset"] as? Int), "\(name)")
        #expect(t.byteCount == (e["nbytes"] as? Int), "\(name)")
        let hex = try t.bytes().map { String(format: "%02x", $0) }.joined()
        #expect(hex == (e["hex"] as? String), "\(name)")
        checked += 1
      }
      if file == "all.safetensors" {
        #expect(st.metadata.map(\.key) == ["format", "note"])
        #expect(st.metadata.last?.value == "café \"quoted\"")
      }
    }
    #expect(dtypesSeen == Set(SafetensorsDType.allCases.map(\.rawValue)))
    #expect(checked > 30)

    let ckpt = try WeightFiles.open([dir.appendingPathComponent("ckpt").path])
    #expect(ckpt.tensors.map(\.name) == (manifest["order"] as? [String]))
    let config = Dictionary(ckpt.metadataEntries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
    #expect(config["config.model_type"] == .string("toy"))
    #expect(config["config.rope.theta"] == .float64(1e4))
    #expect(config["format"] == .string("pt"))
  }
}
