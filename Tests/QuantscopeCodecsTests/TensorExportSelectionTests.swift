import Foundation
import QuantscopeCodecs
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

@Suite("Tensor export: what a decode writes")
struct TensorExportSelectionTests {
  static let path = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q3_K_M.gguf").path

  static func select(_ configure: (inout TensorExport.Request) throws -> Void) throws -> TensorExport.Selection {
    var request = TensorExport.Request()
    try configure(&request)
    return try TensorExport.select(request, in: try GGUFModel(path: path), path: path)
  }

  @Test func `the name decides the format, else the selection does`() throws {
    let one = try Self.select { $0.names = ["token_embd.weight"] }
    #expect(one.format == .npy && one.destination == "token_embd.weight.npy")
    let raw = try Self.select {
      $0.names = ["token_embd.weight"]
      $0.output = "dir.d/values.bf16.zst"
    }
    #expect(raw.format == .bf16 && raw.destination == "dir.d/values.bf16.zst")
    let several = try Self.select {
      $0.filter = try TensorNameFilter(#"blk\.0\."#)
      $0.output = "block0"
    }
    #expect(several.format == .safetensors && several.tensors.count > 1)
    #expect(several.tensors.allSatisfy { $0.name.hasPrefix("blk.0.") })
    let stdout = try Self.select {
      $0.names = ["token_embd.weight"]
      $0.output = "-"
    }
    #expect(stdout.format == .f32)
  }

  @Test func `named tensors come first and once`() throws {
    let s = try Self.select {
      $0.names = ["output.weight", "output.weight"]
      $0.filter = try TensorNameFilter(#"^output"#)
      $0.output = "out.safetensors"
    }
    #expect(s.tensors.first?.name == "output.weight")
    #expect(Set(s.tensors.map(\.name)).count == s.tensors.count)
  }

  @Test func `mistakes are errors of the right kind`() throws {
    let unknown = try #require(throws: FormatError.self) { try Self.select { $0.names = ["token_embd"] } }
    #expect(unknown.kind == .notFound && unknown.message.contains("nearest: token_embd.weight"))
    let clash = try #require(throws: FormatError.self) {
      try Self.select {
        $0.names = ["token_embd.weight"]
        $0.output = "x.npy"
        $0.format = .f16
      }
    }
    #expect(clash.kind == .usage)
    let tooMany = try #require(throws: FormatError.self) {
      try Self.select {
        $0.filter = try TensorNameFilter(#"blk\.0\."#)
        $0.output = "x.npy"
      }
    }
    #expect(tooMany.kind == .unsupported && tooMany.path == "x.npy")
    let rows = try #require(throws: FormatError.self) {
      try Self.select {
        $0.filter = try TensorNameFilter(#"blk\.0\."#)
        $0.output = "x.safetensors"
        $0.partialRows = true
      }
    }
    #expect(rows.kind == .unsupported)
    let unnamed = try #require(throws: FormatError.self) {
      try Self.select { $0.filter = try TensorNameFilter(#"blk\.0\."#) }
    }
    #expect(unnamed.kind == .unsupported)
  }
}
