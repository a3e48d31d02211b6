import ArgumentParser
import Foundation
import QuantscopeAnalysis
import QuantscopeFormats

extension Quantscope {
  /// `quantscope plan`: the per-tensor types and size a recipe gives a model.
  struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show the type, size and deciding rule of every tensor under a recipe, with totals.",
      discussion: """
        Sizes are tensor data only (GGUF header and alignment excluded); GiB are 2^30 bytes; bits per \
        weight are total bits over total parameters. Built-in rules keep 1-D tensors, norms, ffn_gate_inp \
        and exp_probs_b as they are; a row length the chosen type's block does not divide falls back as in \
        llama.cpp (--fallback).

        The source may be a safetensors checkpoint: its names are mapped to GGUF as llama.cpp's \
        converter maps them; a DeepSeek-V2/V3 directory holding only config.json is planned from \
        the shapes the config implies. With --recipe dq3_k_m note that only the ffn_down_exps \
        rule is stated by the paper; the rest is inferred to match the published size.

        Examples:
          quantscope plan DeepSeek-V3/ --recipe dq3_k_m
          quantscope plan DeepSeek-V3/ --recipe dq3_k_m --kv-b legacy --json
          quantscope plan model-BF16.gguf --recipe q4_k_m --rule 'output=q8_0'
        """)

    @Argument(help: "GGUF file (any shard of a split set), safetensors checkpoint (file, directory or shards).")
    var source: [String]

    @Option(help: "Preset name (see 'quantscope recipes list') or recipe file.")
    var recipe: String

    @Option(name: .customLong("rule"), help: "Extra PATTERN=TYPE rule, tried before the recipe's (repeatable).")
    var rules: [String] = []

    @Option(help: "DeepSeek kv_b layout: split (attn_k_b + attn_v_b) or legacy (attn_kv_b).")
    var kvB: ArchitectureMap.KVBLayout?

    @Option(help: "Architecture to plan for, instead of general.architecture.")
    var arch: String?

    @Option(help: "Block count, instead of <arch>.block_count.")
    var blocks: Int?

    @Option(help: "Row-length fallback table: current (Q2_K/Q3_K -> Q4_0) or llama2025 (-> IQ4_NL); default: --mixes's.")
    var fallback: RowFallbackArgument?

    @Option(help: "Importance matrix the quantization will use (some llama-quantize mixes choose differently with one).")
    var imatrix: String?

    @OptionGroup(title: "llama-quantize")
    var mixOptions: MixOptions

    @Flag(help: "Print JSON instead of tables.")
    var json = false

    func validate() throws {
      if source.isEmpty { throw ValidationError("give a GGUF file to plan") }
      if let blocks, blocks < 0 { throw ValidationError("--blocks must not be negative") }
    }

    func run() throws {
      var model = try loadModel()
      if let arch { model.architecture = arch }
      if let blocks { model.blockCount = blocks }
      let context = model.context
      let recipe = try mixOptions.apply(to: recipeCall { try Recipe.load(self.recipe, rules: rules, context: context) })
      if let imatrix, !FileManager.default.fileExists(atPath: imatrix) {
        throw CommandFailure("\(imatrix): no such imatrix file")
      }
      let plan = try makePlan(
        model: model, recipe: recipe, fallback: fallback, mixes: mixOptions.rules(), hasImatrix: imatrix != nil,
        source: source[0])
      for warning in plan.warnings {
        FileHandle.standardError.write(Data("quantscope: warning: \(warning)\n".utf8))
      }
      if json { printJSON(PlanReport.json(plan)) } else { print(PlanReport.text(plan)) }
    }

    /// A directory holding only `config.json`: the DeepSeek-V3 checkpoint's tensors are derived
    /// from the config (other architectures need their safetensors headers).
    func configOnlyModel() throws -> PlanModel? {
      let dir = source[0]
      let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
      guard source.count == 1, files.contains("config.json"),
        !files.contains(where: { $0.hasSuffix(".safetensors") || $0 == "model.safetensors.index.json" })
      else { return nil }
      let file = try MappedFile(path: dir + "/config.json")
      let json = try QuantscopeFormats.JSONValue.parse(file.allBytes, path: file.path)
      let config = ModelConfig(json: json)
      guard let name = arch ?? config.modelType, let map = ArchitectureMap.named(name), map.architecture == "deepseek2" else {
        throw CommandFailure(
          "\(dir): only config.json is here; deriving shapes from a config is supported for DeepSeek-V2/V3 "
            + "(model_type deepseek_v3); give the checkpoint's safetensors files otherwise")
      }
      let layout = try DeepSeekV3Layout(config: try DeepSeekV3Config(json: json, path: file.path))
      return try PlanModel.converted(
        from: layout.tensors.map { ($0.name, $0.shape) }, config: config, architecture: map, kvB: kvB ?? .split
      ).model
    }

    /// The tensors to plan, named the GGUF way. A safetensors source needs the HF→GGUF name mapping (with
    /// `--kv-b` choosing the attention layout), which yields the same `[PlanInput]`.
    func loadModel() throws -> PlanModel {
      switch try WeightFiles.format(of: source[0]) {
      case .gguf:
        let model = PlanModel(collection: try WeightFiles.open(source))
        if let kvB {
          let hasLegacy = model.tensors.contains { $0.name.hasSuffix(".attn_kv_b.weight") }
          let hasSplit = model.tensors.contains { $0.name.hasSuffix(".attn_k_b.weight") }
          if (kvB == .legacy && !hasLegacy) || (kvB == .split && !hasSplit) {
            throw CommandFailure.usage(
              "\(source[0]): the GGUF has no \(kvB == .legacy ? "attn_kv_b" : "attn_k_b/attn_v_b") tensors; "
                + "--kv-b chooses the layout only when planning from a safetensors checkpoint")
          }
        }
        return model
      case .safetensors:
        if let configOnly = try configOnlyModel() { return configOnly }
        let checkpoint = try WeightFiles.open(source)
        let config = ModelConfig(checkpoint.metadataEntries)
        guard let name = arch ?? config.modelType, let map = ArchitectureMap.named(name) else {
          throw CommandFailure.usage(
            "\(source[0]): cannot tell the architecture (no config.json model_type); give --arch")
        }
        let (model, unmapped) = try PlanModel.converted(
          from: checkpoint.tensors.map { ($0.name, $0.shape) }, config: config, architecture: map,
          kvB: kvB ?? .split)
        if !unmapped.isEmpty {
          FileHandle.standardError.write(Data(
            "quantscope: warning: \(unmapped.count) tensor(s) no rule maps, left out: \(unmapped.prefix(5).joined(separator: ", "))\n".utf8))
        }
        return model
      }
    }
  }
}

/// Plans `model` under `recipe`; a planning error becomes a one-line error naming `source`, a
/// recipe error reaches ``ErrorReporting`` as it is.
func makePlan(
  model: PlanModel, recipe: Recipe, fallback: RowFallbackArgument?, mixes: MixRules, hasImatrix: Bool, source: String
) throws -> QuantscopeAnalysis.Plan {
  do {
    return try Planner.plan(
      model: model, recipe: recipe,
      options: PlanOptions(fallback: fallback?.value, mixes: mixes, hasImatrix: hasImatrix))
  } catch let error as RecipeError {
    throw error  // ErrorReporting: a --rule mistake is a usage error, a recipe file's is not
  } catch let error as PlanError {
    throw CommandFailure("\(source): \(error)")
  }
}

/// `--fallback` values.
enum RowFallbackArgument: String, ExpressibleByArgument, CaseIterable {
  case current, llama2025

  var value: RowFallback { self == .current ? .current : .llama2025 }
}

/// Formatting of a plan for the terminal and as JSON (the numbers come from the library).
enum PlanReport {
  static func text(_ plan: QuantscopeAnalysis.Plan) -> String {
    var out: [String] = []
    let c = plan.context
    out.append(
      "recipe \(plan.recipe) for \(plan.architecture ?? "unknown architecture"): \(c.blockCount) blocks, "
        + "\(c.leadingDenseBlocks) leading dense, output tensor \(c.hasOutputTensor ? "present" : "absent (tied)")")
    if let mix = plan.mix, let mixes = plan.mixes {
      out.append("llama-quantize \(mix.commandLine), mix rules \(mixes)")
      if !plan.imatrixRequired.isEmpty {
        out.append("needs an imatrix: \(plan.imatrixRequired.count) tensor(s), e.g. \(plan.imatrixRequired[0])")
      }
    }
    out.append("")
    let rows = plan.tensors.map { t -> [String] in
      var rule = t.decidedBy
      if let f = t.fallback { rule += "; fallback \(f)" }
      return [
        t.name, t.currentType?.name ?? "-", t.targetType.name, "[" + t.shape.map(String.init).joined(separator: ", ") + "]",
        String(t.bytes), rule,
      ]
    }
    out.append(
      TextTable(["NAME", "CURRENT", "TARGET", "SHAPE", "BYTES", "RULE"], rows: rows, rightAligned: [4]).render())
    out.append("")
    out.append(
      "total: \(plan.tensors.count) tensors, \(plan.totalParameters) parameters, \(plan.totalBytes) bytes = "
        + "\(Format.gib(plan.totalBytes)) GiB, \(Format.bpw(plan.bitsPerWeight)) bits per weight")
    out.append("")
    let typeRows = plan.byType.map { t -> [String] in
      let share = plan.totalBytes == 0 ? 0 : Double(t.bytes) * 100 / Double(plan.totalBytes)
      return [
        t.type.name, String(t.tensors), String(t.parameters), String(t.bytes), Format.gib(t.bytes),
        String(format: "%.1f", share),
      ]
    }
    out.append(
      TextTable(["TYPE", "TENSORS", "PARAMETERS", "BYTES", "GIB", "%BYTES"], rows: typeRows, rightAligned: Set(1...5))
        .render())
    out.append("")
    out.append(
      TextTable(["HITS", "RULE"], rows: plan.ruleHits.map { [String($0.count), $0.rule] }, rightAligned: [0]).render())
    return out.joined(separator: "\n")
  }

  static func json(_ plan: QuantscopeAnalysis.Plan) -> JSONValue {
    .document(
      schema: "quantscope.plan/1",
      [
        ("recipe", .string(plan.recipe)), ("architecture", .optional(plan.architecture)),
        ("block_count", .int(plan.context.blockCount)),
        ("leading_dense_blocks", .int(plan.context.leadingDenseBlocks)),
        ("has_output_tensor", .bool(plan.context.hasOutputTensor)),
        ("llama_quantize", .optional(plan.mix?.commandLine)), ("mixes", .optional(plan.mixes?.name)),
        ("mixes_llama_cpp_commit", .optional(plan.mixes?.llamaCppCommit)),
        ("imatrix_required", .array(plan.imatrixRequired.map { .string($0) })),
        (
          "tensors",
          .array(
            plan.tensors.map {
              .members([
                ("name", .string($0.name)), ("current", .optional($0.currentType?.name)),
                ("target", .string($0.targetType.name)), ("rule_type", .optional($0.ruleType?.name)),
                ("shape", .array($0.shape.map { .int($0) })), ("ne", .array($0.ne.map { .int($0) })),
                ("parameters", .int($0.parameters)), ("bytes", .int($0.bytes)), ("decided_by", .string($0.decidedBy)),
                ("fallback", .optional($0.fallback)),
              ])
            })
        ),
        ("total_bytes", .int(plan.totalBytes)), ("total_parameters", .int(plan.totalParameters)),
        ("gibibytes", .finite(plan.gibibytes)), ("bits_per_weight", .finite(plan.bitsPerWeight)),
        (
          "by_type",
          .array(
            plan.byType.map {
              .members([
                ("type", .string($0.type.name)), ("tensors", .int($0.tensors)), ("parameters", .int($0.parameters)),
                ("bytes", .int($0.bytes)),
              ])
            })
        ),
        ("rule_hits", .array(plan.ruleHits.map { .members([("rule", .string($0.rule)), ("count", .int($0.count))]) })),
        ("warnings", .array(plan.warnings.map { .string($0) })),
      ])
  }
}

extension ArchitectureMap.KVBLayout: ExpressibleByArgument {}
