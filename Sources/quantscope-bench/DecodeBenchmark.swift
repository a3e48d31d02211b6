import Dispatch
import Foundation
import QuantscopeCodecs
import QuantscopeFormats

/// `decode`: f32-output throughput of every registered decoder, single-thread and all-core,
/// beside `memcpy` of the same output size measured in the same run.
struct DecodeBenchmark {
  let options: Options

  /// ggml's single-thread dequantization figures from the issue (GB/s of f32 output).
  static let ggmlSingleThread: [GGMLType: Double] = [
    .q4_K: 17.3, .q5_K: 15.6, .q8_0: 25.4, .q4_0: 5.5, .q3_K: 3.7, .q2_K: 4.2, .q6_K: 2.1,
  ]
  /// ggml's memcpy figure from the same issue.
  static let ggmlMemcpy = 16.9

  func run() {
    let outputBytes = options.megabytes << 20
    let elements = outputBytes / 4
    let output = UnsafeMutablePointer<Float>.allocate(capacity: elements)
    defer { output.deallocate() }
    output.initialize(repeating: 0, count: elements)

    print("decode: f32 output \(options.megabytes) MiB per pass, best of \(options.repeats), \(coreCount) cores")
    print("  (tiled: the same kernel streaming the whole input into one 16 KiB output tile, as a fused")
    print("   decode-and-reduce loop uses it; shows kernel speed without the DRAM write ceiling)")
    print(
      pad("type", 10) + padLeft("1 thread GB/s", 15) + padLeft("\(coreCount) threads GB/s", 17)
        + padLeft("tiled 1-thr", 13) + padLeft("ggml 1-thread", 15) + padLeft("vs ggml", 9))

    // memcpy of the same output size, as the bandwidth ceiling of this machine right now.
    let copySource = UnsafeMutableRawPointer.allocate(byteCount: outputBytes, alignment: 64)
    defer { copySource.deallocate() }
    copySource.initializeMemory(as: UInt8.self, repeating: 1, count: outputBytes)
    let dst = UnsafeMutableRawPointer(output)
    memcpy(dst, copySource, outputBytes)
    let copyOne = bestOf(options.repeats) { memcpy(dst, copySource, outputBytes) }
    let copyTo = SendablePointer(pointer: dst)
    let copyFrom = SendablePointer(pointer: UnsafeRawPointer(copySource))
    let copyAll = bestOf(options.repeats) {
      parallelChunks(outputBytes / 64) { start, count in
        memcpy(copyTo.pointer + 64 * start, copyFrom.pointer + 64 * start, 64 * count)
      }
    }
    report("memcpy", outputBytes, copyOne, copyAll, tiled: nil, ggml: Self.ggmlMemcpy)

    for codec in selectedTypes(options.types, where: { $0.type.blockElements > 0 }) {
      let type = codec.type
      let blocks = elements / type.blockElements
      let input = makeBlocks(codec, blocks: blocks)
      defer { input.deallocate() }
      let source = UnsafeRawPointer(input)
      let decode = codec.decode
      decode(source, blocks, output)
      let one = bestOf(options.repeats) { decode(source, blocks, output) }
      let tileBlocks = max(1, 4096 / type.blockElements)
      let tiled = bestOf(options.repeats) {
        var start = 0
        while start < blocks {
          let n = min(tileBlocks, blocks - start)
          decode(source + start * type.blockBytes, n, output)
          start += n
        }
      }
      let from = SendablePointer(pointer: source)
      let to = SendablePointer(pointer: output)
      let all = bestOf(options.repeats) {
        parallelChunks(blocks) { start, count in
          decode(from.pointer + start * type.blockBytes, count, to.pointer + start * type.blockElements)
        }
      }
      report(type.name, blocks * type.blockElements * 4, one, all, tiled: tiled, ggml: Self.ggmlSingleThread[type])
    }
  }

  func report(_ name: String, _ bytes: Int, _ one: Double, _ all: Double, tiled: Double?, ggml: Double?) {
    let gbOne = Double(bytes) / one / 1e9
    let gbAll = Double(bytes) / all / 1e9
    var line = pad(name, 10) + padLeft(fixed(gbOne), 15) + padLeft(fixed(gbAll), 17)
    line += padLeft(tiled.map { fixed(Double(bytes) / $0 / 1e9) } ?? "", 13)
    if let ggml {
      line += padLeft(fixed(ggml), 15) + padLeft(fixed(gbOne / ggml, 2) + "×", 9)
    }
    print(line)
  }

  /// Splits `count` items into `coreCount × 4` contiguous chunks run by `concurrentPerform`.
  func parallelChunks(_ count: Int, _ body: @Sendable (Int, Int) -> Void) {
    let chunks = coreCount * 4
    let per = (count + chunks - 1) / chunks
    DispatchQueue.concurrentPerform(iterations: chunks) { i in
      let start = i * per
      let n = min(per, count - start)
      if n > 0 { body(start, n) }
    }
  }

  /// `blocks` blocks of valid data: a 16 Ki-element tile made by the type's own quantizer from
  /// Gaussian values (so every scale is a finite f16), repeated. Types without a quantizer get
  /// random bytes with their known f16 scale fields rewritten to finite values.
  func makeBlocks(_ codec: BlockCodec, blocks: Int) -> UnsafeMutableRawPointer {
    let type = codec.type
    let bytes = blocks * type.blockBytes
    let data = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    let tileElements = 16_384
    let tileBlocks = min(blocks, tileElements / type.blockElements)
    let tileBytes = tileBlocks * type.blockBytes
    var random = Random(seed: UInt64(type.id) &+ 0x9e37_79b9)
    if let quantize = codec.quantize {
      let values = (0..<tileElements).map { _ in random.gaussian() * 0.02 }
      let importance = (0..<4096).map { _ in 0.1 + random.uniform() }
      values.withUnsafeBufferPointer { v in
        importance.withUnsafeBufferPointer { im in
          quantize(v.baseAddress!, tileElements / 4096, 4096, codec.requiresImportance ? im.baseAddress! : nil, data)
        }
      }
    } else {
      for i in 0..<tileBytes { data.storeBytes(of: UInt8(truncatingIfNeeded: random.next()), toByteOffset: i, as: UInt8.self) }
      for b in 0..<tileBlocks {
        for offset in Self.halfScaleOffsets(type) {
          let h = Half.fromFloat(0.001 + random.uniform() * 0.01)
          data.storeBytes(of: h, toByteOffset: b * type.blockBytes + offset, as: UInt16.self)
        }
      }
    }
    var filled = tileBytes
    while filled < bytes {
      let n = min(tileBytes, bytes - filled)
      memcpy(data + filled, data, n)
      filled += n
    }
    return data
  }

  /// Offsets of the f16 scale fields of types whose layout the reference documents.
  static func halfScaleOffsets(_ type: GGMLType) -> [Int] {
    switch type {
    case .q4_0, .q5_0, .q8_0, .q4_K, .q5_K, .iq2_xxs, .iq2_xs, .iq3_xxs, .iq1_s, .iq4_nl, .iq3_s, .iq2_s, .iq4_xs,
      .q1_0, .q2_0:
      return type == .q4_K || type == .q5_K ? [0, 2] : [0]
    case .q4_1, .q5_1, .q8_1: return [0, 2]
    case .q2_K: return [80, 82]
    case .q3_K: return [108]
    case .q6_K: return [208]
    case .tq1_0: return [52]
    case .tq2_0: return [64]
    default: return []
    }
  }
}
