import Foundation
import QuantscopeAnalysis
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// `tune --shard K/N` and its merge at the library level: on the bundled samples, the parts of
/// every split from 1 to 7 shards, through their JSON text and merged in any order, give the
/// single run's table bit for bit and its `quantscope.tune/1` document byte for byte — measured
/// on every row, on a sample of rows, and weighted by an importance matrix.
@Suite(
  "Tune sharding: partial sums merge to the single run",
  .enabled(if: !EndToEnd.skipped, Comment(rawValue: EndToEnd.reason)), .serialized)
struct TuneShardTests {
  static let source = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q3_K_M.gguf").path
  static let reference = TestPaths.samples.appendingPathComponent("deepseek-tiny-fp8").path

  struct Setup {
    let inputs: TuneInputs
    let fixed: [String: (type: GGMLType, reason: String)]
    var model: PlanModel { inputs.source.model }
  }

  /// The tensors tuned: layer 1's attention (both kv_b halves, attn_k_b's 64-value rows) and the
  /// output; the rest keep their type, as a `--base` recipe would fix them, so that the
  /// debug-built quantizers measure the table quickly.
  static func tuned(_ name: String) -> Bool {
    (name.hasPrefix("blk.1.attn_") && !name.hasSuffix("norm.weight")) || name == "output.weight"
  }

  static let setup = Result {
    let inputs = try TuneInputs.load(source: [source], reference: [reference])
    var fixed = try TuneConstraints.fixed(model: inputs.source.model, base: nil)
    for t in inputs.source.model.tensors where fixed[t.name] == nil && !tuned(t.name) {
      fixed[t.name] = (t.currentType ?? .f32, "test: not tuned")
    }
    return Setup(inputs: inputs, fixed: fixed)
  }

  /// A legacy `.dat` importance matrix with one non-uniform weight per column of every tuned tensor.
  static func writeImatrix(for setup: Setup, to path: String) throws {
    var data = Data()
    func int32(_ v: Int) { withUnsafeBytes(of: Int32(v).littleEndian) { data.append(contentsOf: $0) } }
    let tuned = setup.model.tensors.filter { setup.fixed[$0.name] == nil }
    int32(tuned.count)
    for t in tuned {
      int32(t.name.utf8.count)
      data.append(contentsOf: Array(t.name.utf8))
      int32(1)
      int32(t.ne[0])
      for k in 0..<t.ne[0] {
        withUnsafeBytes(of: Float(0.25 + Double((k * 37) % 23) / 4).bitPattern.littleEndian) {
          data.append(contentsOf: $0)
        }
      }
    }
    try data.write(to: URL(fileURLWithPath: path))
  }

  static func measure(_ setup: Setup, _ options: TuneMeasurement.Options) throws -> TuneTable {
    try TuneMeasurement.measure(
      model: setup.model, fixed: setup.fixed, mapping: setup.inputs.mapping, heads: setup.inputs.heads,
      options: options)
  }

  /// The payloads of an `n`-shard run, each through the JSON text a part file carries.
  static func payloads(_ n: Int, _ setup: Setup, _ options: TuneMeasurement.Options) throws -> [JSONValue] {
    try (1...n).map { k in
      var options = options
      let shard = try ShardSpec(index: k, count: n)
      options.only = TuneMeasurement.shardTensors(
        model: setup.model, fixed: setup.fixed, options: options, shard: shard)
      options.threads = 1 + k % 2  // threads never change the sums
      let table = try measure(setup, options)
      let part = PartialResult(
        command: "tune", job: .members([("test", .int(n))]), shard: shard,
        payload: TuneMeasurement.partialPayload(table, only: options.only!))
      let text = Array(part.jsonText.utf8)
      return try text.withUnsafeBytes { try PartialResult(JSONValue.parse($0, path: "part"), path: "part") }.payload
    }
  }

  static func document(_ table: TuneTable, sample: Double?, weighted: Bool) throws -> String {
    let budget = (table.minimumBytes + table.maximumBytes) / 2
    let result = TuneResult(
      table: table, solution: try TuneSolver.solve(table, budget: budget), sampleFraction: sample ?? 1,
      weighted: weighted)
    return result.jsonDocument(
      source: source, reference: [reference], recipe: "mix.txt", frontier: TuneSolver.frontier(table, count: 5)
    ).prettySerialized + result.recipeText
  }

  static func bits(_ table: TuneTable) -> [[UInt64]] {
    table.items.map { $0.options.flatMap { [$0.error.bitPattern, $0.standardError.bitPattern] } }
  }

  @Test(arguments: ["exact", "sampled", "imatrix"])
  func `merged parts equal the single run bit for bit, for 1 to 7 shards in any order`(mode: String) throws {
    let setup = try Self.setup.get()
    var options = TuneMeasurement.Options()
    options.threads = 2
    // Small chunks in small windows: every tensor's sums run over many chunks and windows.
    options.chunkValues = 4096
    options.window = 5
    // Two quick candidates in a debug build; the sampled run takes all six, of which q2_k and q3_k
    // fall back to one type on attn_k_b's rows, so the shards weigh tensors with unequal type counts.
    options.types = [.q4_0, .q8_0]
    if mode == "sampled" {
      options.types = TuneMeasurement.defaultTypes
      options.sample = 0.02
    }
    let dir = try TestPaths.temporaryDirectory("tune-shard-\(mode)")
    defer { try? FileManager.default.removeItem(at: dir) }
    if mode == "imatrix" {
      let path = dir.appendingPathComponent("imatrix.dat").path
      try Self.writeImatrix(for: setup, to: path)
      options.importance = try ImportanceMatrix(path: path)
    }
    let single = try Self.measure(setup, options)
    let tuned = single.items.filter { $0.fixedBy == nil }
    #expect(tuned.count == 7)
    #expect(tuned.allSatisfy { $0.options.allSatisfy { $0.error > 0 } })
    #expect(tuned.contains { $0.options.contains { $0.standardError > 0 } } == (mode == "sampled"))
    let expected = try Self.document(single, sample: options.sample, weighted: mode == "imatrix")
    var skeletonOptions = options
    skeletonOptions.only = []
    let skeleton = try Self.measure(setup, skeletonOptions)
    #expect(skeleton.items.allSatisfy { $0.options.allSatisfy { $0.error == 0 } })
    var rng = SplitMix(seed: 13)
    for n in 1...7 {
      let payloads = try Self.payloads(n, setup, options)
      let counts = payloads.map { $0["tensors"]!.array!.count }
      #expect(counts.reduce(0, +) == tuned.count, "\(n) shards")
      let merged = try TuneMeasurement.merged(
        skeleton: skeleton, payloads: payloads.shuffled(using: &rng), path: "part1")
      #expect(Self.bits(merged) == Self.bits(single), "\(n) shards")
      #expect(try Self.document(merged, sample: options.sample, weighted: mode == "imatrix") == expected, "\(n)")
    }
  }

  @Test func `the shards of 1 to 7 cover the tuned tensors exactly once`() throws {
    let setup = try Self.setup.get()
    let tuned = Set(setup.model.tensors.map(\.name).filter { setup.fixed[$0] == nil })
    for n in 1...7 {
      let shares = try (1...n).map { k in
        TuneMeasurement.shardTensors(
          model: setup.model, fixed: setup.fixed, options: TuneMeasurement.Options(),
          shard: try ShardSpec(index: k, count: n))
      }
      #expect(shares.reduce(0) { $0 + $1.count } == tuned.count, "\(n) shards")
      #expect(shares.reduce(Set<String>()) { $0.union($1) } == tuned, "\(n) shards")
    }
  }

  @Test func `a tensor in two parts, a tensor in none and other options are refused`() throws {
    let setup = try Self.setup.get()
    var options = TuneMeasurement.Options()
    options.types = [.q8_0]
    options.only = []
    let skeleton = try Self.measure(setup, options)
    let payloads = try Self.payloads(2, setup, options)
    #expect(throws: FormatError.self) {
      try TuneMeasurement.merged(skeleton: skeleton, payloads: [payloads[0], payloads[0], payloads[1]], path: "p")
    }
    #expect(throws: FormatError.self) {
      try TuneMeasurement.merged(skeleton: skeleton, payloads: [payloads[0]], path: "p")
    }
    options.types = [.q8_0, .q4_K]
    let wider = try Self.measure(setup, options)
    #expect(throws: FormatError.self) { try TuneMeasurement.merged(skeleton: wider, payloads: payloads, path: "p") }
  }

  @Test func `the job survives its part: every option reads back`() throws {
    var job = TuneShardJob(source: [Self.source])
    job.reference = [Self.reference]
    job.targetBPW = 3.7
    job.types = [.q3_K, .q6_K]
    job.sample = 0.02
    job.base = "q4_k_m"
    job.fallback = .llama2025
    job.precision = .bf16
    job.kvB = .split
    job.architecture = "deepseek2"
    job.pareto = true
    job.paretoPoints = 9
    let value = try job.jobValue(kind: .gguf, options: job.measurementOptions)
    let text = Array(value.serialized.utf8)
    let back = try text.withUnsafeBytes { try JSONValue.parse($0, path: "part") }
    #expect(try TuneShardJob(job: back, path: "part") == job)
    #expect(back.serialized == value.serialized)
  }
}
