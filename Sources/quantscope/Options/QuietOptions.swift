import ArgumentParser
import Foundation

/// `-q`/`--quiet`, accepted by every subcommand so that scripts can pass it to any of them.
///
/// Quiet means nothing on stderr but errors and gate failures: no progress line and no warnings.
/// Results on stdout and the exit status stay the same.
struct QuietOptions: ParsableArguments {
  @Flag(name: [.short, .long], help: "Print nothing on stderr but errors: no progress, no warnings.")
  var quiet = false

  /// Prints `message` as a `quantscope: warning:` line on stderr, unless quiet.
  func warn(_ message: String) {
    guard !quiet else { return }
    FileHandle.standardError.write(Data("quantscope: warning: \(message)\n".utf8))
  }
}
