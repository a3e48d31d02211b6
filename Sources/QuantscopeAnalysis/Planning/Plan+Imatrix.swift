extension Plan {
  /// Why this plan cannot be carried out without an importance matrix, naming the first tensor
  /// whose target type needs one (llama-quantize refuses these types without one: the result
  /// would be garbage); `nil` when no tensor does.
  public var imatrixRequirement: String? {
    guard let first = imatrixRequired.first else { return nil }
    return "\(first) would be \(tensors.first { $0.name == first }?.targetType.name ?? "?")"
      + (imatrixRequired.count > 1 ? " (and \(imatrixRequired.count - 1) more)" : "")
  }
}
