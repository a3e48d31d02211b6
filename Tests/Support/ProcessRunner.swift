import Dispatch
import Foundation

/// What a child process left behind.
public struct ProcessResult: Sendable {
  /// Exit status (or the signal number, when it was killed by one).
  public var status: Int32
  /// Everything it wrote to standard output.
  public var stdout: Data
  /// Everything it wrote to standard error.
  public var stderr: Data

  /// Standard output decoded as UTF-8.
  public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
  /// Standard error decoded as UTF-8.
  public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// The one way tests run a child process.
///
/// Standard output and standard error are drained concurrently (and standard input fed
/// concurrently), so a child that fills one pipe while the test reads the other cannot deadlock.
public enum ProcessRunner {
  /// Runs `executable` with `arguments` and waits for it.
  ///
  /// - Parameters:
  ///   - input: bytes for standard input (`nil`: /dev/null).
  ///   - directory: the working directory (`nil`: this process's).
  ///   - environment: variables added to (or replacing) this process's environment.
  public static func run(
    _ executable: String, _ arguments: [String], input: Data? = nil, in directory: URL? = nil,
    environment: [String: String] = [:]
  ) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    if !environment.isEmpty {
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    }
    let out = Pipe(), err = Pipe()
    let inPipe = input.map { _ in Pipe() }
    process.standardOutput = out
    process.standardError = err
    process.standardInput = inPipe ?? FileHandle.nullDevice
    try process.run()

    let group = DispatchGroup()
    let errData = Collected()
    DispatchQueue.global().async(group: group) {
      errData.set(err.fileHandleForReading.readDataToEndOfFile())
    }
    if let inPipe, let input {
      DispatchQueue.global().async(group: group) {
        // A child that exits without reading everything closes the pipe: ignore the failure.
        try? inPipe.fileHandleForWriting.write(contentsOf: input)
        try? inPipe.fileHandleForWriting.close()
      }
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, stdout: outData, stderr: errData.get())
  }

  /// Runs `/usr/bin/env NAME ARGUMENTS…`: a program found on `PATH`.
  public static func run(
    program name: String, _ arguments: [String], input: Data? = nil, in directory: URL? = nil,
    environment: [String: String] = [:]
  ) throws -> ProcessResult {
    try run("/usr/bin/env", [name] + arguments, input: input, in: directory, environment: environment)
  }

  /// Bytes handed from the reading thread to the waiting one (the group's wait orders the two).
  private final class Collected: @unchecked Sendable {
    private var data = Data()
    func set(_ value: Data) { data = value }
    func get() -> Data { data }
  }
}
