/// The layer and kind tables in the order of the tensor table (`diff --sort`), worst first.
extension Diff.Rollup {
  /// `rollups` worst first by `metric` in that metric's own direction (highest NMSE, lowest
  /// cosine, …), roll-ups without metrics (NaN/Inf values inside) first, ties in their given
  /// order; unchanged when `metric` is `nil` (layers stay in layer order, kinds in name order).
  public static func sorted(_ rollups: [Diff.Rollup], worstFirstBy metric: DiffGate.Metric?) -> [Diff.Rollup] {
    guard let metric else { return rollups }
    let higherIsWorse = metric.higherIsWorse
    return rollups.enumerated().sorted { a, b in
      guard let x = a.element.metrics else { return b.element.metrics != nil || a.offset < b.offset }
      guard let y = b.element.metrics else { return false }
      let u = metric.value(x), v = metric.value(y)
      if higherIsWorse ? u > v : u < v { return true }
      if higherIsWorse ? v > u : v < u { return false }
      return a.offset < b.offset
    }.map(\.element)
  }
}
