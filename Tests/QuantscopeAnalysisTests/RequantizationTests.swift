import Foundation
import QuantscopeAnalysis
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// `requant` against ggml's reference quantizers: the fixture's DeepSeek-shaped FP8 checkpoint is
/// requantized by quantscope, and `requant_oracle.py` checks every requantized tensor byte for byte
/// against libgguf (a no-FMA port of ggml-quants.c) fed the same float32 reference values.
@Suite("requantization against ggml's quantizers", .serialized)
struct RequantizationTests {
  static let fixture = DiffOracleTests.fixture

  struct OracleResult: Decodable {
    let requantized: Int
    let copied: Int
    let mismatched: [String]
  }

  func requant(rules: [String], imatrix: Bool, regenerate: Requantization.Regenerate = .changed) throws -> (
    URL, Requantization.Summary, OracleResult
  ) {
    let dir = try Self.fixture.get()
    let input = try GGUFModel(path: dir.appendingPathComponent("split.gguf").path)
    let model = PlanModel(collection: input)
    let recipe = try Recipe.load(nil, rules: rules, context: model.context)
    let plan = try Planner.plan(model: model, recipe: recipe)
    var options = Requantization.Options()
    let reference = try WeightFiles.open([dir.appendingPathComponent("ref").path])
    options.reference = .init(
      mapping: try ReferenceMapping(reference: reference, architecture: .deepseek2, firstSkippedLayer: 3))
    options.regenerate = regenerate
    let imatrixPath = dir.appendingPathComponent("imatrix.gguf").path
    if imatrix { options.importance = try ImportanceMatrix(path: imatrixPath) }
    options.threads = 2
    options.chunkValues = 4096  // many chunks, so ordering across threads is exercised
    let out = dir.appendingPathComponent("requant-\(UUID().uuidString).gguf")
    let summary = try Requantization.run(input: input, plan: plan, output: out.path, options: options)
    var args = [
      dir.appendingPathComponent("split.gguf").path, out.path, dir.appendingPathComponent("split-ref.npz").path,
    ]
    if imatrix { args.append(imatrixPath) }
    let json = try PythonOracle.script("requant_oracle.py", args)
    return (out, summary, try JSONDecoder().decode(OracleResult.self, from: Data(json.utf8)))
  }

  static let rules = [
    "token_embd=q6_k", "attn_kv_a_mqa=q5_k", "ffn_gate_exps=q4_k", "ffn_up_exps=q3_k", "attn_q_a=q2_k",
    "attn_output=q4_k", "ffn_down_exps=q5_0", "attn_v_b=q4_1", "attn_k_b=iq4_nl", "ffn_gate_shexp=q8_0",
  ]

  @Test(arguments: [false, true])
  func `requantized tensors are ggml's bytes, the rest are copied`(imatrix: Bool) throws {
    let (_, summary, oracle) = try requant(rules: Self.rules, imatrix: imatrix)
    #expect(oracle.mismatched.isEmpty, "\(oracle.mismatched)")
    #expect(oracle.requantized == summary.requantized.count)
    #expect(oracle.requantized > 20)
    #expect(oracle.copied == summary.copied.count)
    #expect(summary.requantized.allSatisfy { $0.source.contains("weight_scale_inv") || !$0.source.hasPrefix("input") })
  }

  @Test func `requantizing quantized data without a reference warns per tensor, as values`() throws {
    let dir = try Self.fixture.get()
    let input = try GGUFModel(path: dir.appendingPathComponent("split.gguf").path)
    let model = PlanModel(collection: input)
    let plan = try Planner.plan(
      model: model,
      recipe: try Recipe.load(nil, rules: ["ffn_down_exps=q5_0", "attn_q_a=q8_0"], context: model.context))
    var options = Requantization.Options()
    options.threads = 2
    let out = dir.appendingPathComponent("requant-\(UUID().uuidString).gguf")
    defer { try? FileManager.default.removeItem(at: out) }
    let summary = try Requantization.run(input: input, plan: plan, output: out.path, options: options)
    let quantizedSources = plan.tensors.filter { t in
      t.currentType != t.targetType && (t.currentType?.isQuantized ?? false)
    }
    #expect(!quantizedSources.isEmpty)
    #expect(summary.warnings.map(\.tensor) == quantizedSources.map(\.name))
    for (warning, planned) in zip(summary.warnings, quantizedSources) {
      #expect(warning.kind == .requantizedQuantized)
      #expect(!warning.message.contains(warning.tensor), "the message is the same for every tensor it concerns")
      let types = "\(planned.currentType!.name) data to \(planned.targetType.name) "
      #expect(warning.message.hasPrefix("requantizing " + types))
      #expect(warning.description == "\(warning.tensor): \(warning.message)")
    }
  }

  @Test func `an existing output is kept unless overwriting`() throws {
    let (out, _, _) = try requant(rules: ["token_embd=q6_k"], imatrix: false)
    let before = try Data(contentsOf: out)
    let dir = try Self.fixture.get()
    let input = try GGUFModel(path: dir.appendingPathComponent("split.gguf").path)
    let model = PlanModel(collection: input)
    let plan = try Planner.plan(
      model: model, recipe: try Recipe.load(nil, rules: ["token_embd=q8_0"], context: model.context))
    #expect(throws: FormatError.self) {
      try Requantization.run(input: input, plan: plan, output: out.path, options: Requantization.Options())
    }
    #expect(try Data(contentsOf: out) == before)
    var overwrite = Requantization.Options()
    overwrite.overwrite = true
    _ = try Requantization.run(input: input, plan: plan, output: out.path, options: overwrite)
    #expect(try Data(contentsOf: out) != before)
  }

  @Test func `split output follows gguf-split naming and reads back as one model`() throws {
    let dir = try Self.fixture.get()
    let input = try GGUFModel(path: dir.appendingPathComponent("split.gguf").path)
    let model = PlanModel(collection: input)
    let plan = try Planner.plan(
      model: model, recipe: try Recipe.load(nil, rules: ["ffn_up_exps=q4_k"], context: model.context))
    var options = Requantization.Options()
    options.splitMaxBytes = 400_000
    let base = dir.appendingPathComponent("sharded-\(UUID().uuidString)").path
    let summary = try Requantization.run(input: input, plan: plan, output: base + ".gguf", options: options)
    #expect(summary.outputs.count > 1)
    #expect(summary.outputs.first == base + "-00001-of-0000\(summary.outputs.count).gguf")
    let back = try GGUFModel(path: summary.outputs[summary.outputs.count - 1])
    #expect(back.tensors.map(\.name) == input.tensors.map(\.name))
    #expect(back.shards.count == summary.outputs.count)
  }

  @Test func `a failure leaves no output and no temporary file`() throws {
    let dir = try Self.fixture.get()
    let input = try GGUFModel(path: dir.appendingPathComponent("split.gguf").path)
    let model = PlanModel(collection: input)
    // IQ2_XXS needs an importance matrix: planning succeeds, requantization refuses before writing.
    let plan = try Planner.plan(
      model: model, recipe: try Recipe.load(nil, rules: ["ffn_gate_exps=iq2_xxs"], context: model.context))
    let sub = dir.appendingPathComponent("fail-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
    let error = try #require(throws: FormatError.self) {
      try Requantization.run(
        input: input, plan: plan, output: sub.appendingPathComponent("o.gguf").path, options: .init())
    }
    // No --imatrix was given at all: the user must give one.
    #expect(error.kind == .usage && error.tensor != nil)
    #expect(try FileManager.default.contentsOfDirectory(atPath: sub.path).isEmpty)
  }
}
