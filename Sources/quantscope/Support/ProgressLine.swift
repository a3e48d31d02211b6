import Foundation

/// A one-line progress display on stderr (done, rate, ETA), only when stderr is a terminal.
final class ProgressLine: @unchecked Sendable {
  // Guarded by `lock`.
  private let lock = NSLock()
  private let label: String
  private let start = Date()
  private var lastDraw = Date.distantPast

  /// A progress line, or `nil` when stderr is not a terminal.
  init?(label: String) {
    guard isatty(2) != 0 else { return nil }
    self.label = label
  }

  func update(done: Int, total: Int) {
    lock.lock()
    defer { lock.unlock() }
    let now = Date()
    guard now.timeIntervalSince(lastDraw) > 0.1 || done == total else { return }
    lastDraw = now
    let elapsed = now.timeIntervalSince(start)
    let rate = elapsed > 0 ? Double(done) / elapsed : 0
    let eta = rate > 0 ? Double(total - done) / rate : 0
    let pct = total > 0 ? 100 * Double(done) / Double(total) : 100
    FileHandle.standardError.write(Data(String(format: "\r%@ %5.1f%%  %.1f M values/s  ETA %.0f s   ", label, pct, rate / 1e6, eta).utf8))
  }

  func finish() {
    FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
  }
}
