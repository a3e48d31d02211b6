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
