import Foundation
import QuantscopeCodecs
import QuantscopeFormats

/// Whether a quantized GGUF is exactly what the reference weights make, answered by reproduction.
///
/// Every candidate tensor's reference is mapped as `diff` maps it (``ReferenceMapping``), quantized
/// with the candidate's own type as `requant` quantizes (ggml's bit-exact quantizers, the importance
/// matrix sliced per expert), and the bytes compared block by block. Float tensors are the
/// reference converted to F32/F16/BF16 with round-to-nearest-even, as llama.cpp's converter does.
///
/// Work is row chunks of every tensor on all threads; a chunk's values, reproduction and decodes
/// live only while it runs, so memory does not grow with the model.
public enum Audit {
  /// Which source precision the reproduction starts from.
  public enum PrecisionChoice: String, Sendable, CaseIterable {
    /// FP8 × scale evaluated exactly, then rounded to binary32 (a converter that dequantizes to F32).
    case exact
    /// The product rounded to BF16 first (DeepSeek's `fp8_cast_bf16.py`, then a BF16 GGUF).
    case bf16
    /// Per tensor, exact first, then BF16 when exact does not reproduce.
    case auto

    /// The precisions tried, in order.
    public var attempts: [ReferencePrecision] {
      switch self {
      case .exact: [.exact]
      case .bf16: [.bf16]
      case .auto: [.exact, .bf16]
      }
    }
  }

  /// Options of an audit.
  public struct Options: Sendable {
    /// Source precision.
    public var precision: PrecisionChoice = .auto
    /// The importance matrix the release was quantized with, if any.
    public var importance: ImportanceMatrix? = nil
    /// Worker threads.
    public var threads: Int = ParallelWork.availableCores
    /// Values per work chunk (whole rows, never across an expert's matrix).
    public var chunkValues: Int = 1 << 16
    /// Told the candidate bytes to audit in each pass and the bytes done.
    public var progress: (any ProgressObserver)? = nil

    /// Default options.
    public init() {}
  }

  /// Audits every tensor of `candidate` against `reference` and judges the whole file.
  public static func compute(
    candidate: GGUFModel, reference: any TensorCollection, options: Options = Options()
  ) throws -> AuditReport {
    let results = try tensors(nil, of: candidate, reference: reference, options: options)
    return AuditReport(
      candidate: candidate, tensors: results, precision: options.precision, weighted: options.importance != nil,
      presetMatch: PresetMatch(model: candidate))
  }

  /// Audits the candidate tensors at `indices` (positions in `candidate.tensors`; `nil`: all), in
  /// that order. Results of disjoint subsets combine into one report.
  ///
  /// - Throws: ``FormatError`` for a reference whose shape cannot match, an unreadable tensor,
  ///   an imatrix entry of the wrong length.
  public static func tensors(
    _ indices: [Int]?, of candidate: GGUFModel, reference: any TensorCollection, options: Options = Options()
  ) throws -> [TensorAudit] {
    let (mapping, heads) = try ReferenceMapping.resolve(reference: reference, for: candidate)
    let all = candidate.tensors
    let chosen = indices ?? Array(all.indices)
    var results = [TensorAudit?](repeating: nil, count: chosen.count)
    var jobs: [Job] = []
    for (slot, index) in chosen.enumerated() {
      guard all.indices.contains(index) else {
        throw FormatError(
          .outOfBounds, path: candidate.files[0].path, "tensor index \(index) of \(all.count) tensors")
      }
      let t = all[index]
      func skipped(_ status: TensorAudit.Status, _ origin: String?, _ note: String?) -> TensorAudit {
        TensorAudit(
          index: index, name: t.name, type: t.encoding.name, shape: t.shape, bytes: t.byteCount, status: status,
          referenceOrigin: origin, precision: nil, blocks: 0, differingBlocks: 0, firstDifference: nil,
          nmseVsReproduction: nil, note: note)
      }
      // The layout check (and its error naming both sides) runs once, at the first precision.
      guard
        let rows = try mapping.rows(
          for: t.name, candidateShape: t.shape, precision: options.precision.attempts[0], heads: heads)
      else {
        results[slot] = skipped(.noReference, nil, nil)
        continue
      }
      guard case .ggml(let type) = t.encoding, let codec = Codecs.codec(for: type), let quantize = codec.quantize,
        type.blockElements > 0, rows.rowLength % type.blockElements == 0
      else {
        results[slot] = skipped(
          .unsupportedType, rows.origin, "quantscope has no bit-exact quantizer for \(t.encoding.name)")
        continue
      }
      if codec.requiresImportance && options.importance?.weights(for: t.name) == nil {
        let why = options.importance == nil ? "no --imatrix given" : "the imatrix has no entry for it"
        results[slot] = skipped(.needsImatrix, rows.origin, "\(type.name) needs an importance matrix: \(why)")
        continue
      }
      let shape = rows.shape
      let matrixRows = shape.count >= 3 ? shape[shape.count - 2] : rows.rowCount
      let weights = try Requantization.importanceWeights(
        options.importance, tensor: t.name, rowLength: rows.rowLength, rowCount: rows.rowCount,
        matrixRows: matrixRows)
      jobs.append(
        Job(
          slot: slot, index: index, tensor: t, type: type, codec: codec, quantize: quantize, weights: weights,
          matrixRows: matrixRows, origin: rows.origin, source: mapping.entries[t.name]?.sources.first?.file.path ?? ""))
    }

    // Pass per precision over the tensors not yet reproduced; then the NMSE of those that differ.
    var best = [Comparison?](repeating: nil, count: jobs.count)
    var bestPrecision = [ReferencePrecision?](repeating: nil, count: jobs.count)
    var pending = Array(jobs.indices)
    for precision in options.precision.attempts where !pending.isEmpty {
      let found = try compare(
        pending.map { jobs[$0] }, mapping: mapping, heads: heads, precision: precision, metrics: false,
        options: options)
      for (k, j) in pending.enumerated() where best[j].map({ found[k].differingBlocks < $0.differingBlocks }) ?? true {
        best[j] = found[k]
        bestPrecision[j] = precision
      }
      pending = pending.filter { best[$0]!.differingBlocks > 0 }
    }
    if !pending.isEmpty {
      let byPrecision = Dictionary(grouping: pending) { bestPrecision[$0]! }
      for precision in ReferencePrecision.allCases {
        guard let group = byPrecision[precision] else { continue }
        let found = try compare(
          group.map { jobs[$0] }, mapping: mapping, heads: heads, precision: precision, metrics: true,
          options: options)
        for (k, j) in group.enumerated() { best[j] = found[k] }
      }
    }
    for (j, job) in jobs.enumerated() {
      let c = best[j]!
      let t = job.tensor
      results[job.slot] = TensorAudit(
        index: job.index, name: t.name, type: t.encoding.name, shape: t.shape, bytes: t.byteCount,
        status: c.differingBlocks == 0 ? .identical : .differs, referenceOrigin: job.origin,
        precision: bestPrecision[j], blocks: c.blocks, differingBlocks: c.differingBlocks,
        firstDifference: c.firstBlock.map { b in
          let perRow = t.rowLength / job.type.blockElements
          return TensorAudit.Difference(row: b / perRow, column: b % perRow * job.type.blockElements, block: b)
        },
        nmseVsReproduction: c.differingBlocks == 0 ? 0 : c.nmse, note: nil)
    }
    return results.map { $0! }
  }

  /// One tensor to reproduce.
  struct Job: @unchecked Sendable {
    // Sendable: the weights point into an ImportanceMatrix the caller keeps alive for the call.
    let slot: Int
    let index: Int
    let tensor: TensorInfo
    let type: GGMLType
    let codec: BlockCodec
    let quantize: BlockCodec.Quantize
    let weights: ImportanceMatrix.Weights?
    let matrixRows: Int
    let origin: String
    let source: String
  }

  /// What one chunk or one tensor's comparison found.
  struct Comparison {
    var blocks = 0
    var differingBlocks = 0
    var firstBlock: Int? = nil
    var sums = ErrorAccumulator()

    /// `nil` without values or with NaN/Inf on either side.
    var nmse: Double? { sums.metrics?.nmse }

    /// Adds a later chunk's findings (chunks merge in row order).
    mutating func merge(_ other: Comparison) {
      blocks += other.blocks
      differingBlocks += other.differingBlocks
      if firstBlock == nil { firstBlock = other.firstBlock }
      sums.merge(other.sums)
    }
  }

  /// Reproduces `jobs` at `precision` and compares them with the candidate block by block; with
  /// `metrics`, also sums the error between the two sides' decodes.
  static func compare(
    _ jobs: [Job], mapping: ReferenceMapping, heads: ReferenceMapping.HeadCounts?, precision: ReferencePrecision,
    metrics: Bool, options: Options
  ) throws -> [Comparison] {
    options.progress?.start(total: jobs.reduce(0) { $0 + $1.tensor.byteCount })
    defer { options.progress?.finish() }
    // Tensors go in groups of a bounded number of chunks, so the per-chunk results (and the chunk
    // list) stay the same size however large the model is.
    var results: [Comparison] = []
    var start = 0
    while start < jobs.count {
      var end = start, chunks = 0
      repeat {
        chunks += jobs[end].tensor.elementCount / max(1, options.chunkValues) + 1
        end += 1
      } while end < jobs.count && chunks < Self.chunksPerGroup
      results += try compareGroup(
        Array(jobs[start..<end]), mapping: mapping, heads: heads, precision: precision, metrics: metrics,
        options: options)
      start = end
    }
    return results
  }

  /// About how many chunks one group of tensors is cut into (the parallel work between two waits).
  static let chunksPerGroup = 1 << 12

  /// ``compare(_:mapping:heads:precision:metrics:options:)`` for one group of tensors, all chunks on all threads.
  static func compareGroup(
    _ jobs: [Job], mapping: ReferenceMapping, heads: ReferenceMapping.HeadCounts?, precision: ReferencePrecision,
    metrics: Bool, options: Options
  ) throws -> [Comparison] {
    var views: [any ReferenceRows] = []
    var data: [UnsafeRawBufferPointer] = []
    struct Chunk { let job: Int; let rows: Range<Int> }
    var chunks: [Chunk] = []
    var firstChunk: [Int] = []
    for (j, job) in jobs.enumerated() {
      guard
        let rows = try mapping.rows(
          for: job.tensor.name, candidateShape: job.tensor.shape, precision: precision, heads: heads)
      else { throw FormatError(.invalidState, path: job.source, "reference vanished", tensor: job.tensor.name) }
      views.append(rows)
      data.append(try job.tensor.bytes())
      firstChunk.append(chunks.count)
      for r in Requantization.rowChunks(
        rowCount: rows.rowCount, rowLength: rows.rowLength, matrixRows: job.matrixRows,
        chunkValues: options.chunkValues)
      {
        chunks.append(Chunk(job: j, rows: r))
      }
    }
    firstChunk.append(chunks.count)

    let partials = UnsafeMutableBufferPointer<Comparison>.allocate(capacity: max(1, chunks.count))
    partials.initialize(repeating: Comparison())
    defer { partials.deallocate() }
    let out = UnsafeSendable(partials)
    let state = UnsafeSendable((jobs, views, data, chunks))
    try ParallelWork.run(count: chunks.count, threads: options.threads) { i in
      let (jobs, views, data, chunks) = state.value
      let chunk = chunks[i]
      let job = jobs[chunk.job]
      let rows = views[chunk.job]
      let type = job.type
      let rowLength = rows.rowLength
      let perRow = rowLength / type.blockElements
      let rowBytes = perRow * type.blockBytes
      let byteCount = chunk.rows.count * rowBytes
      let produced = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, byteCount), alignment: 64)
      defer { produced.deallocate() }
      // Non-finite values are quantized as ggml does: the comparison then tells whether the release did too.
      try Requantization.quantizeRows(
        rows, chunk.rows, quantize: job.quantize, type: type, importance: job.weights, matrixRows: job.matrixRows,
        allowNonFinite: true, tensor: job.tensor.name, origin: job.origin, source: job.source,
        into: produced.baseAddress!)
      let candidate = data[chunk.job].baseAddress! + chunk.rows.lowerBound * rowBytes
      var result = Comparison()
      let blocks = chunk.rows.count * perRow
      result.blocks = blocks
      if memcmp(candidate, produced.baseAddress!, byteCount) != 0 {
        for b in 0..<blocks
        where memcmp(candidate + b * type.blockBytes, produced.baseAddress! + b * type.blockBytes, type.blockBytes) != 0
        {
          if result.firstBlock == nil { result.firstBlock = chunk.rows.lowerBound * perRow + b }
          result.differingBlocks += 1
        }
      }
      if metrics {
        let n = chunk.rows.count * rowLength
        let mine = UnsafeMutablePointer<Float>.allocate(capacity: n)
        let theirs = UnsafeMutablePointer<Float>.allocate(capacity: n)
        let wide = UnsafeMutablePointer<Double>.allocate(capacity: n)
        defer {
          mine.deallocate()
          theirs.deallocate()
          wide.deallocate()
        }
        job.codec.decode(candidate, blocks, mine)
        job.codec.decode(UnsafeRawPointer(produced.baseAddress!), blocks, theirs)
        for k in 0..<n { wide[k] = Double(theirs[k]) }
        result.sums.add(
          candidate: UnsafePointer(mine), reference: wide, count: n, firstIndex: chunk.rows.lowerBound * rowLength)
      }
      out.value[i] = result
      options.progress?.advance(by: byteCount)
    }
    return jobs.indices.map { j in
      var c = Comparison()
      for k in firstChunk[j]..<firstChunk[j + 1] { c.merge(partials[k]) }
      return c
    }
  }
}
