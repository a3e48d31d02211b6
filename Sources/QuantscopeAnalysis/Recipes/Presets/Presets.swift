import QuantscopeFormats

/// A recipe template that ships with quantscope.
public struct RecipePreset: Sendable {
  /// The name used with `--recipe` (`q4_k_m`).
  public let name: String
  /// The template text (see ``Recipe`` and ``RecipeContext`` for the format and macros); for a llama-quantize
  /// preset, its header and a comment on its rules.
  public let text: String
  /// The llama-quantize file type and options, for the presets that are llama-quantize mixes.
  public let mix: LlamaMix?

  /// Creates a preset from a template text and, for a llama-quantize preset, its mix.
  public init(name: String, text: String, mix: LlamaMix? = nil) {
    self.name = name
    self.text = text
    self.mix = mix
  }

  /// The source label used in errors and rule origins: `preset:NAME`.
  public var source: String { "preset:\(name)" }

  /// The template's header (name, description, architectures), without expanding it.
  public var header: Recipe {
    // Header parsing never needs the context; the rules of a template are skipped by parsing only comments.
    let comments = text.split(separator: "\n", omittingEmptySubsequences: false)
      .map { $0.trimmingSpaces.hasPrefix("#") ? String($0) : "" }.joined(separator: "\n")
    return (try? Recipe.parse(comments, source: source, defaultName: name))
      ?? Recipe(name: name, rules: [], source: source)
  }

  /// The recipe expanded for a model.
  public func recipe(for context: RecipeContext) throws(RecipeError) -> Recipe {
    var recipe = try Recipe.parse(text, source: source, context: context, defaultName: name)
    recipe.mix = mix
    return recipe
  }

  /// The template text expanded for a model (dropped lines become comments), as `recipes show --blocks` prints it.
  public func expandedText(for context: RecipeContext) throws(RecipeError) -> String {
    try RecipeTemplate.expand(text: text, context: context, source: source)
  }
}

/// The recipes that ship with quantscope.
///
/// Every llama-quantize file type is a preset (``LlamaFileType``), typed by llama-quantize's mix rules in the
/// version `--mixes` names (``MixRules``; the newest verified llama.cpp by default). `q2_k_l` is Q2_K with
/// `--token-embedding-type q4_k` (Unsloth's DeepSeek Q2_K_L). `dq3_k_m` is the DeepSeek mix of arXiv 2505.02390,
/// of which only the `ffn_down_exps` rule is stated by the paper; the rest is inferred to match its published size.
public enum Presets {
  /// Every preset, in the order `recipes list` shows them: llama-quantize's file types, then q2_k_l and dq3_k_m.
  public static let all: [RecipePreset] = LlamaFileType.allCases.map(llamaQuantize) + [q2KL, dq3KM]

  /// The preset with this name (case-insensitive), if any.
  public static func named(_ name: String) -> RecipePreset? {
    all.first { $0.name == name.lowercased() }
  }

  /// The rules of `recipe` followed by those of its `# base:` preset (recursively), expanded for `context`.
  public static func resolved(_ recipe: Recipe, context: RecipeContext) throws(RecipeError) -> Recipe {
    var result = recipe
    var seen: Set<String> = [recipe.name.lowercased()]
    var next = recipe.base
    while let baseName = next {
      guard let preset = named(baseName) else {
        throw RecipeError(source: recipe.source, "unknown base preset '\(baseName)' (see quantscope recipes list)")
      }
      guard seen.insert(preset.name).inserted else {
        throw RecipeError(source: recipe.source, "base presets form a cycle at '\(baseName)'")
      }
      let base = try preset.recipe(for: context)
      result.rules += base.rules
      if result.mix == nil { result.mix = base.mix }
      if result.architectures.isEmpty { result.architectures = base.architectures }
      next = base.base
    }
    result.base = nil
    return result
  }
}
