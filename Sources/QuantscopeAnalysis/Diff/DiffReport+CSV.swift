extension DiffReport {
  /// The CSV header's columns (`weighted_nmse` follows when the comparison was weighted).
  public static let csvColumns = [
    "name", "type", "bpw", "elements", "mse", "rmse", "nmse", "nmse_db", "cosine", "snr_db", "max_abs", "max_abs_at",
    "mean_abs", "rel_frobenius", "non_finite_reference", "non_finite_candidate",
  ]

  /// One CSV line per shown row after the header; numbers in full precision, metrics a tensor
  /// does not have as empty cells.
  public var csv: String {
    var lines = [(Self.csvColumns + (weighted ? ["weighted_nmse"] : [])).joined(separator: ",")]
    for r in rows {
      let counts = ["\(r.sums.nonFiniteReference)", "\(r.sums.nonFiniteCandidate)"]
      let elements = "\(r.sums.count + r.sums.nonFinite)"
      guard let m = r.metrics else {
        // Empty cells: CSV's null. Never a number the tensor does not have.
        var cells = [r.name, r.type, "\(r.bitsPerWeight)", elements] + Array(repeating: "", count: 10) + counts
        if weighted { cells.append("") }
        lines.append(cells.joined(separator: ","))
        continue
      }
      var cells =
        [
          r.name, r.type, "\(r.bitsPerWeight)", elements, "\(m.mse)", "\(m.rmse)", "\(m.nmse)", "\(m.nmseDecibels)",
          "\(m.cosine)", "\(m.snrDecibels)", "\(m.maxAbsoluteError)",
          r.maxErrorPosition.map(String.init).joined(separator: ":"), "\(m.meanAbsoluteError)",
          "\(m.relativeFrobenius)",
        ] + counts
      if weighted { cells.append(m.weightedNMSE.map { "\($0)" } ?? "") }
      lines.append(cells.joined(separator: ","))
    }
    return lines.joined(separator: "\n")
  }
}
