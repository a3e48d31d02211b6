extension HashComparison {
  /// The `quantscope.hash-check/1` document: the verdict, each changed tensor with why and both
  /// descriptions, the missing and extra tensors, and whether the model hashes match (`null` when
  /// they were not compared).
  ///
  /// - Parameter path: the manifest checked against, as the user gave it.
  public func jsonDocument(manifest path: String) -> JSONValue {
    let c = self
    func tensor(_ t: TensorHash) -> JSONValue {
      .members([
        ("type", .string(t.type)), ("shape", .array(t.shape.map { .int($0) })), ("bytes", .int(t.bytes)),
        ("xxh3_128", .string(t.xxh3_128.hex)),
      ])
    }
    return .document(
      schema: "quantscope.hash-check/1",
      [
        ("manifest", .string(path)), ("identical", .bool(c.isIdentical)),
        (
          "changed",
          .array(
            c.changed.map {
              .members([
                ("name", .string($0.expected.name)), ("reasons", .array($0.reasons.map { .string($0) })),
                ("expected", tensor($0.expected)), ("actual", tensor($0.actual)),
              ])
            })
        ),
        ("missing", .array(c.missing.map { .string($0) })), ("extra", .array(c.extra.map { .string($0) })),
        ("model_hash_matches", c.modelHashMatches.map { .bool($0) } ?? .null),
      ])
  }
}
