/// Counts over a set of tensors: how many, how many values, how many bytes.
public struct TensorTotals: Sendable, Equatable {
  /// Number of tensors.
  public var tensors: Int = 0
  /// Number of values (parameters).
  public var parameters: Int = 0
  /// Bytes of data.
  public var bytes: Int = 0

  /// Empty totals.
  public init() {}

  /// Totals of `tensors`.
  public init<S: Sequence>(_ tensors: S) where S.Element == TensorInfo {
    for t in tensors { add(t) }
  }

  /// Adds one tensor. Sums saturate rather than trap (they cannot overflow for real files:
  /// every byte count is bounded by a file size).
  public mutating func add(_ t: TensorInfo) {
    tensors += 1
    parameters = Self.saturatingAdd(parameters, t.elementCount)
    bytes = Self.saturatingAdd(bytes, t.byteCount)
  }

  static func saturatingAdd(_ a: Int, _ b: Int) -> Int {
    let (s, o) = a.addingReportingOverflow(b)
    return o ? Int.max : s
  }

  /// Bits of data per parameter (0 when there are no parameters).
  public var bitsPerWeight: Double { parameters == 0 ? 0 : Double(bytes) * 8 / Double(parameters) }

  /// Bytes in GiB (2³⁰).
  public var gibibytes: Double { Double(bytes) / 1_073_741_824 }
}

/// Summaries of tensor lists: totals, per encoding, per layer. Used by `inspect` and by any
/// other report; works for every ``TensorCollection``.
public enum TensorSummary {
  /// Totals of one encoding.
  public struct EncodingRow: Sendable, Equatable {
    /// The encoding (`Q4_K`, `BF16`).
    public var encoding: TensorEncoding
    /// Its totals.
    public var totals: TensorTotals
  }

  /// Totals of one layer (or of the tensors outside any layer).
  public struct LayerRow: Sendable, Equatable {
    /// The layer index, `nil` for tensors outside the numbered layers (embeddings, output).
    public var layer: Int?
    /// Its totals.
    public var totals: TensorTotals
    /// Tensors per encoding within the layer, by decreasing bytes.
    public var encodings: [EncodingRow]
  }

  /// Per-encoding totals, ordered by ggml type id (safetensors dtypes after, by name).
  public static func byEncoding<S: Sequence>(_ tensors: S) -> [EncodingRow] where S.Element == TensorInfo {
    var rows: [TensorEncoding: TensorTotals] = [:]
    for t in tensors { rows[t.encoding, default: TensorTotals()].add(t) }
    return rows.map { EncodingRow(encoding: $0.key, totals: $0.value) }.sorted {
      encodingOrder($0.encoding, $1.encoding)
    }
  }

  /// One row per layer in layer order, then (if any) one row with `layer == nil` for the
  /// tensors outside the layers.
  public static func byLayer<S: Sequence>(_ tensors: S) -> [LayerRow] where S.Element == TensorInfo {
    var groups: [Int: [TensorInfo]] = [:]
    var other: [TensorInfo] = []
    for t in tensors {
      if let layer = layerIndex(of: t.name) { groups[layer, default: []].append(t) } else { other.append(t) }
    }
    func row(_ layer: Int?, _ ts: [TensorInfo]) -> LayerRow {
      let encodings = byEncoding(ts).sorted {
        $0.totals.bytes != $1.totals.bytes ? $0.totals.bytes > $1.totals.bytes : encodingOrder($0.encoding, $1.encoding)
      }
      return LayerRow(layer: layer, totals: TensorTotals(ts), encodings: encodings)
    }
    var rows = groups.sorted { $0.key < $1.key }.map { row($0.key, $0.value) }
    if !other.isEmpty { rows.append(row(nil, other)) }
    return rows
  }

  /// The layer a tensor name belongs to: `N` in `blk.N.…` (GGUF) or `model.layers.N.…` /
  /// `layers.N.…` / `model.language_model.layers.N.…` (Hugging Face); `nil` otherwise.
  public static func layerIndex(of name: String) -> Int? {
    let parts = name.split(separator: ".", omittingEmptySubsequences: false)
    for (i, part) in parts.enumerated() where i + 1 < parts.count {
      guard part == "blk" || part == "layers" else { continue }
      // GGUF's `blk` is always the first component; Hugging Face's `layers` may be nested.
      if part == "blk" && i != 0 { continue }
      let digits = parts[i + 1]
      guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { continue }
      return Int(digits)
    }
    return nil
  }

  static func encodingOrder(_ a: TensorEncoding, _ b: TensorEncoding) -> Bool {
    switch (a, b) {
    case (.ggml(let x), .ggml(let y)): x.id < y.id
    case (.ggml, .safetensors): true
    case (.safetensors, .ggml): false
    case (.safetensors(let x), .safetensors(let y)): x.rawValue < y.rawValue
    }
  }
}

extension TensorCollection {
  /// Totals over every tensor.
  public var totals: TensorTotals { TensorTotals(tensors) }
}
