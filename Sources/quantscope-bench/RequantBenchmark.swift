import Foundation
import QuantscopeFormats

#if canImport(Glibc)
  import Glibc
#endif

/// `requant`: end-to-end throughput and peak memory of `quantscope requant INPUT --recipe R --ref REF`
/// on a generated pair, run as a child process of the release binary so that its peak resident
/// set (`ru_maxrss` from `wait4`) is the command's own, at 1 thread and at every core.
///
/// `quantscope-bench requant --pair DIR [--binary PATH] [--recipe R] [--repeat N]`; `DIR` is what
/// `scripts/bench/make-diff-pair.py DIR` wrote (`candidate.gguf`, `ref/`).
struct RequantBenchmark {
  let pair: String
  let binary: String
  let recipe: String
  let repeats: Int
  let regenerateAll: Bool

  /// One child run: wall seconds and peak RSS in bytes.
  struct Measurement {
    let seconds: Double
    let peakBytes: Int
    let requantized: Int
    let requantizedWeights: Int
  }

  func run() throws {
    let input = pair + "/candidate.gguf"
    let reference = pair + "/ref"
    let model = try GGUFModel(path: input)
    let weights = model.tensors.reduce(0) { $0 + $1.elementCount }
    let elements = Dictionary(model.tensors.map { ($0.name, $0.elementCount) }, uniquingKeysWith: { a, _ in a })
    let referenceBytes = try FileManager.default.contentsOfDirectory(atPath: reference).reduce(0) {
      $0 + ((try? FileManager.default.attributesOfItem(atPath: reference + "/" + $1)[.size] as? Int) ?? 0)
    }
    let output = NSTemporaryDirectory() + "quantscope-bench-requant-\(getpid()).gguf"
    defer { try? FileManager.default.removeItem(atPath: output) }
    let loads = loadAverages()
    print(
      "requant: \(binary) requant \(input) --recipe \(recipe) --ref \(reference)\(regenerateAll ? " --regenerate all" : "")"
    )
    print(
      "  best of \(repeats) runs, \(coreCount) cores, load average \(loads) before; \(weights) weights in the input, "
        + "\(referenceBytes) bytes of reference")
    print(
      [
        pad("threads", 9), padLeft("seconds", 10), padLeft("weights/s", 12), padLeft("requantized", 12),
        padLeft("req. w/s", 12), padLeft("peak RSS MB", 12), padLeft("speed-up", 10),
      ].joined())
    var oneThread: Double?
    for threads in Set([1, coreCount]).sorted() {
      // The fastest run's time; the largest peak of all runs (memory is not a best-of figure).
      var runs: [Measurement] = []
      for _ in 0..<repeats {
        runs.append(
          try measure(input: input, reference: reference, output: output, threads: threads, elements: elements))
      }
      guard let fastest = runs.min(by: { $0.seconds < $1.seconds }) else { continue }
      let m = Measurement(
        seconds: fastest.seconds, peakBytes: runs.map(\.peakBytes).max() ?? 0, requantized: fastest.requantized,
        requantizedWeights: fastest.requantizedWeights)
      if threads == 1 { oneThread = m.seconds }
      print(
        [
          pad("\(threads)", 9), padLeft(fixed(m.seconds, 3), 10),
          padLeft(String(format: "%.3g", Double(weights) / m.seconds), 12), padLeft("\(m.requantized)", 12),
          padLeft(String(format: "%.3g", Double(m.requantizedWeights) / m.seconds), 12),
          padLeft(fixed(Double(m.peakBytes) / 1e6, 1), 12),
          padLeft(oneThread.map { fixed($0 / m.seconds, 2) + "×" } ?? "", 10),
        ].joined())
    }
    print("  load average after: \(loadAverages())")
  }

  /// Runs the binary once; fails when it exits non-zero.
  func measure(
    input: String, reference: String, output: String, threads: Int, elements: [String: Int]
  ) throws -> Measurement {
    var arguments = [
      binary, "requant", input, "--recipe", recipe, "--ref", reference, "-o", output, "--force", "--json",
      "--progress", "none", "--threads", "\(threads)",
    ]
    if regenerateAll { arguments += ["--regenerate", "all"] }
    let outputPipe = Pipe()
    var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, outputPipe.fileHandleForWriting.fileDescriptor, 1)
    let argv = arguments.map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    let start = DispatchTime.now().uptimeNanoseconds
    let spawned = posix_spawn(&pid, binary, &actions, nil, argv, environ)
    guard spawned == 0 else {
      throw FormatError(.io, path: binary, "cannot start: \(String(cString: strerror(spawned)))")
    }
    try outputPipe.fileHandleForWriting.close()
    let json = outputPipe.fileHandleForReading.readDataToEndOfFile()
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
      throw FormatError(.io, path: binary, "requant exited with status \(status); run it by hand to see why")
    }
    // The names requantized, from the command's own JSON report.
    var requantized = 0
    var requantizedWeights = 0
    if let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any],
      let list = object["requantized"] as? [[String: Any]]
    {
      requantized = list.count
      requantizedWeights = list.reduce(0) { $0 + (elements[($1["name"] as? String) ?? ""] ?? 0) }
    }
    // Linux reports ru_maxrss in KiB.
    return Measurement(
      seconds: elapsed, peakBytes: Int(usage.ru_maxrss) * 1024, requantized: requantized,
      requantizedWeights: requantizedWeights)
  }

  /// `/proc/loadavg`'s three averages, or "unknown".
  func loadAverages() -> String {
    guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "unknown" }
    return text.split(separator: " ").prefix(3).joined(separator: " ")
  }
}
