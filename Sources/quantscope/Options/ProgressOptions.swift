import ArgumentParser
import QuantscopeFormats

/// How progress of long operations is shown.
enum ProgressMode: String, ExpressibleByArgument, CaseIterable, Sendable {
  /// A redrawn line on stderr when stderr is a terminal; nothing otherwise.
  case auto
  /// A redrawn line on stderr even when it is not a terminal.
  case always
  /// One JSON object per line on stderr: `{"done":…,"total":…,"rate":…,"eta":…}`.
  case json
  /// Nothing.
  case none
}

/// `--progress` (with ``QuietOptions``), shared by every command that runs long.
struct ProgressOptions: ParsableArguments {
  @OptionGroup
  var quietOptions: QuietOptions

  /// Whether `--quiet` was given.
  var quiet: Bool { quietOptions.quiet }

  @Option(
    help: ArgumentHelp(
      "How to show progress on stderr.",
      discussion:
        "auto: a redrawn line when stderr is a terminal; always: that line even when it is not; json: one JSON object per line ({\"done\",\"total\",\"rate\",\"eta\"}); none: nothing.",
      valueName: "mode"))
  var progress: ProgressMode = .auto

  /// Prints a warning on stderr unless `--quiet`.
  func warn(_ message: String) { quietOptions.warn(message) }

  /// The mode after `--quiet` and the terminal check.
  var effectiveMode: ProgressMode {
    if quiet { return .none }
    if progress == .auto { return StderrProgress.stderrIsTerminal ? .always : .none }
    return progress
  }

  /// A reporter labelled `label`, or `nil` when progress is off.
  func reporter(label: String) -> StderrProgress? {
    switch effectiveMode {
    case .none, .auto: nil
    case .always: StderrProgress(label: label, json: false)
    case .json: StderrProgress(label: label, json: true)
    }
  }
}
