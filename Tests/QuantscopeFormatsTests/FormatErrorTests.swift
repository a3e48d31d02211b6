import Testing

@testable import QuantscopeFormats

/// The one-line form of an error is the CLI's contract: these pin its wording.
@Suite("FormatError")
struct FormatErrorTests {
  @Test func `an offset says what it points at`() {
    let header = FormatError(.malformed, path: "m.gguf", "duplicate tensor name", tensor: "a", at: .header(120))
    #expect(header.description == "m.gguf: duplicate tensor name (tensor a, header record at byte 120)")
    let data = FormatError(.truncated, path: "m.gguf", "data runs past end of file", at: .data(4096))
    #expect(data.description == "m.gguf: data runs past end of file (data at byte 4096)")
    let stream = FormatError(.io, path: "o.zst", "cannot write", at: .byte(7))
    #expect(stream.description == "o.zst: cannot write (byte 7)")
    #expect([header, data, stream].map(\.offset) == [120, 4096, 7])
  }

  @Test func `an error outside any file has no path prefix`() {
    let usage = FormatError.usage("--tensors '(' is not a valid regular expression")
    #expect(usage.kind == .usage && usage.path.isEmpty)
    #expect(usage.description == "--tensors '(' is not a valid regular expression")
    let names = FormatError(.malformed, path: "", "expert 3 appears twice", tensor: "model.layers.1.mlp.experts.3")
    #expect(names.description == "expert 3 appears twice (tensor model.layers.1.mlp.experts.3)")
  }

  @Test func `kinds have snake_case names for JSON`() {
    #expect(FormatError.Kind.outOfBounds.rawValue == "out_of_bounds")
    #expect(FormatError.Kind.allCases.allSatisfy { $0.rawValue == $0.rawValue.lowercased() })
  }

  @Test func `a bad regular expression is a usage error`() {
    let error = #expect(throws: FormatError.self) { try TensorNameFilter("(") }
    #expect(error?.kind == .usage)
    #expect(error?.path == "")
  }
}
