import Foundation
import QuantscopeAnalysis
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// `tune` on the DeepSeek-shaped FP8 checkpoint of `diff_fixture.py` (edge tiles, an MTP layer,
/// both kv_b layouts): its recipe, applied by `requant` and measured by `diff`, beats each preset
/// at the preset's own size, and its exact predictions are `diff`'s figures.
@Suite(
  "tune end to end", .enabled(if: !EndToEnd.skipped, Comment(rawValue: EndToEnd.reason)), .serialized)
struct TuneEndToEndTests {
  static let fixture = DiffOracleTests.fixture

  struct Measured {
    let dir: URL
    let gguf: GGUFModel
    let model: PlanModel
    let table: TuneTable
    let reference: any TensorCollection
  }

  static func measure(_ file: String, imatrix: Bool = false, sample: Double? = nil) throws -> Measured {
    let dir = try fixture.get()
    let source = dir.appendingPathComponent(file).path
    let ref = dir.appendingPathComponent("ref").path
    let inputs = try TuneInputs.load(source: [source], reference: [ref])
    let model = inputs.source.model
    var options = TuneMeasurement.Options()
    options.threads = 2
    options.sample = sample
    if imatrix { options.importance = try ImportanceMatrix(path: dir.appendingPathComponent("imatrix.gguf").path) }
    let fixed = try TuneConstraints.fixed(model: model, base: nil)
    let table = try TuneMeasurement.measure(
      model: model, fixed: fixed, mapping: inputs.mapping, heads: inputs.heads, options: options)
    return Measured(
      dir: dir, gguf: try GGUFModel(path: source), model: model, table: table,
      reference: try WeightFiles.open([ref]))
  }

  /// Requantizes the fixture's GGUF under `recipe` from the reference (every tensor regenerated)
  /// and compares the result with the reference as `diff` does.
  static func requantAndDiff(_ m: Measured, recipe: Recipe, imatrix: Bool = false) throws -> (Plan, Diff) {
    let plan = try Planner.plan(model: m.model, recipe: recipe)
    var options = Requantization.Options()
    options.reference = try .init(reference: m.reference, for: m.gguf)
    options.regenerate = .all
    options.threads = 2
    var diffOptions = Diff.Options()
    diffOptions.threads = 2
    if imatrix {
      let matrix = try ImportanceMatrix(path: m.dir.appendingPathComponent("imatrix.gguf").path)
      options.importance = matrix
      diffOptions.importance = matrix
    }
    let out = m.dir.appendingPathComponent("tune-\(UUID().uuidString).gguf")
    defer { try? FileManager.default.removeItem(at: out) }
    _ = try Requantization.run(input: m.gguf, plan: plan, output: out.path, options: options)
    let diff = try Diff.compute(candidate: try GGUFModel(path: out.path), reference: m.reference, options: diffOptions)
    #expect(diff.missingReference.isEmpty)
    return (plan, diff)
  }

  /// Writes the recipe text to a file and loads it as `requant --recipe FILE` does.
  static func load(_ text: String, in dir: URL, context: RecipeContext) throws -> Recipe {
    let path = dir.appendingPathComponent("tuned-\(UUID().uuidString).txt")
    defer { try? FileManager.default.removeItem(at: path) }
    try text.write(to: path, atomically: true, encoding: .utf8)
    return try Recipe.load(path.path, context: context)
  }

  /// Measured once per layout for every test (debug-built quantizers are slow).
  static let split = Result { try measure("split.gguf") }
  static let legacy = Result { try measure("legacy.gguf") }

  /// The presets `tune --report` marks on its frontier.
  static let presets = ["q2_k", "q2_k_l", "q3_k_m", "dq3_k_m", "q4_k_m"]

  // Both kv_b layouts, every preset on each.
  @Test(arguments: [("split.gguf", presets), ("legacy.gguf", presets)])
  func `the tuned mix beats every preset at the preset's own size, as diff measures it`(
    file: String, names: [String]
  ) throws {
    let m = try (file == "split.gguf" ? Self.split : Self.legacy).get()
    for name in names {
      let preset = try #require(Presets.named(name))
      let (presetPlan, presetDiff) = try Self.requantAndDiff(m, recipe: try preset.recipe(for: m.model.context))
      let budget = presetPlan.totalBytes
      let solution = try TuneSolver.solve(m.table, budget: budget)
      let result = TuneResult(table: m.table, solution: solution)
      let recipe = try Self.load(result.recipeText, in: m.dir, context: m.model.context)
      let (tunedPlan, tunedDiff) = try Self.requantAndDiff(m, recipe: recipe)
      // Every tensor gets the type tune chose, and the size is tune's.
      let chosen = Dictionary(uniqueKeysWithValues: result.rows.map { ($0.name, $0.type) })
      for t in tunedPlan.tensors { #expect(t.targetType == chosen[t.name], "\(name): \(t.name)") }
      #expect(tunedPlan.totalBytes == solution.bytes)
      #expect(tunedPlan.totalBytes <= budget, "\(name): tuned \(tunedPlan.totalBytes) > preset \(budget)")
      let presetError = presetDiff.model.sums.sumSquaredError
      let tunedError = tunedDiff.model.sums.sumSquaredError
      print("tune \(file) at \(name)'s size \(budget): preset error \(presetError), tuned \(tunedError)")
      #expect(tunedError < presetError, "\(name): tuned \(tunedError) vs preset \(presetError)")
    }
  }

  @Test(arguments: [false, true])
  func `exact predictions equal diff's figures after requant`(imatrix: Bool) throws {
    let m = try imatrix ? Self.measure("split.gguf", imatrix: true) : Self.split.get()
    let budget = (m.table.minimumBytes + m.table.maximumBytes) / 2
    let solution = try TuneSolver.solve(m.table, budget: budget)
    let result = TuneResult(table: m.table, solution: solution, weighted: imatrix)
    let recipe = try Self.load(result.recipeText, in: m.dir, context: m.model.context)
    let (_, diff) = try Self.requantAndDiff(m, recipe: recipe, imatrix: imatrix)
    let predicted = Dictionary(uniqueKeysWithValues: result.rows.map { ($0.name, $0) })
    var compared = 0
    for t in diff.tensors {
      let p = try #require(predicted[t.name])
      guard p.fixedBy == nil else { continue }
      let measured = imatrix ? t.sums.weightedSquaredError : t.sums.sumSquaredError
      #expect(t.type == p.type.name, "\(t.name)")
      #expect(DiffOracleTests.close(p.error, measured), "\(t.name): predicted \(p.error), diff \(measured)")
      compared += 1
    }
    #expect(compared > 20)
    // The predicted total is diff's total over the tuned tensors.
    let total = diff.tensors.filter { predicted[$0.name]?.fixedBy == nil }.reduce(0.0) {
      $0 + (imatrix ? $1.sums.weightedSquaredError : $1.sums.sumSquaredError)
    }
    #expect(DiffOracleTests.close(solution.error, total))
  }

  @Test func `the recipe is valid llama-quantize --tensor-type-file syntax, line for line`() throws {
    let m = try Self.split.get()
    let types = Set(GGMLType.allUsable.map { $0.name.lowercased() })
    for budget in [m.table.minimumBytes, (m.table.minimumBytes + m.table.maximumBytes) / 2, m.table.maximumBytes] {
      let result = TuneResult(table: m.table, solution: try TuneSolver.solve(m.table, budget: budget))
      let text = result.recipeText
      #expect(text.hasSuffix("\n"))
      var rules: [(Regex<AnyRegexOutput>, String)] = []
      for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
        // llama-quantize reads `file >> arg`: a line must be one whitespace-free token …
        #expect(!line.isEmpty && !line.contains { $0.isWhitespace }, "'\(line)'")
        // … split at its first '=' into a non-empty name and type (parse_tensor_type) …
        let eq = try #require(line.firstIndex(of: "="), "'\(line)' has no '='")
        let pattern = String(line[..<eq]), type = String(line[line.index(after: eq)...])
        #expect(!pattern.isEmpty && !type.isEmpty)
        // … the name is lowercased before use: ours already is, so lowering changes nothing …
        #expect(pattern == pattern.lowercased())
        // … the type is a ggml type name (parse_ggml_type, case-insensitive) …
        #expect(types.contains(type.lowercased()), "unknown type \(type)")
        // … and the pattern uses only ECMAScript constructs whose meaning std::regex and Swift
        // share: anchors, escaped dots, [0-9]+, literal name characters.
        let stripped = pattern.replacingOccurrences(of: "[0-9]+", with: "").replacingOccurrences(of: "\\.", with: "")
        #expect(stripped.hasPrefix("^") && stripped.hasSuffix("$"), "'\(pattern)' is not anchored")
        #expect(stripped.dropFirst().dropLast().allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }, "\(pattern)")
        rules.append((try Regex(pattern), type))
      }
      // regex_search over every tensor: each tensor tune names matches exactly one rule, which
      // gives the chosen type, so first-match and last-match builds agree; kept tensors match none.
      for r in result.rows {
        let matches = rules.filter { r.name.firstMatch(of: $0.0) != nil }
        if let reason = r.fixedBy, reason.hasPrefix("keep:") {
          #expect(matches.isEmpty, "\(r.name)")
        } else {
          #expect(matches.count == 1, "\(r.name) matches \(matches.count) rules")
          #expect(matches.first?.1 == r.type.name.lowercased(), "\(r.name)")
        }
      }
      // And requant reads it.
      let recipe = try Self.load(text, in: m.dir, context: m.model.context)
      #expect(recipe.rules.count == rules.count)
    }
  }

  @Test func `a base recipe fixes the tensors its rules name`() throws {
    let dir = try Self.fixture.get()
    let inputs = try TuneInputs.load(
      source: [dir.appendingPathComponent("split.gguf").path], reference: [dir.appendingPathComponent("ref").path])
    let model = inputs.source.model
    let base = try TensorTypeFile.parse("ffn_down_exps=q6_k\n")
    let recipe = Recipe(name: "base", rules: base, source: "test")
    let fixed = try TuneConstraints.fixed(model: model, base: recipe)
    let downs = model.tensors.filter { $0.name.contains("ffn_down_exps") }
    #expect(!downs.isEmpty)
    // At the type the rule gives after llama.cpp's row-length fallback (Q6_K → Q8_0 for rows of 192).
    for t in downs { #expect(fixed[t.name]?.type == RowFallback.current.resolve(.q6_K, rowLength: t.ne[0])) }
    #expect(fixed.values.filter { $0.reason.hasPrefix("base:") }.count == downs.count)
    #expect(fixed["blk.0.attn_norm.weight"] != nil)
    #expect(fixed["blk.0.attn_q_a.weight"] == nil)
  }
}
