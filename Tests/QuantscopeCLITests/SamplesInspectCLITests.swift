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
      let shards = Self.sampleGGUFs.filter { $0.contains("-of-") }.map { TestPaths.samples.appendingPathComponent($0).path }
      try crossCheck(path, files: shards)
    } else {
      try crossCheck(path, files: [path])
    }
  }
}
