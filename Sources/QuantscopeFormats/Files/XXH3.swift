import CXXHash

/// A 128-bit XXH3 digest.
///
/// Its text form (``hex``) is the canonical big-endian form that `xxhsum -H2` and Python's
/// `xxhash.xxh3_128_hexdigest` print: the high 64 bits first, 32 lowercase hex digits.
public struct XXH3Digest128: Hashable, Sendable, CustomStringConvertible, Comparable {
  /// The high 64 bits.
  public var high: UInt64
  /// The low 64 bits.
  public var low: UInt64

  /// Creates a digest from its two halves.
  public init(high: UInt64, low: UInt64) {
    self.high = high
    self.low = low
  }

  init(_ h: XXH128_hash_t) { self.init(high: h.high64, low: h.low64) }

  /// Parses 32 hex digits (either case) in canonical order; `nil` for anything else.
  public init?(hex: String) {
    let utf8 = Array(hex.utf8)
    guard utf8.count == 32 else { return nil }
    func parse(_ slice: ArraySlice<UInt8>) -> UInt64? {
      var v: UInt64 = 0
      for c in slice {
        let d: UInt8
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
        default: return nil
        }
        v = v << 4 | UInt64(d)
      }
      return v
    }
    guard let h = parse(utf8[0..<16]), let l = parse(utf8[16..<32]) else { return nil }
    self.init(high: h, low: l)
  }

  /// The 16 bytes of the canonical (big-endian) form, as libxxhash's
  /// `XXH128_canonicalFromHash` lays them out.
  public var canonicalBytes: [UInt8] {
    var canonical = XXH128_canonical_t()
    XXH128_canonicalFromHash(&canonical, XXH128_hash_t(low64: low, high64: high))
    return withUnsafeBytes(of: canonical.digest) { Array($0) }
  }

  /// 32 lowercase hex digits of the canonical form.
  public var hex: String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(32)
    for b in canonicalBytes {
      out.append(digits[Int(b >> 4)])
      out.append(digits[Int(b & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// The same as ``hex``.
  public var description: String { hex }

  /// Orders digests by their canonical bytes (high half first).
  public static func < (a: Self, b: Self) -> Bool { (a.high, a.low) < (b.high, b.low) }
}

/// One-shot XXH3 hashes (seed 0) over libxxhash's run-time dispatched entry points, which pick
/// SSE2, AVX2 or AVX-512 on the machine they run on.
public enum XXH3 {
  /// XXH3-128 of `bytes`. The corresponding C function is `XXH3_128bits_dispatch`.
  public static func hash128(_ bytes: UnsafeRawBufferPointer) -> XXH3Digest128 {
    XXH3Digest128(XXH3_128bits_dispatch(bytes.baseAddress, bytes.count))
  }

  /// XXH3-128 of `bytes`.
  public static func hash128(_ bytes: [UInt8]) -> XXH3Digest128 {
    bytes.withUnsafeBytes { hash128($0) }
  }

  /// XXH3-64 of `bytes`. The corresponding C function is `XXH3_64bits_dispatch`.
  public static func hash64(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    XXH3_64bits_dispatch(bytes.baseAddress, bytes.count)
  }

  /// XXH3-64 of `bytes`.
  public static func hash64(_ bytes: [UInt8]) -> UInt64 {
    bytes.withUnsafeBytes { hash64($0) }
  }
}

/// The part shared by both streaming hashers: one `XXH3_state_t`, freed in `deinit`.
///
/// Not `Sendable`: a hasher is fed by one thread at a time; hash different data on different
/// threads with different hashers.
public class XXH3StreamingState {
  let state: OpaquePointer

  init() {
    // XXH3_createState only fails when malloc does; there is nothing sensible to do then.
    guard let s = XXH3_createState() else { fatalError("XXH3_createState: out of memory") }
    state = s
  }

  deinit { XXH3_freeState(state) }
}

/// Streaming XXH3-128 (seed 0): feed bytes in any number of pieces, and the digest equals
/// `XXH3.hash128` of their concatenation.
public final class XXH3Hasher128: XXH3StreamingState {
  /// Creates a hasher with nothing fed. The corresponding C function is `XXH3_128bits_reset`.
  public override init() {
    super.init()
    reset()
  }

  /// Forgets everything fed so far.
  public func reset() { _ = XXH3_128bits_reset(state) }

  /// Feeds `bytes`. The corresponding C function is `XXH3_128bits_update_dispatch`.
  public func update(_ bytes: UnsafeRawBufferPointer) {
    guard bytes.count > 0 else { return }
    _ = XXH3_128bits_update_dispatch(state, bytes.baseAddress, bytes.count)
  }

  /// Feeds `bytes`.
  public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

  /// The digest of everything fed so far; feeding may continue afterwards.
  /// The corresponding C function is `XXH3_128bits_digest`.
  public func digest() -> XXH3Digest128 { XXH3Digest128(XXH3_128bits_digest(state)) }
}

/// Streaming XXH3-64 (seed 0): feed bytes in any number of pieces.
public final class XXH3Hasher64: XXH3StreamingState {
  /// Creates a hasher with nothing fed. The corresponding C function is `XXH3_64bits_reset`.
  public override init() {
    super.init()
    reset()
  }

  /// Forgets everything fed so far.
  public func reset() { _ = XXH3_64bits_reset(state) }

  /// Feeds `bytes`. The corresponding C function is `XXH3_64bits_update_dispatch`.
  public func update(_ bytes: UnsafeRawBufferPointer) {
    guard bytes.count > 0 else { return }
    _ = XXH3_64bits_update_dispatch(state, bytes.baseAddress, bytes.count)
  }

  /// Feeds `bytes`.
  public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

  /// The digest of everything fed so far; feeding may continue afterwards.
  /// The corresponding C function is `XXH3_64bits_digest`.
  public func digest() -> UInt64 { XXH3_64bits_digest(state) }
}
