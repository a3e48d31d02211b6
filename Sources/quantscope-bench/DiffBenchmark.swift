import Dispatch
import Foundation
import QuantscopeAnalysis
import QuantscopeCodecs
import QuantscopeFormats

/// `diff`: throughput of `quantscope diff` (the `Diff` library) on the samples and on a generated
/// pair, beside a decode-only pass through the same row views and the Python pipeline a user
/// would otherwise write (scripts/bench/python_diff.py), all measured in the same run.
///
/// `quantscope-bench diff [--pair DIR] [--repeat N] [--no-python] [--python SCRIPT]`; `DIR` is what
/// `scripts/bench/make-diff-pair.py DIR` wrote (`candidate.gguf`, `ref/`).
struct DiffBenchmark {
  /// One candidate/reference pair to time.
  struct Input {
    let label: String
    let candidate: String
    let reference: String
  }

  var inputs: [Input] = []
  var repeats = 3
  var runPython = true
  var pythonScript = "scripts/bench/python_diff.py"

  /// One line of the table.
  struct Row {
    let input: String
    let what: String
    let weights: Int
    let referenceBytes: Int
    let seconds: Double
    var speedUp: String = ""
    var decodeRatio: String = ""
  }

  /// Runs every input; returns whether every MSE agreed with the Python pipeline's.
  func run() throws -> Bool {
    print(
      "diff: best of \(repeats) runs, \(coreCount) cores, \(ErrorAccumulator.kernelBuild) metric kernel; "
        + "Python: \(runPython ? pythonScript : "skipped")")
    var rows: [Row] = []
    var agreed = true
    for input in inputs {
      let candidate = try GGUFModel(path: input.candidate)
      let reference = try WeightFiles.open([input.reference])
      let jobs = try Self.jobs(candidate: candidate, reference: reference)
      let weights = jobs.reduce(0) { $0 + $1.candidate.decoder.tensor.elementCount }
      let referenceBytes = try Self.referenceBytes(candidate: candidate, reference: reference)

      // Warm the page cache and check the result once.
      var options = Diff.Options()
      options.threads = coreCount
      let result = try Diff.compute(candidate: candidate, reference: reference, options: options)

      var timed: [Row] = []
      var diffSeconds: [Int: Double] = [:]
      for threads in Set([1, coreCount]).sorted() {
        options.threads = threads
        let t = try bestOfThrowing(repeats) {
          _ = try Diff.compute(candidate: candidate, reference: reference, options: options)
        }
        diffSeconds[threads] = t
        timed.append(
          Row(
            input: input.label, what: "diff \(threads) thr", weights: weights, referenceBytes: referenceBytes,
            seconds: t))
      }
      for threads in Set([1, coreCount]).sorted() {
        let t = try bestOfThrowing(repeats) { try Self.decodeOnly(jobs, threads: threads) }
        timed.append(
          Row(
            input: input.label, what: "decode-only \(threads) thr", weights: weights, referenceBytes: referenceBytes,
            seconds: t))
        if let d = diffSeconds[threads], let i = timed.firstIndex(where: { $0.what == "diff \(threads) thr" }) {
          timed[i].decodeRatio = fixed(d / t, 2)
        }
      }

      if runPython {
        let python = try runPipeline(input)
        let row = Row(
          input: input.label, what: "python (numpy)", weights: weights, referenceBytes: referenceBytes,
          seconds: python.wall)
        for i in timed.indices where timed[i].what.hasPrefix("diff") {
          timed[i].speedUp = fixed(python.wall / timed[i].seconds, 1) + "×"
        }
        rows.append(row)
        agreed = check(result, against: python.mse, label: input.label) && agreed
        print("  \(input.label): python process \(fixed(python.process, 2)) s including interpreter start and imports")
      }
      rows += timed
    }
    printTable(rows)
    return agreed
  }

  /// The (candidate, reference) row views `Diff` decodes, built through the same public mapping.
  static func jobs(
    candidate: GGUFModel, reference: any TensorCollection
  ) throws -> [(candidate: SourceRows, reference: any ReferenceRows)] {
    let (mapping, heads) = try ReferenceMapping.resolve(reference: reference, for: candidate)
    var jobs: [(candidate: SourceRows, reference: any ReferenceRows)] = []
    for t in candidate.tensors {
      guard let ref = try mapping.rows(for: t.name, candidateShape: t.shape, precision: .exact, heads: heads) else {
        continue
      }
      jobs.append((try SourceRows(tensor: t, scale: nil, precision: .exact), ref))
    }
    return jobs
  }

  /// Bytes of the reference tensors (and their scales) the candidate's tensors map to, each counted once.
  static func referenceBytes(candidate: GGUFModel, reference: any TensorCollection) throws -> Int {
    let mapping = try ReferenceMapping.resolve(reference: reference, for: candidate).mapping
    var seen = Set<String>()
    var bytes = 0
    for t in candidate.tensors {
      for s in mapping.entries[t.name]?.sources ?? [] {
        for u in [s] + (mapping.scale(for: s).map { [$0] } ?? []) where seen.insert(u.name).inserted {
          bytes += u.byteCount
        }
      }
    }
    return bytes
  }

  /// Decodes every candidate and reference row in the chunks `Diff` uses, computing nothing from them.
  static func decodeOnly(_ jobs: [(candidate: SourceRows, reference: any ReferenceRows)], threads: Int) throws {
    struct Chunk { let job: Int; let rows: Range<Int> }
    var chunks: [Chunk] = []
    let chunkValues = Diff.Options().chunkValues
    for (j, job) in jobs.enumerated() {
      let per = max(1, chunkValues / max(1, job.reference.rowLength))
      var r = 0
      repeat {
        chunks.append(Chunk(job: j, rows: r..<min(job.reference.rowCount, r + per)))
        r += per
      } while r < job.reference.rowCount
    }
    let maxValues = chunks.map { $0.rows.count * jobs[$0.job].reference.rowLength }.max() ?? 0
    let box = SendableBox((jobs, chunks))
    try ParallelWork.run(count: chunks.count, threads: threads, scratchValues: maxValues) { i, scratch in
      let chunk = box.value.1[i]
      let (candidate, reference) = box.value.0[chunk.job]
      try candidate.decoder.decodeRows(chunk.rows, into: scratch.candidate)
      try reference.decodeRows(chunk.rows, into: scratch.reference)
    }
  }

  /// Runs the Python pipeline on `input`: its own wall time (after imports), the process's, and MSE per tensor.
  func runPipeline(
    _ input: Input
  ) throws -> (wall: Double, process: Double, mse: [String: (mse: Double, cosine: Double)]) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", pythonScript, input.candidate, input.reference]
    let pipe = Pipe()
    process.standardOutput = pipe
    let start = DispatchTime.now().uptimeNanoseconds
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    guard process.terminationStatus == 0 else {
      throw FormatError(.io, path: pythonScript, "exited with status \(process.terminationStatus)")
    }
    var wall = elapsed
    var mse: [String: (mse: Double, cosine: Double)] = [:]
    for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
      let f = line.split(separator: " ")
      if f.first == "TENSOR", f.count >= 6, let m = Double(f[4]), let c = Double(f[5]) { mse[String(f[1])] = (m, c) }
      if f.first == "WALL", f.count == 2, let w = Double(f[1]) { wall = w }
    }
    return (wall, elapsed, mse)
  }

  /// Whether every tensor's MSE and cosine agree with the Python pipeline's within 1e-9 relative.
  func check(_ diff: Diff, against python: [String: (mse: Double, cosine: Double)], label: String) -> Bool {
    var worst = 0.0
    var bad: [String] = []
    var badTensors = Set<String>()
    for t in diff.tensors {
      guard let p = python[t.name] else {
        bad.append("\(t.name) (not in Python output)")
        badTensors.insert(t.name)
        continue
      }
      guard let m = t.metrics else {
        bad.append("\(t.name) (NaN/Inf values: no metrics)")
        badTensors.insert(t.name)
        continue
      }
      for (name, ours, theirs) in [("MSE", m.mse, p.mse), ("cosine", m.cosine, p.cosine)] {
        let scale = max(abs(ours), abs(theirs))
        let rel = scale == 0 ? 0 : abs(ours - theirs) / scale
        worst = max(worst, rel)
        if rel > 1e-9 {
          bad.append("\(t.name) \(name): ours \(ours), python \(theirs)")
          badTensors.insert(t.name)
        }
      }
    }
    if python.count != diff.tensors.count {
      bad.append("tensor count: ours \(diff.tensors.count), python \(python.count)")
    }
    let agreeing = diff.tensors.count - badTensors.count
    print(
      "  \(label): MSE and cosine agree with Python on \(agreeing)/\(diff.tensors.count) tensors, "
        + "largest relative difference \(String(format: "%.2e", worst)) (limit 1e-9)")
    for b in bad.prefix(10) { print("    MISMATCH \(b)") }
    return bad.isEmpty
  }

  /// The table, fixed-width so runs can be compared line by line.
  func printTable(_ rows: [Row]) {
    let header = [
      ("input", 18), ("run", 18), ("weights", 13), ("ref bytes", 13), ("seconds", 10), ("weights/s", 12),
      ("ref MB/s", 10), ("vs Python", 10), ("diff/decode", 12),
    ]
    print(
      header.enumerated().map { $0.offset < 2 ? pad($0.element.0, $0.element.1) : padLeft($0.element.0, $0.element.1) }
        .joined())
    for r in rows {
      let cells = [
        pad(r.input, 18), pad(r.what, 18), padLeft("\(r.weights)", 13), padLeft("\(r.referenceBytes)", 13),
        padLeft(fixed(r.seconds, 4), 10), padLeft(String(format: "%.3g", Double(r.weights) / r.seconds), 12),
        padLeft(fixed(Double(r.referenceBytes) / r.seconds / 1e6, 1), 10), padLeft(r.speedUp, 10),
        padLeft(r.decodeRatio, 12),
      ]
      print(cells.joined())
    }
  }
}

/// A value handed to worker threads that only read it.
struct SendableBox<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}

/// The fastest of `repeats` runs of a throwing body.
func bestOfThrowing(_ repeats: Int, _ body: () throws -> Void) throws -> Double {
  var best = Double.infinity
  for _ in 0..<repeats {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
  }
  return best
}
