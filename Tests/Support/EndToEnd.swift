import Foundation

/// The switch for suites that run the whole pipeline many times over (fixtures made by the Python oracles,
/// every shard count, requant then diff per preset).
///
/// They run in the main suite. The address- and thread-sanitizer suites skip them, since those runs cost two to
/// three times as much and check memory and threads on the same code through the unit suites; `scripts/test`
/// sets `QUANTSCOPE_SKIP_END_TO_END=1` for them.
public enum EndToEnd {
  /// Whether end-to-end suites are skipped in this run.
  public static var skipped: Bool { ProcessInfo.processInfo.environment["QUANTSCOPE_SKIP_END_TO_END"] == "1" }
  /// Why they are skipped, as the test report prints it.
  public static let reason = "end-to-end suite: skipped when QUANTSCOPE_SKIP_END_TO_END=1 (the sanitizer runs)"
}
