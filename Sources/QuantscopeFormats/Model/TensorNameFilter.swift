/// A `--tensors` selection: a regular expression searched anywhere in tensor names, which must
/// select something.
///
/// A pattern that matches no tensor is an error, never an empty result: an empty selection makes
/// a hash check compare nothing, a diff gate judge nothing and pass, and a typo
/// (`ffn_up_exp` for `ffn_up_exps`) look like a clean bill of health. The error names the
/// pattern and the nearest tensor names, as `git` suggests the nearest command.
public struct TensorNameFilter: @unchecked Sendable {
  // @unchecked Sendable: `Regex` holds an immutable compiled program; matching does not mutate it.

  /// The pattern as given.
  public let pattern: String
  private let regex: Regex<AnyRegexOutput>

  /// Compiles `pattern`.
  ///
  /// - Throws: ``FormatError`` (with an empty path) describing a malformed expression.
  public init(_ pattern: String) throws {
    self.pattern = pattern
    do {
      regex = try Regex(pattern)
    } catch {
      throw FormatError(.usage, path: "", "--tensors '\(pattern)' is not a valid regular expression: \(error)")
    }
  }

  /// Whether the pattern occurs in `name`.
  public func matches(_ name: String) -> Bool { name.contains(regex) }

  /// The elements of `items` whose name matches, in order.
  ///
  /// - Parameter path: the file the names come from, for the error.
  /// - Throws: ``FormatError`` naming `path`, the pattern and the three nearest names when
  ///   nothing matches.
  public func select<T>(_ items: [T], name: (T) -> String, in path: String) throws -> [T] {
    let selected = items.filter { matches(name($0)) }
    guard selected.isEmpty else { return selected }
    throw noMatch(among: items.map(name), in: path)
  }

  /// The tensors of `tensors` whose name matches, in order (see ``select(_:name:in:)``).
  public func select(_ tensors: [TensorInfo], in path: String) throws -> [TensorInfo] {
    try select(tensors, name: \.name, in: path)
  }

  /// The error for a pattern that matched none of `names`.
  public func noMatch(among names: [String], in path: String) -> FormatError {
    let nearest = Self.nearest(to: pattern, among: names)
    let hint = nearest.isEmpty ? "the file has no tensors" : "nearest: " + nearest.joined(separator: ", ")
    return FormatError(.notFound, path: path, "--tensors '\(pattern)' matches no tensor (\(hint))")
  }

  /// The `count` names closest to `pattern`: fewest edits to make the pattern (read literally,
  /// backslash escapes dropped, so `blk\.1\.` reads `blk.1.`) occur somewhere in the name — a
  /// pattern is searched anywhere in a name — then fewest edits to the whole name, then name
  /// order.
  public static func nearest(to pattern: String, among names: [String], count: Int = 3) -> [String] {
    var literal: [UInt8] = []
    var escaped = false
    for b in pattern.utf8 {
      if b == UInt8(ascii: "\\") && !escaped {
        escaped = true
        continue
      }
      escaped = false
      literal.append(b)
    }
    var scored: [(inside: Int, whole: Int, name: String)] = []
    scored.reserveCapacity(names.count)
    var row: [Int] = []
    for name in Set(names) {
      let bytes = Array(name.utf8)
      let inside = editDistance(literal, bytes, row: &row, anywhere: true)
      let whole = editDistance(literal, bytes, row: &row, anywhere: false)
      scored.append((inside, whole, name))
    }
    scored.sort { a, b in
      if a.inside != b.inside { return a.inside < b.inside }
      if a.whole != b.whole { return a.whole < b.whole }
      return a.name.utf8Precedes(b.name)
    }
    return scored.prefix(count).map(\.name)
  }

  /// Levenshtein distance of `a` to `b` or, when `anywhere`, to the closest substring of `b`
  /// (Sellers' algorithm: free start and end in `b`). One reused row of memory.
  static func editDistance(_ a: [UInt8], _ b: [UInt8], row: inout [Int], anywhere: Bool) -> Int {
    if a.isEmpty { return anywhere ? 0 : b.count }
    if b.isEmpty { return a.count }
    row.removeAll(keepingCapacity: true)
    row.append(contentsOf: anywhere ? Array(repeating: 0, count: b.count + 1) : Array(0...b.count))
    for i in 1...a.count {
      var diagonal = row[0]
      row[0] = i
      for j in 1...b.count {
        let above = row[j]
        row[j] = Swift.min(above + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1))
        diagonal = above
      }
    }
    return anywhere ? row.min() ?? 0 : row[b.count]
  }
}
