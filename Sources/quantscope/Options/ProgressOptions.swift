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

/// `--quiet` and `--progress`, shared by every command that runs long.
struct ProgressOptions: ParsableArguments {
  @Flag(name: [.short, .long], help: "Show no progress.")
  var quiet = false

  @Option(
    help: ArgumentHelp(
      "How to show progress on stderr.",
      discussion: "auto: a redrawn line when stderr is a terminal; always: that line even when it is not; json: one JSON object per line ({\"done\",\"total\",\"rate\",\"eta\"}); none: nothing.",
      valueName: "mode"))
  var progress: ProgressMode = .auto

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

/// `-o`/`--output` and `--force`, shared by every command that writes a file.
struct OutputFileOptions: ParsableArguments {
  @Option(
    name: [.short, .customLong("output")],
    help: ArgumentHelp(
      "Write to this file ('-' for standard output; a name ending in .zst is zstd-compressed).",
      valueName: "path"))
  var output: String?

  @Flag(help: "Replace the output file if it exists.")
  var force = false
}
