/// Worst-first ordering, shared by the tensor rows and the layer and kind tables (`diff --sort`).
extension DiffGate.Metric {
  /// `items` worst first by this metric in its own direction (highest NMSE, lowest cosine, …),
  /// items without metrics (NaN/Inf values inside) first — they are the worst news — and ties in
  /// their given order whatever the sort's stability.
  func worstFirst<Item>(_ items: [Item], metrics: (Item) -> ErrorMetrics?) -> [Item] {
    let higherIsWorse = self.higherIsWorse
    return items.enumerated().sorted { a, b in
      guard let x = metrics(a.element) else { return metrics(b.element) != nil || a.offset < b.offset }
      guard let y = metrics(b.element) else { return false }
      let u = value(x), v = value(y)
      if higherIsWorse ? u > v : u < v { return true }
      if higherIsWorse ? v > u : v < u { return false }
      return a.offset < b.offset
    }.map(\.element)
  }
}

/// The layer and kind tables in the order of the tensor table (`diff --sort`), worst first.
extension Diff.Rollup {
  /// `rollups` worst first by `metric` (see ``DiffGate/Metric``); unchanged when `metric` is
  /// `nil` (layers stay in layer order, kinds in name order).
  public static func sorted(_ rollups: [Diff.Rollup], worstFirstBy metric: DiffGate.Metric?) -> [Diff.Rollup] {
    guard let metric else { return rollups }
    return metric.worstFirst(rollups, metrics: \.metrics)
  }
}
