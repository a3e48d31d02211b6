/// How much of a tensor's data a file holds: all of it, some, or none. A file cut off during a
/// download still lists every tensor in its header; only the data past the cut is absent.
public enum TensorPresence: String, Sendable, CaseIterable {
  /// Every byte of the data is inside the file.
  case present
  /// The data starts inside the file but ends past its end.
  case partial
  /// The data starts at or past the end of the file.
  case missing
}

extension TensorInfo {
  /// Whether the file holds this tensor's data, measured against the file's size.
  public var presence: TensorPresence {
    let (end, overflow) = dataOffset.addingReportingOverflow(byteCount)
    if !overflow && end <= file.size { return .present }
    return dataOffset < file.size ? .partial : .missing
  }

  /// Bytes of this tensor's data inside the file (`byteCount` when present, 0 when missing).
  public var bytesPresent: Int {
    switch presence {
    case .present: byteCount
    case .partial: file.size - dataOffset
    case .missing: 0
    }
  }
}
