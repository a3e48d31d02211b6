import ArgumentParser
import Foundation
import QuantscopeAnalysis
import QuantscopeFormats

extension Quantscope {
  /// `quantscope requant`: requantize selected tensors of a GGUF.
  struct Requant: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Requantize the tensors a recipe selects; copy every other tensor unchanged.",
      discussion: """
        INPUT is a GGUF (single or split). The recipe (a preset such as dq3_k_m, or a file of \
        PATTERN=TYPE rules in llama-quantize's --tensor-type syntax) and any --rule options decide \
        each tensor's type, as 'quantscope plan' shows. Tensors whose type changes are quantized \
        with ggml's reference algorithms (bit-exact with llama-quantize on x86-64); all others are \
        copied byte for byte. Metadata is kept except general.file_type, \
        general.quantization_version, quantize.recipe.* and the quantize.imatrix.* keys.

        With --ref, new tensors are quantized from the reference checkpoint (FP8 * scale, BF16, ...) \
        mapped to GGUF names as 'diff' maps them: no BF16 intermediate. With --regenerate all and \
        a reference, every quantized tensor is regenerated, so any published GGUF of the model \
        serves only as the template for metadata and tokenizer. Without --ref, tensors are \
        dequantized first, which compounds error (a warning says so).

        -o/--output names the output GGUF (required; not '-', not compressed). The output \
        appears only when complete (temporary name, fsync, rename); an existing output \
        is kept unless --force. Before the rename, the output is read back and its tensors' \
        hashes checked. With --split-max-size every shard is written under a temporary name and \
        the set is renamed only when all shards are complete and checked: a failure or an \
        interrupt leaves the previous files at those names as they were. No output name may be \
        an input (any shard of INPUT's set, a --ref file, the imatrix); a split set holds at \
        most 65,535 shards.

        --only-split K (with --split-max-size) writes split K of the set alone, byte for byte \
        what the whole run writes under that name: the split plan depends only on the \
        tensors' sizes, so a job array can write one split per task. The other splits are \
        not read back or touched.

        A NaN or infinite source value (a NaN weight_scale_inv entry poisons a whole 128x128 \
        tile) is refused before anything is written, naming the tensor and the tile, and so is \
        a quantized block whose scale comes out NaN/Inf (values too large for the type), as \
        llama-quantize validates its rows; --allow-non-finite writes what ggml's quantizers \
        produce (zeros or garbage blocks).

        About --recipe dq3_k_m (arXiv 2505.02390): only the ffn_down_exps rule is stated by the \
        paper; the rest is inferred to match the published size (281G, 3.59 bits per \
        weight). 'quantscope recipes show dq3_k_m' prints which lines are stated and which \
        inferred.

        Examples:
          quantscope requant R1-Q3_K_M-00001-of-00007.gguf -o R1-DQ3_K_M.gguf \\
              --recipe dq3_k_m --ref DeepSeek-R1/ --split-max-size 50G
          quantscope requant model.gguf -o out.gguf --rule 'ffn_down_exps=q6_k' \\
              --imatrix imatrix.gguf
        """)

    @Argument(help: "The input GGUF (any shard of a split set).")
    var input: String

    @OptionGroup(title: "Output")
    var outputOptions: OutputOptions

    @Option(help: "Preset name (see 'quantscope recipes list') or recipe file.")
    var recipe: String?

    @Option(name: .customLong("rule"), help: "PATTERN=TYPE rule, tried before the recipe's (repeatable).")
    var rules: [String] = []

    @Option(
      name: .customLong("ref"), parsing: .upToNextOption,
      help: "Reference checkpoint to quantize from: safetensors file, directory or shards, or a GGUF.")
    var reference: [String] = []

    @Option(name: .customLong("ref-precision"), help: "exact (default) or bf16: how FP8 * scale is evaluated.")
    var precision: ReferencePrecision = .exact

    @Option(
      help:
        "changed: regenerate only tensors whose type changes (default); all: every quantized tensor the reference has.")
    var regenerate: Requantization.Regenerate = .changed

    @Option(help: "Importance matrix (llama.cpp GGUF imatrix or legacy .dat).")
    var imatrix: String?

    @Option(help: "Row-length fallback table: current or llama2025 (default: that of --mixes).")
    var fallback: RowFallbackArgument?

    @OptionGroup(title: "llama-quantize")
    var mixOptions: MixOptions

    @OptionGroup
    var kvBOptions: KVBOptions

    @Option(
      name: .customLong("split-max-size"),
      help:
        "Split the output into shards of at most this much tensor data (50G = 50GB = 50*10^9 bytes; 48GiB = 48*2^30).")
    var splitMaxSize: String?

    @Option(
      name: .customLong("only-split"),
      help: ArgumentHelp("With --split-max-size: write only split K (from 1) of the output set.", valueName: "K"))
    var onlySplit: Int?

    @OptionGroup
    var threadOptions: ThreadOptions

    @OptionGroup
    var jsonOptions: JSONOptions

    @Flag(
      help:
        "Quantize NaN/Inf source values (e.g. a NaN scale tile) as ggml does, and write NaN/Inf block scales, instead of refusing."
    )
    var allowNonFinite = false

    @OptionGroup(title: "Progress")
    var progressOptions: ProgressOptions

    func validate() throws {
      if recipe == nil && rules.isEmpty { throw ValidationError("give --recipe or at least one --rule") }
      if outputOptions.output == nil { throw ValidationError("give the output GGUF with -o/--output") }
      if outputOptions.output == "-" { throw ValidationError("-o - is not possible: a GGUF is written to a file") }
      if let onlySplit {
        if splitMaxSize == nil {
          throw ValidationError("--only-split needs --split-max-size (the set to take it from)")
        }
        if onlySplit < 1 { throw ValidationError("--only-split counts from 1 (got \(onlySplit))") }
      }
      if let splitMaxSize {
        do { _ = try ByteSize(parsing: splitMaxSize) } catch {
          throw ValidationError(
            "--split-max-size takes a positive size below 9.2 exabytes like 50G (10^9 bytes) or 48GiB (2^30 bytes), "
              + "not '\(splitMaxSize)': \(error.reason)")
        }
      }
    }

    func run() throws {
      let model = try GGUFModel(path: input)
      let planModel = PlanModel(collection: model)
      try kvBOptions.check(planModel, source: input)
      let output = outputOptions.output ?? ""
      let recipe = try mixOptions.apply(
        to: recipeCall { try Recipe.load(self.recipe, rules: rules, context: planModel.context) })
      let mixes = try mixOptions.rules()
      let plan = try makePlan(
        model: planModel, recipe: recipe, fallback: fallback, mixes: mixes, hasImatrix: imatrix != nil, source: input)
      if imatrix == nil, let requirement = plan.imatrixRequirement {
        throw CommandFailure.usage("this quantization requires an importance matrix (--imatrix): \(requirement)")
      }

      var options = Requantization.Options()
      if !reference.isEmpty {
        try DiffInputs.check(reference: reference)
        options.reference = try .init(reference: WeightFiles.open(reference), for: model, precision: precision)
      }
      options.regenerate = regenerate
      if let imatrix { options.importance = try ImportanceMatrix(path: imatrix) }
      options.threads = threadOptions.count
      options.overwrite = outputOptions.force
      options.allowNonFinite = allowNonFinite
      options.inputs = [input] + reference + (imatrix.map { [$0] } ?? [])
      options.splitMaxBytes = try splitMaxSize.map { try ByteSize(parsing: $0).bytes }
      options.onlySplit = onlySplit
      options.recipeName = recipe.name
      options.recipeRules = recipe.rules.map { "\($0.pattern)=\($0.type.name.lowercased())" }
      if let mix = plan.mix { options.mix = (mix, mixes) }
      options.progress = progressOptions.reporter(label: "requant")

      let summary = try Requantization.run(input: model, plan: plan, output: output, options: options)
      for group in summary.warningsByMessage {
        progressOptions.warn("\(group.tensors) tensor(s): \(group.message.terminalSafe)")
      }
      if jsonOptions.json {
        printJSON(summary.jsonDocument(bitsPerWeight: plan.bitsPerWeight, recipe: recipe.name))
        return
      }
      print("wrote \(summary.outputs.joined(separator: ", "))")
      print(
        "\(summary.requantized.count) tensors requantized, \(summary.copied.count) copied; "
          + "\(Format.size(summary.dataBytes)) of tensor data, \(Format.bpw(plan.bitsPerWeight)) bits per weight")
    }
  }
}

extension Requantization.Regenerate: ExpressibleByArgument {}
