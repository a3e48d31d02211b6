import Dispatch
import Foundation
import QuantscopeCodecs
import QuantscopeFormats

/// `decode`: f32-output throughput of every registered decoder (one thread, a cache-resident
/// tile, all cores) beside the machine's `memcpy` and `memset` of the same output size and, with
/// `--ggml-lib`, ggml's own `to_float` on the very same blocks, all measured in this run.
///
/// Decoding a large tensor to DRAM is bounded by writing its f32 output, which is why `memset`
/// of the output size is printed: it is the ceiling, `memcpy` (read and write) is not.
struct DecodeBenchmark {
  /// Types to run; `nil` for every registered decoder.
  let types: [GGMLType]?
  /// Alternating rounds; each figure is the fastest of them.
  let rounds: Int
  /// MiB of f32 output per pass, for quantscope and ggml alike.
  let megabytes: Int
  /// The peer to measure beside quantscope, if the user gave one.
  let ggml: GGMLLibrary?
  /// Threads of the multi-threaded columns (whole buffer, and tiled); all cores by default.
  let threads: Int

  /// Output floats per tile in the tiled mode: 16 KiB, inside L1 on current x86 and ARM cores.
  static let tileElements = 4096

  /// Runs the table; returns `false` when ggml decoded any type to different float bits.
  func run() throws -> Bool {
    let outputBytes = megabytes << 20
    let elements = outputBytes / 4
    let codecs = selectedTypes(types, where: { $0.type.blockElements > 0 })
    // Check every type against the library before measuring anything, so a refusal is immediate.
    let ggmlTraits = try ggml.map { library in
      try Dictionary(uniqueKeysWithValues: codecs.map { ($0.type, try library.traits(of: $0.type)) })
    }

    let output = UnsafeMutablePointer<Float>.allocate(capacity: elements)
    let check = UnsafeMutablePointer<Float>.allocate(capacity: elements)
    defer {
      output.deallocate()
      check.deallocate()
    }
    output.initialize(repeating: 0, count: elements)
    check.initialize(repeating: 0, count: elements)

    print(
      "decode: f32 output \(megabytes) MiB per pass, best of \(rounds) alternating rounds, \(coreCount) cores, "
        + "\(threads) threads in the multi-threaded columns; kernels: \(DecodeKernels.name)")
    print(machineLine())
    print(ggml?.banner ?? "ggml: not measured (no --ggml-lib), so no baseline columns")
    printMachineBaselines(output: UnsafeMutableRawPointer(output), bytes: outputBytes)
    print("tiled: the whole input decoded into one \(Self.tileElements * 4 / 1024) KiB output tile, as a fused")
    print("  decode-and-reduce loop uses it: kernel speed without the DRAM write ceiling")
    print(
      "t\(threads)-thr: tiled on \(threads) threads, each its share of the input into its own tile; "
        + "scale = qs t\(threads)-thr ÷ qs tiled")
    printHeader()

    var mismatches: [String] = []
    for codec in codecs {
      let type = codec.type
      let blocks = elements / type.blockElements
      let decodedBytes = blocks * type.blockElements * 4
      let input = makeBlocks(codec, blocks: blocks)
      defer { input.deallocate() }
      let source = UnsafeRawPointer(input)
      let contenders = [Self.quantscope(codec)] + (ggmlTraits?[type]?.toFloat.map { [Self.ggml($0, type)] } ?? [])

      var bodies: [() -> Void] = []
      for decode in contenders {
        bodies += [
          { decode.call(source, blocks, output) },
          { decodeTiled(decode, source: source, blocks: blocks, type: type, into: output) },
          { decodeParallel(decode, source: source, blocks: blocks, type: type, into: output) },
          { decodeTiledParallel(decode, source: source, blocks: blocks, type: type, into: output) },
        ]
      }
      let best = alternatingBest(rounds: rounds, bodies).map { Double(decodedBytes) / $0 / 1e9 }

      var bits = ""
      if contenders.count == 2 {
        contenders[0].call(source, blocks, output)
        contenders[1].call(source, blocks, check)
        if let d = differences(output, check, bytes: decodedBytes, unit: 4) {
          bits = "DIFFER"
          let ours = output[d.first].bitPattern
          let theirs = check[d.first].bitPattern
          mismatches.append(
            "\(type.name): \(d.count) of \(blocks * type.blockElements) floats differ; first at element \(d.first): "
              + "quantscope \(hex(ours)), ggml \(hex(theirs))")
        } else {
          bits = "identical"
        }
      } else if ggml != nil {
        bits = "no to_float"
      }
      printRow(type.name, best, bits: bits)
    }
    for m in mismatches { print("MISMATCH \(m)") }
    if !mismatches.isEmpty { print("MISMATCH: ggml and quantscope decoded \(mismatches.count) type(s) differently") }
    return mismatches.isEmpty
  }

  /// A decoder under test, whichever side it comes from, with quantscope's calling convention.
  struct Decoder: @unchecked Sendable {
    let call: @Sendable (UnsafeRawPointer, Int, UnsafeMutablePointer<Float>) -> Void
  }

  static func quantscope(_ codec: BlockCodec) -> Decoder { Decoder(call: codec.decode) }

  /// ggml's `to_float`, which counts elements where quantscope counts blocks.
  static func ggml(_ toFloat: GGMLLibrary.ToFloat, _ type: GGMLType) -> Decoder {
    let function = SendablePointer(pointer: toFloat)
    let blockElements = type.blockElements
    return Decoder { source, blocks, destination in
      function.pointer(source, destination, Int64(blocks * blockElements))
    }
  }

  /// The whole input decoded tile by tile into the same first `tileElements` floats.
  func decodeTiled(
    _ decode: Decoder, source: UnsafeRawPointer, blocks: Int, type: GGMLType, into output: UnsafeMutablePointer<Float>
  ) {
    let tileBlocks = max(1, Self.tileElements / type.blockElements)
    var start = 0
    while start < blocks {
      let n = min(tileBlocks, blocks - start)
      decode.call(source + start * type.blockBytes, n, output)
      start += n
    }
  }

  /// The whole input decoded by `threads` threads, each chunk to its own part of the output.
  func decodeParallel(
    _ decode: Decoder, source: UnsafeRawPointer, blocks: Int, type: GGMLType, into output: UnsafeMutablePointer<Float>
  ) {
    let from = SendablePointer(pointer: source)
    let to = SendablePointer(pointer: output)
    let blockBytes = type.blockBytes
    let blockElements = type.blockElements
    Self.chunks(blocks, 4 * threads) { _, start, count in
      decode.call(from.pointer + start * blockBytes, count, to.pointer + start * blockElements)
    }
  }

  /// The whole input split into `threads` equal shares, each decoded tile by tile into its own
  /// tile (tiles 24 KiB apart, so no two threads write the same cache line).
  func decodeTiledParallel(
    _ decode: Decoder, source: UnsafeRawPointer, blocks: Int, type: GGMLType, into output: UnsafeMutablePointer<Float>
  ) {
    let from = SendablePointer(pointer: source)
    let to = SendablePointer(pointer: output)
    let blockBytes = type.blockBytes
    let tileBlocks = max(1, Self.tileElements / type.blockElements)
    let stride = (Self.tileElements + 1024 + 1023) / 1024 * 1024
    Self.chunks(blocks, threads) { chunk, start, count in
      let tile = to.pointer + stride * chunk
      var done = 0
      while done < count {
        let n = min(tileBlocks, count - done)
        decode.call(from.pointer + (start + done) * blockBytes, n, tile)
        done += n
      }
    }
  }

  /// Splits `count` items into `chunks` contiguous chunks run by `concurrentPerform`; the body
  /// gets the chunk's index, first item and item count.
  static func chunks(_ count: Int, _ chunks: Int, _ body: @Sendable (Int, Int, Int) -> Void) {
    let per = (count + chunks - 1) / chunks
    DispatchQueue.concurrentPerform(iterations: chunks) { i in
      let start = i * per
      let n = min(per, count - start)
      if n > 0 { body(i, start, n) }
    }
  }

  /// `memcpy` and `memset` of the output size, one thread and all cores, alternating: what this
  /// machine's memory allows right now, against which a decoder writing f32 is to be read.
  func printMachineBaselines(output: UnsafeMutableRawPointer, bytes: Int) {
    let copySource = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    defer { copySource.deallocate() }
    copySource.initializeMemory(as: UInt8.self, repeating: 1, count: bytes)
    let to = SendablePointer(pointer: output)
    let from = SendablePointer(pointer: UnsafeRawPointer(copySource))
    let lines = bytes / 64
    let best = alternatingBest(
      rounds: rounds,
      [
        { memcpy(output, copySource, bytes) },
        { memset(output, 0x3f, bytes) },
        {
          parallelChunks(lines) { start, count in
            memcpy(to.pointer + 64 * start, from.pointer + 64 * start, 64 * count)
          }
        },
        { parallelChunks(lines) { start, count in memset(to.pointer + 64 * start, 0x3f, 64 * count) } },
      ]
    ).map { Double(bytes) / $0 / 1e9 }
    print(
      "machine, same run: memcpy \(megabytes) MiB \(fixed(best[0])) GB/s 1 thread, \(fixed(best[2])) GB/s "
        + "\(coreCount) threads; memset \(fixed(best[1])) GB/s 1 thread, \(fixed(best[3])) GB/s \(coreCount) threads")
  }

  /// Column titles; the ggml columns exist only when a library was given.
  func printHeader() {
    if ggml == nil {
      print(
        pad("type", 10) + padLeft("1 thread GB/s", 15) + padLeft("tiled 1-thr", 13)
          + padLeft("\(threads) threads", 12) + padLeft("t\(threads)-thr", 10) + padLeft("scale", 8))
      return
    }
    print(
      pad("type", 9) + padLeft("qs 1-thr", 10) + padLeft("ggml 1-thr", 11) + padLeft("ratio", 8)
        + padLeft("qs tiled", 10) + padLeft("ggml tiled", 11) + padLeft("ratio", 8)
        + padLeft("qs \(threads)-thr", 10) + padLeft("ggml \(threads)-thr", 11) + padLeft("qs t\(threads)-thr", 12)
        + padLeft("ggml t\(threads)-thr", 13) + padLeft("scale", 7) + padLeft("float bits", 13))
  }

  /// `best` holds GB/s in contender order: quantscope 1-thread, tiled, multi-threaded, tiled
  /// multi-threaded, then ggml's.
  func printRow(_ name: String, _ best: [Double], bits: String) {
    let scale = fixed(best[3] / best[1], 2) + "×"
    if ggml == nil {
      print(
        pad(name, 10) + padLeft(fixed(best[0]), 15) + padLeft(fixed(best[1]), 13) + padLeft(fixed(best[2]), 12)
          + padLeft(fixed(best[3]), 10) + padLeft(scale, 8))
      return
    }
    let peer = best.count == 8 ? Array(best[4...]) : nil
    func cell(_ i: Int) -> String { peer.map { fixed($0[i]) } ?? "—" }
    print(
      pad(name, 9) + padLeft(fixed(best[0]), 10) + padLeft(cell(0), 11) + padLeft(ratio(best[0], peer?[0]), 8)
        + padLeft(fixed(best[1]), 10) + padLeft(cell(1), 11) + padLeft(ratio(best[1], peer?[1]), 8)
        + padLeft(fixed(best[2]), 10) + padLeft(cell(2), 11) + padLeft(fixed(best[3]), 12) + padLeft(cell(3), 13)
        + padLeft(scale, 7) + padLeft(bits, 13))
  }

  /// A float's bits as hex, since a mismatch must be shown bit for bit, not rounded.
  func hex(_ bits: UInt32) -> String { "0x" + String(bits, radix: 16) }

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
      for i in 0..<tileBytes {
        data.storeBytes(of: UInt8(truncatingIfNeeded: random.next()), toByteOffset: i, as: UInt8.self)
      }
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
