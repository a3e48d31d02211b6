import QuantscopeAnalysis
import QuantscopeFormats
import Testing

/// The gate's thresholds and the `--tensors` filter, without files.
@Suite("diff gate and tensor filter")
struct DiffGateTests {
  @Test func `thresholds parse, and limits that cannot both pass and fail are refused`() throws {
    let t = try DiffGate.Threshold(parsing: "NMSE_DB=-15")
    #expect(t.metric == .nmse_db && t.limit == -15)
    #expect(t.failingCondition == "nmse_db > -15")
    #expect(try DiffGate.Threshold(parsing: "cosine=0.999").failingCondition == "cosine < 0.999")
    for bad in [
      "cosine=nan", "cosine=NaN", "mse=inf", "snr_db=-inf", "cosine=1.5", "cosine=-2", "mse=-0.1",
      "maxabs=-1", "nmse=", "=3", "nmse_db", "psnr=1", "cosine=0.9x",
    ] {
      #expect(throws: DiffGate.ThresholdError.self, "\(bad)") { try DiffGate.Threshold(parsing: bad) }
    }
    // The edges of the meaningful range are fine: cosine=1 fails unless identical, mse=0 unless exact.
    _ = try DiffGate.Threshold(parsing: "cosine=1")
    _ = try DiffGate.Threshold(parsing: "mse=0")
  }

  @Test func `the max abs metric is max_abs, and maxabs still parses as a deprecated spelling`() throws {
    #expect(try DiffGate.Threshold(parsing: "max_abs=0.5").metric == .max_abs)
    #expect(try DiffGate.Threshold(parsing: "MAXABS=0.5").metric == .max_abs)
    #expect(try DiffGate.Threshold(parsing: "maxabs=0.5").failingCondition == "max_abs > 0.5")
    #expect(DiffGate.Metric.allCases.map(\.rawValue).contains("max_abs"))
    #expect(!DiffGate.Metric.allCases.map(\.rawValue).contains("maxabs"))
  }

  @Test func `a NaN metric value violates every threshold`() throws {
    var acc = ErrorAccumulator()
    let c: [Double] = [1, 2], r: [Double] = [1, 2]
    c.withUnsafeBufferPointer { cp in
      r.withUnsafeBufferPointer { rp in
        acc.add(candidate: cp.baseAddress!, reference: rp.baseAddress!, count: 2, firstIndex: 0)
      }
    }
    var m = try #require(acc.metrics)
    #expect(!(try DiffGate.Threshold(parsing: "cosine=0.99")).isViolated(by: m))
    m.cosine = .nan
    m.nmseDecibels = .nan
    #expect(try DiffGate.Threshold(parsing: "cosine=0.99").isViolated(by: m))
    #expect(try DiffGate.Threshold(parsing: "nmse_db=100").isViolated(by: m))
  }

  @Test func `nearest names by edit distance, with regex escapes read literally`() {
    let names = [
      "blk.1.ffn_up_exps.weight", "blk.1.ffn_up_shexp.weight", "blk.2.ffn_up_exps.weight", "output.weight",
      "blk.10.ffn_down_exps.weight",
    ]
    #expect(
      TensorNameFilter.nearest(to: "blk\\.1\\.ffn_up_exp\\.weight", among: names)
        == ["blk.1.ffn_up_exps.weight", "blk.1.ffn_up_shexp.weight", "blk.2.ffn_up_exps.weight"])
    #expect(TensorNameFilter.nearest(to: "outptu", among: names, count: 1) == ["output.weight"])
    #expect(TensorNameFilter.nearest(to: "x", among: [], count: 3).isEmpty)
  }

  @Test func `a filter that selects nothing throws naming the file, the pattern and the nearest names`() throws {
    let filter = try TensorNameFilter("ffn_up_exp\\.")
    #expect(try filter.select(["a.ffn_up_exp.w", "b"], name: { $0 }, in: "m.gguf") == ["a.ffn_up_exp.w"])
    do {
      _ = try filter.select(["blk.0.ffn_up_exps.weight", "output.weight"], name: { $0 }, in: "m.gguf")
      Issue.record("an empty selection was accepted")
    } catch let error as FormatError {
      #expect(
        error.description == "m.gguf: --tensors 'ffn_up_exp\\.' matches no tensor "
          + "(nearest: blk.0.ffn_up_exps.weight, output.weight)")
    }
    #expect(throws: FormatError.self) { try TensorNameFilter("(unclosed") }
  }
}
