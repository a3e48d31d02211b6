extension GGUFFile {
  /// The largest complete size a file cut off is believed to have (1 PiB; the largest models
  /// are a few TB). A header claiming more describes no download but a corrupt or crafted
  /// file, and is refused as data past the end of the file.
  public static let maximumPlausibleSize = 1 << 50

  /// The size the complete file has: the data section's start plus the end of the tensor data
  /// that ends last, padded to the alignment as ggml's writer pads every tensor.
  ///
  /// Tensors of unusable types count as empty (their size is unknown). A file without tensors
  /// is expected to end where its header does.
  public var expectedSize: Int {
    guard !relativeOffsets.isEmpty else { return headerEnd }
    var end = 0
    for (rel, t) in zip(relativeOffsets, tensors) {
      let (e, overflow) = rel.addingReportingOverflow(t.byteCount)
      end = max(end, overflow ? Int.max : e)
    }
    let (padded, o1) = end.addingReportingOverflow(alignment - 1)
    let (size, o2) = dataStart.addingReportingOverflow(padded / alignment * alignment)
    return o1 || o2 ? Int.max : size
  }

  /// Whether the file ends before some tensor's data does, as a download cut off midway does
  /// (a file opened with `allowDataOutOfBounds`; otherwise parsing has thrown).
  public var isTruncated: Bool {
    tensors.contains { $0.presence != .present }
  }

  /// `199,229,440 of 4,683,073,248 bytes present`: how much of the expected file is there.
  public var presentSummary: String {
    "\(Self.grouped(file.size)) of \(Self.grouped(expectedSize)) bytes present"
  }

  /// A count with thousands separators, as people read file sizes.
  static func grouped(_ n: Int) -> String {
    let digits = Array(String(n.magnitude))
    var out = n < 0 ? "-" : ""
    for (i, ch) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
      out.append(ch)
    }
    return out
  }
}

extension GGUFModel {
  /// Opens the GGUF (or split set) at `path` like ``init(path:)``, but keeps the tensors of a
  /// file cut off before its end (each with its ``TensorInfo/presence``) instead of throwing,
  /// so that what the file does hold can be shown. A header cut off still throws, naming the
  /// byte offset where it ends.
  public init(truncatedPath path: String) throws {
    let shards = try GGUFSplitSet(path: path, strict: true, allowDataOutOfBounds: true).shards
    for shard in shards where shard.expectedSize > GGUFFile.maximumPlausibleSize {
      // Parsed again without leniency: throws the error naming the tensor that runs past the end.
      _ = try GGUFFile(file: shard.file)
    }
    self.shards = shards
  }

  /// The shards cut off before their end.
  public var truncatedShards: [GGUFFile] { shards.filter(\.isTruncated) }
}
