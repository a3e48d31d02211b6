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
}
