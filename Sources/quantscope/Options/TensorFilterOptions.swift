import ArgumentParser
import QuantscopeFormats

/// `--tensors REGEX`, shared by every command that can work on part of a model.
///
/// The pattern is compiled once, while the command line is parsed: a malformed one is a usage
/// error naming `--tensors`, the same in every command.
struct TensorFilterOptions: ParsableArguments {
  @Option(
    name: .customLong("tensors"),
    help: ArgumentHelp(
      "Only tensors whose name matches this regular expression (anywhere in the name; an error if none does).",
      valueName: "regex"),
    transform: Self.compile)
  var filter: TensorNameFilter?

  /// The pattern as given, if any.
  var pattern: String? { filter?.pattern }

  /// The elements of `tensors` the filter selects (all of them without `--tensors`).
  ///
  /// - Throws: ``FormatError`` naming `path` and the nearest names when nothing matches.
  func select(_ tensors: [TensorInfo], in path: String) throws -> [TensorInfo] {
    guard let filter else { return tensors }
    return try filter.select(tensors, in: path)
  }

  /// Compiles a pattern, turning a malformed one into ArgumentParser's usage error for the option.
  static func compile(_ pattern: String) throws -> TensorNameFilter {
    do {
      return try TensorNameFilter(pattern)
    } catch {
      // The library's error repeats the pattern; the parser's message already shows it.
      let reason = (try? Regex(pattern)).map { _ in "" } ?? Self.regexError(pattern)
      throw ValidationError("not a valid regular expression\(reason)")
    }
  }

  /// `: why` for a pattern `Regex` rejects.
  private static func regexError(_ pattern: String) -> String {
    do {
      _ = try Regex(pattern)
      return ""
    } catch {
      return ": \(error)"
    }
  }
}
