import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// Little-endian bytes of some floats.
func f32Bytes(_ values: [Float]) -> [UInt8] {
  values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
}

@Suite("safetensors reading and writing")
struct SafetensorsCheckpointTests {
  @Test func `writer output reads back in every dtype`() throws {
    let dir = try TestPaths.temporaryDirectory("st-rt")
    defer { try? FileManager.default.removeItem(at: dir) }
    var tensors: [(spec: SafetensorsTensorSpec, data: [UInt8])] = []
    for (i, dtype) in SafetensorsDType.allCases.enumerated() {
      // 8 × 3 elements fill whole bytes for every width (4 and 6 bits included).
      let spec = SafetensorsTensorSpec(name: "t.\(dtype.rawValue)", dtype: dtype, shape: [8, 3])
      let count = try #require(spec.byteCount)
      tensors.append((spec, (0..<count).map { UInt8(truncatingIfNeeded: $0 * 7 + i) }))
    }
    tensors.append((SafetensorsTensorSpec(name: "scalar", dtype: .F32, shape: []), f32Bytes([1.5])))
    tensors.append((SafetensorsTensorSpec(name: "empty", dtype: .BF16, shape: [0, 5]), []))
    tensors.append((SafetensorsTensorSpec(name: "ünïcode \"name\"\n", dtype: .U8, shape: [1]), [42]))
    let path = dir.appendingPathComponent("all.safetensors").path
    try SafetensorsWriter.write(to: path, tensors: tensors, metadata: [("format", "pt"), ("note", "a\tb")])

    let file = try SafetensorsFile(path: path)
    #expect(file.dataStart % 8 == 0)
    #expect(file.metadata.map(\.key) == ["format", "note"])
    #expect(file.metadata.last?.value == "a\tb")
    #expect(file.tensors.count == tensors.count)
    // Reference writer order: dtype by decreasing crate order, then name.
    let ranks = file.tensors.map { t -> Int in
      guard case .safetensors(let d) = t.encoding else { return -1 }
      return d.crateOrder
    }
    #expect(ranks == ranks.sorted(by: >))
    var previousEnd = file.dataStart
    for t in file.tensors {
      #expect(t.dataOffset == previousEnd)
      previousEnd = t.dataOffset + t.byteCount
      let original = try #require(tensors.first { $0.spec.name == t.name })
      #expect(t.encoding == .safetensors(original.spec.dtype))
      #expect(t.shape == original.spec.shape)
      #expect(Array(try t.bytes()) == original.data, "\(t.name)")
    }
    #expect(previousEnd == file.file.size)
    #expect(file.tensors.first { $0.name == "scalar" }?.elementCount == 1)
    #expect(file.tensors.first { $0.name == "empty" }?.byteCount == 0)
  }

  @Test func `writer rejects bad specs and wrong data sizes`() throws {
    let dir = try TestPaths.temporaryDirectory("st-wbad")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("x.safetensors").path
    let twice = [(SafetensorsTensorSpec(name: "a", dtype: .U8, shape: [1]), [UInt8(0)])]
    #expect(throws: FormatError.self) { try SafetensorsWriter.write(to: path, tensors: twice + twice) }
    #expect(throws: FormatError.self) {
      try SafetensorsWriter.write(
        to: path, tensors: [(SafetensorsTensorSpec(name: "a", dtype: .F4, shape: [3]), [0, 0])])
    }
    #expect(throws: FormatError.self) {
      try SafetensorsWriter.write(
        to: path, tensors: [(SafetensorsTensorSpec(name: "a", dtype: .F32, shape: [2]), [0, 0])])
    }
    #expect(throws: FormatError.self) {
      try SafetensorsWriter.write(to: path, tensors: [(SafetensorsTensorSpec(name: "a", dtype: .F32, shape: [-2]), [])])
    }
    #expect(!FileManager.default.fileExists(atPath: path))
    #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
  }

  @Test func `offsets out of JSON order, duplicate keys, unknown fields, empty tensors`() throws {
    let dir = try TestPaths.temporaryDirectory("st-order")
    defer { try? FileManager.default.removeItem(at: dir) }
    let header = #"""
      {"b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8], "extra": {"x": [1, 2.5e3, null, true]}},
       "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
       "z": {"dtype": "F32", "shape": [0], "data_offsets": [8, 8]},
       "c": {"dtype": "F16", "shape": [9], "data_offsets": [0, 18]},
       "c": ["F16", [2], [8, 12]],
       "__metadata__": null}
      """#
    let path = try writeFile(dir, "o.safetensors", safetensorsBytes(header, data: f32Bytes([1, 2, 3])))
    let file = try SafetensorsFile(path: path)
    #expect(file.tensors.map(\.name) == ["a", "b", "z", "c"])
    #expect(
      file.tensors.map(\.dataOffset) == [
        8 + header.utf8.count, 12 + header.utf8.count, 16 + header.utf8.count, 16 + header.utf8.count,
      ])
    #expect(file.metadata.isEmpty)
    #expect(file.tensors.first { $0.name == "c" }?.shape == [2])
    let b = try #require(file.tensors.first { $0.name == "b" })
    #expect(Array(try b.bytes()) == f32Bytes([2]))
  }

  @Test func `JSON values parse exactly`() throws {
    let text =
      #" {"s": "a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "i": -9223372036854775808, "u": 18446744073709551616, "d": -1.5e-3, "o": {"a": [true, false, null]}, "e": [], "k": {}} "#
    let value = try Array(text.utf8).withUnsafeBytes { try JSONValue.parse($0, path: "t.json") }
    #expect(value["s"] == .string("a\"\\/\u{8}\u{c}\n\r\té😀"))
    #expect(value["i"] == .integer(.min))
    #expect(value["u"] == .number(18446744073709551616))
    #expect(value["d"] == .number(-1.5e-3))
    #expect(value["o"]?["a"] == .array([.bool(true), .bool(false), .null]))
    #expect(value["e"] == .array([]))
    #expect(value["k"] == .object([]))
    let again = try Array(value.serialized.utf8).withUnsafeBytes { try JSONValue.parse($0, path: "t.json") }
    #expect(again == value)
    for bad in [
      "", "01", "1.", "-", "+1", "[1,]", "{\"a\":1,}", "\"\\ud800\"", "\"\\udc00\"", "tru", "[1] 2", "\"\u{7}\"",
      "1e400",
    ] {
      #expect(throws: FormatError.self, "\(bad)") {
        try Array(bad.utf8).withUnsafeBytes { try JSONValue.parse($0, path: "t.json") }
      }
    }
    let deep = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
    #expect(throws: FormatError.self) {
      try Array(deep.utf8).withUnsafeBytes { try JSONValue.parse($0, path: "t.json") }
    }
    let ok = String(repeating: "[", count: 127) + String(repeating: "]", count: 127)
    #expect(throws: Never.self) { try Array(ok.utf8).withUnsafeBytes { try JSONValue.parse($0, path: "t.json") } }
  }

  /// A two-shard checkpoint with index and config.
  func makeCheckpoint(_ dir: URL, index: String? = nil, extraShardTensor: Bool = false) throws {
    var shard1: [(spec: SafetensorsTensorSpec, data: [UInt8])] = [
      (SafetensorsTensorSpec(name: "model.embed.weight", dtype: .BF16, shape: [2, 2]), [1, 2, 3, 4, 5, 6, 7, 8]),
      (SafetensorsTensorSpec(name: "model.layers.0.w", dtype: .F8_E4M3, shape: [2, 3]), [1, 2, 3, 4, 5, 6]),
      (SafetensorsTensorSpec(name: "model.layers.0.w_scale_inv", dtype: .F32, shape: [1, 1]), f32Bytes([0.5])),
    ]
    if extraShardTensor {
      shard1.append((SafetensorsTensorSpec(name: "stray", dtype: .U8, shape: [1]), [9]))
    }
    let shard2: [(spec: SafetensorsTensorSpec, data: [UInt8])] = [
      (SafetensorsTensorSpec(name: "lm_head.weight", dtype: .F32, shape: [3]), f32Bytes([1, 2, 3]))
    ]
    try SafetensorsWriter.write(
      to: dir.appendingPathComponent("model-00001-of-000002.safetensors").path, tensors: shard1,
      metadata: [("format", "pt")])
    try SafetensorsWriter.write(
      to: dir.appendingPathComponent("model-00002-of-000002.safetensors").path, tensors: shard2,
      metadata: [("format", "pt"), ("extra", "x")])
    let defaultIndex = #"""
      {"metadata": {"total_size": 34},
       "weight_map": {"lm_head.weight": "model-00002-of-000002.safetensors",
                      "model.embed.weight": "model-00001-of-000002.safetensors",
                      "model.layers.0.w": "model-00001-of-000002.safetensors",
                      "model.layers.0.w_scale_inv": "model-00001-of-000002.safetensors"}}
      """#
    try Data((index ?? defaultIndex).utf8).write(to: dir.appendingPathComponent("model.safetensors.index.json"))
    let config =
      #"{"hidden_size": 2, "rope_scaling": {"factor": 40, "type": "yarn"}, "eps": 1e-6, "arch": ["X"], "mixed": [1, 2.5], "null_key": null, "q": {"block": [128, 128]}}"#
    try Data(config.utf8).write(to: dir.appendingPathComponent("config.json"))
  }

  @Test func `sharded checkpoint from a directory or its index`() throws {
    let dir = try TestPaths.temporaryDirectory("st-ckpt")
    defer { try? FileManager.default.removeItem(at: dir) }
    try makeCheckpoint(dir)
    for input in [dir.path, dir.appendingPathComponent("model.safetensors.index.json").path] {
      let collection = try WeightFiles.open([input])
      let ckpt = try #require(collection as? SafetensorsCheckpoint)
      #expect(ckpt.files.count == 2)
      // Shard order, then data offset (F32 first in shard 1: the reference writer's order).
      #expect(
        ckpt.tensors.map(\.name) == [
          "model.layers.0.w_scale_inv", "model.embed.weight", "model.layers.0.w", "lm_head.weight",
        ])
      #expect(ckpt.index?.weightMap.count == 4)
      #expect(ckpt.config?["hidden_size"] == .integer(2))
      let entries = ckpt.metadataEntries
      #expect(
        entries.map(\.key) == [
          "format", "extra", "config.hidden_size", "config.rope_scaling.factor", "config.rope_scaling.type",
          "config.eps", "config.arch", "config.mixed", "config.q.block",
        ])
      let byKey = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
      #expect(byKey["config.rope_scaling.factor"] == .int64(40))
      #expect(byKey["config.eps"] == .float64(1e-6))
      #expect(byKey["config.arch"] == .array(elementType: .string, [.string("X")]))
      #expect(byKey["config.mixed"] == .array(elementType: .float64, [.float64(1), .float64(2.5)]))
      let w = try #require(ckpt.tensor(named: "model.layers.0.w"))
      #expect(Array(try w.bytes()) == [1, 2, 3, 4, 5, 6])
    }
  }

  @Test func `shard lists, directories without index, single files`() throws {
    let dir = try TestPaths.temporaryDirectory("st-list")
    defer { try? FileManager.default.removeItem(at: dir) }
    try makeCheckpoint(dir)
    let shards = ["model-00001-of-000002.safetensors", "model-00002-of-000002.safetensors"].map {
      dir.appendingPathComponent($0).path
    }
    let list = try WeightFiles.open(shards)
    #expect(list.tensors.count == 4)
    let single = try SafetensorsCheckpoint(path: shards[1])
    #expect(single.tensors.map(\.name) == ["lm_head.weight"])
    #expect(single.config != nil)  // config.json beside the file
    try FileManager.default.removeItem(at: dir.appendingPathComponent("model.safetensors.index.json"))
    let noIndex = try SafetensorsCheckpoint(path: dir.path)
    #expect(noIndex.index == nil)
    #expect(noIndex.tensors.count == 4)
    #expect(throws: FormatError.self) { try SafetensorsCheckpoint(paths: [shards[0], shards[0]]) }
    let empty = try TestPaths.temporaryDirectory("st-empty")
    defer { try? FileManager.default.removeItem(at: empty) }
    #expect(throws: FormatError.self) { try SafetensorsCheckpoint(path: empty.path) }
  }

  @Test func `index naming a missing shard`() throws {
    let dir = try TestPaths.temporaryDirectory("st-miss")
    defer { try? FileManager.default.removeItem(at: dir) }
    let index =
      #"{"weight_map": {"lm_head.weight": "model-00002-of-000002.safetensors", "gone": "model-00003-of-000002.safetensors"}}"#
    try makeCheckpoint(dir, index: index)
    do {
      _ = try SafetensorsCheckpoint(path: dir.path)
      Issue.record("opened")
    } catch let e as FormatError {
      #expect(e.path.hasSuffix("model.safetensors.index.json"))
      #expect(e.kind == .notFound)
      #expect(e.message.contains("model-00003-of-000002.safetensors"))
      #expect(e.tensor == "gone")
      #expect(
        e.offset
          == index.utf8.distance(
            from: index.utf8.startIndex, to: index.range(of: "\"gone\"")!.lowerBound.samePosition(in: index.utf8)!))
    }
  }

  @Test func `index tensor absent from its shard`() throws {
    let dir = try TestPaths.temporaryDirectory("st-absent")
    defer { try? FileManager.default.removeItem(at: dir) }
    let index =
      #"{"weight_map": {"lm_head.weight": "model-00001-of-000002.safetensors", "model.embed.weight": "model-00001-of-000002.safetensors", "model.layers.0.w": "model-00001-of-000002.safetensors", "model.layers.0.w_scale_inv": "model-00001-of-000002.safetensors"}}"#
    try makeCheckpoint(dir, index: index)
    do {
      _ = try SafetensorsCheckpoint(path: dir.path)
      Issue.record("opened")
    } catch let e as FormatError {
      #expect(e.tensor == "lm_head.weight")
      #expect(e.kind == .malformed)
      #expect(e.location == .byte(16))  // the key "lm_head.weight" after {"weight_map": { in the index file
    }
  }

  @Test func `shard tensor missing from the index`() throws {
    let dir = try TestPaths.temporaryDirectory("st-stray")
    defer { try? FileManager.default.removeItem(at: dir) }
    try makeCheckpoint(dir, extraShardTensor: true)
    do {
      _ = try SafetensorsCheckpoint(path: dir.path)
      Issue.record("opened")
    } catch let e as FormatError {
      #expect(e.tensor == "stray")
      #expect(e.path.hasSuffix("model-00001-of-000002.safetensors"))
      #expect(e.kind == .malformed && e.message.contains("not listed"))
      guard case .header(let at) = e.location else {
        Issue.record("not a header location: \(e)")
        return
      }
      #expect(at > 8)
    }
  }

  @Test func `malformed index and config are format errors`() throws {
    for index in [
      #"{"weight_map": []}"#, #"["a"]"#, #"{"weight_map": {"a": 1}}"#, #"{"metadata": {}}"#,
      #"{"weight_map": {"a": "/etc/passwd"}}"#, #"{"weight_map": {"a": "../x.safetensors"}}"#, "{",
    ] {
      let dir = try TestPaths.temporaryDirectory("st-badindex")
      defer { try? FileManager.default.removeItem(at: dir) }
      try makeCheckpoint(dir, index: index)
      #expect(throws: FormatError.self, "\(index)") { try SafetensorsCheckpoint(path: dir.path) }
    }
    let dir = try TestPaths.temporaryDirectory("st-badconfig")
    defer { try? FileManager.default.removeItem(at: dir) }
    try makeCheckpoint(dir)
    try Data("[1, 2".utf8).write(to: dir.appendingPathComponent("config.json"))
    #expect(throws: FormatError.self) { try SafetensorsCheckpoint(path: dir.path) }
  }
}
