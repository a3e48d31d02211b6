#if canImport(Glibc)
  @preconcurrency import Glibc
#endif

/// Makes a failed write to standard output an error, as coreutils' `close_stdout` does.
///
/// Text goes to stdout through C stdio (`print`), which remembers a failed `write(2)` but never
/// reports it; without this, `quantscope hash m.gguf > /dev/full` would exit 0 with nothing
/// written. At process exit — after success, an error or `--help` alike — stdout is flushed and
/// closed; a failure prints `quantscope: error: standard output: write error: …` and the exit
/// status becomes 1. A reader that went away (`| head`, EPIPE) ends the process quietly by
/// SIGPIPE, as coreutils end.
enum StandardOutput {
  /// Registers the check to run at exit (once, first thing in `main`).
  static func checkAtExit() {
    // The default action for SIGPIPE: a closed pipe ends the process at the first write, quietly,
    // instead of letting it compute for hours into nowhere.
    _ = signal(SIGPIPE, SIG_DFL)
    atexit(closeStandardOutput)
  }
}

private func closeStandardOutput() {
  var failure: Int32 = 0
  if fflush(stdout) != 0 { failure = errno }
  if failure == 0 && ferror(stdout) != 0 { failure = errno != 0 ? errno : EIO }
  if fclose(stdout) != 0 && failure == 0 && errno != EBADF { failure = errno }
  guard failure != 0 else { return }
  if failure == EPIPE {
    _ = signal(SIGPIPE, SIG_DFL)
    _ = raise(SIGPIPE)
    _exit(141)
  }
  let message = "quantscope: error: standard output: write error: \(String(cString: strerror(failure)))\n"
  _ = message.withCString { write(2, $0, strlen($0)) }
  _exit(ExitStatus.error)
}
