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
        Sizes are tensor data only (GGUF header and alignment excluded), in the binary unit that \
        fits (KiB, MiB, GiB: 2^10, 2^20, 2^30 bytes); bits per weight are total bits over total \
        parameters. --tensors plans the whole model (block and mix counters need every tensor) \
        and reports the matching tensors, their totals and their rule hits. Built-in rules keep \
        1-D tensors, norms, ffn_gate_inp and exp_probs_b as they are; a row length the chosen \
        type's block does not divide falls back as in llama.cpp (--fallback).

        The source may be a safetensors checkpoint: its names are mapped to GGUF as llama.cpp's \
        converter maps them; a DeepSeek-V2/V3 directory holding only config.json is planned from \
        the shapes the config implies. With --recipe dq3_k_m note that only the ffn_down_exps \
        rule is stated by the paper; the rest is inferred to match the published size.

        --tensor-type-file FILE also writes the decided types as a file llama-quantize's \
        --tensor-type-file accepts: one `^name$=type` line per tensor whose type is not F32, \
        each pattern matching exactly one tensor, so the file means the same whichever way a \
        llama.cpp release orders its rules. FILE is replaced if it exists; `-` prints it \
        instead of the tables. Give llama-quantize the recipe's file type as its TYPE.

        Examples:
          quantscope plan DeepSeek-V3/ --recipe dq3_k_m
          quantscope plan DeepSeek-V3/ --recipe dq3_k_m --kv-b legacy --json
          quantscope plan model-BF16.gguf --recipe q4_k_m --rule 'output=q8_0'
          quantscope plan model-BF16.gguf --recipe dq3_k_m \\
              --tensor-type-file types.txt
          llama-quantize --tensor-type-file types.txt model-BF16.gguf \\
              model-DQ3_K_M.gguf Q3_K_M
        """)

    @Argument(help: "GGUF file (any shard of a split set), safetensors checkpoint (file, directory or shards).")
    var source: [String]

    @Option(help: "Preset name (see 'quantscope recipes list') or recipe file.")
    var recipe: String

    @Option(name: .customLong("rule"), help: "Extra PATTERN=TYPE rule, tried before the recipe's (repeatable).")
    var rules: [String] = []

    @OptionGroup
    var kvBOptions: KVBOptions

    @Option(help: "Architecture to plan for, instead of general.architecture.")
    var arch: String?

    @Option(help: "Block count, instead of <arch>.block_count.")
    var blocks: Int?

    @Option(
      help: "Row-length fallback table: current (Q2_K/Q3_K -> Q4_0) or llama2025 (-> IQ4_NL); default: --mixes's.")
    var fallback: RowFallbackArgument?

    @Option(
      help: "Importance matrix the quantization will use (some llama-quantize mixes choose differently with one).")
    var imatrix: String?

    @OptionGroup(title: "llama-quantize")
    var mixOptions: MixOptions

    @OptionGroup
    var tensorFilter: TensorFilterOptions

    @OptionGroup
    var jsonOptions: JSONOptions

    @OptionGroup
    var quietOptions: QuietOptions

    @OptionGroup(title: "Colour")
    var colorOptions: ColorOptions

    var kvB: ArchitectureMap.KVBLayout? { kvBOptions.kvB }

    @Option(
      name: .customLong("tensor-type-file"),
      help: ArgumentHelp(
        "Also write the decided types as a llama-quantize --tensor-type-file ('-': print it instead of the tables).",
        valueName: "file"))
    var tensorTypeFile: String?

    @OptionGroup
    var forceOptions: ForceOptions

    func validate() throws {
      if source.isEmpty { throw ValidationError("give a GGUF file to plan") }
      if let blocks, blocks < 0 { throw ValidationError("--blocks must not be negative") }
    }

    func run() throws {
      let loaded = try PlanSource.load(source, architecture: arch, kvB: kvB)
      if !loaded.unmapped.isEmpty {
        quietOptions.warn(
          "\(loaded.unmapped.count) tensor(s) no rule maps, left out: \(loaded.unmapped.prefix(5).joined(separator: ", "))"
        )
      }
      var model = loaded.model
      if let arch { model.architecture = arch }
      if let blocks { model.blockCount = blocks }
      let context = model.context
      let recipe = try mixOptions.apply(to: recipeCall { try Recipe.load(self.recipe, rules: rules, context: context) })
      if let imatrix, !FileManager.default.fileExists(atPath: imatrix) {
        throw CommandFailure("\(imatrix): no such imatrix file")
      }
      var plan = try makePlan(
        model: model, recipe: recipe, fallback: fallback, mixes: mixOptions.rules(), hasImatrix: imatrix != nil,
        source: source[0])
      if let filter = tensorFilter.filter {
        _ = try filter.select(plan.tensors, name: \.name, in: source[0])
        plan = plan.selecting(filter.matches)
      }
      for warning in plan.warnings { quietOptions.warn(warning) }
      if let tensorTypeFile {
        try OutputFile.write(
          TensorTypeFile.text(plan: plan), to: tensorTypeFile, overwrite: forceOptions.force,
          inputs: source + [self.recipe])
        if tensorTypeFile == "-" { return }
      }
      if jsonOptions.json {
        printJSON(plan.jsonDocument(kvB: loaded.kvB))
      } else {
        print(PlanReport.text(plan, kvB: loaded.kvB, style: colorOptions.style))
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

/// Formatting of a plan for the terminal (the numbers and the JSON document come from the library).
enum PlanReport {
  static func text(
    _ plan: QuantscopeAnalysis.Plan, kvB: PlanSource.KVBChoice? = nil, style: Style = .plain
  ) -> String {
    var out: [String] = []
    let c = plan.context
    out.append(
      "recipe \(plan.recipe) for \(plan.architecture ?? "unknown architecture"): \(c.blockCount) blocks, "
        + "\(c.leadingDenseBlocks) leading dense, output tensor \(c.hasOutputTensor ? "present" : "absent (tied)")")
    if let kvB { out.append(kvBLine(kvB)) }
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
      // A type that changes is what the plan is about: yellow.
      let changes = t.currentType != nil && t.currentType != t.targetType
      return [
        t.name, t.currentType?.name ?? "-", changes ? style.paint(t.targetType.name, .yellow) : t.targetType.name,
        Format.shape(t.shape), Format.count(t.bytes), rule,
      ]
    }
    out.append(
      TextTable(["name", "current", "target", "shape", "bytes", "rule"], rows: rows, rightAligned: [4]).render())
    out.append("")
    out.append(
      "total: \(Format.count(plan.tensors.count)) tensors, \(Format.count(plan.totalParameters)) parameters, "
        + "\(Format.count(plan.totalBytes)) bytes = \(Format.size(plan.totalBytes)), "
        + "\(Format.bpw(plan.bitsPerWeight)) bits per weight")
    out.append("")
    let typeRows = plan.byType.map { t -> [String] in
      [
        t.type.name, Format.count(t.tensors), Format.count(t.parameters), Format.count(t.bytes), Format.size(t.bytes),
        String(format: "%.1f", plan.byteShare(of: t)),
      ]
    }
    out.append(
      TextTable(["type", "tensors", "parameters", "bytes", "size", "%bytes"], rows: typeRows, rightAligned: Set(1...5))
        .render())
    out.append("")
    out.append(
      TextTable(["hits", "rule"], rows: plan.ruleHits.map { [Format.count($0.count), $0.rule] }, rightAligned: [0])
        .render())
    return out.joined(separator: "\n")
  }

  /// Which kv_b layout the plan describes and why, so that a size is never read for the other one.
  static func kvBLine(_ kvB: PlanSource.KVBChoice) -> String {
    let tensors = kvB.layout == .split ? "attn_k_b + attn_v_b" : "attn_kv_b"
    let why =
      switch kvB.basis {
      case .file: "as the GGUF holds it"
      case .option: "as --kv-b chose"
      case .default: "assumed; --kv-b \(kvB.layout == .split ? "legacy" : "split") plans the other layout"
      }
    return "kv_b layout: \(kvB.layout.rawValue) (\(tensors)), \(why)"
  }
}
