import QuantscopeFormats

/// One problem ``GGUFVerifier`` found: what kind, where (file, tensor, block, byte offset).
public struct GGUFFinding: Sendable, Equatable, CustomStringConvertible {
  /// The kind of problem.
  public enum Kind: String, Sendable, CaseIterable {
    /// Tensor data runs past the end of the file.
    case outOfBounds = "out-of-bounds"
    /// Tensor data overlaps another tensor's.
    case overlap
    /// The offset is not the running padded sum ggml's reader requires.
    case offsetOrder = "offset-order"
    /// The offset is not a multiple of the alignment.
    case misaligned
    /// The data section ends before the padded size of the last tensor (ggml reads it whole).
    case truncatedData = "truncated-data"
    /// A tensor type id ggml no longer has, or does not have yet.
    case unusableType = "unusable-type"
    /// The same tensor name in two shards of a split set.
    case duplicateName = "duplicate-name"
    /// Split keys missing, mistyped or inconsistent, or a shard missing.
    case split
    /// A NaN or infinity in a float tensor.
    case nonFiniteValue = "non-finite-value"
    /// A NaN, infinity or invalid code in a quantized block's scale.
    case nonFiniteScale = "non-finite-scale"
    /// A scale partner whose shape does not fit its weight (safetensors checkpoints).
    case scaleShape = "scale-shape"
    /// Summary of further value problems not listed one by one.
    case more
  }

  /// The kind of problem.
  public var kind: Kind
  /// The file it is in.
  public var path: String
  /// The tensor concerned, if any.
  public var tensor: String?
  /// The block (or, for scalar types, element) index within the tensor, if any.
  public var block: Int?
  /// Absolute byte offset in `path`, if known.
  public var offset: Int?
  /// What is wrong.
  public var message: String

  /// Creates a finding.
  public init(
    _ kind: Kind, path: String, tensor: String? = nil, block: Int? = nil, offset: Int? = nil, _ message: String
  ) {
    self.kind = kind
    self.path = path
    self.tensor = tensor
    self.block = block
    self.offset = offset
    self.message = message
  }

  /// `FILE: [kind] message (tensor NAME, block N, offset O)`.
  public var description: String {
    var where_: [String] = []
    if let tensor { where_.append("tensor \(tensor)") }
    if let block { where_.append("block \(block)") }
    if let offset { where_.append("offset \(offset)") }
    let suffix = where_.isEmpty ? "" : " (\(where_.joined(separator: ", ")))"
    return "\(path): [\(kind.rawValue)] \(message)\(suffix)"
  }
}

/// Finds structural problems that parsing lets through, and optionally non-finite values.
///
/// Structure (always): data out of bounds, overlapping data, offsets that break ggml's
/// contiguity rule (offset of tensor i = Σ_{j<i} PAD(nbytes_j)), offsets not on the alignment,
/// a data section shorter than ggml reads, unusable type ids, and for split sets every
/// inconsistency of the split keys, missing shards and tensors in more than one shard.
///
/// Values (`deep`): NaN and ±Inf in F32, F16, BF16 and F64 tensors, and in every block's scale
/// fields (``GGMLType/scaleFields``) of quantized tensors. Data is streamed from the mapping in
/// chunks whose pages are released after use, so memory stays flat whatever the file size.
public struct GGUFVerifier: Sendable {
  /// Also check values.
  public var deep: Bool
  /// At most this many value findings are listed per tensor; the rest are summarised.
  public var maxValueFindingsPerTensor: Int
  /// Bytes scanned between page releases.
  public var chunkBytes: Int = 64 << 20
  /// Told, by ``verify(set:)`` with `deep`, the bytes of tensor data to scan, and advanced as
  /// chunks are scanned (``values(of:)`` only advances it). `nil`: no progress reported.
  public var progress: (any ProgressObserver)? = nil

  /// Creates a verifier.
  public init(deep: Bool = false, maxValueFindingsPerTensor: Int = 8) {
    self.deep = deep
    self.maxValueFindingsPerTensor = maxValueFindingsPerTensor
  }

  /// Verifies the GGUF file or split set that `path` belongs to.
  ///
  /// - Returns: the findings, in file order (structure before values within each shard).
  /// - Throws: ``FormatError`` when a file does not parse at all.
  public func verify(path: String) throws -> [GGUFFinding] {
    try verify(set: GGUFSplitSet(path: path, strict: false, allowDataOutOfBounds: true))
  }

  /// Verifies a split set opened leniently (see ``GGUFSplitSet``).
  public func verify(set: GGUFSplitSet) throws -> [GGUFFinding] {
    var findings: [GGUFFinding] = []
    for p in set.problems {
      let kind: GGUFFinding.Kind = p.tensor != nil ? .duplicateName : .split
      findings.append(GGUFFinding(kind, path: p.path, tensor: p.tensor, offset: p.offset, p.message))
    }
    if deep, let progress {
      progress.start(total: set.shards.reduce(0) { $0 + scannedBytes(of: $1) })
    }
    defer { if deep { progress?.finish() } }
    for shard in set.shards {
      findings += structure(of: shard)
      if deep { findings += try values(of: shard) }
    }
    return findings
  }

  /// Structural findings of one file.
  public func structure(of gguf: GGUFFile) -> [GGUFFinding] {
    let path = gguf.file.path
    let alignment = gguf.alignment
    var findings: [GGUFFinding] = []
    var expected = 0
    var expectedKnown = true
    var anyOutOfBounds = false
    for (i, t) in gguf.tensors.enumerated() {
      let rel = gguf.relativeOffsets[i]
      let infoAt = gguf.tensorInfoOffsets[i]
      guard case .ggml(let type) = t.encoding, type.isUsable else {
        let what = t.encoding.name
        findings.append(
          GGUFFinding(
            .unusableType, path: path, tensor: t.name, offset: infoAt,
            "type \(what) is not a usable ggml type; its size is unknown, so later offsets are not checked"))
        expectedKnown = false
        continue
      }
      if rel % alignment != 0 {
        findings.append(
          GGUFFinding(
            .misaligned, path: path, tensor: t.name, offset: t.dataOffset,
            "data offset \(rel) is not a multiple of the alignment \(alignment)"))
      }
      if expectedKnown && rel != expected {
        findings.append(
          GGUFFinding(
            .offsetOrder, path: path, tensor: t.name, offset: infoAt,
            "data offset \(rel), expected \(expected) (ggml requires tensors stored contiguously in info order)"))
      }
      let padded = Self.pad(t.byteCount, alignment)
      let (next, o) = expected.addingReportingOverflow(padded)
      if o { expectedKnown = false } else { expected = next }
      let (end, o2) = t.dataOffset.addingReportingOverflow(t.byteCount)
      if o2 || end > gguf.file.size {
        anyOutOfBounds = true
        // A download cut off midway leaves one tensor partial and the rest missing: say which.
        let message =
          t.presence == .partial
          ? "data of \(t.byteCount) bytes runs past end of file (\(gguf.file.size) bytes): "
            + "only \(t.bytesPresent) present"
          : "data of \(t.byteCount) bytes starts past end of file (\(gguf.file.size) bytes): missing"
        findings.append(GGUFFinding(.outOfBounds, path: path, tensor: t.name, offset: t.dataOffset, message))
      }
    }
    if expectedKnown && !anyOutOfBounds && !gguf.tensors.isEmpty {
      let (needed, o) = gguf.dataStart.addingReportingOverflow(expected)
      if !o && needed > gguf.file.size {
        findings.append(
          GGUFFinding(
            .truncatedData, path: path, offset: gguf.file.size,
            "file ends at \(gguf.file.size) but the padded data section runs to \(needed) (ggml reads it whole)"))
      }
    }
    // Overlaps: sort the non-empty ranges by start and compare each with the furthest end so far.
    let ranges = gguf.tensors.filter { $0.byteCount > 0 && isUsable($0) }.sorted { $0.dataOffset < $1.dataOffset }
    var furthest: (end: Int, name: String)?
    for t in ranges {
      let (end, o) = t.dataOffset.addingReportingOverflow(t.byteCount)
      if let f = furthest, t.dataOffset < f.end {
        findings.append(
          GGUFFinding(
            .overlap, path: path, tensor: t.name, offset: t.dataOffset,
            "data overlaps tensor \(f.name) by \(min(f.end, o ? Int.max : end) - t.dataOffset) bytes"))
      }
      if !o, end > furthest?.end ?? Int.min { furthest = (end, t.name) }
    }
    return findings
  }

  func isUsable(_ t: TensorInfo) -> Bool {
    if case .ggml(let type) = t.encoding { return type.isUsable }
    return true
  }

  static func pad(_ n: Int, _ alignment: Int) -> Int {
    let (s, o) = n.addingReportingOverflow(alignment - 1)
    return o ? Int.max : s / alignment * alignment
  }

  /// Bytes ``values(of:)`` reads: data of usable tensors inside the file that have values or
  /// scales to check.
  func scannedBytes(of gguf: GGUFFile) -> Int {
    var total = 0
    for t in gguf.tensors {
      guard case .ggml(let type) = t.encoding, type.isUsable, t.byteCount > 0 else { continue }
      let (end, o) = t.dataOffset.addingReportingOverflow(t.byteCount)
      guard !o, end <= gguf.file.size else { continue }
      guard [GGMLType.f32, .f16, .bf16, .f64].contains(type) || !type.scaleFields.isEmpty else { continue }
      total += t.byteCount
    }
    return total
  }

  /// How many tensors of one file `deep` checks the values of (`checked`: those whose data is
  /// present) out of those it would check in the complete file (`eligible`: float tensors and
  /// quantized tensors with scales), and how many values the checked ones hold.
  public func valueCoverage(of gguf: GGUFFile) -> (checked: Int, eligible: Int, values: Int) {
    var checked = 0
    var eligible = 0
    var values = 0
    for t in gguf.tensors {
      guard case .ggml(let type) = t.encoding, type.isUsable, t.byteCount > 0 else { continue }
      guard [GGMLType.f32, .f16, .bf16, .f64].contains(type) || !type.scaleFields.isEmpty else { continue }
      eligible += 1
      if t.presence == .present {
        checked += 1
        values += t.elementCount
      }
    }
    return (checked, eligible, values)
  }

  /// Non-finite values and scales in one file.
  public func values(of gguf: GGUFFile) throws -> [GGUFFinding] {
    var findings: [GGUFFinding] = []
    for t in gguf.tensors {
      guard case .ggml(let type) = t.encoding, type.isUsable else { continue }
      let (end, o) = t.dataOffset.addingReportingOverflow(t.byteCount)
      guard !o, end <= gguf.file.size, t.byteCount > 0 else { continue }
      findings += try scan(t, type: type, bigEndian: gguf.isBigEndian)
    }
    return findings
  }

  /// Collects value findings of one tensor, listing at most `limit` and counting the rest.
  struct Collector {
    var findings: [GGUFFinding] = []
    var extra = 0
    let limit: Int
    mutating func add(_ f: @autoclosure () -> GGUFFinding) {
      if findings.count < limit { findings.append(f()) } else { extra += 1 }
    }
  }

  /// Scans one tensor, chunk by chunk, releasing each chunk's pages after use.
  func scan(_ t: TensorInfo, type: GGMLType, bigEndian: Bool) throws -> [GGUFFinding] {
    let fields = type.scaleFields
    let isScalar = [GGMLType.f32, .f16, .bf16, .f64].contains(type)
    guard isScalar || !fields.isEmpty else { return [] }
    let all = try t.bytes()
    let blockBytes = type.blockBytes
    let blocks = t.byteCount / blockBytes
    let blocksPerChunk = max(1, chunkBytes / blockBytes)
    var collector = Collector(limit: maxValueFindingsPerTensor)
    t.file.advise(.sequential, offset: t.dataOffset, count: t.byteCount)
    var first = 0
    while first < blocks {
      let last = min(blocks, first + blocksPerChunk)
      let chunk = UnsafeRawBufferPointer(rebasing: all[(first * blockBytes)..<(last * blockBytes)])
      switch type {
      case .f32:
        scanScalar(chunk, firstIndex: first, t, UInt32.self, exponent: 0x7F80_0000, bigEndian, &collector)
      case .f16:
        scanScalar(chunk, firstIndex: first, t, UInt16.self, exponent: 0x7C00, bigEndian, &collector)
      case .bf16:
        scanScalar(chunk, firstIndex: first, t, UInt16.self, exponent: 0x7F80, bigEndian, &collector)
      case .f64:
        scanScalar(chunk, firstIndex: first, t, UInt64.self, exponent: 0x7FF0_0000_0000_0000, bigEndian, &collector)
      default:
        // Fast path: every scale an f16 (all but Q8_K, IQ1_M and MXFP4). Test the exponent bits
        // in storage order and decode only blocks with a hit.
        let halfMask: UInt16 = bigEndian ? UInt16(0x7C00).byteSwapped : UInt16(0x7C00).littleEndian
        let halfOffsets = fields.allSatisfy { $0.encoding == .f16 } ? fields.map(\.offset) : nil
        for b in first..<last {
          let local = b - first
          if let halfOffsets {
            var hit = false
            for o in halfOffsets {
              let raw = chunk.loadUnaligned(fromByteOffset: local * blockBytes + o, as: UInt16.self)
              hit = hit || (raw & halfMask) == halfMask
            }
            if !hit { continue }
          }
          let block = UnsafeRawBufferPointer(rebasing: chunk[(local * blockBytes)..<((local + 1) * blockBytes)])
          for f in fields {
            guard let what = f.nonFinite(in: block, bigEndian: bigEndian) else { continue }
            collector.add(
              GGUFFinding(
                .nonFiniteScale, path: t.file.path, tensor: t.name, block: b,
                offset: t.dataOffset + b * blockBytes + f.offset, "\(type.name) block scale \(f.name) is \(what)"))
          }
        }
      }
      // Release the pages just read: a 300 GB scan must not fill memory with its page cache.
      t.file.advise(.dontNeed, offset: t.dataOffset + first * blockBytes, count: (last - first) * blockBytes)
      progress?.advance(by: (last - first) * blockBytes)
      first = last
    }
    if collector.extra > 0 {
      collector.findings.append(
        GGUFFinding(
          .more, path: t.file.path, tensor: t.name, "\(collector.extra) more non-finite values or scales not listed"))
    }
    return collector.findings
  }

  /// Finds NaN and ±Inf among IEEE values of width `T` whose exponent field is `exponent`
  /// (all ones means non-finite). A branch-free count runs first over runs of 4096 values so
  /// the common clean case vectorizes; only runs with a hit are looked at value by value.
  func scanScalar<T: FixedWidthInteger & UnsignedInteger>(
    _ chunk: UnsafeRawBufferPointer, firstIndex: Int, _ t: TensorInfo, _: T.Type, exponent: T, _ bigEndian: Bool,
    _ collector: inout Collector
  ) {
    let size = MemoryLayout<T>.size
    let count = chunk.count / size
    // Compare in storage order: (swap(v) & swap(m)) == swap(m) exactly when (v & m) == m.
    let mask = bigEndian ? exponent.byteSwapped : exponent.littleEndian
    let run = 4096
    var start = 0
    while start < count {
      let end = min(count, start + run)
      var hits = 0
      for i in start..<end {
        let raw = chunk.loadUnaligned(fromByteOffset: i * size, as: T.self)
        hits &+= (raw & mask) == mask ? 1 : 0
      }
      if hits > 0 {
        for i in start..<end {
          let raw = chunk.loadUnaligned(fromByteOffset: i * size, as: T.self)
          guard (raw & mask) == mask else { continue }
          let bits = bigEndian ? T(bigEndian: raw) : T(littleEndian: raw)
          let sign = bits >> (T.bitWidth - 1) != 0
          let mantissa = bits & ~exponent & ~(T(1) << (T.bitWidth - 1))
          let what = mantissa != 0 ? "NaN" : (sign ? "-Inf" : "+Inf")
          let index = firstIndex + i
          collector.add(
            GGUFFinding(
              .nonFiniteValue, path: t.file.path, tensor: t.name, block: index, offset: t.dataOffset + index * size,
              "value \(index) is \(what)"))
        }
      }
      start = end
    }
  }
}
