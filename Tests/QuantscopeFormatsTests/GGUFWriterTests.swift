import Foundation
import QuantscopeCodecs
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

@Suite("GGUF writer")
struct GGUFWriterTests {
  @Test func `round trip through our reader`() throws {
    let tensors = try smallTensors()
    let bytes = try writeGGUF(metadata: everyTypeMetadata, tensors: tensors)
    let g = try GGUFFile(path: try writeTemp(bytes))
    #expect(g.version == 3)
    #expect(!g.isBigEndian)
    #expect(g.metadata.map(\.key) == everyTypeMetadata.map(\.key))
    for (a, b) in zip(g.metadata, everyTypeMetadata) { #expect(a.value == b.value, "\(a.key)") }
    #expect(g.tensors.map(\.name) == tensors.map(\.0.name))
    let layout = try GGUFWriter.layout(metadata: everyTypeMetadata, tensors: tensors.map(\.0))
    #expect(layout.fileSize == bytes.count)
    #expect(layout.dataStart == g.dataStart)
    #expect(layout.headerBytes == g.headerEnd)
    for (i, (t, (decl, data))) in zip(g.tensors, tensors).enumerated() {
      #expect(t.ne == decl.ne)
      #expect(t.encoding == .ggml(decl.type))
      #expect(t.dataOffset == layout.absoluteOffset(i))
      #expect(Array(try t.bytes()) == data)
    }
    #expect(GGUFVerifier(deep: true).structure(of: g).isEmpty)
    #expect(try GGUFVerifier(deep: true).values(of: g).isEmpty)
  }

  @Test func `chunked streaming writes the same bytes as whole tensors`() throws {
    let tensors = try smallTensors()
    let whole = try writeGGUF(metadata: everyTypeMetadata, tensors: tensors)
    let all = tensors.flatMap(\.1)
    for chunk in [1, 3, 7, 33, 1000] {
      let sink = MemorySink()
      let w = try GGUFWriter(metadata: everyTypeMetadata, tensors: tensors.map(\.0), sink: sink)
      try w.writeHeader()
      var i = 0
      while i < all.count {
        let end = min(all.count, i + chunk)
        try all[i..<end].withUnsafeBytes { try w.writeData($0) }
        i = end
      }
      try w.finish()
      #expect(sink.bytes == whole, "chunk \(chunk)")
    }
  }

  @Test func `custom alignment and zero-byte tensors follow gguf.cpp's running padded sum`() throws {
    let meta: [(key: String, value: GGUFValue)] = [("general.alignment", .uint32(64))]
    let decls = [
      try GGUFTensorDeclaration(name: "a", type: .f16, ne: [3]),
      try GGUFTensorDeclaration(name: "empty", type: .f32, ne: [0, 4]),
      try GGUFTensorDeclaration(name: "b", type: .q4_0, shape: [2, 32]),
    ]
    let layout = try GGUFWriter.layout(metadata: meta, tensors: decls)
    #expect(layout.relativeOffsets == [0, 64, 64])
    #expect(layout.paddedSizes == [64, 0, 64])
    #expect(layout.dataStart % 64 == 0)
    let bytes = try writeGGUF(
      metadata: meta,
      tensors: [(decls[0], [1, 2, 3, 4, 5, 6]), (decls[1], []), (decls[2], [UInt8](repeating: 9, count: 36))])
    let g = try GGUFFile(path: try writeTemp(bytes))
    #expect(g.alignment == 64)
    #expect(g.relativeOffsets == layout.relativeOffsets)
    #expect(g.tensors[2].shape == [2, 32])
    #expect(bytes.count == layout.fileSize)
    #expect(GGUFVerifier().structure(of: g).isEmpty)
  }

  @Test func `writer rejects inconsistent declarations and misuse`() throws {
    let sink = MemorySink()
    #expect(throws: FormatError.self) {
      _ = try GGUFWriter(metadata: [("k", .uint8(1)), ("k", .uint8(2))], tensors: [], sink: sink)
    }
    #expect(throws: FormatError.self) {
      _ = try GGUFWriter(metadata: [("general.alignment", .uint32(24))], tensors: [], sink: sink)
    }
    #expect(throws: FormatError.self) {
      _ = try GGUFWriter(
        metadata: [], tensors: [GGUFTensorDeclaration(name: "x", type: .q8_0, ne: [32], byteCount: 32)], sink: sink)
    }
    #expect(throws: FormatError.self) { _ = try GGUFTensorDeclaration(name: "x", type: .q4_K, ne: [128]) }
    #expect(throws: FormatError.self) {
      _ = try GGUFWriter(
        metadata: [("a", .array(elementType: .uint8, [.int8(1)]))], tensors: [], sink: sink)
    }
    let tensors = try smallTensors()
    let w = try GGUFWriter(metadata: [], tensors: tensors.map(\.0), sink: sink)
    try w.writeHeader()
    #expect(throws: FormatError.self) { try w.finish() }
    try tensors[0].1.withUnsafeBytes { try w.writeTensor(named: "t.weight", $0) }
    #expect(throws: FormatError.self) { try tensors[0].1.withUnsafeBytes { try w.writeTensor(named: "t.weight", $0) } }
    try tensors[1].1.withUnsafeBytes { try w.writeData($0) }
    #expect(throws: FormatError.self) { try [UInt8(0)].withUnsafeBytes { try w.writeData($0) } }
    try w.finish()
  }

  @Test func `output file sink writes a readable file`() throws {
    let dir = try TestPaths.temporaryDirectory("sink")
    let path = dir.appendingPathComponent("out.gguf").path
    let tensors = try smallTensors()
    let sink = try OutputFile(path: path)
    let w = try GGUFWriter(metadata: everyTypeMetadata, tensors: tensors.map(\.0), sink: sink, label: path)
    try w.writeHeader()
    for (d, data) in tensors { try data.withUnsafeBytes { try w.writeTensor(named: d.name, $0) } }
    try w.finish()
    try sink.commit()
    #expect(
      Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        == (try writeGGUF(metadata: everyTypeMetadata, tensors: tensors)))
    let model = try GGUFModel(path: path)
    #expect(model.tensors.count == 2)
  }
}
