extension Plan {
  /// The percentage of the plan's bytes that tensors of `total`'s type take (0 for an empty plan).
  public func byteShare(of total: TypeTotal) -> Double {
    totalBytes == 0 ? 0 : Double(total.bytes) * 100 / Double(totalBytes)
  }
}
