/// The tests' one seeded generator (SplitMix64): the same inputs on every run and machine.
public struct SplitMix: RandomNumberGenerator, Sendable {
  /// The generator's state; the next output mixes it after adding the golden-ratio step.
  public var state: UInt64

  /// A generator starting from `seed`.
  public init(seed: UInt64) { state = seed }

  /// The next 64 pseudo-random bits.
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// `n` bytes: the little-endian bytes of successive outputs.
  public mutating func bytes(_ n: Int) -> [UInt8] {
    var out = [UInt8]()
    out.reserveCapacity(n + 8)
    while out.count < n { withUnsafeBytes(of: next().littleEndian) { out.append(contentsOf: $0) } }
    return Array(out.prefix(n))
  }
}
