import QuantscopeCodecs
import QuantscopeFormats

/// Measures, for every tensor a recipe may change and every candidate type, the error that
/// quantizing it to that type causes: quantized and decoded exactly as `requant` writes and `diff`
/// reads it (llama.cpp's row-length fallback, the importance matrix with each expert's own slice),
/// compared with the reference as `diff` compares.
///
/// One pass over the reference: each tile of rows is decoded once and quantized to every
/// candidate type. Tiles run on all threads in windows of bounded size, so memory does not grow
/// with the model. With a sample fraction, only a deterministic stratified sample of rows is
/// measured (see ``TuneSampling``) and each estimate carries its standard error.
public enum TuneMeasurement {
  /// The types `tune` chooses from unless told otherwise.
  public static let defaultTypes: [GGMLType] = [.q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_0]

  /// Options of a measurement.
  public struct Options: Sendable {
    /// Candidate types (before the row-length fallback).
    public var types: [GGMLType] = TuneMeasurement.defaultTypes
    /// Importance weights: the quantizers use them, and the error is weighted by them.
    public var importance: ImportanceMatrix? = nil
    /// How FP8 × scale references are evaluated.
    public var precision: ReferencePrecision = .exact
    /// llama.cpp's row-length fallback table.
    public var fallback: RowFallback = .current
    /// Fraction of rows to measure (stratified sample); `nil` measures every row.
    public var sample: Double? = nil
    /// Worker threads.
    public var threads: Int = ParallelWork.availableCores
    /// Values per work item (as `diff`'s chunks).
    public var chunkValues: Int = 1 << 16
    /// Work items held at once (bounds memory whatever the model's size).
    public var window: Int = 4096
    /// Told the values to measure and the values done.
    public var progress: (any ProgressObserver)? = nil
    /// Measure only the tuned tensors named here (`nil`: every one); the others keep error 0.
    /// A shard of `tune --shard` measures its share so (``shardTensors(model:fixed:options:shard:)``).
    public var only: Set<String>? = nil
    /// Leave each ``TuneTable/Option/standardError`` as its variance sum, without the square root,
    /// so that ``merged(skeleton:payloads:path:)`` takes the root of exactly the single run's sum.
    public var keepsVariance = false

    /// Default options.
    public init() {}
  }

  /// A tensor to measure: its name, GGUF dimensions, the reference rows and the candidate types
  /// (after the fallback, without repeats) with their sizes.
  struct Job {
    let name: String
    let rows: any ReferenceRows
    let types: [GGMLType]
    let matrixRows: Int
    let weights: ImportanceMatrix.Weights?
  }

  /// One work item: rows of one matrix of one tensor (every row, or the sampled rows of one tile).
  struct Chunk {
    let job: Int
    let rows: Range<Int>
    /// Sampled rows within `rows` (all of them when `nil`).
    let sampled: [Int]?
  }

  /// The table `tune` solves: every tensor of `model`, tuned ones measured.
  ///
  /// - Parameters:
  ///   - model: the tensors (GGUF names and dimensions).
  ///   - fixed: for each tensor that may not change, its type and why (``TuneConstraints``).
  ///   - mapping: the reference mapped onto GGUF names.
  ///   - heads: head counts for llama's Q/K permutation.
  /// - Throws: ``FormatError`` when a tuned tensor has no reference, holds non-finite values,
  ///   or an imatrix entry does not fit it.
  public static func measure(
    model: PlanModel, fixed: [String: (type: GGMLType, reason: String)], mapping: ReferenceMapping,
    heads: ReferenceMapping.HeadCounts?, options: Options
  ) throws -> TuneTable {
    var items: [TuneTable.Item] = []
    var jobs: [Job] = []
    var jobItem: [Int] = []
    for input in model.tensors {
      let parameters = input.ne.reduce(1, *)
      if let f = fixed[input.name] {
        let size = try sized(input, f.type)
        items.append(
          TuneTable.Item(
            name: input.name, kind: Diff.kind(input.name), layer: input.blockIndex, parameters: parameters,
            options: [TuneTable.Option(type: f.type, bytes: size, error: 0)], fixedBy: f.reason))
        continue
      }
      let rowLength = input.ne.first ?? 1
      var types: [GGMLType] = []
      for t in options.types {
        let resolved = options.fallback.resolve(t, rowLength: rowLength)
        if !types.contains(resolved) { types.append(resolved) }
      }
      for t in types {
        guard let codec = Codecs.codec(for: t), codec.quantize != nil else {
          throw FormatError(.unsupported, path: "", "no quantizer for \(t.name)", tensor: input.name)
        }
        if codec.requiresImportance && options.importance?.weights(for: input.name) == nil {
          throw FormatError(
            .usage, path: options.importance?.path ?? "", "\(t.name) needs an importance matrix entry (--imatrix)",
            tensor: input.name)
        }
      }
      guard
        let rows = try mapping.rows(
          for: input.name, candidateShape: input.ne.reversed(), precision: options.precision, heads: heads)
      else {
        throw FormatError(
          .notFound, path: "", "the reference has no tensor for it, so its error cannot be measured",
          tensor: input.name)
      }
      let shape = rows.shape
      let matrixRows = shape.count >= 3 ? shape[shape.count - 2] : max(1, rows.rowCount)
      let weights = options.importance?.weights(for: input.name)
      if let weights, weights.count != rows.rowLength && weights.count != rows.rowLength * (rows.rowCount / matrixRows)
      {
        throw FormatError(
          .malformed, path: options.importance?.path ?? "",
          "imatrix entry has \(weights.count) values for rows of \(rows.rowLength)", tensor: input.name)
      }
      if options.only?.contains(input.name) != false {
        jobs.append(Job(name: input.name, rows: rows, types: types, matrixRows: matrixRows, weights: weights))
        jobItem.append(items.count)
      }
      items.append(
        TuneTable.Item(
          name: input.name, kind: Diff.kind(input.name), layer: input.blockIndex, parameters: parameters,
          options: try types.map { TuneTable.Option(type: $0, bytes: try sized(input, $0), error: 0) }))
    }

    // Partial results of each chunk, per type: the estimate and its variance.
    let sampling = options.sample.map { TuneSampling(fraction: $0) }
    var total = 0
    for job in jobs {
      let rows = sampling?.sampledRowCount(rows: job.rows.rowCount, matrixRows: job.matrixRows) ?? job.rows.rowCount
      total += rows * job.rows.rowLength * job.types.count
    }
    options.progress?.start(total: total)
    defer { options.progress?.finish() }

    var window: [Chunk] = []
    func flush() throws {
      guard !window.isEmpty else { return }
      let results = try run(window, jobs: jobs, options: options)
      for (chunk, r) in zip(window, results) {
        let item = jobItem[chunk.job]
        for (k, v) in r.enumerated() {
          items[item].options[k].error += v.estimate
          // Variances add; the square root is taken at the end.
          items[item].options[k].standardError += v.variance
        }
      }
      window.removeAll(keepingCapacity: true)
    }
    for (j, job) in jobs.enumerated() {
      let rowLength = max(1, job.rows.rowLength)
      if let sampling {
        for tile in sampling.tiles(rows: job.rows.rowCount, matrixRows: job.matrixRows) {
          window.append(
            Chunk(job: j, rows: tile, sampled: sampling.rows(in: tile, tensor: job.name)))
          if window.count >= options.window { try flush() }
        }
      } else {
        let per = max(1, options.chunkValues / rowLength)
        var r = 0
        while r < job.rows.rowCount {
          let end = min(job.rows.rowCount, (r / job.matrixRows + 1) * job.matrixRows, r + per)
          window.append(Chunk(job: j, rows: r..<end, sampled: nil))
          r = end
          if window.count >= options.window { try flush() }
        }
      }
    }
    try flush()
    for i in items.indices where items[i].fixedBy == nil && !options.keepsVariance {
      for k in items[i].options.indices {
        items[i].options[k].standardError = items[i].options[k].standardError.squareRoot()
      }
    }
    return TuneTable(items: items)
  }

  static func sized(_ input: PlanInput, _ type: GGMLType) throws -> Int {
    do {
      return try Planner.size(of: input, as: type).bytes
    } catch {
      throw FormatError(.malformed, path: "", error.message, tensor: input.name)
    }
  }

  /// Runs one window of chunks on all threads: for each, per candidate type, the error estimate
  /// and its variance.
  static func run(_ chunks: [Chunk], jobs: [Job], options: Options) throws -> [[(estimate: Double, variance: Double)]] {
    let out = UnsafeMutableBufferPointer<[(estimate: Double, variance: Double)]>.allocate(capacity: chunks.count)
    out.initialize(repeating: [])
    defer {
      out.deinitialize()
      out.deallocate()
    }
    let box = UnsafeSendable(out)
    let chunksBox = UnsafeSendable(chunks)
    let jobsBox = UnsafeSendable(jobs)
    let weighted = options.importance != nil
    try ParallelWork.run(count: chunks.count, threads: options.threads) { i in
      let chunk = chunksBox.value[i]
      let job = jobsBox.value[chunk.job]
      let rowLength = job.rows.rowLength
      let rowList = chunk.sampled ?? Array(chunk.rows)
      let n = rowList.count * rowLength
      let reference = UnsafeMutablePointer<Double>.allocate(capacity: max(1, n))
      let floats = UnsafeMutablePointer<Float>.allocate(capacity: max(1, n))
      let decoded = UnsafeMutablePointer<Float>.allocate(capacity: max(1, n))
      let maxRowBytes = job.types.map { rowLength / $0.blockElements * $0.blockBytes }.max() ?? 0
      let bytes = UnsafeMutableRawPointer.allocate(byteCount: max(1, rowList.count * maxRowBytes), alignment: 64)
      defer {
        reference.deallocate()
        floats.deallocate()
        decoded.deallocate()
        bytes.deallocate()
      }
      if chunk.sampled == nil {
        try job.rows.decodeRows(chunk.rows, into: reference)
      } else {
        for (k, row) in rowList.enumerated() { try job.rows.decodeRows(row..<row + 1, into: reference + k * rowLength) }
      }
      for v in 0..<n { floats[v] = Float(reference[v]) }
      // Every row of a chunk lies in one matrix, so one imatrix slice serves them all.
      var importance: UnsafePointer<Float>? = nil
      if let w = job.weights {
        let matrix = w.count == rowLength ? 0 : chunk.rows.lowerBound / job.matrixRows
        importance = w.base + matrix * rowLength
      }
      var results: [(estimate: Double, variance: Double)] = []
      for type in job.types {
        let codec = Codecs.codec(for: type)!
        // Sampled rows are not contiguous, but ggml quantizes row by row: the bytes are the same.
        codec.quantize!(floats, rowList.count, rowLength, importance, bytes)
        codec.decode(bytes, n / type.blockElements, decoded)
        var sum = 0.0, sumSquares = 0.0
        var whole = ErrorAccumulator()
        for (k, row) in rowList.enumerated() {
          var acc = ErrorAccumulator()
          acc.add(
            candidate: UnsafePointer(decoded + k * rowLength), reference: reference + k * rowLength,
            count: rowLength, firstIndex: row * rowLength, importance: importance)
          if acc.nonFinite > 0 {
            throw FormatError(
              .malformed, path: job.rows.origin,
              "row \(row) of \(job.name) (from \(job.rows.origin)) holds NaN or infinite values, or \(type.name) "
                + "cannot represent them; its error cannot be measured",
              tensor: job.name)
          }
          let e = weighted ? acc.weightedSquaredError : acc.sumSquaredError
          sum += e
          sumSquares += e * e
          whole.merge(acc)
        }
        if chunk.sampled == nil {
          results.append((weighted ? whole.weightedSquaredError : whole.sumSquaredError, 0))
        } else {
          results.append(
            TuneSampling.stratum(rows: chunk.rows.count, sampled: rowList.count, sum: sum, sumSquares: sumSquares))
        }
      }
      box.value[i] = results
      options.progress?.advance(by: n * job.types.count)
    }
    return Array(out)
  }
}
