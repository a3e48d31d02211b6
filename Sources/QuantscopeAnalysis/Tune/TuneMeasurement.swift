import QuantscopeCodecs
import QuantscopeFormats

/// Measures, for every tensor a recipe may change and every candidate type, the error that
/// quantizing it to that type causes: quantized and decoded exactly as `requant` writes and `diff`
/// reads it (llama.cpp's row-length fallback, the importance matrix with each expert's own slice),
/// compared with the reference as `diff` compares.
///
/// One pass over the reference: each tile of rows is decoded once and quantized to every
/// candidate type. Tiles run on all threads in windows of bounded size, so memory does not grow
/// with the model. With a sample fraction, every row is still read and decoded (cheap), but only a
/// deterministic stratified sample of rows, drawn with probability proportional to a proxy of
/// their error, is quantized; each estimate carries its standard error (see ``TuneSampling``).
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

  /// One work item: rows of one matrix of one tensor (every row, or one tile to sample).
  struct Chunk {
    let job: Int
    let rows: Range<Int>
    /// Whether the rows are a tile to sample rather than rows to measure.
    let sampled: Bool
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
      // requant's check and slicing, so that tune measures what requant writes.
      let weights = try Requantization.importanceWeights(
        options.importance, tensor: input.name, rowLength: rows.rowLength, rowCount: rows.rowCount,
        matrixRows: matrixRows)
      if options.only?.contains(input.name) != false {
        jobs.append(Job(name: input.name, rows: rows, types: types, matrixRows: matrixRows, weights: weights))
        jobItem.append(items.count)
      }
      items.append(
        TuneTable.Item(
          name: input.name, kind: Diff.kind(input.name), layer: input.blockIndex, parameters: parameters,
          options: try types.map { TuneTable.Option(type: $0, bytes: try sized(input, $0), error: 0) }))
    }

    let sampling = options.sample.map { TuneSampling(fraction: $0) }
    var total = 0
    for job in jobs {
      let rows = sampling?.sampledRowCount(rows: job.rows.rowCount, matrixRows: job.matrixRows) ?? job.rows.rowCount
      total += rows * job.rows.rowLength * job.types.count
    }
    options.progress?.start(total: total)
    defer { options.progress?.finish() }

    // Sampled: each tensor's strata, per type, finished once the tensor is done.
    var estimates = jobs.map { [TuneSampling.Estimate](repeating: TuneSampling.Estimate(), count: $0.types.count) }
    var window: [Chunk] = []
    func flush() throws {
      guard !window.isEmpty else { return }
      let results = try run(window, jobs: jobs, options: options)
      for (chunk, r) in zip(window, results) {
        let item = jobItem[chunk.job]
        switch r {
        case .exact(let errors):
          for (k, e) in errors.enumerated() { items[item].options[k].error += e }
        case .sampled(let strata):
          for (k, e) in strata.enumerated() { estimates[chunk.job][k].merge(e) }
        }
      }
      window.removeAll(keepingCapacity: true)
    }
    for (j, job) in jobs.enumerated() {
      let rowLength = max(1, job.rows.rowLength)
      if let sampling {
        for tile in sampling.tiles(rows: job.rows.rowCount, matrixRows: job.matrixRows) {
          window.append(Chunk(job: j, rows: tile, sampled: true))
          if window.count >= options.window { try flush() }
        }
      } else {
        for rows in Requantization.rowChunks(
          rowCount: job.rows.rowCount, rowLength: rowLength, matrixRows: job.matrixRows,
          chunkValues: options.chunkValues)
        {
          window.append(Chunk(job: j, rows: rows, sampled: false))
          if window.count >= options.window { try flush() }
        }
      }
    }
    try flush()
    if sampling != nil {
      for (j, item) in jobItem.enumerated() {
        for (k, e) in estimates[j].enumerated() { items[item].options[k].sampled(e) }
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

  /// What one chunk measured, per candidate type.
  enum ChunkResult {
    /// Every row: the error.
    case exact([Double])
    /// A tile's sampled rows: its stratum of the estimator.
    case sampled([TuneSampling.Estimate])
  }

  /// Runs one window of chunks on all threads.
  ///
  /// A sampled chunk decodes every row of its tile (the proxies choose the rows) but quantizes
  /// only the rows drawn.
  static func run(_ chunks: [Chunk], jobs: [Job], options: Options) throws -> [ChunkResult] {
    let out = UnsafeMutableBufferPointer<ChunkResult>.allocate(capacity: chunks.count)
    out.initialize(repeating: .exact([]))
    defer {
      out.deinitialize()
      out.deallocate()
    }
    let box = UnsafeSendable(out)
    let chunksBox = UnsafeSendable(chunks)
    let jobsBox = UnsafeSendable(jobs)
    let weighted = options.importance != nil
    let sampling = options.sample.map { TuneSampling(fraction: $0) }
    try ParallelWork.run(count: chunks.count, threads: options.threads) { i in
      let chunk = chunksBox.value[i]
      let job = jobsBox.value[chunk.job]
      let rowLength = job.rows.rowLength
      // Every row of the chunk, decoded; the sampled ones are gathered from it.
      let tile = UnsafeMutablePointer<Double>.allocate(capacity: max(1, chunk.rows.count * rowLength))
      defer { tile.deallocate() }
      try job.rows.decodeRows(chunk.rows, into: tile)
      // Every row of a chunk lies in one matrix, so one imatrix slice serves them all.
      var importance: UnsafePointer<Float>? = nil
      if let w = job.weights {
        let matrix = w.count == rowLength ? 0 : chunk.rows.lowerBound / job.matrixRows
        importance = w.base + matrix * rowLength
      }
      var rowList = Array(chunk.rows)
      var probabilities: [Double] = []
      if chunk.sampled, let sampling {
        let proxies = (0..<chunk.rows.count).map {
          TuneSampling.proxy(row: tile + $0 * rowLength, count: rowLength, importance: importance)
        }
        // Every row is decoded, so a non-finite one is refused as the full pass refuses it.
        if let bad = proxies.firstIndex(where: { $0.isNaN }) {
          let row = chunk.rows.lowerBound + bad
          throw FormatError(
            .malformed, path: job.rows.origin,
            "row \(row) of \(job.name) (from \(job.rows.origin)) holds NaN or infinite values; its error cannot "
              + "be measured",
            tensor: job.name)
        }
        let drawn = sampling.sample(chunk.rows, tensor: job.name, proxies: proxies)
        rowList = drawn.rows
        probabilities = drawn.probabilities
      }
      let n = rowList.count * rowLength
      let floats = UnsafeMutablePointer<Float>.allocate(capacity: max(1, n))
      let decoded = UnsafeMutablePointer<Float>.allocate(capacity: max(1, n))
      let maxRowBytes = job.types.map { rowLength / $0.blockElements * $0.blockBytes }.max() ?? 0
      let bytes = UnsafeMutableRawPointer.allocate(byteCount: max(1, rowList.count * maxRowBytes), alignment: 64)
      defer {
        floats.deallocate()
        decoded.deallocate()
        bytes.deallocate()
      }
      func reference(_ k: Int) -> UnsafeMutablePointer<Double> {
        tile + (rowList[k] - chunk.rows.lowerBound) * rowLength
      }
      for k in rowList.indices {
        let row = reference(k)
        for v in 0..<rowLength { floats[k * rowLength + v] = Float(row[v]) }
      }
      var exact: [Double] = []
      var strata: [TuneSampling.Estimate] = []
      for type in job.types {
        let codec = Codecs.codec(for: type)!
        // Sampled rows are not contiguous, but ggml quantizes row by row: the bytes are the same.
        codec.quantize!(floats, rowList.count, rowLength, importance, bytes)
        codec.decode(bytes, n / type.blockElements, decoded)
        var errors: [Double] = []
        var whole = ErrorAccumulator()
        for (k, row) in rowList.enumerated() {
          var acc = ErrorAccumulator()
          acc.add(
            candidate: UnsafePointer(decoded + k * rowLength), reference: reference(k),
            count: rowLength, firstIndex: row * rowLength, importance: importance)
          if acc.nonFinite > 0 {
            throw FormatError(
              .malformed, path: job.rows.origin,
              "row \(row) of \(job.name) (from \(job.rows.origin)) holds NaN or infinite values, or \(type.name) "
                + "cannot represent them; its error cannot be measured",
              tensor: job.name)
          }
          if !chunk.sampled {
            whole.merge(acc)
          } else {
            errors.append(weighted ? acc.weightedSquaredError : acc.sumSquaredError)
          }
        }
        if !chunk.sampled {
          exact.append(weighted ? whole.weightedSquaredError : whole.sumSquaredError)
        } else {
          var stratum = TuneSampling.Estimate()
          stratum.add(rows: chunk.rows.count, errors: errors, probabilities: probabilities)
          strata.append(stratum)
        }
      }
      box.value[i] = chunk.sampled ? .sampled(strata) : .exact(exact)
      options.progress?.advance(by: n * job.types.count)
    }
    return Array(out)
  }
}
