import Foundation
import QuantscopeTestSupport
import Testing

/// Runs the built `quantscope` binary and the Python oracles for every CLI test.
enum CLI {
  /// The built `quantscope` executable: beside the test bundle (SwiftPM puts both in the same
  /// build directory), a level or two up from it (bundles on other platforms), or in
  /// `.build/debug` of the repository.
  static let binary: String = {
    var candidates: [URL] = []
    let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var dir = runner.deletingLastPathComponent()
    for _ in 0..<3 {
      candidates.append(dir.appendingPathComponent("quantscope"))
      dir = dir.deletingLastPathComponent()
    }
    candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("quantscope"))
    candidates.append(Bundle.main.bundleURL.appendingPathComponent("quantscope"))
    let fallback = TestPaths.repository.appendingPathComponent(".build/debug/quantscope")
    candidates.append(fallback)
    return (candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? fallback).path
  }()

  /// The result of running a process.
  struct Run {
    /// Exit status (or the signal number, for a process killed by a signal).
    var status: Int32
    /// Standard output, as bytes.
    var data: Data
    /// Standard error as text.
    var stderr: String
    /// Standard output as text.
    var stdout: String { String(decoding: data, as: UTF8.self) }
  }

  /// Runs `executable` with `arguments` (in `directory`, with `environment` added to this
  /// process's) through the shared ``ProcessRunner``; standard input is /dev/null.
  static func run(
    _ executable: String, _ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:]
  ) throws -> Run {
    let r = try ProcessRunner.run(executable, arguments, in: directory, environment: environment)
    return Run(status: r.status, data: r.stdout, stderr: r.stderrText)
  }

  /// Runs quantscope with `arguments`.
  static func quantscope(
    _ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:]
  ) throws -> Run {
    try run(binary, arguments, in: directory, environment: environment)
  }

  /// Runs `python3 -W ignore -c script args…`; a failure is recorded as a test issue with its
  /// stderr (and the result still returned, so callers can look at it).
  @discardableResult
  static func python(_ script: String, _ arguments: [String] = []) throws -> Run {
    let r = try run("/usr/bin/env", ["python3", "-W", "ignore", "-c", script] + arguments)
    if r.status != 0 { Issue.record("python3 failed: \(r.stderr)") }
    return r
  }

  /// Runs a python3 script that prints one JSON object, and decodes it.
  static func pythonJSON(_ script: String, _ arguments: [String]) throws -> [String: Any] {
    let r = try python(script, arguments)
    return try #require(try JSONSerialization.jsonObject(with: r.data) as? [String: Any])
  }

  /// Names in `dir`, sorted.
  static func listing(_ dir: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
  }
}

/// Runs quantscope with `arguments`.
func quantscope(_ arguments: String...) throws -> CLI.Run { try CLI.quantscope(arguments) }

/// Runs `executable` with `arguments`.
func run(_ executable: String, _ arguments: [String]) throws -> CLI.Run { try CLI.run(executable, arguments) }

/// Runs `python3 -c script args…`, recording a test issue with its stderr when it fails.
@discardableResult
func python(_ script: String, _ arguments: [String]) throws -> CLI.Run { try CLI.python(script, arguments) }
