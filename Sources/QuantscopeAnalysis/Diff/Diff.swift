import Foundation
import QuantscopeCodecs
import QuantscopeFormats

/// A tensor-by-tensor comparison of a quantized GGUF against a reference.
public struct Diff: Sendable {
  /// Options of a comparison.
  public struct Options: Sendable {
    /// How FP8 × scale references are evaluated.
    public var precision: ReferencePrecision = .exact
    /// Only candidate tensors whose name matches (regex search); matching none is an error.
    public var tensorFilter: String? = nil
    /// Threads to use.
    public var threads: Int = ParallelWork.availableCores
    /// Importance weights by GGUF tensor name (an imatrix), if any.
    public var importance: ImportanceMatrix? = nil
    /// Values per work chunk; fixed, so results do not depend on the thread count.
    public var chunkValues: Int = 1 << 16
    /// Told the candidate bytes to compare and the bytes done as chunks complete.
    public var progress: (any ProgressObserver)? = nil
    /// Only this shard's share of the selected tensors (``ShardPartition`` by ``Diff/shardWeight(_:)``).
    public var shard: ShardSpec? = nil

    /// Default options.
    public init() {}
  }

  /// The error of one tensor.
  public struct TensorResult: Sendable {
    /// GGUF tensor name.
    public let name: String
    /// `blk.N` index, if the tensor belongs to a block.
    public let layer: Int?
    /// The tensor's kind (`ffn_down_exps`, `attn_q_a`, …).
    public let kind: String
    /// The candidate's type.
    public let type: String
    /// Candidate bits per weight.
    public let bitsPerWeight: Double
    /// Shape (row-major).
    public let shape: [Int]
    /// Where the reference values came from.
    public let referenceOrigin: String
    /// The sums.
    public let sums: ErrorAccumulator
    /// The metrics, or `nil` when the tensor holds NaN or infinite values (or has no values):
    /// see ``ErrorAccumulator/metrics``.
    public var metrics: ErrorMetrics? { sums.metrics }
    /// Position (row-major indices) of the largest error.
    public var maxErrorPosition: [Int] { position(of: sums.maxErrorIndex) }
    /// Position (row-major indices) of the first NaN or infinite value on either side.
    public var firstNonFinitePosition: [Int] { position(of: sums.firstNonFiniteIndex) }

    /// One tensor's result; `layer` and `kind` are derived from `name` when not given.
    public init(
      name: String, layer: Int? = nil, kind: String? = nil, type: String, bitsPerWeight: Double, shape: [Int],
      referenceOrigin: String, sums: ErrorAccumulator
    ) {
      self.name = name
      self.layer = layer ?? Diff.layerIndex(name)
      self.kind = kind ?? Diff.kind(name)
      self.type = type
      self.bitsPerWeight = bitsPerWeight
      self.shape = shape
      self.referenceOrigin = referenceOrigin
      self.sums = sums
    }

    func position(of flat: Int) -> [Int] {
      var i = flat
      guard i >= 0 else { return [] }
      var pos = Array(repeating: 0, count: shape.count)
      for d in stride(from: shape.count - 1, through: 0, by: -1) {
        pos[d] = i % shape[d]
        i /= shape[d]
      }
      return pos
    }
  }

  /// A roll-up over several tensors (a layer, a kind, the whole model), weighted by elements.
  public struct Rollup: Sendable {
    /// What it covers (`blk.3`, `ffn_down_exps`, `model`).
    public let label: String
    /// Tensors covered.
    public let tensors: Int
    /// Summed sums.
    public let sums: ErrorAccumulator
    /// The metrics, or `nil` when a tensor covered holds NaN or infinite values or nothing was
    /// compared: a roll-up never reports a score its tensors do not support.
    public var metrics: ErrorMetrics? { sums.metrics }

    /// A roll-up of `tensors` tensors whose sums merged are `sums`.
    public init(label: String, tensors: Int, sums: ErrorAccumulator) {
      self.label = label
      self.tensors = tensors
      self.sums = sums
    }
  }

  /// Per-tensor results in candidate order.
  public let tensors: [TensorResult]
  /// Candidate tensors with no reference.
  public let missingReference: [String]
  /// Reference tensors no rule maps.
  public let unmappedReference: [String]
  /// Reference tensors skipped on purpose (MTP layers).
  public let skippedReference: [String]
  /// The architecture map used (`nil` for GGUF↔GGUF by name).
  public let architecture: String?
  /// How FP8 × scale references were evaluated.
  public let precision: ReferencePrecision
  /// Whether an importance matrix weighted the error (``ErrorMetrics/weightedNMSE`` is set).
  public let weighted: Bool

  /// A comparison's results as computed by ``compute(candidate:reference:options:)``.
  public init(
    tensors: [TensorResult], missingReference: [String], unmappedReference: [String], skippedReference: [String],
    architecture: String?, precision: ReferencePrecision, weighted: Bool
  ) {
    self.tensors = tensors
    self.missingReference = missingReference
    self.unmappedReference = unmappedReference
    self.skippedReference = skippedReference
    self.architecture = architecture
    self.precision = precision
    self.weighted = weighted
  }

  /// Compares `candidate` with `reference`: maps the reference onto the candidate's tensors and
  /// sums every tensor's error in parallel, in fixed-size chunks so that the result does not
  /// depend on the thread count.
  public static func compute(
    candidate: GGUFModel, reference: any TensorCollection, options: Options = Options()
  ) throws -> Diff {
    let (mapping, heads) = try ReferenceMapping.resolve(reference: reference, for: candidate)

    var selected = candidate.tensors
    if let pattern = options.tensorFilter {
      selected = try TensorNameFilter(pattern).select(selected, in: candidate.files[0].path)
    }
    if let shard = options.shard { selected = shard.select(selected, bytes: Self.shardWeight) }
    var jobs: [(SourceRows, any ReferenceRows)] = []
    var missing: [String] = []
    for t in selected {
      // Layout errors name the reference's file and tensor, and the candidate's tensor in the message.
      let found = try mapping.rows(for: t.name, candidateShape: t.shape, precision: options.precision, heads: heads)
      guard let ref = found else {
        missing.append(t.name)
        continue
      }
      jobs.append((try SourceRows(tensor: t, scale: nil, precision: .exact), ref))
    }

    // Work items: fixed-size row chunks of every tensor.
    struct Chunk { let job: Int; let rows: Range<Int> }
    var chunks: [Chunk] = []
    var firstChunk: [Int] = []
    for (j, job) in jobs.enumerated() {
      firstChunk.append(chunks.count)
      let rowLength = max(1, job.1.rowLength)
      let per = max(1, options.chunkValues / rowLength)
      var r = 0
      let rows = job.1.rowCount
      repeat {
        chunks.append(Chunk(job: j, rows: r..<min(rows, r + per)))
        r += per
      } while r < rows
    }
    firstChunk.append(chunks.count)

    let partials = UnsafeMutableBufferPointer<ErrorAccumulator>.allocate(capacity: chunks.count)
    partials.initialize(repeating: ErrorAccumulator())
    defer { partials.deallocate() }
    let out = UnsafeSendable(partials)
    options.progress?.start(total: jobs.reduce(0) { $0 + $1.0.decoder.tensor.byteCount })
    defer { options.progress?.finish() }
    let importance = options.importance
    let jobsBox = UnsafeSendable(jobs)
    let chunksBox = UnsafeSendable(chunks)
    // Every chunk fits one worker's scratch, allocated once per worker thread.
    let maxChunkValues = chunks.map { $0.rows.count * jobs[$0.job].1.rowLength }.max() ?? 0
    try ParallelWork.run(count: chunks.count, threads: options.threads, scratchValues: maxChunkValues) { i, scratch in
      let chunk = chunksBox.value[i]
      let (candidateRows, reference) = jobsBox.value[chunk.job]
      let tensor = candidateRows.decoder.tensor
      let rowLength = reference.rowLength
      // The candidate is a GGUF tensor without scale: binary32 holds its values exactly.
      let cand = scratch.candidate
      let ref = scratch.reference
      try candidateRows.decoder.decodeRows(chunk.rows, into: cand)
      var acc = ErrorAccumulator()
      let weights = importance?.weights(for: tensor.name)
      // FP8 references are read as codes inside the metric loop (bit-identical sums): writing
      // and re-reading eight bytes of decoded Double per weight cost more than the sums.
      if weights == nil, reference.scaledCodeRow(chunk.rows.lowerBound) != nil {
        for (k, row) in chunk.rows.enumerated() {
          let candidate = UnsafePointer(cand + k * rowLength)
          if let codes = reference.scaledCodeRow(row) {
            acc.add(candidate: candidate, reference: codes, count: rowLength, firstIndex: row * rowLength)
          } else {
            try reference.decodeRows(row..<row + 1, into: ref)
            acc.add(candidate: candidate, reference: ref, count: rowLength, firstIndex: row * rowLength)
          }
        }
        out.value[i] = acc
        options.progress?.advance(by: chunk.rows.count * (tensor.byteCount / max(1, reference.rowCount)))
        return
      }
      try reference.decodeRows(chunk.rows, into: ref)
      let rowsPerMatrix = tensor.shape.count >= 3 ? tensor.shape[tensor.shape.count - 2] : Int.max
      for (k, row) in chunk.rows.enumerated() {
        var w: UnsafePointer<Float>? = nil
        if let weights {
          let matrix = rowsPerMatrix == Int.max ? 0 : row / rowsPerMatrix
          let start = (weights.count == rowLength ? 0 : matrix * rowLength)
          if start + rowLength <= weights.count { w = weights.base + start }
        }
        acc.add(
          candidate: UnsafePointer(cand + k * rowLength), reference: ref + k * rowLength, count: rowLength,
          firstIndex: row * rowLength, importance: w)
      }
      out.value[i] = acc
      options.progress?.advance(by: chunk.rows.count * (tensor.byteCount / max(1, reference.rowCount)))
    }

    var results: [TensorResult] = []
    for (j, job) in jobs.enumerated() {
      var acc = ErrorAccumulator()
      for c in firstChunk[j]..<firstChunk[j + 1] { acc.merge(partials[c]) }
      let t = job.0.decoder.tensor
      results.append(
        TensorResult(
          name: t.name, layer: Self.layerIndex(t.name), kind: Self.kind(t.name), type: t.encoding.name,
          bitsPerWeight: t.bitsPerWeight, shape: t.shape, referenceOrigin: job.1.origin, sums: acc))
    }
    return Diff(
      tensors: results, missingReference: missing, unmappedReference: mapping.unmapped,
      skippedReference: mapping.skipped, architecture: mapping.architecture?.architecture,
      precision: options.precision, weighted: options.importance != nil)
  }

  /// `N` of a `blk.N.` name.
  public static func layerIndex(_ name: String) -> Int? {
    guard name.hasPrefix("blk.") else { return nil }
    let rest = name.dropFirst(4)
    return rest.firstIndex(of: ".").flatMap { Int(rest[..<$0]) }
  }

  /// A tensor's kind: its name without `blk.N.` and the `.weight`/`.bias` suffix.
  public static func kind(_ name: String) -> String {
    var s = Substring(name)
    if layerIndex(name) != nil, let dot = s.dropFirst(4).firstIndex(of: ".") { s = s[s.index(after: dot)...] }
    for suffix in [".weight", ".bias"] where s.hasSuffix(suffix) { s = s.dropLast(suffix.count) }
    return String(s)
  }

  /// Roll-ups by layer (`blk.N`), in layer order.
  public var byLayer: [Rollup] {
    rollup { $0.layer.map { "blk.\($0)" } }.sorted {
      Self.layerIndex($0.label + ".") ?? 0 < Self.layerIndex($1.label + ".") ?? 0
    }
  }

  /// Roll-ups by tensor kind, in name order.
  public var byKind: [Rollup] { rollup { $0.kind }.sorted { $0.label < $1.label } }

  /// The whole-model roll-up.
  public var model: Rollup {
    var acc = ErrorAccumulator()
    for t in tensors { acc.merge(t.sums) }
    return Rollup(label: "model", tensors: tensors.count, sums: acc)
  }

  private func rollup(_ key: (TensorResult) -> String?) -> [Rollup] {
    var groups: [String: (Int, ErrorAccumulator)] = [:]
    for t in tensors {
      guard let k = key(t) else { continue }
      var g = groups[k] ?? (0, ErrorAccumulator())
      g.0 += 1
      g.1.merge(t.sums)
      groups[k] = g
    }
    return groups.map { Rollup(label: $0.key, tensors: $0.value.0, sums: $0.value.1) }
  }
}
