import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// `TensorInfo.streamBytes`: the windows `requant` copies and verifies with (read with `pread`, so
/// the resident set holds one window whatever the tensor's size).
@Suite("tensor streaming")
struct TensorStreamingTests {
  @Test func `the windows are the tensor's bytes in order, for every window size`() throws {
    let tensors = try smallTensors()
    let path = try writeTemp(try writeGGUF(metadata: everyTypeMetadata, tensors: tensors), name: "stream.gguf")
    let file = try GGUFFile(path: path)
    for (t, (_, data)) in zip(file.tensors, tensors) {
      for window in [1, 3, 32, 4096, TensorInfo.streamingWindow] {
        var streamed: [UInt8] = []
        var sizes: [Int] = []
        try t.streamBytes(window: window) { part in
          streamed.append(contentsOf: part)
          sizes.append(part.count)
        }
        #expect(streamed == data, "\(t.name), window \(window)")
        #expect(sizes.dropLast().allSatisfy { $0 == window } && (sizes.last ?? 0) <= window)
        #expect(sizes.count == max(1, (data.count + window - 1) / window))
      }
    }
  }

  @Test func `a heap copy streams its own bytes`() throws {
    let tensors = try smallTensors()
    let bytes = try writeGGUF(metadata: everyTypeMetadata, tensors: tensors)
    let file = try bytes.withUnsafeBytes { try GGUFFile(file: MappedFile(bytes: $0, path: "memory.gguf")) }
    for (t, (_, data)) in zip(file.tensors, tensors) {
      var streamed: [UInt8] = []
      try t.streamBytes(window: 5) { streamed.append(contentsOf: $0) }
      #expect(streamed == data, "\(t.name)")
    }
  }

  @Test func `a file replaced under its path is refused, naming it and the tensor`() throws {
    let tensors = try smallTensors()
    let bytes = try writeGGUF(metadata: everyTypeMetadata, tensors: tensors)
    let path = try writeTemp(bytes, name: "replaced.gguf")
    let file = try GGUFFile(path: path)
    // Same bytes, another inode: reading it would read a file nobody validated.
    let other = path + ".new"
    try Data(bytes).write(to: URL(fileURLWithPath: other))
    #expect(rename(other, path) == 0)
    let t = try #require(file.tensors.first)
    let error = try #require(throws: FormatError.self) { try t.streamBytes { _ in } }
    #expect(error.path == path && error.tensor == t.name)
    #expect(error.message.contains("replaced"))
  }
}
