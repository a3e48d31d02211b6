import Foundation
import QuantscopeAnalysis
import QuantscopeCodecs
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// Fault injection on every writer the CLI uses: `requant` (`Requantization.run`, single and
/// split output), `decode -o` (`TensorExport` into an `OutputFile`, committed) and `hash -o` (`HashManifest` through
/// `OutputFile`, plain and zstd). For each writer a clean run measures how many bytes it writes;
/// then a sampled sweep of failure points (a failing write at byte 0, 1, a page, several
/// fractions and the last byte; ENOSPC at the start, middle and last byte; fsync; rename; the
/// directory fsync) must each give a one-line `FormatError`, leave the output directory empty
/// (no file at the final name, no temporary file) and leave the input's bytes unchanged.
@Suite("fault injection: every failure point leaves nothing behind")
struct FaultInjectionTests {
  /// A writer under test: writes into `directory` and returns the files it produced.
  typealias Writer = (_ directory: URL) throws -> [String]

  /// XXH3-128 of a whole file.
  static func fileHash(_ path: String) throws -> XXH3Digest128 {
    let file = try MappedFile(path: path)
    return XXH3.hash128(file.allBytes)
  }

  /// The failure points for an output of `total` bytes.
  static func failurePoints(total: Int) -> [FaultPlan.Failure] {
    var offsets = [0, 1, 4095, 4096, total / 7, total / 3, total / 2, 5 * total / 6, total - 1]
    offsets = Array(Set(offsets.filter { $0 >= 0 && $0 < total })).sorted()
    var points = offsets.map { FaultPlan.Failure.writeFails(atByte: $0, errno: EIO) }
    points += [0, total / 2, total - 1].map { FaultPlan.Failure.noSpace(atByte: $0) }
    points += [.fsyncFails(errno: EIO), .renameFails(errno: EXDEV), .renameFails(errno: EACCES), .directorySyncFails]
    return points
  }

  /// Runs `writer` cleanly once (to measure its output), then under every failure point, and
  /// checks the guarantees. Returns the number of failure points exercised.
  @discardableResult
  static func sweep(_ label: String, inputs: [String], writer: Writer) throws -> Int {
    let before = try inputs.map(fileHash)
    let root = try TestPaths.temporaryDirectory("fault-\(label)")
    defer { try? FileManager.default.removeItem(at: root) }

    let clean = root.appendingPathComponent("clean")
    try FileManager.default.createDirectory(at: clean, withIntermediateDirectories: true)
    let produced = try writer(clean)
    #expect(!produced.isEmpty)
    let total = try produced.reduce(0) {
      $0 + (try FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int ?? 0)
    }
    #expect(total > 0)
    let points = failurePoints(total: total)

    for (k, failure) in points.enumerated() {
      let dir = root.appendingPathComponent("point-\(k)")
      try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
      let plan = FaultPlan(scope: dir.path + "/", failure: failure)
      do {
        let files = try plan.whileInstalled { try writer(dir) }
        Issue.record("\(label): \(plan) did not fail; wrote \(files)")
      } catch let error as FormatError {
        let text = error.description
        #expect(error.kind == .io, "\(label): \(plan): \(text)")
        #expect(!text.contains("\n"), "\(label): \(plan): error is not one line: \(text)")
        #expect(text.contains(dir.path), "\(label): \(plan): error does not name the output: \(text)")
      } catch {
        Issue.record("\(label): \(plan): not a FormatError: \(error)")
      }
      let left = try FileManager.default.contentsOfDirectory(atPath: dir.path)
      #expect(left.isEmpty, "\(label): \(plan) left \(left)")
      #expect(!TemporaryFileCleanup.registeredPaths.contains { $0.hasPrefix(dir.path + "/") })
    }
    #expect(try inputs.map(fileHash) == before, "\(label): an input changed")
    return points.count
  }

  static let sampleGGUF = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q4_K_M.gguf").path
  static let sampleFP8 = TestPaths.samples.appendingPathComponent("deepseek-tiny-fp8")

  static func requantWriter(split: Bool) throws -> Writer {
    let input = try GGUFModel(path: sampleGGUF)
    let model = PlanModel(collection: input)
    let recipe = try Recipe.load(nil, rules: ["ffn_up=q8_0", "attn_q_b=q6_k"], context: model.context)
    let plan = try Planner.plan(model: model, recipe: recipe)
    var options = Requantization.Options()
    options.threads = 2
    if split { options.splitMaxBytes = 1_500_000 }
    return { dir in
      try Requantization.run(
        input: input, plan: plan, output: dir.appendingPathComponent("out.gguf").path, options: options
      )
      .outputs
    }
  }

  @Test func `requant: single output`() throws {
    let n = try Self.sweep("requant", inputs: [Self.sampleGGUF], writer: try Self.requantWriter(split: false))
    #expect(n >= 12)
  }

  @Test func `requant: split output (a failure in a later shard removes the earlier ones)`() throws {
    // Check the clean run really writes several shards, so later-shard failures are exercised.
    let writer = try Self.requantWriter(split: true)
    let probe = try TestPaths.temporaryDirectory("fault-probe")
    defer { try? FileManager.default.removeItem(at: probe) }
    #expect(try writer(probe).count >= 3)
    try Self.sweep("requant-split", inputs: [Self.sampleGGUF], writer: writer)
  }

  @Test(arguments: [TensorExport.Format.npy, .safetensors, .bf16])
  func `decode -o: FP8 weights with their scales`(format: TensorExport.Format) throws {
    let model = try WeightFiles.open([Self.sampleFP8.path])
    let index = model.tensorsByName
    let names = model.tensors.map(\.name).filter {
      $0.hasSuffix("mlp.experts.0.up_proj.weight") || $0.hasSuffix("self_attn.q_b_proj.weight")
    }
    let chosen = format == .safetensors ? Array(names.prefix(4)) : Array(names.prefix(1))
    try #require(!chosen.isEmpty)
    let decoders = try chosen.map { try TensorDecoder(index[$0]!, partnersIn: index) }
    #expect(decoders.contains { $0.scale != nil })
    let inputs = model.files.map(\.path)
    try Self.sweep("decode-\(format)", inputs: inputs) { dir in
      let path = dir.appendingPathComponent("out.\(format.rawValue)").path
      // What `quantscope decode -o` does: export into the output file, commit; abandon on error.
      let out = try OutputFile(path: path, overwrite: false)
      do {
        try TensorExport.write(decoders, as: format, to: out, path: path)
        try out.commit()
      } catch {
        out.abandon()
        throw error
      }
      return [path]
    }
  }

  @Test(arguments: ["manifest.json", "manifest.json.zst"])
  func `hash -o: the manifest`(name: String) throws {
    let model = try GGUFModel(path: Self.sampleGGUF)
    let manifest = try TensorHashing.hash(model.tensors, files: model.files.map(\.path), threads: 2)
    try Self.sweep("hash-\(name)", inputs: [Self.sampleGGUF]) { dir in
      let path = dir.appendingPathComponent(name).path
      // What `quantscope hash -o` does: open first, hash, write, commit.
      let out = try OutputFile(path: path, overwrite: false)
      try manifest.write(to: out)
      try out.commit()
      return [path]
    }
  }
}
