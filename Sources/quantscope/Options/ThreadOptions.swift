import ArgumentParser
import QuantscopeAnalysis
import QuantscopeFormats

/// `--threads`, shared by every command that spreads work over cores.
///
/// One help text and one check for all: a count below 1 or above ``Limits/maximumThreads`` is a
/// usage error before any file is opened.
struct ThreadOptions: ParsableArguments {
  @Option(help: ArgumentHelp("Worker threads (default: all cores); results do not depend on it.", valueName: "n"))
  var threads: Int?

  func validate() throws {
    guard let threads else { return }
    if threads < 1 { throw ValidationError("--threads must be at least 1 (got \(threads))") }
    if threads > Limits.maximumThreads {
      throw ValidationError("--threads must be at most \(Limits.maximumThreads) (got \(threads))")
    }
  }

  /// The count asked for, or every core.
  var count: Int { threads ?? ParallelWork.availableCores }
}
