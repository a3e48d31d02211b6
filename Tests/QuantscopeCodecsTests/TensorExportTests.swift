import Foundation
import QuantscopeCodecs
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

@Suite("Tensor export")
struct TensorExportTests {
  static func decoders() throws -> [String: TensorDecoder] {
    var file = RawTensorFile()
    file.add("a", .ggml(.f32), shape: [3, 5], data: bytesOf((0..<15).map { Float($0) - 7.5 }), padding: 3)
    file.add("b", .ggml(.f16), shape: [4], data: bytesOf([0x3C00, 0xC000, 0x7E00, 0x0000] as [UInt16]))
    return try file.open().mapValues { try TensorDecoder($0) }
  }

  @Test func `npy: header padded to 64 bytes, values as decoded, progress counts every byte`() throws {
    let d = try #require(try Self.decoders()["a"])
    let sink = MemorySink()
    let progress = CountingProgress()
    try TensorExport.write([d], as: .npy, to: sink, progress: progress)
    let header = TensorExport.npyHeader(shape: [3, 5])
    #expect(header.count % 64 == 0)
    #expect(Array(sink.bytes.prefix(header.count)) == header)
    #expect(
      String(decoding: header[10...], as: UTF8.self).hasPrefix(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 5), }"))
    let values = sink.bytes[header.count...].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    #expect(values == (try d.decodeAll()))
    #expect(progress.state == .init(total: 60, done: 60, finished: true))
    // A 1-D shape keeps numpy's trailing comma.
    #expect(String(decoding: TensorExport.npyHeader(shape: [4]), as: UTF8.self).contains("'shape': (4,)"))
  }

  @Test func `rows, half formats and safetensors of several tensors`() throws {
    let all = try Self.decoders()
    let a = try #require(all["a"]), b = try #require(all["b"])
    let rows = MemorySink()
    try TensorExport.write([a], rows: 1..<3, as: .f32, to: rows)
    #expect(rows.bytes == bytesOf((5..<15).map { Float($0) - 7.5 }))
    let f16 = MemorySink()
    try TensorExport.write([b], as: .f16, to: f16)
    #expect(f16.bytes == bytesOf([0x3C00, 0xC000, 0x7E00, 0x0000] as [UInt16]))
    let bf16 = MemorySink()
    try TensorExport.write([b], as: .bf16, to: bf16)
    #expect(bf16.bytes == bytesOf([0x3F80, 0xC000, 0x7FC0, 0x0000] as [UInt16]))

    let st = MemorySink()
    try TensorExport.write([b, a], as: .safetensors, to: st)
    let n = st.bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    let header = String(decoding: st.bytes[8..<(8 + n)], as: UTF8.self)
    #expect(n % 8 == 0)
    #expect(
      header.hasPrefix(
        #"{"b":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"a":{"dtype":"F32","shape":[3,5],"data_offsets":[16,76]}}"#
      ))
    #expect(st.bytes.count == 8 + n + 76)

    // One-tensor formats refuse several; rows outside the tensor are an error, not a trap.
    #expect(throws: FormatError.self) { try TensorExport.write([a, b], as: .npy, to: MemorySink()) }
    #expect(throws: FormatError.self) { try TensorExport.write([a], rows: 2..<9, as: .f32, to: MemorySink()) }
  }
}

/// Records what a ``ProgressObserver`` is told.
final class CountingProgress: ProgressObserver, @unchecked Sendable {
  struct State: Equatable {
    var total = 0
    var done = 0
    var finished = false
  }
  private let lock = NSLock()
  private var _state = State()
  var state: State { lock.withLock { _state } }
  func start(total: Int) { lock.withLock { _state.total = total } }
  func advance(by count: Int) { lock.withLock { _state.done += count } }
  func finish() { lock.withLock { _state.finished = true } }
}
