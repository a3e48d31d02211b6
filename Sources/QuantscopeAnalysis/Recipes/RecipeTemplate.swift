/// The model a recipe template is expanded for.
///
/// ## Macros
///
/// A macro is written `{{…}}` (double braces cannot clash with a regex's `{m,n}`). Block-set macros expand to
/// an alternation of block indices such as `(0|1|2|9)`, meant to sit between `blk\.` and `\.`:
///
/// | macro | blocks `i` in `0..<n` |
/// |---|---|
/// | `{{more_bits}}` | llama.cpp's `use_more_bits(i, n)`: `i < n/8 \|\| i >= 7n/8 \|\| (i - n/8) % 3 == 2` |
/// | `{{first:K}}` | `i < K` |
/// | `{{first_eighth}}` | `i < n/8` |
/// | `{{first_sixteenth}}` | `i < n/16` |
/// | `{{moe_first:K}}` | the first K MoE blocks: `d <= i < d + K` (d = ``leadingDenseBlocks``) |
/// | `{{moe_every:P:K}}` | MoE blocks from the (K+1)-th on, every P-th: `i >= d + K && (i - d - K) % P == 0` |
///
/// (All divisions are integer divisions, as in llama.cpp.) `{{n}}` expands to the block count. A line whose
/// block set is empty is dropped. A line may start with a condition, which drops it unless it holds:
/// `{{if:tied}}` (the model has no `output.weight`, so llama.cpp quantizes `token_embd` like the output),
/// `{{if:untied}}`, `{{if:n=K}}` (the block count is K), `{{if:experts=K}}` (the model has exactly K experts;
/// llama.cpp has rules for exactly 8, i.e. Mixtral).
public struct RecipeContext: Sendable, Hashable {
  /// Number of transformer blocks (`<arch>.block_count`).
  public var blockCount: Int
  /// Blocks before the first MoE block (`<arch>.leading_dense_block_count`; 3 for DeepSeek-V3); 0 for dense models.
  public var leadingDenseBlocks: Int
  /// Whether the model has a separate `output.weight` (false when the output shares `token_embd`).
  public var hasOutputTensor: Bool
  /// Routed experts per MoE block (`<arch>.expert_count`); 0 for a dense model.
  public var expertCount: Int

  /// The most blocks a template expands for: far beyond any model (DeepSeek-V3 has 61), small
  /// enough that an expansion stays quick.
  public static let maximumBlockCount = 100_000

  /// Creates a context.
  public init(blockCount: Int, leadingDenseBlocks: Int = 0, hasOutputTensor: Bool = true, expertCount: Int = 0) {
    self.blockCount = blockCount
    self.leadingDenseBlocks = leadingDenseBlocks
    self.hasOutputTensor = hasOutputTensor
    self.expertCount = expertCount
  }

  /// llama.cpp's `use_more_bits(i_layer, n_layers)` (llama-quant.cpp), with C integer division.
  public static func useMoreBits(_ i: Int, _ n: Int) -> Bool {
    i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2
  }
}

/// Expansion of the `{{…}}` macros of recipe templates (see ``RecipeContext``).
public enum RecipeTemplate {
  /// Expands the macros of a whole text for `context`, keeping line numbers: a dropped line becomes a comment
  /// saying why. This is what `quantscope recipes show --blocks N` prints.
  public static func expand(text: String, context: RecipeContext, source: String) throws(RecipeError) -> String {
    var out: [String] = []
    var lineNumber = 0
    for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
      lineNumber += 1
      let line = String(rawLine)
      if line.trimmingSpaces.hasPrefix("#") {
        out.append(line)
      } else if let expanded = try expand(line: line, context: context, source: source, lineNumber: lineNumber) {
        out.append(expanded)
      } else {
        out.append("# (not for this model) " + line)
      }
    }
    return out.joined(separator: "\n")
  }

  /// Expands one line; nil when its condition fails or a block set is empty.
  ///
  /// Throws when the line has a macro and there is no context, or the macro is unknown or malformed.
  static func expand(line: String, context: RecipeContext?, source: String, lineNumber: Int) throws(RecipeError)
    -> String?
  {
    guard line.contains("{{") else { return line }
    guard let context else {
      throw RecipeError(source: source, line: lineNumber, "template macro needs a model (block count) to expand")
    }
    // Block sets expand to one entry per block: a count from a crafted file (block_count, or a
    // tensor named blk.4000000000.…) or a command line would otherwise expand for hours.
    let counts = [("block count", context.blockCount), ("leading dense block count", context.leadingDenseBlocks)]
    for (what, count) in counts
    where count < 0 || count > RecipeContext.maximumBlockCount {
      throw RecipeError(
        source: source, line: lineNumber,
        "\(what) \(count) is beyond any model (at most \(RecipeContext.maximumBlockCount) blocks)")
    }
    var rest = Substring(line)
    var result = ""
    var first = true
    while let open = rest.firstRange(of: "{{") {
      let before = rest[..<open.lowerBound]
      guard let close = rest[open.upperBound...].firstRange(of: "}}") else {
        throw RecipeError(source: source, line: lineNumber, "unterminated macro '{{'")
      }
      let spec = String(rest[open.upperBound..<close.lowerBound])
      if spec.hasPrefix("if:") {
        guard first, before.trimmingSpaces.isEmpty else {
          throw RecipeError(source: source, line: lineNumber, "a {{if:…}} condition must start the line")
        }
        guard try condition(String(spec.dropFirst(3)), context, source, lineNumber) else { return nil }
      } else {
        result += before
        guard let value = try value(of: spec, context, source, lineNumber) else { return nil }
        result += value
      }
      first = false
      rest = rest[close.upperBound...]
    }
    result += rest
    return result
  }

  static func condition(_ spec: String, _ c: RecipeContext, _ source: String, _ line: Int) throws(RecipeError) -> Bool {
    switch spec {
    case "tied": return !c.hasOutputTensor
    case "untied": return c.hasOutputTensor
    default:
      if spec.hasPrefix("n="), let k = Int(spec.dropFirst(2)) { return c.blockCount == k }
      if spec.hasPrefix("experts="), let k = Int(spec.dropFirst(8)) { return c.expertCount == k }
      throw RecipeError(source: source, line: line, "unknown condition '{{if:\(spec)}}'")
    }
  }

  /// The expansion of one macro; nil for an empty block set.
  static func value(of spec: String, _ c: RecipeContext, _ source: String, _ line: Int) throws(RecipeError) -> String? {
    let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    let n = c.blockCount
    let d = c.leadingDenseBlocks
    func int(_ index: Int) throws(RecipeError) -> Int {
      guard index < parts.count, let v = Int(parts[index]), v >= 0 else {
        throw RecipeError(source: source, line: line, "macro '{{\(spec)}}' needs a non-negative integer argument")
      }
      return v
    }
    func arity(_ count: Int) throws(RecipeError) {
      guard parts.count == count else {
        throw RecipeError(source: source, line: line, "macro '{{\(spec)}}' takes \(count - 1) argument(s)")
      }
    }
    let predicate: (Int) -> Bool
    switch parts[0] {
    case "n":
      try arity(1)
      return String(n)
    case "more_bits":
      try arity(1)
      predicate = { RecipeContext.useMoreBits($0, n) }
    case "first":
      try arity(2)
      let k = try int(1)
      predicate = { $0 < k }
    case "first_eighth":
      try arity(1)
      predicate = { $0 < n / 8 }
    case "first_sixteenth":
      try arity(1)
      predicate = { $0 < n / 16 }
    case "moe_first":
      try arity(2)
      let k = try int(1)
      predicate = { $0 >= d && $0 - d < k }
    case "moe_every":
      try arity(3)
      let p = try int(1)
      let k = try int(2)
      guard p > 0 else { throw RecipeError(source: source, line: line, "macro '{{\(spec)}}' needs a period > 0") }
      predicate = { $0 >= d + k && ($0 - d - k) % p == 0 }
    default:
      throw RecipeError(source: source, line: line, "unknown macro '{{\(spec)}}'")
    }
    let blocks = (0..<max(0, n)).filter(predicate)
    guard !blocks.isEmpty else { return nil }
    return "(" + blocks.map(String.init).joined(separator: "|") + ")"
  }
}
