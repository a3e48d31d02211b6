import ArgumentParser
import Foundation
import QuantscopeAnalysis
import QuantscopeFormats

extension Quantscope {
  /// `quantscope recipes`: the shipped quantization mixes.
  struct Recipes: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List and show the quantization recipes (mixes) that ship with quantscope.",
      discussion: """
        A recipe is an ordered list of PATTERN=TYPE rules over GGUF tensor names (llama-quantize's \
        --tensor-type syntax; the first matching rule wins). Presets are templates: block sets such as \
        {{more_bits}} expand for a model's block count.

        The presets are llama.cpp's q4_k_m, q3_k_m, q2_k and q2_k_l mixes and dq3_k_m, the \
        DeepSeek-V3/R1 mix of arXiv 2505.02390. Of dq3_k_m only the ffn_down_exps rule is stated \
        by the paper; the rest is inferred to match the published size (281G, 3.59 bits per \
        weight), and the preset's text says which lines are which.

        Examples:
          quantscope recipes list
          quantscope recipes show dq3_k_m
          quantscope recipes show q4_k_m --blocks 61 --dense-blocks 3 --experts 256
        """,
      subcommands: [List.self, Show.self])

    /// `quantscope recipes list`.
    struct List: ParsableCommand {
      static let configuration = CommandConfiguration(
        abstract: "List the shipped presets.",
        discussion: """
          One line per preset: its name, the architectures it is meant for (empty: any) and its \
          description.

          --json prints schema quantscope.recipes/1: each preset's name, architectures and \
          description.

          Examples:
            quantscope recipes list
            quantscope recipes list --json | jq -r '.presets[].name'
          """)

      @OptionGroup
      var jsonOptions: JSONOptions

      @OptionGroup
      var quietOptions: QuietOptions

      @OptionGroup(title: "Colour")
      var colorOptions: ColorOptions

      func run() throws {
        if jsonOptions.json {
          printJSON(Presets.jsonDocument())
          return
        }
        let rows = Presets.all.map { preset -> [String] in
          let header = preset.header
          // The name is what a user copies into --recipe: it stands out.
          return [
            colorOptions.style.paint(preset.name, .cyan), header.architectures.joined(separator: ","),
            header.description,
          ]
        }
        print(TextTable(["name", "architectures", "description"], rows: rows).render())
      }
    }

    /// `quantscope recipes show NAME`.
    struct Show: ParsableCommand {
      static let configuration = CommandConfiguration(
        abstract: "Print a preset's text: the template, or the rules expanded for a block count.",
        discussion: """
          Without --blocks the template is printed as shipped, comments included: for dq3_k_m \
          they say that only the ffn_down_exps rule is stated by the paper and the rest is \
          inferred to match the published size. With --blocks the block sets expand to plain \
          PATTERN=TYPE rules that llama-quantize --tensor-type accepts. --format llama-quantize \
          (with --blocks) prints only those rules, one per line and without comments, as a file \
          llama-quantize's --tensor-type-file reads (it stops at any token without '='); the \
          rules of a recipe are tried first to last, as current llama.cpp applies them.

          --json prints schema quantscope.recipe/1: the name, source, architectures, \
          description, the text, and with --blocks the expanded rules as pattern/type pairs.

          Examples:
            quantscope recipes show dq3_k_m
            quantscope recipes show dq3_k_m --blocks 61 --dense-blocks 3
            quantscope recipes show my-mix.txt --arch llama --blocks 32
            quantscope recipes show dq3_k_m --blocks 61 --dense-blocks 3 \\
                --format llama-quantize > dq3.txt
          """)

      @Argument(help: "Preset name (see 'quantscope recipes list') or a recipe file.")
      var name: String

      @Option(help: "Expand the template for a model with this many blocks.")
      var blocks: Int?

      @Option(help: "Leading dense (non-MoE) blocks of the model, for the MoE block sets (default 0; DeepSeek-V3: 3).")
      var denseBlocks: Int = 0

      @Flag(help: "The model has no output.weight (token embedding shared with the output).")
      var tied = false

      @Option(help: "Routed experts per MoE block (llama.cpp has rules for exactly 8).")
      var experts: Int = 0

      @Option(help: "Check that the recipe is meant for this architecture (general.architecture).")
      var arch: String?

      @OptionGroup
      var jsonOptions: JSONOptions

      @OptionGroup
      var quietOptions: QuietOptions

      @Option(
        help: ArgumentHelp(
          "Print the expanded rules as a llama-quantize --tensor-type-file (needs --blocks).", valueName: "format"))
      var format: RuleFileFormat?

      /// Formats of the expanded rules besides the recipe text.
      enum RuleFileFormat: String, ExpressibleByArgument, CaseIterable {
        /// One `pattern=type` per line, nothing else.
        case llamaQuantize = "llama-quantize"
      }

      func validate() throws {
        if let blocks, blocks < 0 { throw ValidationError("--blocks must not be negative") }
        if denseBlocks < 0 { throw ValidationError("--dense-blocks must not be negative") }
        if experts < 0 { throw ValidationError("--experts must not be negative") }
        if format != nil && jsonOptions.json { throw ValidationError("--format and --json exclude each other") }
        if format != nil && blocks == nil {
          throw ValidationError("--format llama-quantize needs --blocks N to expand the recipe's block sets")
        }
      }

      func run() throws {
        guard let recipe = RecipeText.named(name) else {
          let names = TensorNameFilter.nearest(to: name, among: Presets.all.map(\.name), count: Presets.all.count)
          throw CommandFailure.usage(
            "\(name): no such recipe file or preset (presets, nearest first: \(names.joined(separator: ", ")))")
        }
        if let arch {
          let header = try recipeCall { try recipe.header() }
          guard header.supports(architecture: arch) else {
            throw CommandFailure.usage(
              "\(name) is meant for \(header.architectures.joined(separator: ", ")), not \(arch)")
          }
        }
        var expanded: String?
        if let blocks {
          let context = RecipeContext(
            blockCount: blocks, leadingDenseBlocks: denseBlocks, hasOutputTensor: !tied, expertCount: experts)
          expanded = try recipeCall { try recipe.expanded(for: context) }
        }
        if format == .llamaQuantize, let expanded {
          let rules = try recipeCall { try Recipe.parse(expanded, source: recipe.source) }.rules
          print(TensorTypeFile.text(rules: rules), terminator: "")
          return
        }
        guard jsonOptions.json else {
          print(expanded ?? recipe.text)
          return
        }
        printJSON(try recipeCall { try recipe.jsonDocument(blocks: blocks, expanded: expanded) })
      }
    }
  }
}

/// Runs a recipe operation; its ``RecipeError`` reaches ``ErrorReporting``, which prints it as one line.
func recipeCall<T>(_ body: () throws -> T) throws -> T {
  do {
    return try body()
  } catch let error as RecipeError {
    throw error  // ErrorReporting: a --rule mistake is a usage error, a recipe file's is not
  }
}
