import Foundation
import QuantscopeFormats

/// What `diff` shows: the tensors in the order asked for (possibly the first N), the roll-ups, the
/// tensors without metrics and the gate's verdict — every decision made, so that a front end only
/// renders it.
///
/// The roll-ups and the gate always cover every compared tensor, whatever `top` keeps: a shorter
/// table never makes a model look better.
public struct DiffReport: Sendable {
  /// The order of the tensor rows.
  public enum Order: String, Sendable, CaseIterable {
    /// Highest NMSE first.
    case nmse
    /// Highest MSE first.
    case mse
    /// Lowest cosine similarity first.
    case cosine
    /// Highest maximum absolute error first.
    case max_abs
    /// By tensor name.
    case name
    /// As the candidate file lists them.
    case file

    /// The metric this order ranks by, worst first in that metric's own direction; `nil` for the
    /// orders that do not rank.
    public var metric: DiffGate.Metric? {
      switch self {
      case .nmse: .nmse
      case .mse: .mse
      case .cosine: .cosine
      case .max_abs: .max_abs
      case .name, .file: nil
      }
    }
  }

  /// The comparison the report is about (every tensor, in candidate order).
  public let diff: Diff
  /// The order of ``rows``.
  public let order: Order
  /// The tensors shown: every tensor in ``order``, cut to the first `top` when one was given.
  public let rows: [Diff.TensorResult]
  /// Roll-ups per layer (`blk.N`), in layer order.
  public let layers: [Diff.Rollup]
  /// Roll-ups per tensor kind, in name order.
  public let kinds: [Diff.Rollup]
  /// The whole-model roll-up.
  public let model: Diff.Rollup
  /// Tensors holding NaN or infinite values (no metrics), in candidate order.
  public let nonFiniteTensors: [Diff.TensorResult]
  /// The verdict on the `--fail-above` thresholds; `nil` when none was given.
  public let gate: DiffGate?

  /// Arranges `diff` for showing: rows in `order`, the first `top` of them, and the verdict on
  /// `thresholds` (no gate when there are none).
  public init(_ diff: Diff, order: Order = .nmse, top: Int? = nil, thresholds: [DiffGate.Threshold] = []) {
    self.diff = diff
    self.order = order
    var rows = Self.sorted(diff.tensors, by: order)
    if let top { rows = Array(rows.prefix(max(0, top))) }
    self.rows = rows
    layers = diff.byLayer
    kinds = diff.byKind
    model = diff.model
    nonFiniteTensors = diff.tensors.filter { $0.sums.nonFinite > 0 }
    gate = thresholds.isEmpty ? nil : DiffGate(diff, thresholds: thresholds)
  }

  /// Compares `candidate` with `reference` and arranges the result: the whole of `diff` as one call.
  public static func run(
    candidate: GGUFModel, reference: any TensorCollection, options: Diff.Options = Diff.Options(),
    order: Order = .nmse, top: Int? = nil, thresholds: [DiffGate.Threshold] = []
  ) throws -> DiffReport {
    let diff = try Diff.compute(candidate: candidate, reference: reference, options: options)
    return DiffReport(diff, order: order, top: top, thresholds: thresholds)
  }

  /// `tensors` in `order`. Metric orders put tensors without metrics (NaN/Inf values) first —
  /// they are the worst news — and keep file order among equal values.
  public static func sorted(_ tensors: [Diff.TensorResult], by order: Order) -> [Diff.TensorResult] {
    if order == .name { return tensors.sorted { $0.name < $1.name } }
    guard let metric = order.metric else { return tensors }
    return metric.worstFirst(tensors, metrics: \.metrics)
  }

  /// The layer roll-ups as tables show them: worst first in ``order``'s metric, layer order for
  /// the orders that do not rank.
  public var layersInOrder: [Diff.Rollup] { Diff.Rollup.sorted(layers, worstFirstBy: order.metric) }
  /// The kind roll-ups as tables show them: worst first in ``order``'s metric, name order for the
  /// orders that do not rank.
  public var kindsInOrder: [Diff.Rollup] { Diff.Rollup.sorted(kinds, worstFirstBy: order.metric) }

  /// Whether the comparison was weighted by an importance matrix (the weighted NMSE column).
  public var weighted: Bool { diff.weighted }
  /// Candidate tensors with no reference.
  public var missingReference: [String] { diff.missingReference }
  /// Reference tensors no rule maps.
  public var unmappedReference: [String] { diff.unmappedReference }
  /// Reference tensors skipped on purpose (layers past `num_hidden_layers`, e.g. MTP).
  public var skippedReference: [String] { diff.skippedReference }
  /// Whether the gate was given and failed: the run should end with a failing status.
  public var gateFailed: Bool { gate.map { !$0.passed } ?? false }
}
