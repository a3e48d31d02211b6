import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Synchronization
import Testing

/// Counts progress reports, from any thread.
final class CountingProgress: ProgressObserver {
  let state = Mutex((total: 0, done: 0, finished: false))
  func start(total: Int) { state.withLock { $0.total = total } }
  func advance(by count: Int) { state.withLock { $0.done += count } }
  func finish() { state.withLock { $0.finished = true } }
}

@Suite("Tensor hashing")
struct HashTests {
  static let golden = TestPaths.golden.appendingPathComponent("ggml-quants.gguf").path

  /// Per-tensor and whole-model digests computed by gguf-py (offsets and sizes) and Python's
  /// xxhash over the raw file bytes: an oracle independent of quantscope's reader and libxxhash.
  static func oracle(_ path: String) throws -> (tensors: [String: String], model: String) {
    let script = """
      import sys, xxhash, gguf
      r = gguf.GGUFReader(sys.argv[1] if len(sys.argv) > 1 else '\(path)')
      raw = open('\(path)', 'rb').read()
      ts = sorted(r.tensors, key=lambda t: t.name.encode('utf-8'))
      whole = xxhash.xxh3_128()
      for t in ts:
          b = raw[t.data_offset:t.data_offset + int(t.n_bytes)]
          whole.update(b)
          print(t.name, xxhash.xxh3_128_hexdigest(b))
      print('(model)', whole.hexdigest())
      """
    var tensors: [String: String] = [:]
    var model = ""
    for line in try IOTestData.python(script).split(separator: "\n") {
      let parts = line.split(separator: " ")
      if parts[0] == "(model)" { model = String(parts[1]) } else { tensors[String(parts[0])] = String(parts[1]) }
    }
    return (tensors, model)
  }

  @Test func `digests agree with gguf-py and Python xxhash`() throws {
    let model = try WeightFiles.open([Self.golden])
    let progress = CountingProgress()
    let manifest = try TensorHashing.hash(model, progress: progress)
    let expected = try Self.oracle(Self.golden)
    #expect(manifest.tensors.count == model.tensors.count)
    #expect(manifest.tensors.count == expected.tensors.count)
    for t in manifest.tensors {
      #expect(expected.tensors[t.name] == t.xxh3_128.hex, "tensor \(t.name)")
    }
    #expect(manifest.model.hex == expected.model)
    // Name order as UTF-8 bytes.
    let names = manifest.tensors.map { Array($0.name.utf8) }
    #expect(zip(names, names.dropFirst()).allSatisfy { !$1.lexicographicallyPrecedes($0) })
    let p = progress.state.withLock { $0 }
    #expect(p.total == manifest.totalBytes, "progress counts data bytes, though each is hashed twice")
    #expect(p.done == p.total)
    #expect(p.finished)
  }

  @Test(arguments: [2, 3, 8])
  func `progress reaches exactly the data bytes of any selection, odd sizes included`(threads: Int) throws {
    let dir = try TestPaths.temporaryDirectory("hash-progress")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("odd.safetensors").path
    // Odd byte counts: two passes of an odd size is not a whole number of halves per pass.
    let sizes = [1, 3, 7, 1000, 33, 2]
    try SafetensorsWriter.write(
      to: path,
      tensors: sizes.enumerated().map { i, n in
        let data = (0..<n).map { UInt8(truncatingIfNeeded: $0 &+ i) }
        return (SafetensorsTensorSpec(name: "t\(i)", dtype: .U8, shape: [n]), data)
      })
    let model = try WeightFiles.open([path])
    #expect(model.tensors.count == sizes.count)
    let selections = model.tensors.map { [$0] } + [Array(model.tensors.prefix(3)), model.tensors]
    for tensors in selections {
      let progress = CountingProgress()
      let manifest = try TensorHashing.hash(tensors, files: [path], threads: threads, progress: progress)
      let p = progress.state.withLock { $0 }
      let bytes = tensors.reduce(0) { $0 + $1.byteCount }
      #expect(manifest.totalBytes == bytes)
      #expect(p.total == bytes && p.done == bytes, "\(tensors.map(\.name))")
    }
  }

  @Test(arguments: [1, 2, 3, 8])
  func `thread count does not change results`(threads: Int) throws {
    let model = try WeightFiles.open([Self.golden])
    let reference = try TensorHashing.hash(model, threads: 2)
    let other = try TensorHashing.hash(model, threads: threads)
    #expect(other == reference)
    // A selection hashes the same per tensor; its model hash covers only the selection.
    let some = model.tensors.filter { $0.name.hasPrefix("in.") }
    let partial = try TensorHashing.hash(some, files: [Self.golden], threads: threads)
    #expect(partial.tensors.count == some.count)
    for t in partial.tensors { #expect(reference.tensors.first { $0.name == t.name } == t) }
    let concatenated = XXH3Hasher128()
    for t in TensorHashing.sortedByName(some) { concatenated.update(try t.bytes()) }
    #expect(partial.model == concatenated.digest())
  }

  static func sample() -> HashManifest {
    let d = { (s: String) in XXH3.hash128(Array(s.utf8)) }
    return HashManifest(
      files: ["dir/a \"quoted\".gguf"],
      tensors: [
        TensorHash(name: "a", type: "Q4_K", shape: [2, 256], bytes: 288, xxh3_128: d("a")),
        TensorHash(name: "b\\\"\n\u{01}é", type: "F32", shape: [3], bytes: 12, xxh3_128: d("b")),
        TensorHash(name: "c", type: "BF16", shape: [], bytes: 2, xxh3_128: d("c")),
      ],
      model: d("model"))
  }

  @Test func `manifest JSON round trip, plain and zstd`() throws {
    let dir = try TestPaths.temporaryDirectory("manifest")
    defer { try? FileManager.default.removeItem(at: dir) }
    let m = Self.sample()
    // Foundation's parser (an independent JSON reader) accepts the text.
    let object = try JSONSerialization.jsonObject(with: Data(m.jsonText().utf8)) as? [String: Any]
    #expect(object?["format"] as? String == "quantscope-hash")
    #expect(object?["tensor_count"] as? Int == 3)
    #expect(object?["total_bytes"] as? Int == 302)
    for name in ["m.json", "m.json.zst"] {
      let path = dir.appendingPathComponent(name).path
      try m.write(to: path)
      #expect(try HashManifest.read(path: path) == m)
      #expect(throws: FormatError.self) { try m.write(to: path) }
      try m.write(to: path, overwrite: true)
    }
    let raw = Array(try Data(contentsOf: dir.appendingPathComponent("m.json.zst")))
    #expect(Array(raw.prefix(4)) == zstdMagic)
    #expect(try IOTestData.listing(dir) == ["m.json", "m.json.zst"])
  }

  @Test func `bad manifests are errors naming the file`() throws {
    let dir = try TestPaths.temporaryDirectory("manifest")
    defer { try? FileManager.default.removeItem(at: dir) }
    let good = Self.sample().jsonText()
    let cases: [(String, String)] = [
      ("notjson", "{ nope"),
      ("format", good.replacingOccurrences(of: "quantscope-hash", with: "other")),
      ("version", good.replacingOccurrences(of: "\"version\": 1", with: "\"version\": 9")),
      ("digest", good.replacingOccurrences(of: Self.sample().tensors[0].xxh3_128.hex, with: "zz")),
      ("missing", good.replacingOccurrences(of: "\"files\"", with: "\"filez\"")),
    ]
    for (name, text) in cases {
      let path = dir.appendingPathComponent(name).path
      try Data(text.utf8).write(to: URL(fileURLWithPath: path))
      do {
        _ = try HashManifest.read(path: path)
        Issue.record("\(name) was accepted")
      } catch let error as FormatError {
        #expect(error.path == path)
      }
    }
    // A truncated compressed manifest.
    let packed = try ZstdCompressor.compress(Array(good.utf8))
    let cut = dir.appendingPathComponent("cut.json.zst").path
    try Data(packed.prefix(packed.count - 3)).write(to: URL(fileURLWithPath: cut))
    #expect(throws: FormatError.self) { _ = try HashManifest.read(path: cut) }
  }

  @Test func `compare finds changed, missing and extra tensors`() {
    let m = Self.sample()
    #expect(TensorHashing.compare(expected: m, actual: m).isIdentical)
    var now = m
    now.tensors[0].xxh3_128 = XXH3.hash128([1, 2, 3])
    now.tensors[2].type = "F16"
    now.tensors.remove(at: 1)
    now.tensors.append(TensorHash(name: "d", type: "F32", shape: [1], bytes: 4, xxh3_128: m.model))
    now.model = XXH3.hash128([9])
    let c = TensorHashing.compare(expected: m, actual: now)
    #expect(c.changed.map(\.expected.name) == ["a", "c"])
    #expect(c.changed[0].reasons.count == 1 && c.changed[0].reasons[0].hasPrefix("xxh3_128 "))
    #expect(c.changed[1].reasons == ["type BF16 → F16"])
    #expect(c.missing == [m.tensors[1].name])
    #expect(c.extra == ["d"])
    #expect(c.modelHashMatches == false)
    #expect(!c.isIdentical)
    // Model hashes alone: compared, or skipped on request.
    var relabelled = m
    relabelled.model = XXH3.hash128([7])
    #expect(!TensorHashing.compare(expected: m, actual: relabelled).isIdentical)
    let skipped = TensorHashing.compare(expected: m, actual: relabelled, compareModelHash: false)
    #expect(skipped.modelHashMatches == nil && skipped.isIdentical)
  }

  @Test func `a selection narrows the manifest and compares model hashes only when it kept everything`() throws {
    let m = Self.sample()
    var relabelled = m
    relabelled.model = XXH3.hash128([7])
    let all = TensorHashing.compare(expected: m, actual: relabelled, keeping: { _ in true })
    #expect(all.modelHashMatches == false && !all.isIdentical)
    let first = m.tensors[0].name
    var one = relabelled
    one.tensors = [m.tensors[0]]
    let narrowed = TensorHashing.compare(expected: m, actual: one, keeping: { $0 == first })
    #expect(narrowed.missing.isEmpty && narrowed.modelHashMatches == nil && narrowed.isIdentical)
    // The document says so: `null` for a model hash that was not compared.
    let json = narrowed.jsonDocument(manifest: "m.json").serialized
    #expect(json.contains("\"model_hash_matches\":null"), "\(json)")
    #expect(json.hasPrefix("{\"schema\":\"quantscope.hash-check/1\""))
  }

  /// Every failure point while writing a manifest: an error, no file at the final name, no
  /// temporary file, and the input untouched.
  @Test(arguments: ["m.json", "m.json.zst"])
  func `fault sweep while writing a manifest`(name: String) throws {
    let dir = try TestPaths.temporaryDirectory("faults")
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("model.gguf")
    try FileManager.default.copyItem(at: URL(fileURLWithPath: Self.golden), to: input)
    let manifest = try TensorHashing.hash(WeightFiles.open([input.path]))
    let text = Array(manifest.jsonText().utf8)
    let size = name.hasSuffix(".zst") ? try ZstdCompressor.compress(text).count : text.count
    #expect(size > 8192)
    let path = dir.appendingPathComponent(name).path
    let scope = dir.path + "/"
    var failures: [FaultPlan.Failure] = [.fsyncFails(errno: EIO), .renameFails(errno: EACCES), .directorySyncFails]
    for n in [0, 1, 4095, 4096, size / 3, size / 2, size - 1] {
      failures.append(.writeFails(atByte: n, errno: EIO))
      failures.append(.noSpace(atByte: n))
    }
    for failure in failures {
      let plan = FaultPlan(scope: scope, failure: failure)
      do {
        try plan.whileInstalled { try manifest.write(to: path) }
        Issue.record("no error with \(plan)")
      } catch let error as FormatError {
        #expect(error.path == path, "\(plan)")
      }
      #expect(try IOTestData.listing(dir) == ["model.gguf"], "\(plan)")
    }
    let after = try TensorHashing.hash(WeightFiles.open([input.path]))
    #expect(after == manifest)
    // Without a plan the same write succeeds and reads back.
    try manifest.write(to: path)
    #expect(try HashManifest.read(path: path) == manifest)
  }
}

@Suite("Progress snapshot")
struct ProgressSnapshotTests {
  @Test func `rate, ETA and both line formats`() throws {
    let s = ProgressSnapshot(done: 3 << 30, total: 12 << 30, elapsed: 2)
    #expect(s.rate == Double(3 << 29))
    #expect(s.eta == 6)
    #expect(s.fraction == 0.25)
    #expect(s.terminalLine(label: "hashing") == "hashing  3.0 GiB / 12.0 GiB  25%  1.5 GiB/s  ETA 0:06")
    #expect(s.jsonLine() == "{\"done\":3221225472,\"total\":12884901888,\"rate\":1610612736,\"eta\":6.0}")
    let object = try JSONSerialization.jsonObject(with: Data(s.jsonLine().utf8)) as? [String: Any]
    #expect(object?["eta"] as? Double == 6)
    let start = ProgressSnapshot(done: 0, total: 100, elapsed: 0)
    #expect(start.eta == nil)
    #expect(start.jsonLine() == "{\"done\":0,\"total\":100,\"rate\":0,\"eta\":null}")
    #expect(start.terminalLine(label: "x") == "x  0 B / 100 B  0%")
  }

  @Test func `byte and duration formatting`() {
    #expect(ProgressSnapshot.bytes(0) == "0 B")
    #expect(ProgressSnapshot.bytes(1023) == "1023 B")
    #expect(ProgressSnapshot.bytes(1536) == "1.5 KiB")
    #expect(ProgressSnapshot.bytes(700 << 30) == "700.0 GiB")
    #expect(ProgressSnapshot.duration(59.4) == "0:59")
    #expect(ProgressSnapshot.duration(3600 + 62) == "1:01:02")
    #expect(ProgressSnapshot.duration(.infinity) == "0:00")
  }
}
