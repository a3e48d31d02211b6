import Foundation
import ArgumentParser
import QuantscopeAnalysis

extension Quantscope {
  /// `quantscope recipes`: the shipped quantization mixes.
  struct Recipes: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List and show the quantization recipes (mixes) that ship with quantscope.",
      discussion: """
        A recipe is an ordered list of PATTERN=TYPE rules over GGUF tensor names (llama-quantize's \
        --tensor-type syntax; the first matching rule wins). Presets are templates: block sets such as \
        {{more_bits}} expand for a model's block count.
        """,
      subcommands: [List.self, Show.self])

    /// `quantscope recipes list`.
    struct List: ParsableCommand {
      static let configuration = CommandConfiguration(abstract: "List the shipped presets.")

      func run() throws {
        let rows = Presets.all.map { preset -> [String] in
          let header = preset.header
          return [preset.name, header.architectures.joined(separator: ","), header.description]
        }
        print(PlanTable.render(header: ["NAME", "ARCHITECTURES", "DESCRIPTION"], rows: rows))
      }
    }

    /// `quantscope recipes show NAME`.
    struct Show: ParsableCommand {
      static let configuration = CommandConfiguration(
        abstract: "Print a preset's text: the template, or the rules expanded for a block count.")

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

      func validate() throws {
        if let blocks, blocks < 0 { throw ValidationError("--blocks must not be negative") }
        if denseBlocks < 0 { throw ValidationError("--dense-blocks must not be negative") }
        if experts < 0 { throw ValidationError("--experts must not be negative") }
      }

      func run() throws {
        let source: String
        let text: String
        if let preset = Presets.named(name) {
          source = preset.source
          text = preset.text
        } else if let fileText = try? String(contentsOfFile: name, encoding: .utf8) {
          source = name
          text = fileText
        } else {
          let names = Presets.all.map(\.name).joined(separator: ", ")
          throw CommandFailure("\(name): no such preset or recipe file (presets: \(names))")
        }
        if let arch {
          let header = try recipeCall { try Recipe.parse(self.headerOnly(text), source: source) }
          guard header.supports(architecture: arch) else {
            throw CommandFailure(
              "\(name) is meant for \(header.architectures.joined(separator: ", ")), not \(arch)")
          }
        }
        guard let blocks else {
          print(text)
          return
        }
        let context = RecipeContext(
          blockCount: blocks, leadingDenseBlocks: denseBlocks, hasOutputTensor: !tied, expertCount: experts)
        print(try recipeCall { try RecipeTemplate.expand(text: text, context: context, source: source) })
      }

      /// The comment lines of a recipe, so its header parses without expanding macros.
      func headerOnly(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
          .map { $0.drop(while: { $0 == " " }).hasPrefix("#") ? String($0) : "" }.joined(separator: "\n")
      }
    }
  }
}

/// Runs a recipe operation, turning a ``RecipeError`` into the CLI's one-line error.
func recipeCall<T>(_ body: () throws -> T) throws -> T {
  do {
    return try body()
  } catch let error as RecipeError {
    throw CommandFailure(error.description)
  }
}

/// Plain-text tables with aligned columns.
enum PlanTable {
  /// Renders rows under a header; columns whose header is in `rightAligned` are right-aligned.
  static func render(header: [String], rows: [[String]], rightAligned: Set<String> = []) -> String {
    var widths = header.map(\.count)
    for row in rows {
      for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
    }
    func line(_ cells: [String]) -> String {
      var parts: [String] = []
      for (i, cell) in cells.enumerated() {
        let pad = String(repeating: " ", count: max(0, widths[i] - cell.count))
        if rightAligned.contains(header[i]) {
          parts.append(pad + cell)
        } else {
          parts.append(i == cells.count - 1 ? cell : cell + pad)
        }
      }
      return parts.joined(separator: "  ")
    }
    return ([line(header)] + rows.map(line)).joined(separator: "\n")
  }
}
