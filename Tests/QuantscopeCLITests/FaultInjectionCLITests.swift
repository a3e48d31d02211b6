import Foundation
import QuantscopeTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The process-level guarantees: `kill -9` during `requant` leaves no file at the output name,
/// and an input that shrinks while mapped (SIGBUS) is a one-line error with exit status 1, not
/// a crash, with no output left behind.
@Suite("fault injection: kill -9 and SIGBUS", .serialized)
struct FaultInjectionCLITests {
  /// Starts quantscope with output to files in `dir`.
  static func start(_ arguments: [String], in dir: URL) throws -> (Process, URL) {
    let errURL = dir.appendingPathComponent("stderr")
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: CLI.binary)
    p.arguments = arguments
    p.standardOutput = FileHandle.nullDevice
    p.standardError = try FileHandle(forWritingTo: errURL)
    try p.run()
    return (p, errURL)
  }

  /// Waits until `condition` holds, polling, for at most `seconds`.
  static func wait(seconds: Double, until condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if condition() { return true }
      usleep(5_000)
    }
    return condition()
  }

  @Test func `kill -9 in the middle of requant leaves no file at the output name`() throws {
    let dir = try TestPaths.temporaryDirectory("kill9")
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q4_K_M.gguf").path
    let inputBefore = try Data(contentsOf: URL(fileURLWithPath: input))
    let output = dir.appendingPathComponent("out.gguf")
    // Quantizing every tensor anew from the FP8 reference on one thread takes seconds.
    let (p, _) = try Self.start(
      [
        "requant", input, "-o", output.path, "--recipe", "q4_k_m", "--regenerate", "all",
        "--ref", TestPaths.samples.appendingPathComponent("deepseek-tiny-fp8").path, "--threads", "1",
      ], in: dir)
    func temporaries() -> [String] {
      ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasPrefix(".out.gguf.tmp-") }
    }
    // Wait until the temporary output exists and has grown: the kill lands mid-write. The wait
    // ends as soon as it has; its bound is generous because under the thread sanitizer on a
    // loaded 2-core machine the first bytes took over a minute.
    let writing = Self.wait(seconds: 600) {
      temporaries().contains { name in
        let size =
          (try? FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(name).path)[.size] as? Int) ?? 0
        return size > 0
      } || !p.isRunning
    }
    #expect(writing)
    #expect(p.isRunning, "requant finished before it could be killed")
    kill(p.processIdentifier, SIGKILL)
    p.waitUntilExit()
    #expect(p.terminationReason == .uncaughtSignal)
    #expect(p.terminationStatus == SIGKILL)
    #expect(!FileManager.default.fileExists(atPath: output.path), "a file appeared at the output name")
    // A dot-named temporary file may remain after kill -9 (nothing can remove it); never more.
    #expect(temporaries().count <= 1)
    #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == inputBefore)
  }

  /// A /proc file's text, read with read(2) until end of file (its stat size is 0).
  static func readProcFile(_ path: String) -> String {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n <= 0 { break }
      out += buffer[0..<n]
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// A safetensors file with one U8 tensor of `bytes` bytes, written sparse (a hole).
  static func sparseSafetensors(_ path: String, bytes: Int) throws {
    var header = Array(#"{"x":{"dtype":"U8","shape":[\#(bytes)],"data_offsets":[0,\#(bytes)]}}"#.utf8)
    header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
    var file: [UInt8] = []
    withUnsafeBytes(of: UInt64(header.count).littleEndian) { file += $0 }
    file += header
    FileManager.default.createFile(atPath: path, contents: Data(file))
    let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try h.truncate(atOffset: UInt64(file.count + bytes))
    try h.close()
  }

  @Test func `an input truncated while hashing is a one-line error, not a crash`() throws {
    let dir = try TestPaths.temporaryDirectory("sigbus")
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("big.safetensors").path
    let manifest = dir.appendingPathComponent("manifest.json")
    var outcome = ""
    // The truncation has to land while the tensor is being read; a fast machine may finish
    // first, so the file grows until it does (4 GiB of hole reads in a few seconds at most).
    for gib in [4, 16] {
      try Self.sparseSafetensors(input, bytes: gib << 30)
      let (p, errURL) = try Self.start(["hash", input, "-o", manifest.path, "--threads", "2"], in: dir)
      // Wait until the file is mapped (slow under sanitizers), then a little into the reading.
      let mapped = Self.wait(seconds: 60) {
        Self.readProcFile("/proc/\(p.processIdentifier)/maps").contains(input)
          || !p.isRunning
      }
      #expect(mapped)
      usleep(100_000)
      // Stop it, cut the file to its header, let it go on: its next page read is past the end.
      kill(p.processIdentifier, SIGSTOP)
      let h = try FileHandle(forWritingTo: URL(fileURLWithPath: input))
      try h.truncate(atOffset: 64)
      try h.close()
      kill(p.processIdentifier, SIGCONT)
      p.waitUntilExit()
      let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
      if p.terminationStatus == 0 {
        outcome = "finished before the truncation"
        try? FileManager.default.removeItem(at: manifest)
        continue
      }
      #expect(p.terminationReason == .exit, "killed by signal \(p.terminationStatus): \(stderr)")
      #expect(p.terminationStatus == 1)
      let lines = stderr.split(separator: "\n")
      #expect(lines.count == 1, "\(stderr)")
      let line = String(lines.first ?? "")
      // Either the read was under way (SIGBUS) or the open came after the cut (a size error).
      if line.contains("SIGBUS") {
        #expect(line == "quantscope: error: \(input): input file changed while being read (SIGBUS)")
        outcome = "SIGBUS"
      } else {
        outcome = "error before reading: \(line)"
        Issue.record("the truncation came before the file was mapped: \(line)")
      }
      #expect(!FileManager.default.fileExists(atPath: manifest.path))
      let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".manifest") }
      #expect(left.isEmpty, "temporary output left: \(left)")
      break
    }
    #expect(outcome == "SIGBUS")
  }
}
