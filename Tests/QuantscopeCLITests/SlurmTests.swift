import Foundation
import QuantscopeTestSupport
import Testing

/// The contrib/slurm job arrays on a real Slurm: `scripts/slurm-test` installs slurm-wlm and
/// munge if missing, starts a single-node cluster on localhost, submits diff, audit, hash and tune
/// of the samples in 4 shards with dependent merges and a split requant with one split per task, and
/// checks the merged JSON, the manifest and every split against the single-process runs byte for
/// byte; the cluster is stopped by PID afterwards. It needs root and apt, so it runs only with
/// `QUANTSCOPE_SLURM=1` (scripts/test sets it under CI, and not in the sanitizer suites), and
/// says it was skipped otherwise.
@Suite("real Slurm", .serialized)
struct SlurmTests {
  static let enabled: Bool = {
    let on = ProcessInfo.processInfo.environment["QUANTSCOPE_SLURM"] == "1"
    if !on { print("SlurmTests skipped: set QUANTSCOPE_SLURM=1 (root, apt) to run contrib/slurm on a local cluster") }
    return on
  }()

  @Test(.enabled(if: SlurmTests.enabled, "QUANTSCOPE_SLURM=1 not set"))
  func `sharded diff, audit, hash, tune and split requant on a local Slurm equal the single runs`() throws {
    let script = TestPaths.repository.appendingPathComponent("scripts/slurm-test").path
    let r = try CLI.run(script, [CLI.binary])
    print(r.stdout)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("slurm-test: passed"))
    // One line per merged output (diff, audit, hash, tune) and per split file (3 of them).
    #expect(r.stdout.components(separatedBy: "\nok: ").count - 1 >= 7, "\(r.stdout)")
  }
}
