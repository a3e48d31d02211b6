import QuantscopeFormats

/// A recipe as written — a shipped preset or a file — before it is expanded for a model: what
/// `recipes show` prints and describes.
public struct RecipeText: Sendable {
  /// The name the user gave (a preset name or a file path).
  public let name: String
  /// The source label used in errors and rule origins: `preset:NAME` or the file path.
  public let source: String
  /// The template text, comments included.
  public let text: String

  /// A recipe text with its name and source label.
  public init(name: String, source: String, text: String) {
    self.name = name
    self.source = source
    self.text = text
  }

  /// The preset called `name`, else the file at that path; `nil` when it is neither (a preset
  /// name wins over a file of the same name, as `--recipe` resolves it).
  public static func named(_ name: String) -> RecipeText? {
    if let preset = Presets.named(name) { return RecipeText(name: name, source: preset.source, text: preset.text) }
    guard let text = try? MappedFile.text(path: name) else { return nil }
    return RecipeText(name: name, source: name, text: text)
  }

  /// The header (name, description, architectures), parsed from the comment lines only so that
  /// macros need no model to expand.
  public func header() throws(RecipeError) -> Recipe {
    let comments = text.split(separator: "\n", omittingEmptySubsequences: false)
      .map { $0.drop(while: { $0 == " " }).hasPrefix("#") ? String($0) : "" }.joined(separator: "\n")
    return try Recipe.parse(comments, source: source)
  }

  /// The text with its block sets expanded for `context`: plain `PATTERN=TYPE` rules.
  public func expanded(for context: RecipeContext) throws(RecipeError) -> String {
    try RecipeTemplate.expand(text: text, context: context, source: source)
  }

  /// The `quantscope.recipe/1` document: name, source, architectures, description and text, and,
  /// when the text was expanded, the block count and the expanded rules as pattern/type pairs.
  ///
  /// - Parameters:
  ///   - blocks: the block count the rules were expanded for.
  ///   - expanded: the text expanded by ``expanded(for:)``, `nil` when it was not expanded.
  public func jsonDocument(blocks: Int?, expanded: String?) throws(RecipeError) -> JSONValue {
    let header = try header()
    var members: [(String, JSONValue)] = [
      ("name", .string(name)), ("source", .string(source)),
      ("architectures", .array(header.architectures.map { .string($0) })),
      ("description", .string(header.description)), ("text", .string(text)),
    ]
    if let expanded {
      let recipe = try Recipe.parse(expanded, source: source)
      members.append(("blocks", .int(blocks ?? 0)))
      members.append(
        (
          "rules",
          .array(recipe.rules.map { .members([("pattern", .string($0.pattern)), ("type", .string($0.type.name))]) })
        ))
    }
    return .document(schema: "quantscope.recipe/1", members)
  }
}

extension Presets {
  /// The `quantscope.recipes/1` document: every shipped preset's name, architectures and description.
  public static func jsonDocument() -> JSONValue {
    .document(
      schema: "quantscope.recipes/1",
      [
        (
          "presets",
          .array(
            all.map { preset in
              .members([
                ("name", .string(preset.name)),
                ("architectures", .array(preset.header.architectures.map { .string($0) })),
                ("description", .string(preset.header.description)),
              ])
            })
        )
      ])
  }
}
