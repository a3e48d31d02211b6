import Foundation
import QuantscopeFormats

/// Locations of test data shared by every test target.
public enum TestPaths {
  /// The repository root (found from this source file's location).
  public static let repository: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// `Tests/Fixtures/golden/`: ggml's golden vectors, kept in the repository so a clone tests on
  /// its own (see the README there for how they were made).
  public static let golden: URL = repository.appendingPathComponent("Tests/Fixtures/golden")

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
