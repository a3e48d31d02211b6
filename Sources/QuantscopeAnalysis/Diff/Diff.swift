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

  /// Compares `candidate` with `reference`.
  public init(candidate: GGUFModel, reference: any TensorCollection, options: Options = Options()) throws {
    let (mapping, heads) = try ReferenceMapping.resolve(reference: reference, for: candidate)
    architecture = mapping.architecture?.architecture

    var selected = candidate.tensors
    if let pattern = options.tensorFilter {
      selected = try TensorNameFilter(pattern).select(selected, in: candidate.files[0].path)
    }
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
    missingReference = missing
    unmappedReference = mapping.unmapped
    skippedReference = mapping.skipped

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
      try reference.decodeRows(chunk.rows, into: ref)
      var acc = ErrorAccumulator()
      let weights = importance?.weights(for: tensor.name)
      let rowsPerMatrix = tensor.shape.count >= 3 ? tensor.shape[tensor.shape.count - 2] : Int.max
      for (k, row) in chunk.rows.enumerated() {
        var w: UnsafePointer<Float>? = nil
        if let weights {
          let matrix = rowsPerMatrix == Int.max ? 0 : row / rowsPerMatrix
          let start = (weights.count == rowLength ? 0 : matrix * rowLength)
          if start + rowLength <= weights.count { w = weights.base + start }
        }
        acc.add(candidate: UnsafePointer(cand + k * rowLength), reference: ref + k * rowLength, count: rowLength,
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
    tensors = results
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
    rollup { $0.layer.map { "blk.\($0)" } }.sorted { Self.layerIndex($0.label + ".") ?? 0 < Self.layerIndex($1.label + ".") ?? 0 }
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

/// The hyper-parameters of a Hugging Face `config.json` that mapping needs.
public struct ModelConfig: Sendable {
  /// `model_type`.
  public var modelType: String?
  /// `num_hidden_layers`: layers from here on (DeepSeek's MTP) are not in GGUFs.
  public var hiddenLayers: Int?
  /// `num_attention_heads`.
  public var attentionHeads: Int?
  /// `num_key_value_heads`.
  public var keyValueHeads: Int?
  /// `qk_nope_head_dim` (DeepSeek MLA).
  public var nopeHeadDim: Int?
  /// `v_head_dim` (DeepSeek MLA).
  public var valueHeadDim: Int?
  /// `first_k_dense_replace` (DeepSeek: leading dense blocks).
  public var leadingDenseBlocks: Int?
  /// `n_routed_experts` or `num_local_experts`.
  public var expertCount: Int?

  /// Reads the `config.*` entries of a checkpoint's metadata.
  public init(_ entries: [(key: String, value: GGUFValue)]) {
    self.init { key in
      let value = entries.first { $0.key == "config." + key }?.value
      return (value?.string, value?.integer)
    }
  }

  /// Reads a parsed `config.json`.
  public init(json: JSONValue) {
    self.init { key in (json[key]?.string, json[key]?.int) }
  }

  /// Reads each key as a string or an integer through `value`.
  init(_ value: (String) -> (string: String?, integer: Int?)) {
    modelType = value("model_type").string
    hiddenLayers = value("num_hidden_layers").integer
    attentionHeads = value("num_attention_heads").integer
    keyValueHeads = value("num_key_value_heads").integer
    nopeHeadDim = value("qk_nope_head_dim").integer
    valueHeadDim = value("v_head_dim").integer
    leadingDenseBlocks = value("first_k_dense_replace").integer
    expertCount = value("n_routed_experts").integer ?? value("num_local_experts").integer
  }
}

extension ReferenceMapping {
  /// How `reference` maps onto the GGUF `model`: by equal names when the reference is a GGUF,
  /// else through the architecture map named by the model's `general.architecture` (or the
  /// checkpoint's `model_type`), skipping layers past `num_hidden_layers`; with the head counts
  /// llama's Q/K permutation needs.
  public static func resolve(reference: any TensorCollection, for model: GGUFModel) throws -> (
    mapping: ReferenceMapping, heads: HeadCounts?
  ) {
    let arch = model["general.architecture"]?.string
    let referencePath = reference.files.first?.path ?? ""
    // Another architecture's reference would fail later on the first shape, which hides the cause.
    func checkSame(_ other: String?, _ how: String) throws {
      guard let arch, let other, other != arch else { return }
      throw FormatError(
        .mismatch, path: referencePath,
        "architecture \(arch) vs \(other): the candidate is \(arch) but the reference \(how)")
    }
    if let gguf = reference as? GGUFModel {
      try checkSame(gguf["general.architecture"]?.string, "is a \(gguf["general.architecture"]?.string ?? "?") GGUF")
      return (ReferenceMapping(identity: reference), nil)
    }
    let config = ModelConfig(reference.metadataEntries)
    if let type = config.modelType, let referenceMap = ArchitectureMap.named(type) {
      try checkSame(referenceMap.architecture, "has model_type \(type) in config.json")
    }
    guard let name = arch ?? config.modelType, let map = ArchitectureMap.named(name) else {
      throw FormatError(
        .unsupported,
        path: model.files[0].path,
        "no HF→GGUF name map for architecture '\(arch ?? config.modelType ?? "?")' (known: "
          + ArchitectureMap.all.map(\.architecture).joined(separator: ", ") + ")")
    }
    let mapping = try ReferenceMapping(reference: reference, architecture: map, firstSkippedLayer: config.hiddenLayers)
    var heads: HeadCounts? = nil
    if let a = arch {
      let q = model["\(a).attention.head_count"]?.integer ?? config.attentionHeads
      let k = model["\(a).attention.head_count_kv"]?.integer ?? config.keyValueHeads ?? q
      if let q, let k { heads = HeadCounts(query: q, key: k) }
    }
    return (mapping, heads)
  }

  /// A mapping that pairs tensors by equal names (a GGUF reference).
  public init(identity reference: any TensorCollection) {
    var entries: [String: Entry] = [:]
    for t in reference.tensors {
      entries[t.name] = Entry(name: t.name, sources: [t], layout: .same, kvbPart: nil)
    }
    self.init(architecture: nil, entries: entries, unmapped: [], skipped: [], scales: [:])
  }
}

/// A value shared across worker threads whose accesses are disjoint by construction.
struct UnsafeSendable<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
