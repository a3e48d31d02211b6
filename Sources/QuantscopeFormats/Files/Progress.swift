/// Receives the progress of a long operation (hashing, decoding, writing).
///
/// Library code only counts; how progress is shown (a redrawn terminal line, JSON lines, nothing)
/// is the caller's business. Implementations must be thread-safe: worker threads call
/// ``advance(by:)`` concurrently.
public protocol ProgressObserver: Sendable {
  /// The operation starts; `total` units (normally bytes) are to be done.
  func start(total: Int)
  /// `count` more units are done.
  func advance(by count: Int)
  /// The operation ended (successfully or not).
  func finish()
}

/// A point-in-time view of an operation's progress, with its derived rate and ETA, and the two
/// ways quantscope prints it.
public struct ProgressSnapshot: Sendable, Equatable {
  /// Units done.
  public var done: Int
  /// Units in all.
  public var total: Int
  /// Seconds since the start.
  public var elapsed: Double

  /// Creates a snapshot.
  public init(done: Int, total: Int, elapsed: Double) {
    self.done = done
    self.total = total
    self.elapsed = elapsed
  }

  /// Units per second so far; 0 before any time has passed.
  public var rate: Double { elapsed > 0 ? Double(done) / elapsed : 0 }

  /// Estimated seconds left at the rate so far; `nil` while the rate is unknown.
  public var eta: Double? {
    guard rate > 0 else { return nil }
    return Double(max(total - done, 0)) / rate
  }

  /// Fraction done, 0…1.
  public var fraction: Double { total > 0 ? min(1, Double(done) / Double(total)) : 1 }

  /// One line for a terminal: `LABEL  1.2 GiB / 4.0 GiB  30%  850 MiB/s  ETA 0:04`.
  public func terminalLine(label: String) -> String {
    let pct = Int((fraction * 100).rounded(.down))
    var line = "\(label)  \(ProgressSnapshot.bytes(done)) / \(ProgressSnapshot.bytes(total))  \(pct)%"
    if rate > 0 { line += "  \(ProgressSnapshot.bytes(Int(rate.rounded())))/s" }
    if let eta { line += "  ETA \(ProgressSnapshot.duration(eta))" }
    return line
  }

  /// One JSON object on a line: `{"done":…,"total":…,"rate":…,"eta":…}` (rate in units per
  /// second, rounded; eta in seconds with one decimal, or `null`).
  public func jsonLine() -> String {
    let etaText: String
    if let eta { etaText = String(Double((eta * 10).rounded()) / 10) } else { etaText = "null" }
    return "{\"done\":\(done),\"total\":\(total),\"rate\":\(Int(rate.rounded())),\"eta\":\(etaText)}"
  }

  /// Bytes with a binary unit: `512 B`, `1.5 KiB`, `12.3 GiB`.
  public static func bytes(_ n: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
    var value = Double(n)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    if unit == 0 { return "\(n) B" }
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(tenths % 10) \(units[unit])"
  }

  /// Seconds as `M:SS` or `H:MM:SS`.
  public static func duration(_ seconds: Double) -> String {
    let s = seconds.isFinite ? Int(seconds.rounded()) : 0
    let (h, m, sec) = (s / 3600, (s / 60) % 60, s % 60)
    func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
    return h > 0 ? "\(h):\(two(m)):\(two(sec))" : "\(m):\(two(sec))"
  }
}
