import Dispatch
import Foundation
import QuantscopeCodecs
import QuantscopeFormats

/// `quantize`: weights per second of every registered quantizer, one thread and all cores,
/// without and with an importance vector, and with `--ggml-lib` ggml's `ggml_quantize_chunk`
/// on the same floats and the same importance vector, alternating with quantscope.
struct QuantizeBenchmark {
  /// Types to run; `nil` for every registered quantizer.
  let types: [GGMLType]?
  /// Minimum timed seconds per figure; each figure is the fastest call among them.
  let seconds: Double
  /// Minimum alternating rounds, however fast the calls.
  let rounds: Int
  /// The peer to measure beside quantscope, if the user gave one.
  let ggml: GGMLLibrary?

  /// Row length of a typical projection matrix, a multiple of every block size.
  static let rowLength = 4096
  /// Rows per call and thread: 512 KiB of input, large enough to amortize the call.
  static let rowsPerCall = 32

  /// A quantizer under test, whichever side it comes from: rows `firstRow ..< firstRow + rows`
  /// of the whole source array into the matching rows of the whole destination array.
  struct Quantizer: @unchecked Sendable {
    let call: @Sendable (_ firstRow: Int, _ rows: Int, _ importance: UnsafePointer<Float>?) -> Void
  }

  /// Runs the table; returns `false` when ggml produced different bytes for any type.
  func run() throws -> Bool {
    let rows = Self.rowsPerCall * coreCount
    let count = rows * Self.rowLength
    var random = Random(seed: 42)
    let values = UnsafeMutablePointer<Float>.allocate(capacity: count)
    defer { values.deallocate() }
    for i in 0..<count { values[i] = random.gaussian() * 0.02 }
    let importance = UnsafeMutablePointer<Float>.allocate(capacity: Self.rowLength)
    defer { importance.deallocate() }
    for i in 0..<Self.rowLength { importance[i] = 0.1 + random.uniform() * random.uniform() * 4 }

    let codecs = selectedTypes(types, where: { $0.quantize != nil })
    if let ggml {
      for codec in codecs where ggml.canQuantize(codec.type) { _ = try ggml.traits(of: codec.type) }
    }

    print(
      "quantize: rows of \(Self.rowLength) Gaussian weights, \(Self.rowsPerCall) rows per call per thread, "
        + "best call of ≥ \(rounds) alternating rounds and ≥ \(seconds) s per figure, \(coreCount) cores")
    print(machineLine())
    print(ggml?.banner ?? "ggml: not measured (no --ggml-lib), so no baseline columns")
    printHeader()

    var mismatches: [String] = []
    for codec in codecs {
      guard let quantize = codec.quantize, let rowBytes = codec.type.byteCount(elements: Self.rowLength) else {
        continue
      }
      let type = codec.type
      let ours = UnsafeMutableRawPointer.allocate(byteCount: rows * rowBytes, alignment: 64)
      let theirs = UnsafeMutableRawPointer.allocate(byteCount: rows * rowBytes, alignment: 64)
      defer {
        ours.deallocate()
        theirs.deallocate()
      }
      let src = SendablePointer(pointer: UnsafePointer(values))
      let dstOurs = SendablePointer(pointer: ours)
      let dstTheirs = SendablePointer(pointer: theirs)
      let quantscope = Quantizer { first, n, im in
        quantize(src.pointer + first * Self.rowLength, n, Self.rowLength, im, dstOurs.pointer + first * rowBytes)
      }
      let peer = ggml.flatMap { library in
        library.canQuantize(type)
          ? Quantizer { first, n, im in
            library.quantizeChunk(
              type, src.pointer, dstTheirs.pointer, firstRow: first, rows: n, rowLength: Self.rowLength, importance: im)
          } : nil
      }
      let requiresImportance = codec.requiresImportance || (ggml?.requiresImatrix(type) ?? false)

      for withImportance in [false, true] {
        if !withImportance && requiresImportance { continue }
        let im = SendablePointer(pointer: withImportance ? UnsafePointer(importance) : nil)
        var bodies: [() -> Void] = []
        for q in [quantscope] + (peer.map { [$0] } ?? []) {
          bodies += [
            { q.call(0, Self.rowsPerCall, im.pointer) },
            {
              DispatchQueue.concurrentPerform(iterations: coreCount) { i in
                q.call(i * Self.rowsPerCall, Self.rowsPerCall, im.pointer)
              }
            },
          ]
        }
        let weights = [Self.rowsPerCall, rows, Self.rowsPerCall, rows].map { Double($0 * Self.rowLength) }
        let best = alternatingBest(rounds: rounds, minimumSeconds: seconds, bodies).enumerated().map {
          weights[$0.offset] / $0.element
        }

        var bytes = ""
        if let peer {
          quantscope.call(0, rows, im.pointer)
          peer.call(0, rows, im.pointer)
          if let d = differences(ours, theirs, bytes: rows * rowBytes, unit: type.blockBytes) {
            bytes = "DIFFER"
            let offset = d.first * type.blockBytes
            mismatches.append(
              "\(type.name) imatrix \(withImportance ? "yes" : "no"): \(d.count) of "
                + "\(rows * rowBytes / type.blockBytes) blocks differ; first at block \(d.first) (row "
                + "\(offset / rowBytes)):\n  quantscope \(hex(ours + offset, type.blockBytes))"
                + "\n  ggml       \(hex(theirs + offset, type.blockBytes))")
          } else {
            bytes = "identical"
          }
        } else if ggml != nil {
          bytes = "not in ggml"
        }
        printRow(type.name, withImportance, best, bytes: bytes)
      }
    }
    for m in mismatches { print("MISMATCH \(m)") }
    if !mismatches.isEmpty { print("MISMATCH: ggml and quantscope quantized \(mismatches.count) case(s) differently") }
    return mismatches.isEmpty
  }

  /// Column titles; the ggml columns exist only when a library was given.
  func printHeader() {
    if ggml == nil {
      print(pad("type", 10) + pad("imatrix", 9) + padLeft("1 thread", 12) + padLeft("\(coreCount) threads", 12))
      return
    }
    print(
      pad("type", 10) + pad("imatrix", 8) + padLeft("qs 1-thr", 10) + padLeft("ggml 1-thr", 12) + padLeft("ratio", 8)
        + padLeft("qs \(coreCount)-thr", 10) + padLeft("ggml \(coreCount)-thr", 12) + padLeft("ratio", 8)
        + padLeft("bytes", 13))
  }

  /// `best` holds weights/s: quantscope 1-thread, all-core, then ggml's if it ran.
  func printRow(_ name: String, _ withImportance: Bool, _ best: [Double], bytes: String) {
    if ggml == nil {
      print(
        pad(name, 10) + pad(withImportance ? "yes" : "no", 9) + padLeft(millions(best[0]), 12)
          + padLeft(millions(best[1]), 12))
      return
    }
    let peer = best.count == 4 ? Array(best[2...]) : nil
    print(
      pad(name, 10) + pad(withImportance ? "yes" : "no", 8) + padLeft(millions(best[0]), 10)
        + padLeft(peer.map { millions($0[0]) } ?? "—", 12) + padLeft(ratio(best[0], peer?[0]), 8)
        + padLeft(millions(best[1]), 10) + padLeft(peer.map { millions($0[1]) } ?? "—", 12)
        + padLeft(ratio(best[1], peer?[1]), 8) + padLeft(bytes, 13))
  }

  /// One block's bytes in hex, so a mismatch can be read field by field against the layout.
  func hex(_ block: UnsafeRawPointer, _ count: Int) -> String {
    (0..<count).map { String(format: "%02x", block.load(fromByteOffset: $0, as: UInt8.self)) }.joined()
  }

  /// Weights/s in millions, the unit quantizer speed is usually quoted in.
  func millions(_ rate: Double) -> String { fixed(rate / 1e6) + "M" }
}
