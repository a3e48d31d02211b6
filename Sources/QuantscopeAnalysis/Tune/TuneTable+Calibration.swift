import QuantscopeFormats

extension TuneTable {
  /// The table with every tensor's error turned into estimated KLD by `calibration`'s factor for its kind.
  ///
  /// A kind the calibration did not measure gets the median of the measured factors, so that every tensor is
  /// in the same unit (a raw error beside calibrated ones would be compared as if it were KLD).
  ///
  /// - Throws: ``FormatError`` (`.usage`) when the calibration has no kinds, or when its error weighting
  ///   (imatrix-weighted or not) differs from this measurement's: the factors would be in another unit.
  public func calibrated(by calibration: ProxyCalibration, path: String, weighted: Bool) throws -> TuneTable {
    let factors = calibration.kinds.values.map(\.kldPerError).filter { $0.isFinite && $0 >= 0 }.sorted()
    guard !factors.isEmpty else {
      throw FormatError(.usage, path: path, "the calibration has no finite factor for any tensor kind")
    }
    guard calibration.weighted == weighted else {
      throw FormatError(
        .usage, path: path,
        calibration.weighted
          ? "the calibration was fitted to imatrix-weighted error: give tune the same --imatrix"
          : "the calibration was fitted to unweighted error: tune without --imatrix, or fit it with one")
    }
    let median =
      factors.count % 2 == 1
      ? factors[factors.count / 2] : (factors[factors.count / 2 - 1] + factors[factors.count / 2]) / 2
    return scaled { kind in
      guard let f = calibration.factor(forKind: kind), f.isFinite, f >= 0 else { return median }
      return f
    }
  }
}
