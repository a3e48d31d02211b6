import Foundation
import QuantscopeFormats

/// Checks of `diff`'s two inputs that turn a likely mistake into a usage error that says what to
/// type instead, before either input is opened as what it was given as.
public enum DiffInputs {
  /// Refuses swapped arguments (a checkpoint as CANDIDATE and a GGUF as `--ref`) and one shard of
  /// a sharded safetensors checkpoint given as `--ref` (the other shards would be missing and
  /// every tensor they hold reported as having no reference).
  ///
  /// - Throws: ``FormatError`` of kind ``FormatError/Kind/usage`` naming the right invocation.
  public static func check(candidate: String, reference: [String]) throws {
    if (try? WeightFiles.format(of: candidate)) == .safetensors,
      let gguf = reference.first(where: { (try? WeightFiles.format(of: $0)) == .gguf })
    {
      throw FormatError(
        .usage, path: "",
        "CANDIDATE \(candidate) is a safetensors checkpoint and --ref \(gguf) is a GGUF: the arguments are "
          + "swapped; run 'quantscope diff \(gguf) --ref \(candidate)'")
    }
    try check(reference: reference)
  }

  /// Refuses one shard of a sharded safetensors checkpoint given alone as `--ref` (of `diff` or
  /// `requant`): the tensors of the other shards would silently have no reference.
  ///
  /// - Throws: ``FormatError`` of kind ``FormatError/Kind/usage`` naming the directory to give.
  public static func check(reference: [String]) throws {
    guard reference.count == 1, let index = shardIndex(beside: reference[0]) else { return }
    let parent = (index as NSString).deletingLastPathComponent
    let directory = parent.isEmpty ? "." : parent
    throw FormatError(
      .usage, path: reference[0],
      "is one shard of a sharded checkpoint (\(index) lists its shards); give the directory: --ref \(directory)")
  }

  /// The `*.safetensors.index.json` beside `path` when `path` is a shard named the Hugging Face
  /// way (`model-00001-of-00163.safetensors`), else nil.
  static func shardIndex(beside path: String) -> String? {
    let name = (path as NSString).lastPathComponent
    guard name.hasSuffix(".safetensors"), name.wholeMatch(of: /.+-[0-9]+-of-[0-9]+\.safetensors/) != nil else {
      return nil
    }
    let directory = (path as NSString).deletingLastPathComponent
    let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? []
    guard let index = files.sorted().first(where: { $0.hasSuffix(".safetensors.index.json") }) else { return nil }
    return (directory as NSString).appendingPathComponent(index)
  }
}
