import QuantscopeFormats

/// A quantization mix written as data: an ordered list of `PATTERN=TYPE` rules over GGUF tensor names.
///
/// ## File format
///
/// A recipe file is plain UTF-8 text. It is a superset of what llama-quantize reads with
/// `--tensor-type-file`, so such files can be used unchanged:
///
/// * Each rule is `PATTERN=TYPE`. The text is split at the **first** `=`. PATTERN is a regular
///   expression that is **searched** in the tensor name (a substring match, like `std::regex_search`; anchor it
///   with `^`/`$` for a whole-name match). As in llama-quantize, the pattern is **lowercased** before use
///   (so `\D` would become `\d`; GGUF tensor names are lowercase anyway). Patterns are compiled as Swift
///   `Regex`, which agrees with llama.cpp's ECMAScript `std::regex` on the constructs such files use (`\.`,
///   `\d`, classes, groups, alternation, anchors, quantifiers). TYPE is a ggml type name in any case
///   (`q4_k`, `Q4_K`, `q8_0`, `f16`, `bf16`, `iq4_nl`, …); the intermediate Q8_1/Q8_K and integer types are
///   refused.
/// * Rules are separated by whitespace or newlines (llama-quantize's files are whitespace-separated lists).
///   **The first matching rule wins**, so specific rules go before general ones (current llama.cpp; for a
///   while after llama.cpp PR #14572 the last match won, so files written for those builds list rules in the
///   reverse order).
/// * `#` at the start of a token starts a comment that runs to the end of the line.
/// * Header comments before the first rule set metadata: `# name: …`, `# description: …` (may repeat; the
///   lines are joined), `# architecture: a, b` (the GGUF `general.architecture` values the recipe is meant for)
///   and `# base: PRESET` (this file's rules are tried first, then the rules of the named preset, as
///   `--tensor-type-file` is applied on top of an ftype in llama-quantize).
/// * Templates (the shipped presets use them; user files may too) can contain macros that are expanded for a
///   model: `{{n}}` (block count), block sets such as `{{more_bits}}` that expand to an alternation `(0|1|5)`,
///   and line conditions `{{if:tied}}`. See ``RecipeContext`` for the list. A line whose block set is empty for
///   the model is dropped.
///
/// Before any rule, built-in rules keep some tensors as they are (see ``BuiltInRules``); after the rule's
/// choice, a row length that the type's block does not divide falls back as llama.cpp does
/// (see ``RowFallback``).
public struct Recipe: Sendable {
  /// The recipe's name (`q4_k_m`, or the file's `# name:` header, or the file name).
  public var name: String
  /// What the recipe is, from the `# description:` header lines.
  public var description: String
  /// The architectures the recipe is meant for (`general.architecture` values); empty means any.
  public var architectures: [String]
  /// The preset whose rules follow this recipe's own (`# base:` header), if any.
  public var base: String?
  /// Rules in priority order (first match wins).
  public var rules: [RecipeRule]
  /// Where the recipe came from: a file path or `preset:NAME`.
  public var source: String
  /// The llama-quantize file type and options that type the tensors no rule matches (the recipe's rules act as
  /// llama-quantize's `--tensor-type` rules on top of it); nil for a recipe of rules alone, whose unmatched
  /// tensors keep their type. Set by the llama-quantize presets and by `# base:` naming one.
  public var mix: LlamaMix?

  /// Creates a recipe from its parts.
  public init(
    name: String, description: String = "", architectures: [String] = [], base: String? = nil,
    rules: [RecipeRule], source: String, mix: LlamaMix? = nil
  ) {
    self.name = name
    self.description = description
    self.architectures = architectures
    self.base = base
    self.rules = rules
    self.source = source
    self.mix = mix
  }

  /// A copy with `rules` tried before this recipe's own (for `--rule` options).
  public func prepending(_ rules: [RecipeRule]) -> Recipe {
    var copy = self
    copy.rules = rules + self.rules
    return copy
  }

  /// Whether the recipe is meant for `architecture` (always true when it names none).
  public func supports(architecture: String) -> Bool {
    architectures.isEmpty || architectures.contains(architecture.lowercased())
  }
}

/// One `PATTERN=TYPE` rule and where it was written.
public struct RecipeRule: Sendable, Hashable, CustomStringConvertible {
  /// The regular expression, lowercased as llama-quantize does; searched in the tensor name.
  public let pattern: String
  /// The type the rule assigns.
  public let type: GGMLType
  /// The file (or `preset:NAME`, or `--rule`) the rule came from.
  public let source: String
  /// The 1-based line in `source`, when it came from a file or preset text.
  public let line: Int?

  /// Creates a rule after checking that the pattern compiles and the type can be a target.
  public init(pattern: String, type: GGMLType, source: String, line: Int? = nil) throws(RecipeError) {
    let lowered = pattern.lowercased()
    guard !lowered.isEmpty else { throw RecipeError(source: source, line: line, "missing tensor name pattern") }
    do {
      _ = try Regex(lowered)
    } catch {
      throw RecipeError(source: source, line: line, "invalid regular expression '\(pattern)': \(error)")
    }
    guard Self.isTargetType(type) else {
      throw RecipeError(source: source, line: line, "type \(type.name.lowercased()) cannot be a quantization target")
    }
    self.pattern = lowered
    self.type = type
    self.source = source
    self.line = line
  }

  /// Parses `PATTERN=TYPE` as llama-quantize's `--tensor-type` does: split at the first `=`, lowercase the
  /// pattern, look the type up case-insensitively.
  public init(parsing text: String, source: String = "--rule", line: Int? = nil) throws(RecipeError) {
    guard let eq = text.firstIndex(of: "=") else {
      throw RecipeError(source: source, line: line, "malformed rule '\(text)' (expected PATTERN=TYPE)")
    }
    let pattern = String(text[..<eq])
    let typeName = String(text[text.index(after: eq)...])
    guard !pattern.isEmpty else {
      throw RecipeError(source: source, line: line, "missing tensor name pattern in '\(text)'")
    }
    guard !typeName.isEmpty else {
      throw RecipeError(source: source, line: line, "missing quantization type in '\(text)'")
    }
    guard let type = GGMLType(name: typeName) else {
      throw RecipeError(source: source, line: line, Self.invalidTypeMessage(typeName))
    }
    try self.init(pattern: pattern, type: type, source: source, line: line)
  }

  /// The rule as written in recipe files: `pattern=type` with the type in lower case.
  public var text: String { "\(pattern)=\(type.name.lowercased())" }

  /// The rule and where it came from: `ffn_down_exps=q3_k (preset:dq3_k_m:14)`.
  public var description: String {
    let place = line.map { "\(source):\($0)" } ?? source
    return "\(text) (\(place))"
  }

  /// `invalid quantization type 'NAME' (valid: …)`, the valid names nearest to `name` first, so a
  /// typo's correction (`q6k` → `q6_k`) is the first name shown.
  public static func invalidTypeMessage(_ name: String) -> String {
    let valid = GGMLType.allUsable.filter(isTargetType).map { $0.name.lowercased() }
    let ordered = TensorNameFilter.nearest(to: name.lowercased(), among: valid, count: valid.count)
    return "invalid quantization type '\(name)' (valid: \(ordered.joined(separator: ", ")))"
  }

  /// Types a tensor can be quantized or converted to: every usable type but the intermediate Q8_1 and Q8_K
  /// (ggml cannot write them) and the integer/F64 types (not weights).
  public static func isTargetType(_ type: GGMLType) -> Bool {
    guard type.isUsable else { return false }
    return ![GGMLType.q8_1, .q8_K, .i8, .i16, .i32, .i64, .f64].contains(type)
  }
}

/// A problem in a recipe: `FILE:LINE: what`.
public struct RecipeError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The file, `preset:NAME` or `--rule`.
  public var source: String
  /// The 1-based line, when known.
  public var line: Int?
  /// What is wrong.
  public var message: String
  /// Whether the user named something wrong on the command line (a `--rule`, an unknown recipe
  /// name) rather than a recipe file holding a mistake; the CLI exits 64 for these.
  public var isUsage: Bool

  /// Creates an error naming a source, optionally a line, and a problem; rules given as `--rule`
  /// are usage mistakes unless `isUsage` says otherwise.
  public init(source: String, line: Int? = nil, _ message: String, isUsage: Bool? = nil) {
    self.source = source
    self.line = line
    self.message = message
    self.isUsage = isUsage ?? source.hasPrefix("--")
  }

  /// `FILE:LINE: what`, or `FILE: what` when there is no line.
  public var description: String {
    if let line { return "\(source):\(line): \(message)" }
    return "\(source): \(message)"
  }
}

extension Recipe {
  /// Header keys a recipe file may set in its leading comments.
  static let headerKeys: Set<String> = ["name", "description", "architecture", "base"]

  /// Parses recipe text (see ``Recipe`` for the format).
  ///
  /// - Parameters:
  ///   - text: the file's contents.
  ///   - source: the file path (or `preset:NAME`), used in errors and rule origins.
  ///   - context: the model the template is expanded for; needed only when the text uses macros.
  ///   - defaultName: the name to use when the text has no `# name:` header.
  public static func parse(
    _ text: String, source: String, context: RecipeContext? = nil, defaultName: String? = nil
  ) throws(RecipeError) -> Recipe {
    var name: String?
    var description: [String] = []
    var architectures: [String] = []
    var base: String?
    var rules: [RecipeRule] = []
    var lineNumber = 0
    for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
      lineNumber += 1
      let line = String(rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine)
      let trimmed = line.trimmingSpaces
      if trimmed.hasPrefix("#") {
        // Header lines count only before the first rule, so a later `# name:` comment is just a comment.
        guard rules.isEmpty, let (key, value) = Self.headerEntry(trimmed) else { continue }
        switch key {
        case "name": name = value
        case "description": description.append(value)
        case "architecture":
          architectures = value.split(separator: ",").map { $0.trimmingSpaces.lowercased() }.filter { !$0.isEmpty }
        case "base": base = value
        default: break
        }
        continue
      }
      guard
        let expanded = try RecipeTemplate.expand(line: line, context: context, source: source, lineNumber: lineNumber)
      else { continue }
      for token in expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
        if token.hasPrefix("#") { break }
        rules.append(try RecipeRule(parsing: String(token), source: source, line: lineNumber))
      }
    }
    return Recipe(
      name: name ?? defaultName ?? source, description: description.joined(separator: " "),
      architectures: architectures, base: base, rules: rules, source: source)
  }

  /// `# key: value` with a known key, or nil.
  static func headerEntry(_ commentLine: String) -> (String, String)? {
    let body = commentLine.drop(while: { $0 == "#" }).trimmingSpaces
    guard let colon = body.firstIndex(of: ":") else { return nil }
    let key = body[..<colon].trimmingSpaces.lowercased()
    guard headerKeys.contains(key) else { return nil }
    return (key, body[body.index(after: colon)...].trimmingSpaces)
  }
}

extension StringProtocol {
  /// The text without leading and trailing spaces and tabs (Foundation-free).
  var trimmingSpaces: String {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
    guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
      return ""
    }
    return String(self[first...last])
  }
}
