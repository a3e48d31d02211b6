import Foundation
import QuantscopeFormats

/// Locations of test data shared by every test target.
public enum TestPaths {
  /// The repository root (found from this source file's location).
  public static let repository: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// `shared/golden/` beside the repository, or beside the nearest ancestor that has one (a git
  /// worktree checked out a level deeper, such as `…/wt/NAME`).
  public static let golden: URL = {
    var dir = repository.deletingLastPathComponent()
    while dir.path != "/" {
      let candidate = dir.appendingPathComponent("shared/golden")
      if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
      dir = dir.deletingLastPathComponent()
    }
    return repository.deletingLastPathComponent().appendingPathComponent("shared/golden")
  }()

  /// The path of the golden file `name` (in ``golden``; the path there even when it is missing,
  /// so a test fails naming the file it wanted).
  public static func goldenFile(_ name: String) -> String {
    golden.appendingPathComponent(name).path
  }

  /// `samples/` in the repository.
  public static let samples: URL = repository.appendingPathComponent("samples")

  /// A fresh temporary directory for one test.
  public static func temporaryDirectory(_ label: String = "test") throws -> URL {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("quantscope-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}
