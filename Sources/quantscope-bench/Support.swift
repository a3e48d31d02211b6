import Dispatch
import Foundation
import QuantscopeCodecs
import QuantscopeFormats

/// A raw pointer handed to `concurrentPerform` workers. Invariant: workers only read through
/// `source` pointers and each writes a disjoint range of `destination` pointers.
struct SendablePointer<P>: @unchecked Sendable {
  let pointer: P
}

/// Seconds taken by `body`.
@inline(never)
func seconds(_ body: () -> Void) -> Double {
  let start = DispatchTime.now().uptimeNanoseconds
  body()
  return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// The fastest of `repeats` runs.
func bestOf(_ repeats: Int, _ body: () -> Void) -> Double {
  var best = Double.infinity
  for _ in 0..<repeats { best = min(best, seconds(body)) }
  return best
}

/// Cores used for the all-core figures.
let coreCount = max(1, ProcessInfo.processInfo.activeProcessorCount)

/// A deterministic generator (xorshift64*) so runs are comparable.
struct Random {
  var state: UInt64
  init(seed: UInt64) { state = seed | 1 }
  mutating func next() -> UInt64 {
    state ^= state >> 12
    state ^= state << 25
    state ^= state >> 27
    return state &* 2_685_821_657_736_338_717
  }
  /// Uniform in [0, 1).
  mutating func uniform() -> Float { Float(next() >> 40) * 0x1p-24 }
  /// Approximately normal (sum of four uniforms, centred and scaled).
  mutating func gaussian() -> Float {
    (uniform() + uniform() + uniform() + uniform() - 2) * 1.7320508
  }
}

/// The types to run: the requested ones, or every registered codec in id order.
func selectedTypes(_ requested: [GGMLType]?, where include: (BlockCodec) -> Bool) -> [BlockCodec] {
  let all = Codecs.all.values.filter(include).sorted { $0.type < $1.type }
  guard let requested else { return all }
  return requested.compactMap { t in
    let codec = all.first { $0.type == t }
    if codec == nil { print("\(t.name): no kernel registered, skipped") }
    return codec
  }
}

/// Pads `s` on the right to `width` characters.
func pad(_ s: String, _ width: Int) -> String {
  s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
}

/// Pads `s` on the left to `width` characters.
func padLeft(_ s: String, _ width: Int) -> String {
  s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
}

/// `x` with `digits` decimals.
func fixed(_ x: Double, _ digits: Int = 1) -> String {
  String(format: "%.\(digits)f", x)
}

/// The fastest run of each body, measured in alternating rounds (each round runs every body
/// once, the starting body rotating) so that a burst of load from other processes, a frequency
/// change or a page-cache effect falls on all competitors alike rather than on whichever ran
/// second. Every body runs once untimed first (page faults, lazy tables). Stops after `rounds`
/// rounds once every body has also been timed for at least `minimumSeconds` in total.
func alternatingBest(rounds: Int, minimumSeconds: Double = 0, _ bodies: [() -> Void]) -> [Double] {
  for body in bodies { body() }
  var best = [Double](repeating: .infinity, count: bodies.count)
  var total = [Double](repeating: 0, count: bodies.count)
  var round = 0
  while round < rounds || total.contains(where: { $0 < minimumSeconds }) {
    for k in bodies.indices {
      let i = (k + round) % bodies.count
      let t = seconds(bodies[i])
      best[i] = min(best[i], t)
      total[i] += t
    }
    round += 1
  }
  return best
}

/// Where two byte ranges first differ and how many `unit`-byte elements differ, or `nil` when
/// they are identical: the bit-exactness check printed beside every ggml comparison.
func differences(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, bytes: Int, unit: Int) -> (count: Int, first: Int)? {
  if memcmp(a, b, bytes) == 0 { return nil }
  var count = 0
  var first = -1
  for i in 0..<(bytes / unit) where memcmp(a + i * unit, b + i * unit, unit) != 0 {
    if first < 0 { first = i }
    count += 1
  }
  return (count, max(first, 0))
}

/// Splits `count` items into `coreCount × 4` contiguous chunks run by `concurrentPerform`.
func parallelChunks(_ count: Int, _ body: @Sendable (Int, Int) -> Void) {
  let chunks = coreCount * 4
  let per = (count + chunks - 1) / chunks
  DispatchQueue.concurrentPerform(iterations: chunks) { i in
    let start = i * per
    let n = min(per, count - start)
    if n > 0 { body(start, n) }
  }
}

/// `numerator / denominator` as a ratio cell (`0.83×`), or a dash when there is no denominator.
func ratio(_ numerator: Double, _ denominator: Double?) -> String {
  guard let denominator, denominator > 0 else { return "—" }
  return fixed(numerator / denominator, 2) + "×"
}

/// One line of the machine's state, printed with every run because on a shared machine the
/// figures mean little without it.
func machineLine() -> String {
  let cpu =
    (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.split(separator: "\n")
    .first { $0.hasPrefix("model name") }?.split(separator: ":", maxSplits: 1).last
    .map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
  let load =
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3)
    .joined(separator: " ") ?? "unknown"
  return "machine: \(cpu), \(coreCount) cores, load average \(load)"
}
