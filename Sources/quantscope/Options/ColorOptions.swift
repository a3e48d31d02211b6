import ArgumentParser
import Foundation

/// When tables and findings are coloured.
enum ColorMode: String, ExpressibleByArgument, CaseIterable, Sendable {
  /// When standard output is a terminal and `NO_COLOR` is unset or empty.
  case auto
  /// Always, even into a pipe or file, and even with `NO_COLOR` set.
  case always
  /// Never.
  case never
}

/// `--color`, shared by every command whose output has colour.
///
/// `NO_COLOR` (https://no-color.org) turns colour off in `auto` mode only: the page says
/// software should honour it unless the user asks for colour explicitly, and `--color always`
/// is that request.
struct ColorOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "When to colour output: auto, always or never.",
      discussion:
        "auto: only when standard output is a terminal and NO_COLOR is not set (or empty); always: even into pipes and files, overriding NO_COLOR; never: no colour.",
      valueName: "when"))
  var color: ColorMode = .auto

  /// The style these options select, in this process's environment.
  var style: Style {
    Style(
      enabled: Self.enabled(color, environment: ProcessInfo.processInfo.environment, terminal: Style.stdoutIsTerminal))
  }

  /// Whether `mode` means colour, given the environment and whether stdout is a terminal.
  static func enabled(_ mode: ColorMode, environment: [String: String], terminal: Bool) -> Bool {
    switch mode {
    case .always: true
    case .never: false
    case .auto: terminal && (environment["NO_COLOR"] ?? "").isEmpty
    }
  }
}
