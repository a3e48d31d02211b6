import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// `quantscope tune` from the command line: the JSON convention, the recipe `plan --recipe` reads
/// at the size tune reports, and the usage errors.
@Suite(
  "tune CLI", .enabled(if: !EndToEnd.skipped, Comment(rawValue: EndToEnd.reason)), .serialized)
struct TuneCLITests {
  static let model: Result<URL, Error> = Result {
    let dir = try TestPaths.temporaryDirectory("tune-cli")
    let path = dir.appendingPathComponent("tiny.gguf")
    try PlanCLI.writeTinyLlama(to: path.path)
    return path
  }

  @Test func `the recipe tune writes is read by plan at the size tune reports`() throws {
    let model = try Self.model.get()
    let recipe = model.deletingLastPathComponent().appendingPathComponent("tuned-\(UUID().uuidString).txt").path
    let run = try quantscope(
      "tune", model.path, "--target-bpw", "5", "-o", recipe, "--json", "--threads", "2", "--progress", "none")
    #expect(run.status == 0, "\(run.stderr)")
    let json = try PlanCLI.json(run.stdout)
    #expect(json["schema"] as? String == "quantscope.tune/1")
    #expect(
      run.stdout.range(
        of: #"^\{\s*"schema"\s*:\s*"quantscope.tune/1",\s*"quantscope_version""#, options: .regularExpression) != nil)
    let bytes = try #require(json["bytes"] as? Int)
    let budget = try #require(json["budget"] as? Int)
    #expect(bytes <= budget)
    let plan = try quantscope("plan", model.path, "--recipe", recipe, "--json")
    #expect(plan.status == 0, "\(plan.stderr)")
    let planned = try PlanCLI.json(plan.stdout)
    let total = planned["total_bytes"] as? Int
    #expect(total == bytes, "plan \(String(describing: total)) vs tune \(bytes)")
  }

  @Test func `a budget below the smallest mix and a missing budget are refused`() throws {
    let model = try Self.model.get()
    let out = model.deletingLastPathComponent().appendingPathComponent("never.txt").path
    let tooSmall = try quantscope("tune", model.path, "--target-size", "1000", "-o", out, "--progress", "none")
    #expect(tooSmall.status == 1)
    #expect(tooSmall.stderr.contains("below the smallest possible mix"))
    #expect(!FileManager.default.fileExists(atPath: out))
    let none = try quantscope("tune", model.path, "-o", out)
    #expect(none.status == 64)
    let both = try quantscope("tune", model.path, "--target-size", "1G", "--target-bpw", "4", "-o", out)
    #expect(both.status == 64)
  }
}
