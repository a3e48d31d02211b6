import Foundation
import QuantscopeFormats

/// Locations of test data shared by every test target.
public enum TestPaths {
  /// The repository root (found from this source file's location).
  public static let repository: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// `../shared/golden/` beside the repository.
  public static let golden: URL = repository.deletingLastPathComponent().appendingPathComponent("shared/golden")

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
