extension Recipe {
  /// The recipe a command line asks for: preset or file `spec`, with `rules` (`PATTERN=TYPE`
  /// options) tried before its own; with no `spec`, a recipe of those rules alone.
  public static func load(_ spec: String?, rules: [String], context: RecipeContext) throws(RecipeError) -> Recipe {
    var extra: [RecipeRule] = []
    for rule in rules { extra.append(try RecipeRule(parsing: rule, source: "--rule")) }
    guard let spec else {
      return Recipe(name: "rules", description: "rules given on the command line", rules: extra, source: "--rule")
    }
    return try load(spec, context: context).prepending(extra)
  }
}
