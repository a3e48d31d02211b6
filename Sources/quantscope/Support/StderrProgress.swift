import Foundation
import QuantscopeFormats
import Synchronization

/// Shows progress on stderr: a line redrawn with a carriage return, or JSON lines.
///
/// Thread-safe: worker threads call ``advance(by:)``; drawing is throttled (5 redraws a second
/// for the line, one JSON line a second) under a lock.
final class StderrProgress: ProgressObserver {
  /// Whether stderr is a terminal.
  static var stderrIsTerminal: Bool { isatty(2) == 1 }

  private struct State {
    var done = 0
    var total = 0
    var start = ContinuousClock.now
    var lastDraw: ContinuousClock.Instant?
    var drewLine = false
  }

  let label: String
  let json: Bool
  private let state = Mutex(State())

  init(label: String, json: Bool) {
    self.label = label
    self.json = json
  }

  func start(total: Int) {
    state.withLock {
      $0 = State()
      $0.total = total
      draw(&$0, force: true)
    }
  }

  func advance(by count: Int) {
    state.withLock {
      $0.done += count
      draw(&$0, force: false)
    }
  }

  func finish() {
    state.withLock {
      draw(&$0, force: true)
      if !json && $0.drewLine { emit("\r\u{1B}[K") }
    }
  }

  private func draw(_ s: inout State, force: Bool) {
    let now = ContinuousClock.now
    let interval: Duration = json ? .seconds(1) : .milliseconds(200)
    if !force, let last = s.lastDraw, now - last < interval { return }
    s.lastDraw = now
    let elapsed = now - s.start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    let snapshot = ProgressSnapshot(done: s.done, total: s.total, elapsed: seconds)
    if json {
      emit(snapshot.jsonLine() + "\n")
    } else {
      emit("\r" + snapshot.terminalLine(label: label) + "\u{1B}[K")
      s.drewLine = true
    }
  }

  private func emit(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
  }
}
