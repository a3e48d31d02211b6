import ArgumentParser
import Foundation
import QuantscopeFormats

/// The `quantscope` command: look inside LLM weight files and measure what quantization did.
@main
struct Quantscope: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "quantscope",
    abstract: "Look inside LLM weight files and measure what quantization did to them.",
    discussion: """
      quantscope memory-maps GGUF files (single or split) and safetensors checkpoints (single or \
      sharded), decodes every ggml block type bit-exactly, compares a quantized GGUF tensor by \
      tensor against a reference, and requantizes selected tensors.

      Exit status: 0 success, 1 error, 2 findings (verify problems, hash mismatches, diff \
      thresholds exceeded, a GGUF cut off mid-download), 64 usage error (an unknown option, a \
      malformed value, pattern, size or name: wrong for any file). Errors are one line: \
      "quantscope: error: FILE: what (tensor NAME, header record at byte N)" or "data at \
      byte N"; a usage error names the option.

      The same option means the same everywhere: --threads N (1 to 4096), --tensors REGEX \
      (an error when nothing matches), -o/--force, --json, --quiet (every subcommand: no \
      progress and no warnings, only errors), --color auto|always|never (every table; \
      NO_COLOR turns auto off). Metrics have one name in --sort, --fail-above, JSON and CSV \
      (max_abs, nmse_db, ...). Sizes print in the binary unit that fits (KiB, MiB, GiB = 2^10, \
      2^20, 2^30 bytes); sizes given as 50G mean 50*10^9 bytes, 48GiB 48*2^30.

      Long operations (hash, diff, stats, decode, verify --deep, requant) show progress on \
      stderr when it is a terminal: bytes done, rate and ETA; --progress json prints one JSON \
      object per line for wrappers.

      Outputs (-o, --report) appear only when complete and never replace an input: a name that \
      is the same file as any input (after links, by device and inode; every shard of a split \
      set, --ref files, the imatrix, the manifest of --check) is refused, --force or not, as \
      is a device or FIFO (use - for standard output). Inputs must be regular files; a FIFO \
      is refused at once. A failed write to standard output is exit status 1; a closed pipe \
      (| head) ends quietly. SIGINT and SIGTERM remove every temporary file and end the \
      process by that signal (status 130 or 143 in the shell). Names and strings from files \
      are printed with control characters escaped (\\n, \\u{1B}).

      Examples:
        quantscope inspect model-Q4_K_M.gguf
        quantscope diff model-Q3_K_M-00001-of-00007.gguf --ref DeepSeek-V3/ --top 20
        quantscope plan DeepSeek-V3/ --recipe dq3_k_m
        quantscope hash model.gguf -o model.manifest.json.zst
        quantscope help diff
      """,
    version: "\(QuantscopeVersion.number) (commit \(buildCommit))",
    subcommands: [
      Inspect.self,
      Diff.self,
      Audit.self,
      Compare.self,
      Requant.self,
      Recipes.self,
      Plan.self,
      Tune.self,
      Decode.self,
      Stats.self,
      Hash.self,
      Verify.self,
      Merge.self,
      Attribute.self,
    ]
  )

  /// Runs the command line with quantscope's error convention: every error, ArgumentParser's
  /// included, becomes one line on stderr, `quantscope: error: MESSAGE`, and exit status 64 for a
  /// usage mistake or 1 otherwise (``ErrorReporting``).
  static func main() {
    StandardOutput.checkAtExit()
    TemporaryFileCleanup.installSignalHandlers()
    MappedInputGuard.installSignalHandler()
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch {
      ErrorReporting.exit(with: error)
    }
  }
}

/// Exit statuses shared by every subcommand.
enum ExitStatus {
  static let success: Int32 = 0
  static let error: Int32 = 1
  static let findings: Int32 = 2
  static let usage: Int32 = 64
}

/// An error of the command line itself (not of a file), printed as one line by ``ErrorReporting``.
struct CommandFailure: Error {
  /// What is wrong, naming the option or file concerned.
  var message: String
  /// Whether the user asked for something wrong (exit status 64) rather than something failed (1).
  var isUsage: Bool

  /// A failure that is not the user's mistake in calling quantscope (exit status 1).
  init(_ message: String) {
    self.message = message
    self.isUsage = false
  }

  /// A usage mistake: a bad option value, name or combination (exit status 64).
  static func usage(_ message: String) -> CommandFailure {
    var failure = CommandFailure(message)
    failure.isUsage = true
    return failure
  }
}

/// Bounds on numeric options, checked in `validate()` so that absurd values are usage errors.
enum Limits {
  /// More worker threads than any machine has cores; beyond it `--threads` is a usage error.
  static let maximumThreads = 4096
}
