import QuantscopeFormats

extension LayoutComparison {
  /// Bytes of tensor data in A, summed over ``bytesByType``.
  public var totalBytesA: Int { bytesByType.reduce(0) { $0 + $1.a } }

  /// Bytes of tensor data in B, summed over ``bytesByType``.
  public var totalBytesB: Int { bytesByType.reduce(0) { $0 + $1.b } }

  /// The recipe difference as a llama-quantize `--tensor-type-file`: one `pattern=type` line per
  /// rule change, B's type, so that quantizing A's source with it reproduces B's layout.
  public var tensorTypeFileText: String { rules.map { $0.rule + "\n" }.joined() }

  /// The `quantscope.compare/1` document: added, removed and changed tensors, byte-identity,
  /// bytes per type on each side and the recipe difference A → B.
  ///
  /// - Parameters:
  ///   - a: the path of A as the user gave it.
  ///   - b: the path of B as the user gave it.
  public func jsonDocument(a: String, b: String) -> JSONValue {
    func change(_ x: LayoutComparison.Change) -> JSONValue {
      .members([
        ("name", .string(x.name)), ("type_a", .string(x.typeA)), ("type_b", .string(x.typeB)),
        ("shape_a", .array(x.shapeA.map { .int($0) })), ("shape_b", .array(x.shapeB.map { .int($0) })),
        ("bytes_a", .int(x.bytesA)), ("bytes_b", .int(x.bytesB)),
      ])
    }
    func names(_ list: [String]) -> JSONValue { .array(list.map { .string($0) }) }
    return .document(
      schema: "quantscope.compare/1",
      [
        ("a", .string(a)), ("b", .string(b)), ("added", names(added)), ("removed", names(removed)),
        ("type_changed", .array(typeChanged.map(change))), ("shape_changed", .array(shapeChanged.map(change))),
        ("identical", names(identical)), ("different_bytes", names(differentBytes)),
        (
          "bytes_by_type",
          .array(bytesByType.map { .members([("type", .string($0.type)), ("a", .int($0.a)), ("b", .int($0.b))]) })
        ),
        (
          "rules",
          .array(
            rules.map {
              .members([
                ("pattern", .string($0.pattern)), ("from", .string($0.from)), ("to", .string($0.to)),
                ("tensors", names($0.tensors)),
              ])
            })
        ),
      ])
  }
}
