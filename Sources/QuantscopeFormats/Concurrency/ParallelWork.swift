import Dispatch
import Foundation

/// Runs independent work items on a fixed number of threads.
///
/// Items are handed out in index order from a shared counter, so a slow item does not hold up
/// the others; results are written by index, so the outcome does not depend on the thread count.
public enum ParallelWork {
  /// The number of cores the process may use.
  ///
  /// Read once: Foundation reads the cgroup quota and cpuset files on every call, which cost
  /// more than the statistics of a small tensor (`stats` of 1.6 M tiny tensors spent a third
  /// of its time there).
  public static let availableCores: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

  /// Calls `body(i)` for every `i` in `0..<count` on `threads` threads and rethrows the first error
  /// (by index) any call threw; after an error, items not yet started are skipped.
  public static func run(count: Int, threads: Int, _ body: @Sendable (Int) throws -> Void) throws {
    try runWorkers(count: count, threads: threads) { next in
      while let i = next() { try body(i) }
    }
  }

  /// Per-worker buffers for ``run(count:threads:scratchValues:_:)``: allocated once per worker
  /// thread and reused for every item that worker runs, so the hot loop allocates nothing.
  public struct Scratch {
    /// Room for `scratchValues` candidate values.
    public let candidate: UnsafeMutablePointer<Float>
    /// Room for `scratchValues` reference values.
    public let reference: UnsafeMutablePointer<Double>
  }

  /// Like ``run(count:threads:_:)``, handing each call its worker's ``Scratch`` of
  /// `scratchValues` values per side (contents unspecified on entry).
  public static func run(
    count: Int, threads: Int, scratchValues: Int, _ body: @Sendable (Int, Scratch) throws -> Void
  ) throws {
    let n = max(1, scratchValues)
    try runWorkers(count: count, threads: threads) { next in
      let scratch = Scratch(candidate: .allocate(capacity: n), reference: .allocate(capacity: n))
      defer {
        scratch.candidate.deallocate()
        scratch.reference.deallocate()
      }
      while let i = next() { try body(i, scratch) }
    }
  }

  /// Like ``run(count:threads:_:)``, handing each call its worker's buffer of `bufferCount`
  /// elements (contents unspecified on entry), allocated once per worker thread.
  public static func run<Element>(
    count: Int, threads: Int, bufferCount: Int, of _: Element.Type,
    _ body: @Sendable (Int, UnsafeMutablePointer<Element>) throws -> Void
  ) throws {
    let n = max(1, bufferCount)
    try runWorkers(count: count, threads: threads) { next in
      let buffer = UnsafeMutablePointer<Element>.allocate(capacity: n)
      defer { buffer.deallocate() }
      while let i = next() { try body(i, buffer) }
    }
  }

  /// Runs `worker` on `min(threads, count)` threads (at least one), each pulling item indices
  /// from the shared counter through the function it is given until that returns `nil`. An error
  /// thrown for an item is recorded by the item's index and stops the hand-out.
  private static func runWorkers(
    count: Int, threads: Int, _ worker: @Sendable (_ next: () -> Int?) throws -> Void
  ) throws {
    guard count > 0 else { return }
    let workers = max(1, min(threads, count))
    let state = SharedState()
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
      var current: Int? = nil
      do {
        try worker {
          current = state.next(limit: count)
          return current
        }
      } catch {
        // The worker threw from inside an item: `current` is that item.
        state.fail(index: current ?? count, error)
      }
    }
    if let error = state.firstError { throw error }
  }

  private final class SharedState: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var nextIndex = 0
    private var failedIndex = Int.max
    private var error: Error?

    func next(limit: Int) -> Int? {
      lock.lock()
      defer { lock.unlock() }
      guard nextIndex < limit, error == nil else { return nil }
      nextIndex += 1
      return nextIndex - 1
    }

    func fail(index: Int, _ e: Error) {
      lock.lock()
      defer { lock.unlock() }
      if index < failedIndex {
        failedIndex = index
        error = e
      }
    }

    var firstError: Error? {
      lock.lock()
      defer { lock.unlock() }
      return error
    }
  }
}
