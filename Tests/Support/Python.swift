import Foundation

/// Runs the Python oracles (numpy, ml_dtypes, gguf-py, libgguf) that tests compare against.
public enum PythonOracle {
  /// The `python3` used.
  public static let executable = "/usr/bin/env"

  /// Runs `python3 ARGS…` and returns its standard output; throws with its stderr on failure.
  @discardableResult
  public static func run(_ arguments: [String]) throws -> String {
    let r = try ProcessRunner.run(program: "python3", arguments)
    guard r.status == 0 else {
      throw OracleError(message: "python3 \(arguments.joined(separator: " ")) failed: " + r.stderrText)
    }
    return r.stdoutText
  }

  /// Runs a script from `Tests/Support/python/`.
  @discardableResult
  public static func script(_ name: String, _ arguments: [String]) throws -> String {
    try run([TestPaths.repository.appendingPathComponent("Tests/Support/python/\(name)").path] + arguments)
  }

  /// A failed oracle run.
  public struct OracleError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
    public init(message: String) { self.message = message }
  }
}
