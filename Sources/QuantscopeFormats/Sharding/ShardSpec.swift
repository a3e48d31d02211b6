/// One shard of a job split into `count` independent pieces: `--shard K/N`, `K` counted from 1.
///
/// A shard is told only its own number and the total; which work it does follows from
/// ``ShardPartition``, computed the same way on every machine, so the tasks of a job array need
/// no coordination and no shared state beyond the inputs.
public struct ShardSpec: Sendable, Hashable, CustomStringConvertible {
  /// This shard's number, 1 through ``count``.
  public let index: Int
  /// How many shards the job has.
  public let count: Int

  /// The largest shard count accepted: far more tasks than any job array runs, small enough that
  /// a typing mistake (`--shard 1/40000000`) is caught.
  public static let maximumCount = 100_000

  /// Shard `index` of `count`.
  ///
  /// - Throws: ``FormatError`` of kind ``FormatError/Kind/usage`` when `index` is not in 1…`count`.
  public init(index: Int, count: Int) throws {
    guard count >= 1, count <= Self.maximumCount else {
      throw FormatError(.usage, path: "", "--shard: the shard count must be 1 to \(Self.maximumCount) (got \(count))")
    }
    guard index >= 1, index <= count else {
      throw FormatError(
        .usage, path: "", "--shard: the shard number must be 1 to \(count) (got \(index)); shards count from 1")
    }
    self.index = index
    self.count = count
  }

  /// Parses `K/N` (`3/16`: the third of sixteen shards).
  ///
  /// - Throws: ``FormatError`` of kind ``FormatError/Kind/usage`` naming the expected form.
  public init(parsing text: String) throws {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let k = Int(parts[0].trimmingWhitespace), let n = Int(parts[1].trimmingWhitespace) else {
      throw FormatError(.usage, path: "", "--shard: expected K/N with 1 <= K <= N, e.g. 3/16 (got '\(text)')")
    }
    try self.init(index: k, count: n)
  }

  /// `K/N`.
  public var description: String { "\(index)/\(count)" }

  /// The positions in `items` that belong to this shard, ascending (see ``ShardPartition``).
  public func positions<Item>(of items: [Item], bytes: (Item) -> Int) -> [Int] {
    let owner = ShardPartition.assign(sizes: items.map(bytes), shards: count)
    return owner.indices.filter { owner[$0] == index - 1 }
  }

  /// The items of `items` that belong to this shard, in their given order.
  public func select<Item>(_ items: [Item], bytes: (Item) -> Int) -> [Item] {
    positions(of: items, bytes: bytes).map { items[$0] }
  }
}

/// A deterministic partition of work items among shards, balanced by bytes.
///
/// Largest item first, each to the shard with the fewest bytes so far (ties: the lower shard;
/// equal items: the earlier one first). Integer arithmetic only, so every machine, thread count
/// and build computes the same owner for every item; the largest shard holds at most the
/// average plus one item.
public enum ShardPartition {
  /// The shard (0-based) that owns each item, given the items' sizes in bytes.
  public static func assign(sizes: [Int], shards: Int) -> [Int] {
    precondition(shards >= 1, "at least one shard")
    var owner = Array(repeating: 0, count: sizes.count)
    guard shards > 1 else { return owner }
    let order = sizes.indices.sorted { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : $0 < $1 }
    var load = Array(repeating: 0, count: shards)
    for item in order {
      var best = 0
      for s in 1..<shards where load[s] < load[best] { best = s }
      owner[item] = best
      load[best] += max(0, sizes[item])
    }
    return owner
  }
}

extension Substring {
  fileprivate var trimmingWhitespace: Substring {
    var s = self
    while s.first?.isWhitespace == true { s = s.dropFirst() }
    while s.last?.isWhitespace == true { s = s.dropLast() }
    return s
  }
}
