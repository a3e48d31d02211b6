#if canImport(Glibc)
  import Glibc
#endif

/// A GGUF model: one file, or every shard of a `NAME-0000N-of-0000M.gguf` split set, presented
/// as one set of tensors.
public struct GGUFModel: TensorCollection {
  /// The shards in order (one for a single file).
  public let shards: [GGUFFile]

  /// Opens the GGUF at `path`; when it is one shard of a split set (any shard, not only the
  /// first), opens all of them by name and checks that they form one consistent set.
  ///
  /// - Throws: ``FormatError`` for a shard that does not parse, a missing shard (naming the
  ///   missing file), split keys of the wrong type or with inconsistent values, or a tensor
  ///   that appears in more than one shard.
  public init(path: String) throws {
    let set = try GGUFSplitSet(path: path, strict: true)
    shards = set.shards
  }

  /// Wraps already parsed shards (in order) without checking them.
  public init(shards: [GGUFFile]) {
    precondition(!shards.isEmpty, "a GGUF model has at least one file")
    self.shards = shards
  }

  /// Every shard's mapped file, shard 1 first.
  public var files: [MappedFile] { shards.map(\.file) }
  /// Every tensor of every shard, in shard order, then file order.
  public var tensors: [TensorInfo] { shards.flatMap(\.tensors) }
  /// Metadata of the first shard, in file order.
  public var metadataEntries: [(key: String, value: GGUFValue)] { shards[0].metadata }
  /// Metadata of the first shard (gguf-split writes the full metadata there).
  public var metadata: [(key: String, value: GGUFValue)] { shards[0].metadata }
  /// The value of a metadata key in the first shard.
  public subscript(key: String) -> GGUFValue? { shards[0][key] }
}

/// The shards of a GGUF split set found from any one of them, with the problems found in the
/// split keys (`split.no` u16 0-based, `split.count` u16, `split.tensors.count` i32) and in
/// the distribution of tensors over the shards.
///
/// ``GGUFModel`` opens sets strictly (the first problem is thrown); ``GGUFVerifier`` opens them
/// leniently to report every problem.
public struct GGUFSplitSet: Sendable {
  /// The shards that could be opened, in split order.
  public let shards: [GGUFFile]
  /// Problems found (empty in strict mode, which throws the first one instead).
  public let problems: [FormatError]
  /// The number of shards the set should have (1 for a file that is not split).
  public let expectedCount: Int

  /// Key names of gguf-split.
  public enum Keys {
    /// 0-based index of a shard, u16.
    public static let number = "split.no"
    /// Number of shards, u16.
    public static let count = "split.count"
    /// Number of tensors in the whole set, i32.
    public static let tensorCount = "split.tensors.count"
  }

  /// The parts of a shard file name `PREFIX-0000N-of-0000M.gguf` (N is 1-based).
  public struct ShardName: Equatable, Sendable {
    /// Directory with trailing slash, or empty.
    public var directory: String
    /// The name before `-0000N-of-0000M.gguf`.
    public var prefix: String
    /// The 1-based shard number in the name.
    public var number: Int
    /// The shard count in the name.
    public var count: Int
    /// Digits of the shard number in the name (5 as gguf-split writes it; kept as the name has
    /// it, so `-000001-of-000002` finds `-000002-of-000002`).
    public var numberWidth = 5
    /// Digits of the shard count in the name.
    public var countWidth = 5

    /// Parses a path; `nil` when the file name does not follow the pattern.
    public init?(path: String) {
      let slash = path.lastIndex(of: "/")
      let directory = slash.map { String(path[...$0]) } ?? ""
      let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
      guard name.hasSuffix(".gguf") else { return nil }
      let base = name.dropLast(5)
      guard let of = base.ranges(of: "-of-").last else { return nil }
      let countDigits = base[of.upperBound...]
      let head = base[..<of.lowerBound]
      guard let dash = head.lastIndex(of: "-") else { return nil }
      let numberDigits = head[head.index(after: dash)...]
      func isNumber(_ s: Substring) -> Bool {
        s.count >= 5 && s.count <= 9 && s.allSatisfy { $0.isASCII && $0.isNumber }
      }
      guard isNumber(countDigits), isNumber(numberDigits), let n = Int(numberDigits), let m = Int(countDigits)
      else { return nil }
      self.directory = directory
      self.prefix = String(head[..<dash])
      self.number = n
      self.count = m
      self.numberWidth = numberDigits.count
      self.countWidth = countDigits.count
    }

    /// Creates shard name parts.
    public init(directory: String, prefix: String, number: Int, count: Int) {
      self.directory = directory
      self.prefix = prefix
      self.number = number
      self.count = count
    }

    /// The path of shard `number` (1-based) of `count`, as llama.cpp's `llama_split_path` forms it.
    public func path(number: Int) -> String {
      "\(directory)\(prefix)-\(Self.pad(number, numberWidth))-of-\(Self.pad(count, countWidth)).gguf"
    }

    static func pad(_ n: Int, _ width: Int = 5) -> String {
      let s = String(n)
      return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
  }

  /// Opens the set that `path` belongs to.
  ///
  /// - Parameters:
  ///   - strict: throw the first split problem; otherwise collect them in ``problems`` and
  ///     skip missing shards.
  ///   - allowDataOutOfBounds: passed to each ``GGUFFile``.
  public init(path: String, strict: Bool, allowDataOutOfBounds: Bool = false) throws {
    var problems: [FormatError] = []
    func problem(_ e: FormatError) throws {
      if strict { throw e }
      problems.append(e)
    }
    // Oddities llama.cpp's loader tolerates (it only looks at split.count when it is ≥ 2):
    // reported by the verifier, never thrown.
    func oddity(_ e: FormatError) {
      if !strict { problems.append(e) }
    }
    let given = try GGUFFile(path: path, allowDataOutOfBounds: allowDataOutOfBounds)

    guard let countValue = given[Keys.count] else {
      if given[Keys.number] != nil || given[Keys.tensorCount] != nil {
        oddity(
          FormatError(
            .malformed,
            path: path, "has split keys but no \(Keys.count)",
            at: (given.metadataOffset(of: Keys.number) ?? given.metadataOffset(of: Keys.tensorCount))
              .map { .header($0) }))
      }
      self.shards = [given]
      self.problems = problems
      self.expectedCount = 1
      return
    }
    let count = try Self.splitInteger(given, Keys.count, .uint16, strict: strict, problems: &problems)
    if count <= 1 {
      if count == 0 || countValue.integer == 0 {
        oddity(
          FormatError(
            .malformed, path: path, "\(Keys.count) is 0", at: given.metadataOffset(of: Keys.count).map { .header($0) }))
      }
      if let number = given[Keys.number]?.integer, number != 0 {
        oddity(
          FormatError(
            .malformed,
            path: path, "\(Keys.number) is \(number) in a file that is not split",
            at: given.metadataOffset(of: Keys.number).map { .header($0) }))
      }
      self.shards = [given]
      self.problems = problems
      self.expectedCount = 1
      return
    }
    guard let name = ShardName(path: path) else {
      throw FormatError(
        .malformed,
        path: path,
        "\(Keys.count) is \(count) but the file name does not follow NAME-0000N-of-0000M.gguf, so the other shards cannot be found",
        at: given.metadataOffset(of: Keys.count).map { .header($0) })
    }
    // The files on disk follow their names, so the name's count (and digit widths) decide which
    // files to open; every shard's split.count is then checked against it. The search is bounded
    // by the file's own split.count too: a name claiming 999999999 shards opens at most 65,535.
    var names = name
    names.number = 0
    if name.count != count {
      try problem(
        FormatError(
          .malformed,
          path: path, "\(Keys.count) is \(count) but the file names say \(name.count) shards",
          at: given.metadataOffset(of: Keys.count).map { .header($0) }))
    }

    var shards: [GGUFFile] = []
    var numbers: [Int] = []
    var missing = 0
    for index in 0..<min(names.count, count) {
      let shardPath = names.path(number: index + 1)
      let shard: GGUFFile
      if shardPath == path {
        shard = given
      } else {
        var st = stat()
        guard stat(shardPath, &st) == 0 else {
          missing += 1
          try problem(
            FormatError(
              .notFound, path: shardPath, "missing shard \(index + 1) of \(names.count) of the split set of \(path)"))
          continue
        }
        shard = try GGUFFile(path: shardPath, allowDataOutOfBounds: allowDataOutOfBounds)
      }
      shards.append(shard)
      numbers.append(index)
    }

    var totalDeclared: Int?
    var seen: [String: String] = [:]
    var total = 0
    for (shard, index) in zip(shards, numbers) {
      let p = shard.file.path
      let number = try Self.splitInteger(shard, Keys.number, .uint16, strict: strict, problems: &problems)
      // -1: missing or unusable, already recorded.
      if number != -1 && number != index {
        try problem(
          FormatError(
            .malformed,
            path: p, "\(Keys.number) is \(number), expected \(index) (0-based) for shard \(index + 1)",
            at: shard.metadataOffset(of: Keys.number).map { .header($0) }))
      }
      let c = try Self.splitInteger(shard, Keys.count, .uint16, strict: strict, problems: &problems)
      if c != -1 && c != names.count && shard.file.path != path {
        try problem(
          FormatError(
            .malformed,
            path: p, "\(Keys.count) is \(c) but the file names say \(names.count) shards",
            at: shard.metadataOffset(of: Keys.count).map { .header($0) }))
      }
      let declared = try Self.splitInteger(shard, Keys.tensorCount, .int32, strict: strict, problems: &problems)
      if declared >= 0 {
        if let first = totalDeclared {
          if declared != first {
            try problem(
              FormatError(
                .malformed,
                path: p, "\(Keys.tensorCount) is \(declared) but the first shard says \(first)",
                at: shard.metadataOffset(of: Keys.tensorCount).map { .header($0) }))
          }
        } else {
          totalDeclared = declared
        }
      }
      for (tensor, infoOffset) in zip(shard.tensors, shard.tensorInfoOffsets) {
        if let other = seen[tensor.name] {
          try problem(
            FormatError(
              .malformed, path: p, "tensor also appears in \(other)", tensor: tensor.name, at: .header(infoOffset)))
        } else {
          seen[tensor.name] = p
        }
      }
      total += shard.tensors.count
    }
    if missing == 0, let declared = totalDeclared, declared != total {
      try problem(
        FormatError(
          .malformed,
          path: path, "\(Keys.tensorCount) is \(declared) but the \(names.count) shards hold \(total) tensors",
          at: given.metadataOffset(of: Keys.tensorCount).map { .header($0) }))
    }
    guard !shards.isEmpty else { throw FormatError(.notFound, path: path, "no shard of the split set could be opened") }
    self.shards = shards
    self.problems = problems
    self.expectedCount = names.count
  }

  /// Reads a split key, which must exist and have `type`. In lenient mode a problem is
  /// recorded and the integer value (or -1 when there is none) returned.
  static func splitInteger(
    _ file: GGUFFile, _ key: String, _ type: GGUFValueType, strict: Bool, problems: inout [FormatError]
  ) throws -> Int {
    let path = file.file.path
    guard let value = file[key] else {
      let e = FormatError(.notFound, path: path, "split shard lacks \(key)", at: .header(file.headerEnd))
      if strict { throw e }
      problems.append(e)
      return -1
    }
    guard value.type == type, let n = value.integer else {
      let e = FormatError(
        .malformed,
        path: path, "\(key) must be \(type.name), not \(value.type.name)",
        at: file.metadataOffset(of: key).map { .header($0) })
      if strict { throw e }
      problems.append(e)
      // Lenient: carry on with the value when it is an integer, to find further problems.
      return value.integer ?? -1
    }
    return n
  }
}
