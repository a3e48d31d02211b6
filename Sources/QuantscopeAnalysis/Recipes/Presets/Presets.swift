import QuantscopeFormats

/// A recipe template that ships with quantscope.
public struct RecipePreset: Sendable {
  /// The name used with `--recipe` (`q4_k_m`).
  public let name: String
  /// The template text (see ``Recipe`` and ``RecipeContext`` for the format and macros).
  public let text: String

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
    try Recipe.parse(text, source: source, context: context, defaultName: name)
  }

  /// The template text expanded for a model (dropped lines become comments), as `recipes show --blocks` prints it.
  public func expandedText(for context: RecipeContext) throws(RecipeError) -> String {
    try RecipeTemplate.expand(text: text, context: context, source: source)
  }
}

/// The recipes that ship with quantscope.
///
/// llama.cpp's mixes (`q4_k_m`, `q3_k_m` for deepseek2, llama, qwen2, qwen3, gemma3; `q2_k`, `q2_k_l` for
/// deepseek2) follow `llama_tensor_get_type` as of April 2025 (unchanged for these mixes since, except for the
/// deepseek2 `attn_kv_b` category noted in the presets). `dq3_k_m` is the DeepSeek mix of arXiv 2505.02390, of
/// which only the `ffn_down_exps` rule is stated by the paper; the rest is inferred to match its published size.
public enum Presets {
  /// Every preset, in the order `recipes list` shows them.
  public static let all: [RecipePreset] = [q4KM, q3KM, q2K, q2KL, dq3KM]

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
      if result.architectures.isEmpty { result.architectures = base.architectures }
      next = base.base
    }
    result.base = nil
    return result
  }
}
