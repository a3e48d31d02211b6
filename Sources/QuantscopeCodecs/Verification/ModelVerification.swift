import QuantscopeFormats

/// Verifies the models a user names one after another, skipping a path that an earlier set
/// already covered (any shard of a split set checks the whole set, so naming two shards must not
/// report the set twice).
public struct ModelVerification: Sendable {
  /// What one GGUF set or safetensors checkpoint turned out to be.
  public struct Outcome: Sendable {
    /// The path as the user gave it.
    public let path: String
    /// Every file the set consists of (the shards, in order).
    public let files: [String]
    /// Tensors the set declares.
    public let tensors: Int
    /// Whether it is a safetensors checkpoint (whose scales are always checked) rather than GGUF.
    public let isCheckpoint: Bool
    /// Whether tensor values were asked for (`deep`).
    public let deep: Bool
    /// For a deep GGUF check: tensors whose values were read, and how many could have been (a
    /// partial download has data for only some); `nil` otherwise.
    public let valueCoverage: (checked: Int, eligible: Int)?
    /// Shards whose files are shorter than their header says.
    public let truncated: [GGUFFile]
    /// The problems found, in file order.
    public let findings: [GGUFFinding]

    /// Whether the values were checked at all: a deep check that read no tensor's data although
    /// some had data to read did not check them.
    public var valuesChecked: Bool {
      guard let valueCoverage else { return deep }
      return valueCoverage.checked > 0 || valueCoverage.eligible == 0
    }

    /// Tensors whose values were read, for a deep GGUF check.
    public var tensorsChecked: Int? { valueCoverage?.checked }

    /// What was checked beyond the header, in words, so that a partial download never reads as
    /// fully checked: scales and values for a checkpoint, the value coverage for GGUF, and what
    /// each truncated shard still holds.
    public var checkedNotes: [String] {
      var notes: [String] = []
      if isCheckpoint {
        notes.append("scales checked")
        if deep { notes.append("values checked") }
      } else if let (done, eligible) = valueCoverage.map({ ($0.checked, $0.eligible) }) {
        if done == eligible {
          notes.append("values checked")
        } else {
          notes.append(done == 0 ? "no values checked" : "values checked in \(done) of \(eligible) tensors")
        }
      }
      let baseName = { (path: String) in path.split(separator: "/").last.map(String.init) ?? path }
      return notes + truncated.map { "\(baseName($0.file.path)): \($0.presentSummary)" }
    }

    /// One element of the `quantscope.verify/1` document's `sets` array.
    public var jsonObject: JSONValue {
      .members([
        ("path", .string(path)), ("files", .array(files.map { .string($0) })),
        ("tensors", .int(tensors)), ("values_checked", .bool(valuesChecked)),
        ("tensors_checked", tensorsChecked.map { .int($0) } ?? .null),
        (
          "truncated_files",
          .array(
            truncated.map { shard in
              .members([
                ("path", .string(shard.file.path)), ("size", .int(shard.file.size)),
                ("expected_size", .int(shard.expectedSize)),
              ])
            })
        ),
        ("ok", .bool(findings.isEmpty)),
        (
          "findings",
          .array(
            findings.map { f in
              .members([
                ("kind", .string(f.kind.rawValue)), ("file", .string(f.path)), ("tensor", .optional(f.tensor)),
                ("block", f.block.map { .int($0) } ?? .null), ("offset", f.offset.map { .int($0) } ?? .null),
                ("message", .string(f.message)),
              ])
            })
        ),
      ])
    }
  }

  /// Also scan tensor data (NaN/Inf, quantized blocks' scales).
  public let deep: Bool
  /// Told how many bytes have been read.
  public var progress: (any ProgressObserver)?
  /// Files already covered by an earlier set.
  private var covered: Set<String> = []

  /// A verification run; `deep` also scans tensor data.
  public init(deep: Bool, progress: (any ProgressObserver)? = nil) {
    self.deep = deep
    self.progress = progress
  }

  /// Verifies the GGUF set or safetensors checkpoint at `path`, or returns `nil` when an earlier
  /// call already covered that file.
  public mutating func verify(path: String) throws -> Outcome? {
    guard !covered.contains(path) else { return nil }
    let result: Outcome
    if try WeightFiles.format(of: path) == .safetensors {
      let checkpoint = try SafetensorsCheckpoint(path: path)
      var checker = CheckpointVerifier(deep: deep)
      checker.progress = progress
      result = Outcome(
        path: path, files: checkpoint.shards.map(\.file.path), tensors: checkpoint.tensors.count, isCheckpoint: true,
        deep: deep, valueCoverage: nil, truncated: [], findings: try checker.verify(checkpoint))
    } else {
      var verifier = GGUFVerifier(deep: deep)
      verifier.progress = progress
      let set = try GGUFSplitSet(path: path, strict: false, allowDataOutOfBounds: true)
      let findings = try verifier.verify(set: set)
      var coverage: (checked: Int, eligible: Int)?
      if deep {
        coverage = set.shards.map(verifier.valueCoverage(of:)).reduce((0, 0)) {
          ($0.0 + $1.checked, $0.1 + $1.eligible)
        }
      }
      result = Outcome(
        path: path, files: set.shards.map(\.file.path), tensors: set.shards.reduce(0) { $0 + $1.tensors.count },
        isCheckpoint: false, deep: deep, valueCoverage: coverage, truncated: set.shards.filter(\.isTruncated),
        findings: findings)
    }
    covered.formUnion(result.files)
    return result
  }

  /// The `quantscope.verify/1` document: every set verified and the total number of problems.
  public static func jsonDocument(_ sets: [Outcome]) -> JSONValue {
    .document(
      schema: "quantscope.verify/1",
      [("sets", .array(sets.map(\.jsonObject))), ("problems", .int(sets.reduce(0) { $0 + $1.findings.count }))])
  }
}
