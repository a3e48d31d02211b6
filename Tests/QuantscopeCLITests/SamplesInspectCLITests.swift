import Foundation
import QuantscopeTestSupport
import Testing

extension CLITests {
  static let sampleGGUFs = [
    "deepseek-tiny-Q4_K_M.gguf", "deepseek-tiny-Q3_K_M.gguf",
    "deepseek-tiny-Q8_0-00001-of-00002.gguf", "deepseek-tiny-Q8_0-00002-of-00002.gguf",
  ]

  @Test(arguments: sampleGGUFs)
  func `inspect agrees with gguf-py on every sample GGUF`(file: String) throws {
    let path = TestPaths.samples.appendingPathComponent(file).path
    if file.contains("-of-") {
      // A shard opens the whole split set; gguf-py reads each shard on its own.
      let shards = Self.sampleGGUFs.filter { $0.contains("-of-") }.map {
        TestPaths.samples.appendingPathComponent($0).path
      }
      try crossCheck(path, files: shards)
    } else {
      try crossCheck(path, files: [path])
    }
  }
}

extension CLITests {
  @Test func `inspect names general.file_type as llama.h does, in the table and in JSON`() throws {
    let path = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q4_K_M.gguf").path
    let text = try quantscope("inspect", path, "--no-tensors")
    #expect(text.status == 0, "\(text.stderr)")
    let row = try #require(text.stdout.split(separator: "\n").first { $0.contains("general.file_type") })
    #expect(row.hasSuffix("MOSTLY_Q4_K_M (15)"), "\(row)")

    let json = try quantscope("inspect", path, "--json", "--no-tensors")
    let object = try #require(try JSONSerialization.jsonObject(with: json.data) as? [String: Any])
    let metadata = try #require(object["metadata"] as? [[String: Any]])
    let entry = try #require(metadata.first { $0["key"] as? String == "general.file_type" })
    #expect(entry["value"] as? Int == 15, "the number stays a number")
    #expect(entry["file_type_name"] as? String == "MOSTLY_Q4_K_M")
    #expect(metadata.filter { $0["file_type_name"] != nil }.count == 1, "only general.file_type gets a name")
  }
}
