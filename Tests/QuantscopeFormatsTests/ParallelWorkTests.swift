import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Synchronization
import Testing

@Suite("parallel work and the test process runner")
struct ParallelWorkTests {
  struct Failed: Error, Equatable { let index: Int }

  @Test(arguments: [1, 2, 7])
  func `every item runs exactly once`(threads: Int) throws {
    let counts = Mutex([Int](repeating: 0, count: 1000))
    try ParallelWork.run(count: 1000, threads: threads) { i in counts.withLock { $0[i] += 1 } }
    #expect(counts.withLock { $0 } == [Int](repeating: 1, count: 1000))
  }

  @Test(arguments: [1, 2, 7])
  func `the error rethrown is the lowest failing index`(threads: Int) {
    #expect(throws: Failed(index: 3)) {
      try ParallelWork.run(count: 200, threads: threads) { i in
        if i == 3 || i == 50 || i == 199 { throw Failed(index: i) }
      }
    }
  }

  @Test(arguments: [1, 3])
  func `each worker's buffer holds bufferCount elements and results do not depend on threads`(threads: Int) throws {
    let sums = Mutex([Int](repeating: -1, count: 64))
    try ParallelWork.run(count: 64, threads: threads, bufferCount: 100, of: Int.self) { i, buffer in
      for k in 0..<100 { buffer[k] = i * k }
      let s = (0..<100).reduce(0) { $0 + buffer[$1] }
      sums.withLock { $0[i] = s }
    }
    #expect(sums.withLock { $0 } == (0..<64).map { $0 * 4950 })
  }

  /// A child that fills its stderr pipe before writing stdout would block forever on a runner
  /// that reads stdout to the end first.
  @Test func `the runner drains stdout and stderr together`() throws {
    let script =
      "import sys; sys.stderr.write('e' * (1 << 20)); sys.stderr.flush(); sys.stdout.write('o' * (1 << 20))"
    let r = try ProcessRunner.run(program: "python3", ["-c", script])
    #expect(r.status == 0)
    #expect(r.stdout.count == 1 << 20)
    #expect(r.stderr.count == 1 << 20)
  }

  @Test func `the runner feeds standard input and reports the exit status`() throws {
    let input = Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0) })
    let script = "import sys; d = sys.stdin.buffer.read(); print(len(d)); sys.exit(3)"
    let r = try ProcessRunner.run(program: "python3", ["-c", script], input: input)
    #expect(r.status == 3)
    #expect(r.stdoutText == "\(1 << 20)\n")
  }
}
