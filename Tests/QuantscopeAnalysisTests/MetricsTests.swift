import QuantscopeAnalysis
import Testing

@Suite("error metrics")
struct MetricsTests {
  func accumulate(_ c: [Double], _ r: [Double], chunk: Int, weights: [Float]? = nil) -> ErrorAccumulator {
    var total = ErrorAccumulator()
    var i = 0
    while i < c.count {
      let n = min(chunk, c.count - i)
      var part = ErrorAccumulator()
      c.withUnsafeBufferPointer { cp in
        r.withUnsafeBufferPointer { rp in
          if let weights {
            weights.withUnsafeBufferPointer { wp in
              part.add(
                candidate: cp.baseAddress! + i, reference: rp.baseAddress! + i, count: n, firstIndex: i,
                importance: wp.baseAddress! + i)
            }
          } else {
            part.add(candidate: cp.baseAddress! + i, reference: rp.baseAddress! + i, count: n, firstIndex: i)
          }
        }
      }
      total.merge(part)
      i += n
    }
    return total
  }

  @Test func `metrics from hand-computed values`() throws {
    let r: [Double] = [1, -2, 3, 0.5]
    let c: [Double] = [1.5, -2, 2, 0.5]
    let m = try #require(accumulate(c, r, chunk: 4).metrics)
    // errors 0.5, 0, -1, 0 → SSE 1.25, MSE 0.3125; Σr² = 14.25
    #expect(m.mse == 0.3125)
    #expect(m.nmse == 1.25 / 14.25)
    #expect(m.maxAbsoluteError == 1)
    #expect(m.maxErrorIndex == 2)
    #expect(m.meanAbsoluteError == 1.5 / 4)
    let dot = 1.5 + 4 + 6 + 0.25
    let cc = 2.25 + 4 + 4 + 0.25
    #expect(abs(m.cosine - dot / (14.25 * cc).squareRoot()) < 1e-15)
    #expect(abs(m.snrDecibels + m.nmseDecibels) < 1e-12)
  }

  @Test func `chunking does not change the maximum or the counts`() {
    let r = (0..<1000).map { Double($0 % 17) - 8 }
    let c = r.enumerated().map { $0.element + (($0.offset == 613) ? 5 : 0.01) }
    let a = accumulate(c, r, chunk: 1000), b = accumulate(c, r, chunk: 7)
    #expect(a.count == b.count)
    #expect(a.maxErrorIndex == 613 && b.maxErrorIndex == 613)
    #expect(abs(a.sumSquaredError - b.sumSquaredError) <= 1e-12 * a.sumSquaredError)
  }

  @Test func `identical tensors give zero error and cosine one`() throws {
    let r: [Double] = [0.25, -1, 8]
    let m = try #require(accumulate(r, r, chunk: 2).metrics)
    #expect(m.mse == 0)
    #expect(m.nmseDecibels == -.infinity)
    #expect(m.cosine == 1)
  }

  @Test func `non-finite values are counted per side and leave no metrics`() {
    let acc = accumulate([1, .nan, 3, .infinity], [1, 2, .infinity, .nan], chunk: 4)
    #expect(acc.nonFinite == 3)
    #expect(acc.nonFiniteReference == 2)
    #expect(acc.nonFiniteCandidate == 2)
    #expect(acc.firstNonFiniteIndex == 1)
    #expect(acc.count == 1)
    // The one finite pair agrees exactly: a score over it would be a perfect one.
    #expect(acc.finiteMetrics.mse == 0)
    #expect(acc.metrics == nil)
  }

  @Test func `an all-NaN reference has no metrics, never a perfect cosine`() {
    let acc = accumulate([1, 2, 3, 4], [.nan, .nan, .nan, .nan], chunk: 2)
    #expect(acc.nonFiniteReference == 4 && acc.nonFiniteCandidate == 0 && acc.count == 0)
    #expect(acc.metrics == nil)
    var merged = accumulate([1, 2], [1, 2], chunk: 2)
    #expect(merged.metrics?.cosine == 1)
    merged.merge(acc)
    #expect(merged.metrics == nil, "a roll-up containing a non-finite tensor has no metrics")
    #expect(ErrorAccumulator().metrics == nil, "nothing compared: no metrics")
  }

  @Test func `importance weights give a weighted NMSE`() throws {
    let m = try #require(accumulate([2, 0], [1, 1], chunk: 2, weights: [3, 1]).metrics)
    // Σ w e² = 3·1 + 1·1 = 4; Σ w r² = 4.
    #expect(m.weightedNMSE == 1)
    #expect(accumulate([2, 0], [1, 1], chunk: 2).metrics?.weightedNMSE == nil)
  }
}
