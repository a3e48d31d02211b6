import QuantscopeFormats

/// What `tune` chooses from: every tensor of the model with the types it may take, each with its
/// size and its measured error.
///
/// The table is plain data on purpose: a per-kind factor (a calibration of error against the
/// model's output divergence) can scale ``Option/error`` before ``TuneSolver`` sees it.
public struct TuneTable: Sendable {
  /// One type a tensor may take.
  public struct Option: Sendable, Equatable {
    /// The type written (after llama.cpp's row-length fallback).
    public var type: GGMLType
    /// Bytes of tensor data at that type.
    public var bytes: Int
    /// Predicted error: Σ (quantized − reference)², or Σ w (quantized − reference)² with an
    /// importance matrix (a proxy for the error of the layer's output, not that error itself).
    public var error: Double
    /// Standard error of ``error`` when it was estimated from a sample of rows; 0 when measured
    /// on every row.
    public var standardError: Double
    /// The sample estimate ``error`` and ``standardError`` were taken from, if sampled: its sums
    /// are what the parts of a sharded run carry, so that the merge finishes them as one run does.
    public private(set) var sample: TuneSampling.Estimate? = nil

    /// An option.
    public init(type: GGMLType, bytes: Int, error: Double, standardError: Double = 0) {
      self.type = type
      self.bytes = bytes
      self.error = error
      self.standardError = standardError
    }

    /// Sets ``error`` and ``standardError`` from a sample estimate.
    public mutating func sampled(_ estimate: TuneSampling.Estimate) {
      error = estimate.estimate
      standardError = estimate.standardError
      sample = estimate
    }
  }

  /// One tensor and its options.
  public struct Item: Sendable {
    /// GGUF tensor name.
    public var name: String
    /// Its kind as `diff`'s roll-ups name it (`ffn_down_exps`).
    public var kind: String
    /// `blk.N` index, if any.
    public var layer: Int?
    /// Values in the tensor.
    public var parameters: Int
    /// The types it may take; exactly one for a tensor the recipe may not change.
    public var options: [Option]
    /// Why the tensor is fixed (`keep: norm`, a `--base` rule), or `nil` when it is tuned.
    public var fixedBy: String?

    /// An item.
    public init(name: String, kind: String, layer: Int?, parameters: Int, options: [Option], fixedBy: String? = nil) {
      self.name = name
      self.kind = kind
      self.layer = layer
      self.parameters = parameters
      self.options = options
      self.fixedBy = fixedBy
    }
  }

  /// Every tensor, in model order.
  public var items: [Item]

  /// A table.
  public init(items: [Item]) { self.items = items }

  /// Bytes with every tensor at its smallest option.
  public var minimumBytes: Int { items.reduce(0) { $0 + ($1.options.map(\.bytes).min() ?? 0) } }
  /// Bytes with every tensor at its largest option.
  public var maximumBytes: Int { items.reduce(0) { $0 + ($1.options.map(\.bytes).max() ?? 0) } }
  /// Values over all tensors.
  public var parameters: Int { items.reduce(0) { $0 + $1.parameters } }

  /// A copy with every tuned tensor's errors multiplied by `factor(kind)` (a calibration).
  public func scaled(by factor: (String) -> Double) -> TuneTable {
    var copy = self
    for i in copy.items.indices {
      let f = factor(copy.items[i].kind)
      for j in copy.items[i].options.indices {
        copy.items[i].options[j].error *= f
        copy.items[i].options[j].standardError *= f
      }
    }
    return copy
  }
}
