import Foundation
import QuantscopeCodecs
import QuantscopeFormats

/// Writes a GGUF whose tensors follow a ``Plan``: tensors whose planned type differs from their
/// current one are requantized, every other tensor's bytes are copied unchanged.
///
/// New tensors are quantized from the reference checkpoint when one is given (FP8 × scale, BF16,
/// … mapped to GGUF names as `diff` maps them: no BF16 intermediate), else from the input tensor
/// decoded (which compounds quantization error, and is reported as a warning). The quantizers are
/// ggml's bit-exact reference algorithms, with an importance matrix when one is given.
///
/// The output appears only when complete: every file is written under a temporary name, fsynced
/// and renamed (``OutputFile``); any error leaves no file at the output names. After writing, the
/// output is read back and its structure and per-tensor XXH3-128 hashes are checked.
public enum Requantization {
  /// Where requantized tensors take their values from.
  public struct ReferenceSource: Sendable {
    /// The reference tensors mapped to GGUF names.
    public let mapping: ReferenceMapping
    /// How FP8 × scale products are evaluated.
    public let precision: ReferencePrecision
    /// Head counts for llama's Q/K permutation.
    public let heads: ReferenceMapping.HeadCounts?

    /// A reference source.
    public init(
      mapping: ReferenceMapping, precision: ReferencePrecision = .exact, heads: ReferenceMapping.HeadCounts? = nil
    ) {
      self.mapping = mapping
      self.precision = precision
      self.heads = heads
    }

    /// `reference` mapped onto `input`'s tensors as `diff` maps them.
    public init(reference: any TensorCollection, for input: GGUFModel, precision: ReferencePrecision = .exact) throws {
      let (mapping, heads) = try ReferenceMapping.resolve(reference: reference, for: input)
      self.init(mapping: mapping, precision: precision, heads: heads)
    }
  }

  /// Which tensors are regenerated from the reference.
  public enum Regenerate: String, Sendable, CaseIterable {
    /// Only tensors whose type changes.
    case changed
    /// Every quantizable tensor the reference has, even when its type stays (the input is then only
    /// a template for metadata and tokenizer).
    case all
  }

  /// Options of a requantization.
  public struct Options: Sendable {
    /// The reference checkpoint, if any.
    public var reference: ReferenceSource? = nil
    /// Which tensors to regenerate from the reference.
    public var regenerate: Regenerate = .changed
    /// Importance weights for the quantizers.
    public var importance: ImportanceMatrix? = nil
    /// Worker threads.
    public var threads: Int = ParallelWork.availableCores
    /// Replace existing outputs.
    public var overwrite = false
    /// Split the output into shards of at most this many bytes of tensor data (gguf-split naming).
    public var splitMaxBytes: Int? = nil
    /// Write only this split (1-based) of the set ``splitMaxBytes`` makes: the same bytes as that
    /// split of the whole run, since the split plan depends only on the tensors' sizes. A job
    /// array writes one split per task.
    public var onlySplit: Int? = nil
    /// Recorded in the output as `quantize.recipe.name`.
    public var recipeName: String = ""
    /// Recorded in the output as `quantize.recipe.rules`.
    public var recipeRules: [String] = []
    /// The llama-quantize mix and the version of its rules that typed the output, recorded as
    /// `general.file_type`, `quantize.recipe.llama_quantize` and `quantize.recipe.mixes` (with the commit in
    /// `quantize.recipe.mixes_llama_cpp_commit`).
    public var mix: (mix: LlamaMix, rules: MixRules)? = nil
    /// Told the output bytes to produce and the bytes done.
    public var progress: (any ProgressObserver)? = nil
    /// Values quantized per work item.
    public var chunkValues = 1 << 18
    /// Quantize NaN and infinite source values as ggml does (its quantizers write such blocks
    /// as zeros or garbage) instead of refusing with an error naming the tensor and tile.
    public var allowNonFinite = false
    /// Further input paths the output may not replace (the input GGUF's shards, the reference's
    /// files and the imatrix are always included).
    public var inputs: [String] = []

    /// Default options.
    public init() {}
  }

  /// What a requantization did.
  public struct Summary: Sendable {
    /// The files written (one, or the shards in order).
    public var outputs: [String] = []
    /// Tensors quantized anew, with their source.
    public var requantized: [(name: String, type: GGMLType, source: String)] = []
    /// Tensors whose bytes were copied.
    public var copied: [String] = []
    /// Warnings (requantizing already-quantized data, …), one per tensor concerned, in plan order.
    public var warnings: [Warning] = []
    /// Bytes of tensor data written.
    public var dataBytes = 0
  }

  /// Something about one output tensor that did not stop the run but that its user should know.
  public struct Warning: Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem it is.
    public enum Kind: String, Sendable {
      /// Quantized data was dequantized and quantized again (no reference given): errors compound.
      case requantizedQuantized = "requantized_quantized"
      /// The source held NaN or infinite values and `allowNonFinite` quantized them anyway.
      case nonFiniteSource = "non_finite_source"
    }

    /// The GGUF tensor concerned.
    public let tensor: String
    /// What kind of problem it is.
    public let kind: Kind
    /// The problem in words, without the tensor's name (equal for every tensor with the same problem,
    /// so that a front end can count them).
    public let message: String

    /// A warning about `tensor`.
    public init(tensor: String, kind: Kind, message: String) {
      self.tensor = tensor
      self.kind = kind
      self.message = message
    }

    /// `tensor: message`.
    public var description: String { "\(tensor): \(message)" }
  }

  /// How one tensor of the output is made.
  enum Action {
    case copy(TensorInfo)
    /// `rows` makes the values' view when the tensor is written, so that no tensor's view (its
    /// widened scale factors, its mapped scale pages) is held longer than its own turn: the
    /// resident set must not grow with the number of tensors. `source` is the file the values
    /// come from, for errors.
    case quantize(rows: () throws -> any ReferenceRows, codec: BlockCodec, origin: String, source: String)
  }

  /// `general.file_type` of presets that are not llama-quantize mixes but stand for one (dq3_k_m is a Q3_K_M).
  static let fileTypes: [String: UInt32] = ["dq3_k_m": 12]

  /// Writes `plan` applied to `input` at `output`.
  public static func run(input: GGUFModel, plan: Plan, output: String, options: Options) throws -> Summary {
    var summary = Summary()
    let byName = input.tensorsByName
    var declarations: [GGUFTensorDeclaration] = []
    var actions: [Action] = []
    for planned in plan.tensors {
      guard let tensor = byName[planned.name] else {
        throw FormatError(
          .notFound, path: input.files[0].path, "planned tensor is not in the input", tensor: planned.name)
      }
      declarations.append(try GGUFTensorDeclaration(name: planned.name, type: planned.targetType, ne: tensor.ne))
      let keep = planned.currentType == planned.targetType
      let makeReferenceRows = { () throws -> (any ReferenceRows)? in
        try options.reference.flatMap {
          try $0.mapping.rows(for: planned.name, candidateShape: tensor.shape, precision: $0.precision, heads: $0.heads)
        }
      }
      // Made now to fail before any output exists (a missing or mismatched reference), then
      // dropped and its pages released; the tensor's turn makes it again.
      let mayRegenerate = options.regenerate == .all && planned.targetType.isQuantized
      let referenceRows = keep && !mayRegenerate ? nil : try makeReferenceRows()
      defer { referenceRows?.releasePages() }
      if keep && !(mayRegenerate && referenceRows != nil) {
        actions.append(.copy(tensor))
        summary.copied.append(planned.name)
        continue
      }
      guard let codec = Codecs.codec(for: planned.targetType), codec.quantize != nil else {
        throw FormatError(
          .unsupported, path: input.files[0].path, "no quantizer for \(planned.targetType.name)", tensor: planned.name)
      }
      if codec.requiresImportance && options.importance?.weights(for: planned.name) == nil {
        // Without --imatrix the user must give one; with it, the file lacks this tensor.
        throw FormatError(
          options.importance == nil ? .usage : .notFound,
          path: input.files[0].path, "\(planned.targetType.name) needs an importance matrix entry (--imatrix)",
          tensor: planned.name)
      }
      if let rows = referenceRows, let reference = options.reference {
        let sources = reference.mapping.entries[planned.name]?.sources ?? []
        // A NaN/Inf scale entry poisons a whole tile; find it now, before any output exists,
        // and name the scale entry and the tile it covers.
        for source in sources {
          guard let scale = reference.mapping.scale(for: source) else { continue }
          let layout = try TensorDecoder(source, scale: scale, blockSize: reference.mapping.blockSize).scale
          guard let layout, let problem = Self.nonFiniteScale(layout, weight: source) else { continue }
          if options.allowNonFinite {
            summary.warnings.append(
              Warning(
                tensor: planned.name, kind: .nonFiniteSource,
                message: "quantized from non-finite values (--allow-non-finite): \(problem.what)"))
          } else {
            throw problem.error
          }
        }
        let origin = rows.origin
        actions.append(
          .quantize(
            rows: {
              guard let rows = try makeReferenceRows() else {
                throw FormatError(.invalidState, path: origin, "the reference view vanished", tensor: planned.name)
              }
              return rows
            }, codec: codec, origin: origin, source: sources.first?.file.path ?? ""))
        summary.requantized.append((planned.name, planned.targetType, rows.origin))
      } else {
        _ = try SourceRows(tensor: tensor, scale: nil, precision: .exact)
        if case .ggml(let t) = tensor.encoding, t.isQuantized {
          summary.warnings.append(
            Warning(
              tensor: planned.name, kind: .requantizedQuantized,
              message: "requantizing \(t.name) data to \(planned.targetType.name) compounds quantization error; "
                + "give --ref to quantize from the original weights"))
        }
        actions.append(
          .quantize(
            rows: { try SourceRows(tensor: tensor, scale: nil, precision: .exact) }, codec: codec,
            origin: "input \(tensor.encoding.name)", source: tensor.file.path))
        summary.requantized.append((planned.name, planned.targetType, "input \(tensor.encoding.name)"))
      }
    }

    let metadata = outputMetadata(input: input, options: options)
    let allShards = try shardPlan(declarations, output: output, maxBytes: options.splitMaxBytes)
    var shards = allShards.indices.map { (index: $0, shard: allShards[$0]) }
    if let only = options.onlySplit {
      guard options.splitMaxBytes != nil, (1...allShards.count).contains(only) else {
        throw FormatError(
          .usage, path: output,
          "--only-split \(only): the output set has \(allShards.count) split(s)"
            + (options.splitMaxBytes == nil ? " (no --split-max-size)" : "") + "; give 1 to \(allShards.count)")
      }
      shards = [shards[only - 1]]
    }
    // Every output name is checked before any work: none may exist (unless overwriting), be a
    // device, or be the same file as an input — the model's shards, the reference, the imatrix.
    var inputs = input.files.map(\.path) + options.inputs
    if let reference = options.reference {
      inputs += Set(reference.mapping.entries.values.flatMap { $0.sources.map(\.file.path) }).sorted()
    }
    if let importance = options.importance { inputs.append(importance.path) }
    do {
      try OutputFile.checkTargets(shards.map(\.shard.path), overwrite: options.overwrite, inputs: inputs)
    } catch let error as FormatError {
      // Name the set too when the output is one of the input's other shards.
      let shardIDs = input.files.map { FileIdentity(path: $0.path) }
      if input.files.count > 1, let id = FileIdentity(path: error.path), let n = shardIDs.firstIndex(of: id) {
        throw FormatError(
          .mismatch,
          path: error.path,
          "is shard \(n + 1) of \(input.files.count) of the input's split set (\(input.files[0].path)); "
            + "refusing to write an output over an input")
      }
      throw error
    }
    var total = 0
    for (_, shard) in shards {
      let d = declarations[shard.tensors]
      let (sum, overflow) = total.addingReportingOverflow(d.reduce(0) { $0 + $1.byteCount })
      guard !overflow else { throw FormatError(.outOfBounds, path: output, "total tensor data overflows") }
      total = sum
    }
    options.progress?.start(total: total)
    defer { options.progress?.finish() }

    // Every shard is written and synced under its temporary name, read back there, and only then
    // are all renamed together: a failure or an interrupt at any point leaves the final names
    // as they were (no partial set, a replaced set restored).
    var files: [OutputFile] = []
    var hashes: [String: XXH3Digest128] = [:]
    do {
      for (index, shard) in shards {
        let out = try OutputFile(
          path: shard.path, overwrite: options.overwrite, compression: OutputFile.Compression.none, inputs: inputs)
        files.append(out)
        var shardMetadata = index == 0 ? metadata : []
        if allShards.count > 1 {
          shardMetadata.append(("split.no", .uint16(UInt16(index))))
          shardMetadata.append(("split.tensors.count", .int32(Int32(declarations.count))))
          shardMetadata.append(("split.count", .uint16(UInt16(allShards.count))))
        }
        let writer = try GGUFWriter(
          metadata: shardMetadata, tensors: Array(declarations[shard.tensors]), sink: out, label: shard.path)
        try writer.writeHeader()
        for i in shard.tensors {
          let hasher = XXH3Hasher128()
          try produce(actions[i], declaration: declarations[i], options: options) { bytes in
            hasher.update(bytes)
            try writer.writeData(bytes)
            options.progress?.advance(by: bytes.count)
          }
          hashes[declarations[i].name] = hasher.digest()
        }
        try writer.finish()
        // Closed now (its descriptor is not held while the next shards are written).
        try out.prepare()
      }
      for ((_, shard), out) in zip(shards, files) {
        try verifyWritten(
          out.temporaryPath ?? shard.path, as: shard.path, declarations: Array(declarations[shard.tensors]),
          hashes: hashes)
      }
      try OutputFile.commitAll(files)
    } catch {
      for f in files { f.abandon() }
      throw error
    }
    summary.outputs = shards.map(\.shard.path)
    summary.dataBytes = total
    return summary
  }

  /// The input's metadata with what must change: split keys dropped, file type, quantization
  /// version, the recipe, and llama.cpp's imatrix keys.
  static func outputMetadata(input: GGUFModel, options: Options) -> [(key: String, value: GGUFValue)] {
    var metadata = input.metadata.filter { !$0.key.hasPrefix("split.") && !$0.key.hasPrefix("quantize.") }
    func set(_ key: String, _ value: GGUFValue) {
      if let i = metadata.firstIndex(where: { $0.key == key }) {
        metadata[i].value = value
      } else {
        metadata.append((key, value))
      }
    }
    if let ftype = options.mix.map({ $0.mix.fileType.id }) ?? fileTypes[options.recipeName] {
      set("general.file_type", .uint32(ftype))
    }
    if let (mix, rules) = options.mix {
      set("quantize.recipe.llama_quantize", .string(mix.commandLine))
      set("quantize.recipe.mixes", .string(rules.name))
      set("quantize.recipe.mixes_llama_cpp_commit", .string(rules.llamaCppCommit))
    }
    set("general.quantization_version", .uint32(2))
    if !options.recipeName.isEmpty { set("quantize.recipe.name", .string(options.recipeName)) }
    if !options.recipeRules.isEmpty {
      set("quantize.recipe.rules", .array(elementType: .string, options.recipeRules.map { .string($0) }))
    }
    if let imatrix = options.importance {
      set("quantize.imatrix.file", .string(imatrix.path))
      if let dataset = imatrix.datasets.first { set("quantize.imatrix.dataset", .string(dataset)) }
      set("quantize.imatrix.entries_count", .int32(Int32(clamping: imatrix.entries.count)))
      set("quantize.imatrix.chunks_count", .int32(Int32(clamping: imatrix.chunkCount)))
    }
    return metadata
  }

  /// One output file and the tensors it holds.
  struct Shard {
    let path: String
    let tensors: Range<Int>
  }

  /// Splits the tensors into shards of at most `maxBytes` of data (a larger tensor gets a shard of
  /// its own), named as gguf-split names them: `PREFIX-00001-of-00003.gguf`.
  static func shardPlan(_ tensors: [GGUFTensorDeclaration], output: String, maxBytes: Int?) throws -> [Shard] {
    guard let maxBytes else { return [Shard(path: output, tensors: 0..<tensors.count)] }
    guard maxBytes > 0 else { throw FormatError(.usage, path: output, "split size must be positive") }
    var ranges: [Range<Int>] = []
    var start = 0, bytes = 0
    for (i, t) in tensors.enumerated() {
      if i > start && t.byteCount > maxBytes - bytes {
        ranges.append(start..<i)
        start = i
        bytes = 0
      }
      bytes += t.byteCount
    }
    ranges.append(start..<tensors.count)
    // split.no and split.count are UINT16 in gguf-split's format.
    guard ranges.count <= Int(UInt16.max) else {
      throw FormatError(
        .outOfBounds,
        path: output,
        "--split-max-size \(maxBytes) would make \(ranges.count) shards; a GGUF split set holds at most \(UInt16.max)")
    }
    guard tensors.count <= Int(Int32.max) else {
      throw FormatError(
        .outOfBounds, path: output, "\(tensors.count) tensors; a GGUF split set holds at most \(Int32.max)")
    }
    let prefix = output.hasSuffix(".gguf") ? String(output.dropLast(5)) : output
    func five(_ n: Int) -> String { String(repeating: "0", count: max(0, 5 - String(n).count)) + String(n) }
    return ranges.enumerated().map { i, r in
      Shard(path: "\(prefix)-\(five(i + 1))-of-\(five(ranges.count)).gguf", tensors: r)
    }
  }

  /// Produces one tensor's bytes in order, quantizing chunks on all threads in bounded batches.
  static func produce(
    _ action: Action, declaration: GGUFTensorDeclaration, options: Options,
    write: (UnsafeRawBufferPointer) throws -> Void
  ) throws {
    switch action {
    case .copy(let tensor):
      // Window by window, each released once copied: the resident set must not grow with the model.
      try tensor.streamBytes { try write($0) }
    case .quantize(let makeRows, let codec, let origin, let source):
      guard let quantize = codec.quantize else { return }
      let rows = try makeRows()
      defer { rows.releasePages() }
      let rowLength = rows.rowLength
      let type = declaration.type
      let rowBytes = rowLength / type.blockElements * type.blockBytes
      // Rows per matrix: experts of a 3-D tensor each have their own imatrix slice.
      let shape = rows.shape
      let matrixRows = shape.count >= 3 ? shape[shape.count - 2] : rows.rowCount
      let weights = try importanceWeights(
        options.importance, tensor: declaration.name, rowLength: rowLength, rowCount: rows.rowCount,
        matrixRows: matrixRows)
      let chunks = rowChunks(
        rowCount: rows.rowCount, rowLength: rowLength, matrixRows: matrixRows, chunkValues: options.chunkValues)
      let batch = max(1, min(options.threads, 1 << 20) * 4)
      var first = 0
      while first < chunks.count {
        let group = Array(chunks[first..<min(chunks.count, first + batch)])
        let offsets = group.reduce(into: [0]) { $0.append($0.last! + $1.count * rowBytes) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, offsets.last!), alignment: 64)
        defer { buffer.deallocate() }
        let out = UnsafeSendable(buffer)
        let groupBox = UnsafeSendable(group)
        let offsetsBox = UnsafeSendable(offsets)
        try ParallelWork.run(count: group.count, threads: options.threads) { k in
          try quantizeRows(
            rows, groupBox.value[k], quantize: quantize, type: type, importance: weights, matrixRows: matrixRows,
            allowNonFinite: options.allowNonFinite, tensor: declaration.name, origin: origin, source: source,
            into: out.value.baseAddress! + offsetsBox.value[k])
        }
        try write(UnsafeRawBufferPointer(rebasing: buffer[0..<offsets.last!]))
        // The rows of this batch are quantized: drop the reference pages read so far, so that the
        // resident set stays one batch deep rather than growing with the model.
        rows.releasePages()
        first += group.count
      }
    }
  }

  /// Work items of one tensor: ranges of about `chunkValues` values' rows, each inside one matrix
  /// of `matrixRows` rows (an expert of a 3-D tensor has its own imatrix slice).
  static func rowChunks(rowCount: Int, rowLength: Int, matrixRows: Int, chunkValues: Int) -> [Range<Int>] {
    let perChunk = max(1, chunkValues / max(1, rowLength))
    let matrixRows = max(1, matrixRows)
    var chunks: [Range<Int>] = []
    var r = 0
    while r < rowCount {
      let matrixEnd = (r / matrixRows + 1) * matrixRows
      let end = min(rowCount, matrixEnd, r + perChunk)
      chunks.append(r..<end)
      r = end
    }
    return chunks
  }

  /// The importance weights of tensor `name`, checked against its layout: one row's worth, or one per
  /// matrix of a 3-D tensor (llama-quantize slices an expert tensor's imatrix entry per expert);
  /// `nil` without an importance matrix or without an entry for the tensor.
  ///
  /// - Throws: ``FormatError`` naming the imatrix file when the entry's length fits neither.
  static func importanceWeights(
    _ importance: ImportanceMatrix?, tensor name: String, rowLength: Int, rowCount: Int, matrixRows: Int
  ) throws -> ImportanceMatrix.Weights? {
    let weights = importance?.weights(for: name)
    if let weights, weights.count != rowLength && weights.count != rowLength * (rowCount / max(1, matrixRows)) {
      throw FormatError(
        .malformed,
        path: importance?.path ?? "", "imatrix entry has \(weights.count) values for rows of \(rowLength)",
        tensor: name)
    }
    return weights
  }

  /// Quantizes rows `range` of `rows` (all inside one matrix of `matrixRows` rows) to `type` at
  /// `destination`, as llama-quantize does: values rounded to binary32, the matrix's slice of the
  /// importance weights, and (unless `allowNonFinite`) non-finite inputs and outputs refused.
  static func quantizeRows(
    _ rows: any ReferenceRows, _ range: Range<Int>, quantize: BlockCodec.Quantize, type: GGMLType,
    importance weights: ImportanceMatrix.Weights?, matrixRows: Int, allowNonFinite: Bool, tensor: String,
    origin: String, source: String, into produced: UnsafeMutableRawPointer
  ) throws {
    let rowLength = rows.rowLength
    let rowBytes = rowLength / type.blockElements * type.blockBytes
    let n = range.count * rowLength
    let values = UnsafeMutablePointer<Double>.allocate(capacity: n)
    let floats = UnsafeMutablePointer<Float>.allocate(capacity: n)
    defer {
      values.deallocate()
      floats.deallocate()
    }
    try rows.decodeRows(range, into: values)
    for i in 0..<n { floats[i] = Float(values[i]) }
    if !allowNonFinite {
      // A value too large for binary32 becomes infinite here, and is refused too.
      if let i = (0..<n).first(where: { !floats[$0].isFinite }) {
        let bad = (0..<n).reduce(0) { $0 + (floats[$1].isFinite ? 0 : 1) }
        let row = range.lowerBound + i / rowLength, column = i % rowLength
        throw FormatError(
          .malformed,
          path: source,
          "value \(values[i]) at row \(row), column \(column) of \(tensor) (from \(origin)) is not "
            + "finite (\(bad) such value(s) in rows \(range.lowerBound)..<\(range.upperBound)); "
            + "refusing to quantize it (--allow-non-finite quantizes it as ggml does)",
          tensor: tensor)
      }
    }
    var importance: UnsafePointer<Float>? = nil
    if let weights {
      let matrix = weights.count == rowLength ? 0 : range.lowerBound / matrixRows
      importance = weights.base + matrix * rowLength
    }
    quantize(floats, range.count, rowLength, importance, produced)
    if !allowNonFinite {
      // As llama-quantize validates every row it writes (ggml_validate_row_data): finite
      // values too large for the type's f16 scales (or for F16 itself) come out infinite.
      try validate(
        UnsafeRawBufferPointer(start: produced, count: range.count * rowBytes), type: type,
        rows: range, rowLength: rowLength, tensor: tensor, origin: origin, source: source)
    }
  }

  /// Checks quantized `bytes` (rows `rows` of a tensor of `type`) for NaN/Inf block scales, or
  /// NaN/Inf values of a float type.
  ///
  /// - Throws: ``FormatError`` naming the tensor, the block, its rows and the field.
  static func validate(
    _ bytes: UnsafeRawBufferPointer, type: GGMLType, rows: Range<Int>, rowLength: Int, tensor: String,
    origin: String, source: String
  ) throws {
    let blockBytes = type.blockBytes
    let blocksPerRow = rowLength / max(1, type.blockElements)
    guard blockBytes > 0, blocksPerRow > 0 else { return }
    let fields: [GGMLScaleField]
    switch type {
    case .f16: fields = [GGMLScaleField("value", at: 0, .f16)]
    case .bf16: return  // bfloat16 has binary32's range: a finite input stays finite
    case .f32: fields = [GGMLScaleField("value", at: 0, .f32)]
    default: fields = type.scaleFields
    }
    for b in 0..<(bytes.count / blockBytes) {
      let block = UnsafeRawBufferPointer(rebasing: bytes[(b * blockBytes)..<((b + 1) * blockBytes)])
      for f in fields {
        guard let what = f.nonFinite(in: block) else { continue }
        let row = rows.lowerBound + b / blocksPerRow, column = (b % blocksPerRow) * type.blockElements
        throw FormatError(
          .mismatch,
          path: source,
          "quantizing \(tensor) (from \(origin)) to \(type.name) gave \(f.name) = \(what) in the block at row \(row), "
            + "columns \(column)..<\(column + type.blockElements): its values do not fit the type; refusing to write it",
          tensor: tensor)
      }
    }
  }

  /// The first NaN or infinite entry of a scale grid: what it is (the entry, the tile of `weight`
  /// it multiplies, how many entries are non-finite) and the error refusing it; `nil` when all
  /// entries are finite.
  static func nonFiniteScale(_ layout: ScaleLayout, weight: TensorInfo) -> (what: String, error: FormatError)? {
    guard let k = layout.values.firstIndex(where: { !$0.isFinite }) else { return nil }
    let count = layout.values.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
    let i = k / layout.gridColumns, j = k % layout.gridColumns
    let rows = weight.rowCount, columns = weight.rowLength
    let r0 = i * layout.blockRows, c0 = j * layout.blockColumns
    let tile =
      "rows \(r0)..<\(min(rows, r0 + layout.blockRows)), "
      + "columns \(c0)..<\(min(columns, c0 + layout.blockColumns))"
    var offset: Int? = nil
    if case .safetensors(let dtype) = layout.tensor.encoding, dtype.bits % 8 == 0 {
      offset = layout.tensor.dataOffset + k * dtype.bits / 8
    }
    let what =
      "scale entry [\(i), \(j)] is \(layout.values[k]): tile \(tile) of \(weight.name) dequantizes to "
      + "non-finite values (\(count) of \(layout.values.count) scale entries are NaN/Inf)"
    let error = FormatError(
      .malformed,
      path: layout.tensor.file.path,
      what + "; refusing to quantize it (--allow-non-finite quantizes it as ggml does)",
      tensor: layout.tensor.name, at: offset.map { .data($0) })
    return (what, error)
  }

  /// Re-reads one written file (at `path`, its temporary name) and checks its tensors (names,
  /// types, shapes) and their hashes; errors name the file as `name`.
  static func verifyWritten(
    _ path: String, as name: String, declarations: [GGUFTensorDeclaration], hashes: [String: XXH3Digest128]
  ) throws {
    let written: GGUFFile
    do {
      written = try GGUFFile(path: path)
    } catch var error as FormatError {
      error.path = name
      throw error
    }
    guard written.tensors.count == declarations.count else {
      throw FormatError(
        .mismatch, path: name, "read back \(written.tensors.count) tensors, wrote \(declarations.count)")
    }
    for (t, d) in zip(written.tensors, declarations) {
      guard t.name == d.name, t.encoding == .ggml(d.type), t.ne == d.ne || t.elementCount == d.ne.reduce(1, *) else {
        throw FormatError(
          .mismatch,
          path: name, "read back \(t.name) \(t.encoding.name) \(t.ne), wrote \(d.name) \(d.type.name) \(d.ne)")
      }
      // Streamed: the pages read back are not needed again, and holding a whole tensor's would grow
      // the resident set with the largest tensor.
      let hasher = XXH3Hasher128()
      try t.streamBytes { hasher.update($0) }
      guard hasher.digest() == hashes[d.name] else {
        throw FormatError(
          .mismatch, path: name, "data read back differs from data written", tensor: t.name, at: .data(t.dataOffset))
      }
    }
  }
}
