import ArgumentParser
import Foundation
import QuantscopeAnalysis
import QuantscopeFormats

/// The one path from any error to what the user sees: `quantscope: error: MESSAGE` on one line of
/// standard error, and exit status 64 for a usage mistake or 1 for anything else.
///
/// Every error type the subcommands throw is decided here, so that the same mistake gets the same
/// answer in every subcommand: ArgumentParser's own parse and validation errors, ``FormatError``
/// (its ``FormatError/Kind/usage`` kind is a usage mistake), ``CommandFailure``, ``RecipeError`` and
/// ``PlanError``. `--help` and `--version` are not errors: they print in full and exit 0.
enum ErrorReporting {
  /// What one error becomes.
  struct Outcome: Equatable {
    /// Printed in full on standard output (help and version text), or nil.
    var standardOutput: String?
    /// The one line printed on standard error, without its trailing newline, or nil.
    var standardError: String?
    /// The process's exit status.
    var status: Int32
  }

  /// The prefix of every error line.
  static let prefix = "quantscope: error: "

  /// Decides what `error` prints and the exit status, for the command line `arguments` (without
  /// the program name), which name the subcommand a usage hint points to.
  static func outcome(for error: any Error, arguments: [String]) -> Outcome {
    if let exit = error as? ExitCode {
      // A subcommand's decided status (findings, or an error it has already printed).
      return Outcome(status: exit.rawValue)
    }
    let (message, isUsage): (String, Bool)
    switch error {
    case let error as FormatError where error.kind == .alreadyExists:
      // Every subcommand that writes a file takes --force; the library does not know the flag.
      (message, isUsage) = (error.description + "; --force replaces it", false)
    case let error as FormatError:
      (message, isUsage) = (error.description, error.kind == .usage)
    case let error as CommandFailure:
      (message, isUsage) = (error.message, error.isUsage)
    case let error as RecipeError:
      // Rules and names from the command line are something the user typed; a recipe file is an input.
      (message, isUsage) = (error.description, error.isUsage)
    case let error as PlanError:
      (message, isUsage) = (error.description, false)
    default:
      let code = Quantscope.exitCode(for: error)
      if code == .success {
        return Outcome(standardOutput: Quantscope.fullMessage(for: error), status: code.rawValue)
      }
      let text = Quantscope.message(for: error)
      // ArgumentParser's own errors (unknown option, bad or missing value, validate()) exit with
      // EX_USAGE; their help and usage lines give way to the usage hint.
      if code.rawValue == ExitStatus.usage {
        (message, isUsage) = (sentence(parserMessage(text)), true)
      } else {
        (message, isUsage) = (text.isEmpty ? String(describing: error) : text, false)
      }
    }
    var line = prefix + oneLine(message).terminalSafe
    if isUsage { line += hint(for: arguments) }
    return Outcome(standardError: line, status: isUsage ? ExitStatus.usage : ExitStatus.error)
  }

  /// Prints `error` as ``outcome(for:arguments:)`` decides and exits.
  static func exit(with error: any Error) -> Never {
    let outcome = outcome(for: error, arguments: Array(CommandLine.arguments.dropFirst()))
    // Standard output is flushed and checked at exit (StandardOutput.checkAtExit).
    if let text = outcome.standardOutput { print(text) }
    if let line = outcome.standardError {
      FileHandle.standardError.write(Data((line + "\n").utf8))
    }
    Foundation.exit(outcome.status)
  }

  /// ` (see 'quantscope help SUBCOMMAND')`, naming the first subcommand in `arguments`.
  static func hint(for arguments: [String]) -> String {
    let names = Set(Quantscope.configuration.subcommands.map { $0._commandName })
    let given = arguments.prefix { $0 != "--" }.first { names.contains($0) }
    return given.map { " (see 'quantscope help \($0)')" } ?? " (see 'quantscope help')"
  }

  /// ArgumentParser's message on one line: `Help:`/`Usage:` lines dropped, and a list of allowed
  /// values (`- mse` lines) joined after the sentence that introduces it.
  static func parserMessage(_ text: String) -> String {
    var out = ""
    var listing = false
    for raw in text.split(separator: "\n") {
      let line = raw.trimmingCharacters(in: .whitespaces)
      if line.isEmpty || line.hasPrefix("Help:") || line.hasPrefix("Usage:") || line.hasPrefix("See '") { continue }
      if line.hasPrefix("- ") {
        out += (listing ? ", " : " ") + line.dropFirst(2)
        listing = true
      } else {
        out += out.isEmpty ? line : " " + line
        listing = false
      }
    }
    return out.isEmpty ? text : out
  }

  /// `text` written as quantscope's own messages are ("unknown option '--x'"): a capital first
  /// letter lowered unless it starts an acronym ("GGUF"), and no closing full stop, since the
  /// usage hint follows.
  static func sentence(_ text: String) -> String {
    var text = text
    if text.hasSuffix("."), !text.hasSuffix("..") { text.removeLast() }
    guard let first = text.first, first.isUppercase, let second = text.dropFirst().first, second.isLowercase
    else { return text }
    return first.lowercased() + text.dropFirst()
  }

  /// `text` on one line: an error message must not forge further output lines.
  static func oneLine(_ text: String) -> String {
    guard text.contains(where: \.isNewline) else { return text }
    return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty }.joined(separator: "; ")
  }
}
