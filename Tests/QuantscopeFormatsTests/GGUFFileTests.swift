import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

@Suite("GGUF file")
struct GGUFFileTests {
  @Test func `reads the golden file`() throws {
    let gguf = try GGUFFile(path: goldenPath("ggml-quants.gguf"))
    #expect(gguf.version == 3)
    let input = try #require(gguf.tensors.first { $0.name == "in.gauss" })
    #expect(input.shape == [8, 512])
    #expect(input.encoding == .ggml(.f32))
  }
}
