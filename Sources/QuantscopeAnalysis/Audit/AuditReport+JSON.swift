import QuantscopeFormats

extension TensorAudit {
  /// The tensor's members: `status`, `differing_blocks`, `blocks`, `first_difference`,
  /// `nmse_vs_reproduction` (null when not compared), the source precision that reproduced.
  public var jsonValue: JSONValue {
    .members([
      ("name", .string(name)), ("type", .string(type)), ("shape", .array(shape.map { .int($0) })),
      ("bytes", .int(bytes)), ("status", .string(status.rawValue)),
      ("reference", .optional(referenceOrigin)), ("precision", .optional(precision?.rawValue)),
      ("blocks", .int(blocks)), ("differing_blocks", .int(differingBlocks)),
      (
        "first_difference",
        firstDifference.map {
          .members([("row", .int($0.row)), ("column", .int($0.column)), ("block", .int($0.block))])
        } ?? .null
      ),
      ("nmse_vs_reproduction", .finite(nmseVsReproduction)),
      ("note", .optional(note)),
    ])
  }
}

extension AuditReport {
  /// The `quantscope.audit/1` document: the verdict, the counts, the preset match and every tensor
  /// in candidate order.
  ///
  /// - Parameters:
  ///   - candidate: the candidate path as the user gave it.
  ///   - reference: the reference paths as the user gave them.
  public func jsonDocument(candidate: String, reference: [String]) -> JSONValue {
    .document(
      schema: "quantscope.audit/1",
      [
        ("candidate", .string(candidate)), ("reference", .array(reference.map { .string($0) })),
        ("architecture", .optional(architecture)), ("reference_precision", .string(precision.rawValue)),
        ("imatrix", .bool(weighted)), ("passed", .bool(passed)), ("verdict", .string(verdict)),
        ("tensors_total", .int(tensors.count)), ("tensors_reproduced", .int(reproduced.count)),
        ("bytes_total", .int(totalBytes)), ("bytes_reproduced", .int(reproducedBytes)),
        (
          "status_counts",
          .members(statusCounts.map { ($0.status.rawValue, JSONValue.int($0.count)) })
        ),
        (
          "reproduced_by_precision",
          .members(reproducedByPrecision.map { ($0.precision.rawValue, JSONValue.int($0.count)) })
        ),
        (
          "preset_match",
          presetMatch.map { m in
            .members([
              ("preset", .string(m.preset)), ("exact", .bool(m.isExact)), ("with_imatrix", .bool(m.withImatrix)),
              ("deviating_tensors", .int(m.deviatingTensors)),
              (
                "deviating_rules",
                .array(
                  m.rules.map {
                    .members([
                      ("pattern", .string($0.pattern)), ("preset_type", .string($0.from)),
                      ("file_type", .string($0.to)), ("tensors", .int($0.tensors.count)),
                    ])
                  })
              ),
            ])
          } ?? .null
        ),
        ("tensors", .array(tensors.map(\.jsonValue))),
      ])
  }
}
