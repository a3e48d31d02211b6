import QuantscopeFormats

extension Requantization.Summary {
  /// The warnings grouped by message, one group per distinct problem with the number of tensors it
  /// concerns, in message order: what a terminal shows instead of one line per tensor.
  public var warningsByMessage: [(message: String, tensors: Int)] {
    Dictionary(grouping: warnings, by: \.message).map { (message: $0.key, tensors: $0.value.count) }
      .sorted { $0.message < $1.message }
  }

  /// The `quantscope.requant/2` document: the files written, every requantized tensor with its
  /// source, the copied tensors, the data size and one warning object per tensor concerned.
  ///
  /// - Parameters:
  ///   - bitsPerWeight: the plan's bits per weight.
  ///   - recipe: the recipe's name, `nil` for rules given only on the command line.
  public func jsonDocument(bitsPerWeight: Double, recipe: String?) -> JSONValue {
    .document(
      schema: "quantscope.requant/2",
      [
        ("outputs", .array(outputs.map { .string($0) })), ("recipe", .optional(recipe)),
        (
          "requantized",
          .array(
            requantized.map {
              .members([("name", .string($0.name)), ("type", .string($0.type.name)), ("source", .string($0.source))])
            })
        ),
        ("copied", .array(copied.map { .string($0) })),
        ("data_bytes", .int(dataBytes)), ("bits_per_weight", .finite(bitsPerWeight)),
        (
          "warnings",
          .array(
            warnings.map {
              .members([
                ("tensor", .string($0.tensor)), ("kind", .string($0.kind.rawValue)), ("message", .string($0.message)),
              ])
            })
        ),
      ])
  }
}
