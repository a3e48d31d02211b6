import QuantscopeFormats

extension Plan {
  /// The `quantscope.plan/1` document: the context the recipe was applied in, every planned tensor
  /// with the rule that decided its type, the totals, the per-type roll-up, rule hits and warnings.
  ///
  /// - Parameter kvB: the kv_b layout the plan describes and why, when the source was loaded with one;
  ///   `nil` gives `null` layout members.
  public func jsonDocument(kvB: PlanSource.KVBChoice? = nil) -> JSONValue {
    .document(
      schema: "quantscope.plan/1",
      [
        ("recipe", .string(recipe)), ("architecture", .optional(architecture)),
        ("block_count", .int(context.blockCount)),
        ("leading_dense_blocks", .int(context.leadingDenseBlocks)),
        ("has_output_tensor", .bool(context.hasOutputTensor)),
        ("kv_b_layout", .optional(kvB?.layout.rawValue)), ("kv_b_layout_basis", .optional(kvB?.basis.rawValue)),
        ("llama_quantize", .optional(mix?.commandLine)), ("mixes", .optional(mixes?.name)),
        ("mixes_llama_cpp_commit", .optional(mixes?.llamaCppCommit)),
        ("imatrix_required", .array(imatrixRequired.map { .string($0) })),
        (
          "tensors",
          .array(
            tensors.map {
              .members([
                ("name", .string($0.name)), ("current", .optional($0.currentType?.name)),
                ("target", .string($0.targetType.name)), ("rule_type", .optional($0.ruleType?.name)),
                ("shape", .array($0.shape.map { .int($0) })), ("ne", .array($0.ne.map { .int($0) })),
                ("parameters", .int($0.parameters)), ("bytes", .int($0.bytes)), ("decided_by", .string($0.decidedBy)),
                ("fallback", .optional($0.fallback)),
              ])
            })
        ),
        ("total_bytes", .int(totalBytes)), ("total_parameters", .int(totalParameters)),
        ("gibibytes", .finite(gibibytes)), ("bits_per_weight", .finite(bitsPerWeight)),
        (
          "by_type",
          .array(
            byType.map {
              .members([
                ("type", .string($0.type.name)), ("tensors", .int($0.tensors)), ("parameters", .int($0.parameters)),
                ("bytes", .int($0.bytes)),
              ])
            })
        ),
        ("rule_hits", .array(ruleHits.map { .members([("rule", .string($0.rule)), ("count", .int($0.count))]) })),
        ("warnings", .array(warnings.map { .string($0) })),
      ])
  }
}
