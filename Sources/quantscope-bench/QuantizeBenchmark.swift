import Dispatch
import Foundation
import QuantscopeCodecs
import QuantscopeFormats

/// `quantize`: weights per second of every registered quantizer, single-thread and all-core,
/// without and with an importance vector.
struct QuantizeBenchmark {
  let options: Options

  /// ggml's single-thread figures from the issue, weights/s (without, with imatrix).
  static let ggmlSingleThread: [GGMLType: (plain: Double, imatrix: Double?)] = [
    .q3_K: (55.6e6, 20.0e6), .q4_K: (13.5e6, 8.2e6), .q5_K: (17.4e6, 7.2e6), .q6_K: (29.7e6, 32.9e6),
    .q2_K: (13.2e6, 6.2e6), .q8_0: (226e6, nil),
  ]

  static let rowLength = 4096
  static let rowsPerCall = 32

  func run() {
    let rows = Self.rowsPerCall * coreCount
    let count = rows * Self.rowLength
    var random = Random(seed: 42)
    let values = UnsafeMutablePointer<Float>.allocate(capacity: count)
    defer { values.deallocate() }
    for i in 0..<count { values[i] = random.gaussian() * 0.02 }
    let importance = UnsafeMutablePointer<Float>.allocate(capacity: Self.rowLength)
    defer { importance.deallocate() }
    for i in 0..<Self.rowLength { importance[i] = 0.1 + random.uniform() * random.uniform() * 4 }

    print(
      "quantize: rows of \(Self.rowLength) Gaussian weights, \(Self.rowsPerCall) rows per call, ≥ \(options.seconds) s per figure, \(coreCount) cores"
    )
    print(
      pad("type", 10) + pad("imatrix", 9) + padLeft("1 thread", 12) + padLeft("\(coreCount) threads", 12)
        + padLeft("ggml 1-thread", 15) + padLeft("vs ggml", 9))

    for codec in selectedTypes(options.types, where: { $0.quantize != nil }) {
      guard let quantize = codec.quantize, let rowBytes = codec.type.byteCount(elements: Self.rowLength) else {
        continue
      }
      let output = UnsafeMutableRawPointer.allocate(byteCount: rows * rowBytes, alignment: 64)
      defer { output.deallocate() }
      for withImportance in [false, true] {
        if !withImportance && codec.requiresImportance { continue }
        let im: UnsafePointer<Float>? = withImportance ? UnsafePointer(importance) : nil
        let src = SendablePointer(pointer: UnsafePointer(values))
        let dst = SendablePointer(pointer: output)
        let imp = SendablePointer(pointer: im)
        let one = rate(weightsPerRun: Self.rowsPerCall * Self.rowLength) {
          quantize(src.pointer, Self.rowsPerCall, Self.rowLength, imp.pointer, dst.pointer)
        }
        let all = rate(weightsPerRun: rows * Self.rowLength) {
          DispatchQueue.concurrentPerform(iterations: coreCount) { i in
            let first = i * Self.rowsPerCall
            quantize(
              src.pointer + first * Self.rowLength, Self.rowsPerCall, Self.rowLength, imp.pointer,
              dst.pointer + first * rowBytes)
          }
        }
        var line =
          pad(codec.type.name, 10) + pad(withImportance ? "yes" : "no", 9) + padLeft(millions(one), 12)
          + padLeft(millions(all), 12)
        if let ggml = Self.ggmlSingleThread[codec.type] {
          let reference = withImportance ? (ggml.imatrix ?? ggml.plain) : ggml.plain
          line += padLeft(millions(reference), 15) + padLeft(fixed(one / reference, 2) + "×", 9)
        }
        print(line)
      }
    }
  }

  /// Weights per second: repeats `body` until `options.seconds` have passed (at least twice,
  /// the first run being a warm-up) and keeps the fastest run.
  func rate(weightsPerRun: Int, _ body: () -> Void) -> Double {
    body()
    var best = Double.infinity
    var total = 0.0
    repeat {
      let t = seconds(body)
      best = min(best, t)
      total += t
    } while total < options.seconds
    return Double(weightsPerRun) / best
  }

  func millions(_ rate: Double) -> String { fixed(rate / 1e6) + "M" }
}
