import Foundation
import QuantscopeCodecs
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

@Suite("GGUF split sets")
struct GGUFSplitTests {
  /// Writes a 3-shard set `m-0000N-of-00003.gguf` with two F32 tensors per shard; `edit` may
  /// change each shard's split keys (shard index, keys) before writing.
  func writeSet(
    in dir: URL, count: Int = 3, names: [[String]]? = nil,
    edit: (Int, inout [(key: String, value: GGUFValue)]) -> Void = { _, _ in }
  ) throws -> [String] {
    let tensorNames = names ?? (0..<count).map { s in ["blk.\(s).a.weight", "blk.\(s).b.weight"] }
    let total = tensorNames.reduce(0) { $0 + $1.count }
    var paths: [String] = []
    for s in 0..<count {
      var meta: [(key: String, value: GGUFValue)] = []
      if s == 0 { meta.append(("general.architecture", .string("llama"))) }
      meta += [
        ("split.no", .uint16(UInt16(s))), ("split.tensors.count", .int32(Int32(total))),
        ("split.count", .uint16(UInt16(count))),
      ]
      edit(s, &meta)
      let tensors = try tensorNames[s].map { name in
        (try GGUFTensorDeclaration(name: name, type: .f32, ne: [4]), [UInt8](repeating: UInt8(s), count: 16))
      }
      let bytes = try writeGGUF(metadata: meta, tensors: tensors)
      let name = "m-0000\(s + 1)-of-0000\(count).gguf"
      paths.append(try writeTemp(bytes, name: name, in: dir))
    }
    return paths
  }

  @Test func `shard names parse and format like llama_split_path`() {
    let n = GGUFSplitSet.ShardName(path: "/d/x-y-00002-of-00010.gguf")
    #expect(n == GGUFSplitSet.ShardName(directory: "/d/", prefix: "x-y", number: 2, count: 10))
    #expect(n?.path(number: 7) == "/d/x-y-00007-of-00010.gguf")
    #expect(GGUFSplitSet.ShardName(path: "model.gguf") == nil)
    #expect(GGUFSplitSet.ShardName(path: "m-1-of-2.gguf") == nil)
    #expect(GGUFSplitSet.ShardName(path: "m-00001-of-00002.bin") == nil)
  }

  @Test func `any shard opens the whole set as one model`() throws {
    let dir = try TestPaths.temporaryDirectory("split")
    let paths = try writeSet(in: dir)
    for p in paths {
      let model = try GGUFModel(path: p)
      #expect(model.shards.map(\.file.path) == paths)
      #expect(model.tensors.map(\.name) == (0..<3).flatMap { ["blk.\($0).a.weight", "blk.\($0).b.weight"] })
      #expect(model["general.architecture"] == .string("llama"))
      #expect(model.files.count == 3)
      #expect(try model.tensors[4].bytes().first == 2)
      #expect(try GGUFVerifier().verify(path: p).isEmpty)
    }
    let opened = try WeightFiles.open([paths[1]])
    #expect(opened.tensors.count == 6)
  }

  @Test func `a missing shard is named`() throws {
    let dir = try TestPaths.temporaryDirectory("split-missing")
    let paths = try writeSet(in: dir)
    try FileManager.default.removeItem(atPath: paths[1])
    for p in [paths[0], paths[2]] {
      do {
        _ = try GGUFModel(path: p)
        Issue.record("opened a set with a missing shard")
      } catch let e as FormatError {
        #expect(e.path == paths[1])
        #expect(e.kind == .notFound)
        #expect(e.message.contains("missing shard 2 of 3"))
      }
    }
    let findings = try GGUFVerifier().verify(path: paths[0])
    #expect(findings.map(\.kind) == [.split])
    #expect(findings.first?.path == paths[1])
  }

  @Test func `inconsistent split keys`() throws {
    struct Case {
      var label: String
      var edit: (Int, inout [(key: String, value: GGUFValue)]) -> Void
      var expect: String
      var shard: Int
    }
    func set(_ key: String, _ value: GGUFValue, on shard: Int) -> (Int, inout [(key: String, value: GGUFValue)]) -> Void
    {
      { s, meta in
        guard s == shard, let i = meta.firstIndex(where: { $0.key == key }) else { return }
        meta[i].value = value
      }
    }
    let cases = [
      Case(
        label: "wrong split.no", edit: set("split.no", .uint16(0), on: 2), expect: "split.no is 0, expected 2", shard: 2
      ),
      Case(
        label: "wrong split.count", edit: set("split.count", .uint16(4), on: 1),
        expect: "split.count is 4 but the file names say 3", shard: 1),
      Case(
        label: "split.no type", edit: set("split.no", .uint32(1), on: 1), expect: "split.no must be UINT16", shard: 1),
      Case(
        label: "tensors.count differs", edit: set("split.tensors.count", .int32(7), on: 2),
        expect: "split.tensors.count is 7 but the first shard says 6", shard: 2),
      Case(
        label: "tensors.count wrong everywhere",
        edit: { _, meta in
          if let i = meta.firstIndex(where: { $0.key == "split.tensors.count" }) { meta[i].value = .int32(5) }
        }, expect: "split.tensors.count is 5 but the 3 shards hold 6", shard: 0),
      Case(
        label: "missing key", edit: { s, meta in if s == 1 { meta.removeAll { $0.key == "split.tensors.count" } } },
        expect: "lacks split.tensors.count", shard: 1),
    ]
    for c in cases {
      let dir = try TestPaths.temporaryDirectory("split-keys")
      let paths = try writeSet(in: dir, edit: c.edit)
      do {
        _ = try GGUFModel(path: paths[0])
        Issue.record("\(c.label): opened")
      } catch let e as FormatError {
        #expect(e.path == paths[c.shard], "\(c.label): \(e)")
        #expect(e.message.contains(c.expect), "\(c.label): \(e)")
        guard case .header = e.location else {
          Issue.record("\(c.label): not a header record: \(e)")
          continue
        }
      }
      let findings = try GGUFVerifier().verify(path: paths[1])
      #expect(findings.contains { $0.kind == .split && $0.message.contains(c.expect) }, "\(c.label): \(findings)")
    }
  }

  @Test func `a tensor in two shards`() throws {
    let dir = try TestPaths.temporaryDirectory("split-dup")
    let paths = try writeSet(in: dir, names: [["a", "b"], ["c", "a"], ["d", "e"]])
    do {
      _ = try GGUFModel(path: paths[2])
      Issue.record("opened")
    } catch let e as FormatError {
      #expect(e.kind == .malformed && e.tensor == "a")
      #expect(e.path == paths[1])
      #expect(e.message.contains(paths[0]))
    }
    let findings = try GGUFVerifier().verify(path: paths[0])
    #expect(findings.map(\.kind) == [.duplicateName])
    #expect(findings.first?.tensor == "a")
  }

  @Test func `stray split keys in a single file open like llama.cpp opens them, verify reports them`() throws {
    let bytes = try writeGGUF(metadata: [("split.no", .uint16(3))], tensors: try smallTensors())
    let path = try writeTemp(bytes, name: "single.gguf")
    let model = try GGUFModel(path: path)
    #expect(model.shards.count == 1)
    let findings = try GGUFVerifier().verify(path: path)
    #expect(findings.map(\.kind) == [.split])
    #expect(findings.first?.message.contains("no split.count") == true)
    let one = try writeGGUF(
      metadata: [("split.no", .uint16(2)), ("split.count", .uint16(1))], tensors: try smallTensors())
    let onePath = try writeTemp(one, name: "one.gguf")
    #expect(try GGUFModel(path: onePath).shards.count == 1)
    #expect(try GGUFVerifier().verify(path: onePath).map(\.message) == ["split.no is 2 in a file that is not split"])
  }

  @Test func `split.count in a file not named as a shard is an error`() throws {
    let dir = try TestPaths.temporaryDirectory("split-name")
    let paths = try writeSet(in: dir)
    let renamed = dir.appendingPathComponent("renamed.gguf").path
    try FileManager.default.moveItem(atPath: paths[0], toPath: renamed)
    #expect(throws: FormatError.self) { _ = try GGUFModel(path: renamed) }
  }
}
