import QuantscopeFormats

extension KLDStatistics {
  /// The statistics as JSON members (percentages as printed by llama-perplexity).
  var jsonMembers: [(String, JSONValue)] {
    [
      ("mean_kld", .finite(meanKLD)), ("mean_kld_uncertainty", .finite(meanKLDUncertainty)),
      ("kld_99", .finite(kld99)), ("max_kld", .finite(maxKLD)), ("mean_delta_p_percent", .finite(meanDeltaP)),
      ("rms_delta_p_percent", .finite(rmsDeltaP)), ("same_top_percent", .finite(sameTopPercent)),
      ("ln_ppl_ratio", .finite(logPerplexityRatio)),
    ]
  }
}

extension AttributionReport {
  /// The `quantscope.attribute/1` document: the whole file's statistics, every group worst first with its share,
  /// predicted error and sizes, the non-additivity, the rank correlation, the restore when run, and timings.
  public func jsonDocument() -> JSONValue {
    let rows: [JSONValue] = groupsWorstFirst.map { g in
      .members(
        [("label", .string(g.label)), ("tensors", .array(g.tensors.map { .string($0) }))] + g.statistics.jsonMembers
          + [
            ("share", .finite(share(g))), ("predicted_error", .finite(g.predictedError)),
            ("base_bytes", .int(g.baseBytes)), ("candidate_bytes", .int(g.candidateBytes)),
            ("seconds", .finite(g.seconds)),
          ])
    }
    var members: [(String, JSONValue)] = [
      ("base", .string(base)), ("candidate", .string(candidate)), ("groups_by", .string(grouping.description)),
      ("llama_cpp", .optional(llamaVersion)), ("context", .int(context)), ("chunks", chunks.map { .int($0) } ?? .null),
      ("parallel", .int(parallel)), ("threads_per_evaluation", .int(threadsPerEvaluation)),
      ("weighted", .bool(weighted)), ("whole", .members(whole.jsonMembers)), ("groups", .array(rows)),
      ("sum_of_groups_kld", .finite(sumOfGroups)), ("non_additivity", .finite(nonAdditivity)),
      ("rank_correlation", .finite(rankCorrelation)),
    ]
    if let restore {
      members.append(
        (
          "restore",
          .members([
            ("fraction", .finite(restore.fraction)), ("target_kld", .finite(restore.targetKLD)),
            ("reached", .bool(restore.reached)), ("groups", .array(restore.groups.map { .string($0.label) })),
            (
              "steps",
              .array(
                restore.steps.map { s in
                  .members([("restored", .array(s.restored.map { .string($0) }))] + s.statistics.jsonMembers)
                })
            ),
            ("size_cost_bytes", .int(restore.sizeCost)), ("recipe", .array(restore.recipeLines.map { .string($0) })),
          ])
        ))
    }
    members += [
      ("evaluation_seconds", .array(evaluationSeconds.map { .finite($0) })), ("wall_seconds", .finite(wallSeconds)),
    ]
    return .document(schema: "quantscope.attribute/1", members)
  }
}
