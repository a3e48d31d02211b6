import ArgumentParser
import QuantscopeFormats

/// `--shard K/N`, shared by the commands whose work splits into independent parts that
/// `quantscope merge` puts back together.
struct ShardOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "Do only shard K of N of the work (K from 1) and write its partial result to -o; "
        + "'quantscope merge' makes the parts the single run's output.",
      valueName: "K/N"))
  var shard: String?

  /// The parsed shard, `nil` without `--shard`; a malformed one is a usage error.
  func spec() throws -> ShardSpec? {
    guard let shard else { return nil }
    do { return try ShardSpec(parsing: shard) } catch let error as FormatError {
      throw ValidationError(error.message)
    }
  }

  /// Checks `--shard` against the command's other options, one rule for every sharded command:
  /// a shard needs `-o PART` and refuses what a partial result cannot hold; without `--shard`, a
  /// command whose `-o` exists only for the part refuses `-o`.
  ///
  /// - Parameters:
  ///   - output: the `-o` given.
  ///   - conflict: with `--shard`, why the other options given cannot go with it (`nil`: they can).
  ///   - outputWithoutShard: what to say when `-o` is given without `--shard`; `nil` when `-o`
  ///     has a meaning of its own without it.
  /// - Returns: the shard, `nil` without `--shard`.
  @discardableResult
  func validate(output: String?, conflict: String? = nil, outputWithoutShard: String? = nil) throws -> ShardSpec? {
    guard let spec = try spec() else {
      if output != nil, let outputWithoutShard { throw ValidationError(outputWithoutShard) }
      return nil
    }
    guard output != nil else { throw ValidationError("--shard needs -o PART: the file its partial result goes to") }
    if let conflict { throw ValidationError(conflict) }
    return spec
  }
}
