import Foundation
import QuantscopeFormats

extension Recipe {
  /// Loads a recipe named on the command line: a file when `spec` names an existing file, else a shipped
  /// preset (see ``Presets``), expanded for `context`.
  public static func load(_ spec: String, context: RecipeContext) throws(RecipeError) -> Recipe {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: spec, isDirectory: &isDirectory), !isDirectory.boolValue {
      return try load(path: spec, context: context)
    }
    guard let preset = Presets.named(spec) else {
      let names = TensorNameFilter.nearest(to: spec, among: Presets.all.map(\.name), count: Presets.all.count)
      throw RecipeError(
        source: spec, "no such recipe file or preset (presets, nearest first: \(names.joined(separator: ", ")))",
        isUsage: true)
    }
    return try preset.recipe(for: context)
  }

  /// Reads and parses a recipe file, expanding its macros (if any) for `context`.
  public static func load(path: String, context: RecipeContext?) throws(RecipeError) -> Recipe {
    let text: String
    do {
      text = try MappedFile.text(path: path)
    } catch let error as FormatError {
      throw RecipeError(source: path, "cannot read recipe file: \(error.message)")
    } catch {
      throw RecipeError(source: path, "cannot read recipe file: \(error)")
    }
    let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    return try parse(text, source: path, context: context, defaultName: stem)
  }
}
