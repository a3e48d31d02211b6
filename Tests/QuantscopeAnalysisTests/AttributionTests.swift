import Foundation
import QuantscopeAnalysis
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// The parts of `attribute` that need no llama.cpp: groups, hybrid files, the log parser, Spearman's ρ and the
/// calibration file. The real run is AttributeLlamaTests.
struct AttributionTests {
  /// Two F32 GGUFs of one tiny "model": `changed` tensors differ in CANDIDATE (other bytes), the rest are equal.
  static func pair(changed: Set<String>, in dir: URL) throws -> (base: String, candidate: String) {
    let names = [
      "token_embd.weight", "blk.0.attn_q.weight", "blk.0.ffn_down.weight", "blk.1.attn_q.weight",
      "blk.1.ffn_down.weight", "output_norm.weight",
    ]
    func file(_ candidate: Bool) throws -> [UInt8] {
      try writeGGUF(
        metadata: [("general.architecture", .string("llama")), ("general.name", .string("tiny"))],
        tensors: names.enumerated().map { i, name in
          let values = (0..<64).map { Float(i * 64 + $0) * (candidate && changed.contains(name) ? 1.01 : 1) }
          let bytes = values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
          return (try GGUFTensorDeclaration(name: name, type: .f32, ne: [32, 2]), bytes)
        })
    }
    return (
      try writeTemp(file(false), name: "base.gguf", in: dir), try writeTemp(file(true), name: "cand.gguf", in: dir)
    )
  }

  @Test func `the differing tensors are grouped by kind, layer, both, or patterns`() throws {
    let dir = try TestPaths.temporaryDirectory("attribution")
    defer { try? FileManager.default.removeItem(at: dir) }
    let changed: Set = ["blk.0.attn_q.weight", "blk.0.ffn_down.weight", "blk.1.ffn_down.weight"]
    let (b, c) = try Self.pair(changed: changed, in: dir)
    let differing = try AttributionGroup.differingTensors(base: GGUFModel(path: b), candidate: GGUFModel(path: c))
    #expect(differing == ["blk.0.attn_q.weight", "blk.0.ffn_down.weight", "blk.1.ffn_down.weight"])
    let byKind = try AttributionGroup.partition(differing, by: .kind)
    #expect(byKind.map(\.label) == ["attn_q", "ffn_down"])
    #expect(byKind[1].tensors == ["blk.0.ffn_down.weight", "blk.1.ffn_down.weight"])
    #expect(try AttributionGroup.partition(differing, by: .layer).map(\.label) == ["blk.0", "blk.1"])
    #expect(
      try AttributionGroup.partition(differing, by: .kindAndLayer).map(\.label)
        == ["blk.0.attn_q", "blk.0.ffn_down", "blk.1.ffn_down"])
    let patterns = try AttributionGroup.partition(differing, by: AttributionGrouping(arguments: ["ffn_", "nothing"]))
    #expect(patterns.map(\.label) == ["ffn_", "other"])
    #expect(try AttributionGrouping(arguments: ["kind,layer"]) == .kindAndLayer)
    #expect(throws: FormatError.self) { try AttributionGrouping(arguments: ["(unclosed"]) }
  }

  @Test func `files of different models are refused, naming the tensor`() throws {
    let dir = try TestPaths.temporaryDirectory("attribution")
    defer { try? FileManager.default.removeItem(at: dir) }
    let (b, _) = try Self.pair(changed: [], in: dir)
    let other = try writeTemp(
      writeGGUF(
        metadata: [],
        tensors: [
          (
            try GGUFTensorDeclaration(name: "blk.0.attn_q.weight", type: .f32, ne: [64]),
            [UInt8](repeating: 0, count: 256)
          )
        ]),
      name: "other.gguf", in: dir)
    #expect {
      try AttributionGroup.differingTensors(base: GGUFModel(path: b), candidate: GGUFModel(path: other))
    } throws: { error in
      let e = error as? FormatError
      return e?.kind == .mismatch && e?.tensor != nil
    }
  }

  @Test func `a hybrid is BASE with exactly the group's tensors from CANDIDATE`() throws {
    let dir = try TestPaths.temporaryDirectory("attribution")
    defer { try? FileManager.default.removeItem(at: dir) }
    let changed: Set = ["blk.0.attn_q.weight", "blk.1.ffn_down.weight"]
    let (b, c) = try Self.pair(changed: changed, in: dir)
    let base = try GGUFModel(path: b), candidate = try GGUFModel(path: c)
    let out = dir.appendingPathComponent("hybrid.gguf").path
    try HybridGGUF.write(base: base, candidate: candidate, taking: ["blk.1.ffn_down.weight"], output: out)
    let hybrid = try GGUFModel(path: out)
    #expect(hybrid.tensors.map(\.name) == base.tensors.map(\.name))
    #expect(hybrid.metadata.map(\.key) == base.metadata.map(\.key))
    for t in hybrid.tensors {
      let from = t.name == "blk.1.ffn_down.weight" ? candidate : base
      #expect(try XXH3.hash128(t.bytes()) == XXH3.hash128(from.tensor(named: t.name)!.bytes()), "\(t.name)")
    }
    // Never over an input.
    #expect(throws: FormatError.self) {
      try HybridGGUF.write(base: base, candidate: candidate, taking: [], output: b, overwrite: true)
    }
  }

  /// The closing lines of `llama-perplexity --kl-divergence` as its format strings print them (perplexity.cpp of
  /// llama.cpp 0c1e570), numbers made up.
  static let log = """
    ====== Perplexity statistics ======
    Mean PPL(Q)                   :  17.123456 ±   1.234567
    Mean ln(PPL(Q)/PPL(base))     :   0.093456 ±   0.012345
    ====== KL divergence statistics ======
    Mean    KLD:   0.123456 ±   0.004567
    Maximum KLD:   5.432100
    99.9%   KLD:   4.100000
    99.0%   KLD:   1.250000
    Median  KLD:   0.050000
    ====== Token probability statistics ======
    Mean    Δp: -2.345 ± 0.123 %
    Maximum Δp: 45.000%
    RMS Δp    :  8.765 ± 0.321 %
    Same top p: 87.654 ± 0.543 %

    """

  @Test func `llama-perplexity's statistics are parsed, and a log without them is not`() throws {
    let s = try #require(KLDStatistics(parsing: Self.log))
    #expect(s.meanKLD == 0.123456 && s.meanKLDUncertainty == 0.004567)
    #expect(s.kld99 == 1.25 && s.maxKLD == 5.4321)
    #expect(s.meanDeltaP == -2.345 && s.rmsDeltaP == 8.765 && s.sameTopPercent == 87.654)
    #expect(s.logPerplexityRatio == 0.093456)
    #expect(KLDStatistics(parsing: "llama_model_load: error loading model\n") == nil)
    #expect(
      LlamaPerplexity.version(in: "version: 0.5.0-dev (build 1, commit 0c1e570)\nbuilt with GNU")
        == "0.5.0-dev (build 1, commit 0c1e570)")
  }

  @Test func `Spearman's rho: ranks, ties, and too little data`() {
    #expect(AttributionReport.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == 1)
    #expect(AttributionReport.spearman([1, 2, 3, 4], [40, 30, 20, 10]) == -1)
    // scipy.stats.spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) = 0.8207826816681233
    let rho = AttributionReport.spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])!
    #expect(abs(rho - 0.8207826816681233) < 1e-12)
    #expect(AttributionReport.spearman([1], [1]) == nil)
    #expect(AttributionReport.spearman([1, 1, 1], [1, 2, 3]) == nil)
  }

  static func report(_ groups: [(String, String, Double, Double)]) -> AttributionReport {
    let rows = groups.map { label, tensor, kld, error in
      AttributionReport.Group(
        label: label, tensors: [tensor],
        statistics: KLDStatistics(
          meanKLD: kld, kld99: kld * 10, maxKLD: kld * 20, meanDeltaP: -1, rmsDeltaP: 2,
          sameTopPercent: 90),
        predictedError: error, baseBytes: 100, candidateBytes: 60, baseTypes: ["Q4_K"], seconds: 1)
    }
    return AttributionReport(
      base: "b.gguf", candidate: "c.gguf", grouping: .kind,
      whole: KLDStatistics(meanKLD: 1.5, kld99: 9, maxKLD: 20, meanDeltaP: -3, rmsDeltaP: 5, sameTopPercent: 80),
      groups: rows, weighted: true, llamaVersion: "test", context: 512, chunks: 4, parallel: 1,
      threadsPerEvaluation: 2, evaluationSeconds: [1, 1], wallSeconds: 3)
  }

  @Test func `the calibration is KLD per unit of error by kind, and survives a save and load`() throws {
    let r = Self.report([
      ("ffn_down", "blk.0.ffn_down.weight", 0.9, 300), ("attn_v", "blk.0.attn_v.weight", 0.3, 10),
    ])
    #expect(r.sumOfGroups == 1.2)
    #expect(abs(r.nonAdditivity! - 1.25) < 1e-12)
    #expect(r.groupsWorstFirst.map(\.label) == ["ffn_down", "attn_v"])
    #expect(r.rankCorrelation == 1)
    let c = try ProxyCalibration(fitting: r)
    #expect(c.factor(forKind: "ffn_down") == 0.003)
    #expect(c.factor(forKind: "attn_v") == 0.03)
    #expect(c.factor(forKind: "attn_q") == nil)
    let dir = try TestPaths.temporaryDirectory("attribution")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("calibration.json").path
    try c.save(path: path, overwrite: false, source: r)
    #expect(try ProxyCalibration.load(path: path) == c)
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.contains("\"schema\": \"quantscope.calibration/1\""))
    let bad = dir.appendingPathComponent("bad.json").path
    try "{\"schema\": \"quantscope.diff/2\"}".write(toFile: bad, atomically: true, encoding: .utf8)
    #expect(throws: FormatError.self) { try ProxyCalibration.load(path: bad) }
  }

  @Test func `the restore recipe keeps the restored tensors at BASE's types, in --tensor-type-file syntax`() {
    var r = Self.report([("ffn_down", "blk.0.ffn_down.weight", 0.9, 300)])
    r.restore = AttributionReport.Restore(
      fraction: 0.5, targetKLD: 0.75, steps: [], groups: r.groups, reached: true)
    #expect(r.restore?.recipeLines == ["^blk\\.0\\.ffn_down\\.weight$=q4_k"])
    #expect(r.restore?.sizeCost == 40)
    let json = r.jsonDocument().serialized
    #expect(json.hasPrefix("{\"schema\":\"quantscope.attribute/1\",\"quantscope_version\":"))
  }
}
