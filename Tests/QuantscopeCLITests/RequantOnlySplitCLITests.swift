import Foundation
import QuantscopeTestSupport
import Testing

/// `requant --split-max-size S --only-split K`: split K written alone is byte for byte split K of
/// the whole run, for every K, so a job array can write one split per task.
@Suite(
  "requant --only-split", .enabled(if: !EndToEnd.skipped, Comment(rawValue: EndToEnd.reason)))
struct RequantOnlySplitCLITests {
  static let q3 = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q3_K_M.gguf").path
  static let fp8 = TestPaths.samples.appendingPathComponent("deepseek-tiny-fp8").path

  @Test func `each split written alone equals that split of the single run`() throws {
    let dir = try TestPaths.temporaryDirectory("only-split")
    defer { try? FileManager.default.removeItem(at: dir) }
    let fm = FileManager.default
    for sub in ["all", "one"] {
      try fm.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
    }
    let args = ["requant", Self.q3, "--recipe", "q4_k_m", "--ref", Self.fp8, "--split-max-size", "2M", "--quiet"]
    let whole = try CLI.quantscope(args + ["-o", dir.appendingPathComponent("all/o.gguf").path])
    #expect(whole.status == 0, "\(whole.stderr)")
    let names = try fm.contentsOfDirectory(atPath: dir.appendingPathComponent("all").path).sorted()
    #expect(names.count >= 2 && names.last == "o-0000\(names.count)-of-0000\(names.count).gguf")
    for k in 1...names.count {
      let r = try CLI.quantscope(args + ["-o", dir.appendingPathComponent("one/o.gguf").path, "--only-split", "\(k)"])
      #expect(r.status == 0, "\(r.stderr)")
      // Only split k exists so far: the others are neither written nor touched.
      #expect(try fm.contentsOfDirectory(atPath: dir.appendingPathComponent("one").path).count == k)
      let a = try Data(contentsOf: dir.appendingPathComponent("all/\(names[k - 1])"))
      let b = try Data(contentsOf: dir.appendingPathComponent("one/\(names[k - 1])"))
      #expect(a == b, "split \(k)")
    }
    let tooFar = try CLI.quantscope(
      args + ["-o", dir.appendingPathComponent("x.gguf").path, "--only-split", "\(names.count + 1)"])
    #expect(tooFar.status == 64 && tooFar.stderr.contains("has \(names.count) split(s)"))
    let noSplit = try CLI.quantscope(
      ["requant", Self.q3, "--recipe", "q4_k_m", "-o", dir.appendingPathComponent("y.gguf").path, "--only-split", "1"])
    #expect(noSplit.status == 64)
  }
}
