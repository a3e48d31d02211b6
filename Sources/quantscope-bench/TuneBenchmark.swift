import ArgumentParser
import Foundation
import QuantscopeAnalysis
import QuantscopeFormats

/// `tune`: throughput of tune's measurement (weights × candidate types per second) on a generated
/// pair, every row and a 2 % sample, and the time that rate implies for DeepSeek-V3 at 2 % on one
/// machine with this many cores. The sampled rate counts the weights quantized, but its time
/// includes decoding every row for the sampling proxy, so the projection includes that decode.
struct TuneBenchmark {
  /// Parameters of DeepSeek-V3/R1 as converted to GGUF (the MTP layer left out), for the projection.
  static let deepSeekV3Parameters = 671_026_419_200

  let pair: String
  var repeats = 1
  var sample = 0.02

  func run() throws {
    let inputs = try TuneInputs.load(source: [pair + "/candidate.gguf"], reference: [pair + "/ref"])
    let model = inputs.source.model
    let fixedTensors = try TuneConstraints.fixed(model: model, base: nil)
    let types = TuneMeasurement.defaultTypes
    let tuned = model.tensors.filter { fixedTensors[$0.name] == nil }
    let weights = tuned.reduce(0) { $0 + $1.ne.reduce(1, *) }
    let sampling = TuneSampling(fraction: sample)
    var sampledWeights = 0
    for t in tuned {
      let rows = t.ne.dropFirst().reduce(1, *)
      let matrixRows = t.ne.count >= 3 ? t.ne[1] : rows
      sampledWeights += sampling.sampledRowCount(rows: rows, matrixRows: matrixRows) * (t.ne.first ?? 1)
    }
    print(
      "tune: \(pair), \(tuned.count) tuned tensors, \(weights) weights, \(types.count) candidate types, "
        + "\(coreCount) cores, best of \(repeats)")
    var rates: [String: Double] = [:]
    for (label, fraction, measured) in [
      ("every row", nil as Double?, weights), ("sample \(sample)", sample, sampledWeights),
    ] {
      var options = TuneMeasurement.Options()
      options.threads = coreCount
      options.sample = fraction
      let seconds = try bestOfThrowing(repeats) {
        _ = try TuneMeasurement.measure(
          model: model, fixed: fixedTensors, mapping: inputs.mapping, heads: inputs.heads, options: options)
      }
      let rate = Double(measured * types.count) / seconds
      rates[label] = rate
      print(
        "  \(label): \(measured) weights measured in \(fixed(seconds, 2)) s: "
          + "\(fixed(rate / 1e6, 2)) M weights × types per second")
    }
    if let rate = rates["sample \(sample)"] {
      let effective = Double(sampledWeights) / Double(max(1, weights))
      let projected = Double(Self.deepSeekV3Parameters) * effective * Double(types.count) / rate
      print(
        "  projected DeepSeek-V3 (\(Self.deepSeekV3Parameters) weights) at --sample \(sample) "
          + "(\(fixed(100 * effective, 2)) % of rows quantized, at least \(TuneSampling.minimumRows) per 128-row tile, every row decoded), "
          + "\(coreCount) cores: \(fixed(projected / 60, 1)) min (reading the 700 GB reference is not included)")
    }
  }
}

extension QuantscopeBench {
  /// `quantscope-bench tune`.
  struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "tune",
      abstract: "tune's measurement throughput (weights × candidate types per second), full and sampled.")

    @Option(help: "A directory written by scripts/bench/make-diff-pair.py (candidate.gguf, ref/).")
    var pair: String

    @Option(name: .customLong("repeat"), help: "Runs; each figure is the fastest.")
    var repeats = 1

    @Option(help: "Sample fraction to time.")
    var sample = 0.02

    func run() throws {
      try TuneBenchmark(pair: pair, repeats: repeats, sample: sample).run()
    }
  }
}
