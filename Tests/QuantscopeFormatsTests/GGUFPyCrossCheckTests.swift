import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// Runs `python3 -c script args…` and returns its standard output; throws with its standard
/// error when it fails.
func runPython(_ script: String, _ args: [String]) throws -> Data {
  let r = try ProcessRunner.run(program: "python3", ["-c", script] + args)
  guard r.status == 0 else {
    struct PythonFailed: Error, CustomStringConvertible { var description: String }
    throw PythonFailed(description: r.stderrText)
  }
  return r.stdout
}

/// gguf-py's view of a file: every field (key, type names, flattened values) and tensor.
let ggufPyDump = """
  import sys, json, hashlib, gguf
  def fmt(x):
      if isinstance(x, bool):
          return "1" if x else "0"
      if isinstance(x, float):
          return repr(x)
      return str(x)
  r = gguf.GGUFReader(sys.argv[1])
  fields = []
  for f in r.fields.values():
      if f.name.startswith("GGUF."):
          continue
      types = [t.name for t in f.types]
      if types[0] == "STRING":
          vals = [f.contents()]
      elif types[0] == "ARRAY" and types[-1] == "STRING":
          vals = f.contents()
      else:
          vals = [fmt(f.parts[i].tolist()[0]) for i in f.data]
      fields.append({"key": f.name, "types": types, "values": vals})
  tensors = [{"name": t.name, "type_id": int(t.tensor_type), "ne": [int(x) for x in t.shape],
              "offset": int(t.data_offset), "bytes": int(t.n_bytes),
              "md5": hashlib.md5(r.data[t.data_offset:t.data_offset + t.n_bytes].tobytes()).hexdigest()}
             for t in r.tensors]
  print(json.dumps({"fields": fields, "tensors": tensors, "endian": r.endianess.name}))
  """

@Suite("GGUF cross-check with gguf-py")
struct GGUFPyCrossCheckTests {
  /// Type names as gguf-py lists them, with the element types of nested arrays.
  func typeNames(_ v: GGUFValue) -> [String] {
    if case .array(let t, let elements) = v {
      // gguf-py learns element types from the first element, so an empty array is just ARRAY.
      if elements.isEmpty { return ["ARRAY"] }
      if t == .array, let first = elements.first { return ["ARRAY"] + typeNames(first) }
      return ["ARRAY", t.name]
    }
    return [v.type.name]
  }

  /// Values flattened as gguf-py flattens them, as doubles or strings.
  func flatten(_ v: GGUFValue) -> [String] {
    switch v {
    case .array(_, let elements): elements.flatMap(flatten)
    case .string(let s): [s]
    case .bool(let b): [b ? "1" : "0"]
    case .float32(let x): [String(Double(x))]
    case .float64(let x): [String(x)]
    case .uint64(let x): [String(x)]
    default: [String(v.integer ?? 0)]
    }
  }

  @Test func `gguf-py reads our writer's output identically`() throws {
    var tensors = try smallTensors()
    var bf16: [UInt8] = []
    for i in 0..<64 { bf16 += [UInt8(i), 0x3F] }
    tensors.append((try GGUFTensorDeclaration(name: "blk.1.bf", type: .bf16, shape: [2, 32]), bf16))
    tensors.append(
      (try GGUFTensorDeclaration(name: "blk.1.q4k", type: .q4_K, shape: [1, 256]), (0..<144).map { UInt8($0) }))
    let meta = everyTypeMetadata + [("general.alignment", GGUFValue.uint32(64))]
    let bytes = try writeGGUF(metadata: meta, tensors: tensors)
    let path = try writeTemp(bytes)
    let ours = try GGUFFile(path: path)
    let json = try JSONSerialization.jsonObject(with: try runPython(ggufPyDump, [path])) as? [String: Any]
    let fields = try #require(json?["fields"] as? [[String: Any]])
    #expect(fields.map { $0["key"] as? String } == ours.metadata.map(\.key))
    for (f, (key, value)) in zip(fields, ours.metadata) {
      #expect(f["types"] as? [String] == typeNames(value), "\(key)")
      let py = f["values"] as? [String] ?? []
      #expect(py == flatten(value), "\(key)")
    }
    let pyTensors = try #require(json?["tensors"] as? [[String: Any]])
    #expect(pyTensors.count == ours.tensors.count)
    for (p, t) in zip(pyTensors, ours.tensors) {
      #expect(p["name"] as? String == t.name)
      #expect(p["type_id"] as? Int == typeID(t))
      #expect(p["ne"] as? [Int] == t.ne)
      #expect(p["offset"] as? Int == t.dataOffset)
      #expect(p["bytes"] as? Int == t.byteCount)
      let digest = try md5Hex(try t.bytes())
      #expect(p["md5"] as? String == digest, "\(t.name)")
    }
  }

  func typeID(_ t: TensorInfo) -> Int {
    if case .ggml(let type) = t.encoding { return Int(type.id) }
    return -1
  }

  /// MD5 through python (no hashing code in the product for this).
  func md5Hex(_ bytes: UnsafeRawBufferPointer) throws -> String {
    let path = try writeTemp(Array(bytes), name: "blob")
    let out = try runPython(
      "import sys, hashlib; print(hashlib.md5(open(sys.argv[1],'rb').read()).hexdigest())", [path])
    return String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
  }
}
