import QuantscopeFormats

/// Files for llama-quantize's `--tensor-type-file`: whitespace-separated `pattern=type` tokens.
///
/// llama-quantize (tools/quantize/quantize.cpp) reads the file token by token (`file >> arg`),
/// splits each token at its first `=`, lowercases the pattern, looks the type name up
/// case-insensitively, and then searches each pattern in the tensor names with `std::regex`.
/// A token without `=` (a `#` comment, say) makes it stop with "malformed tensor type", so
/// these files hold rules and nothing else: one per line, no comments, no spaces in patterns.
public enum TensorTypeFile {
  /// A pattern that matches exactly `name` and nothing else: anchored, every character that
  /// is not a letter, digit or underscore escaped. Lowercase, as llama-quantize lowercases it.
  public static func exactPattern(_ name: String) -> String {
    var out = "^"
    for c in name.lowercased() {
      if c.isASCII && (c.isLetter || c.isNumber || c == "_") {
        out.append(c)
      } else {
        out.append("\\")
        out.append(c)
      }
    }
    return out + "$"
  }

  /// The file for explicit per-tensor types: one anchored rule per tensor, in the order given.
  /// Each pattern matches one tensor, so the order in which llama-quantize applies rules (first
  /// or last match, which changed between its releases) cannot matter.
  public static func text(types: [(name: String, type: GGMLType)]) -> String {
    types.map { "\(exactPattern($0.name))=\($0.type.name.lowercased())\n" }.joined()
  }

  /// The file for `rules` as they are (macros already expanded), in priority order.
  public static func text(rules: [RecipeRule]) -> String {
    rules.map { $0.text + "\n" }.joined()
  }

  /// The types a plan decides, for the tensors llama-quantize may convert (every tensor whose
  /// target is not F32: llama-quantize leaves 1-D tensors in F32 whatever a file says).
  public static func text(plan: Plan) -> String {
    text(types: plan.tensors.filter { $0.targetType != .f32 }.map { ($0.name, $0.targetType) })
  }

  /// Reads a file as llama-quantize does: whitespace-separated tokens, each split at its first
  /// `=`, the pattern lowercased, the type looked up case-insensitively.
  ///
  /// - Throws: ``RecipeError`` for a token llama-quantize would refuse (no `=`, an empty
  ///   pattern or type, an unknown type), or a pattern that does not compile.
  public static func parse(_ text: String, source: String = "--tensor-type-file") throws -> [RecipeRule] {
    try text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }).map {
      try RecipeRule(parsing: String($0), source: source)
    }
  }
}
