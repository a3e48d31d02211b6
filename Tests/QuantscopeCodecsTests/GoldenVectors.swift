import Foundation
import QuantscopeFormats
import QuantscopeTestSupport

/// The golden vectors made by ggml's own code (`Tests/Fixtures/golden/`, see its README), read in
/// place through our GGUF reader. Shared by every codec family's tests.
///
/// Naming in the files: `in.CASE` (F32 rows), `im.CASE` (F32 importance vector of one row),
/// `CASE.type` / `CASE.type.im` (quantized without / with importance), `CASE.type.f32` (ggml's
/// dequantization of the last variant written: `.im` where it exists). `type` is the lower-case
/// ggml name (`q4_k`).
struct GoldenFile: Sendable {
  /// The parsed file.
  let gguf: GGUFFile
  /// Tensors by name.
  let tensors: [String: TensorInfo]

  /// Opens `name` in the golden directory.
  init(_ name: String) throws {
    gguf = try GGUFFile(path: GoldenVectors.directory.appendingPathComponent(name).path)
    tensors = Dictionary(gguf.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
  }

  /// Case names (`gauss`, `edge`, …) in file order: every `in.CASE`, or, in files without
  /// inputs of their own, every `CASE` prefix of a quantized tensor.
  var cases: [String] {
    var seen = Set<String>()
    var result: [String] = []
    for t in gguf.tensors {
      let parts = t.name.split(separator: ".", maxSplits: 1).map(String.init)
      guard parts.count == 2 else { continue }
      let name = parts[0] == "in" || parts[0] == "im" ? parts[1] : parts[0]
      if seen.insert(name).inserted { result.append(name) }
    }
    return result
  }

  /// The tensor with this name, if present.
  func tensor(_ name: String) -> TensorInfo? { tensors[name] }

  /// Whether a tensor of this name exists.
  func has(_ name: String) -> Bool { tensors[name] != nil }

  /// The raw bytes of a tensor.
  func bytes(_ name: String) throws -> [UInt8] {
    guard let t = tensors[name] else { throw GoldenError.missing(name) }
    return Array(try t.bytes())
  }

  /// The values of an F32 tensor.
  func floats(_ name: String) throws -> [Float] {
    guard let t = tensors[name] else { throw GoldenError.missing(name) }
    guard t.encoding == .ggml(.f32) else { throw GoldenError.notF32(name) }
    let raw = try t.bytes()
    return (0..<t.elementCount).map {
      Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
    }
  }

  /// `in.CASE`: the input rows, with their shape.
  func input(_ testCase: String) throws -> (values: [Float], rows: Int, rowLength: Int) {
    guard let t = tensors["in.\(testCase)"] else { throw GoldenError.missing("in.\(testCase)") }
    return (try floats(t.name), t.rowCount, t.rowLength)
  }

  /// `im.CASE`: the importance vector.
  func importance(_ testCase: String) throws -> [Float] { try floats("im.\(testCase)") }

  /// The name of the quantized tensor for `type` (`CASE.q4_k` or `CASE.q4_k.im`).
  static func quantizedName(_ testCase: String, _ type: GGMLType, imatrix: Bool) -> String {
    "\(testCase).\(type.name.lowercased())" + (imatrix ? ".im" : "")
  }

  /// The quantized bytes, or `nil` when the file lacks that variant.
  func quantized(_ testCase: String, _ type: GGMLType, imatrix: Bool) throws -> [UInt8]? {
    let name = Self.quantizedName(testCase, type, imatrix: imatrix)
    return has(name) ? try bytes(name) : nil
  }

  /// ggml's dequantization (`CASE.type.f32`), or `nil` when absent.
  func dequantized(_ testCase: String, _ type: GGMLType) throws -> [Float]? {
    let name = "\(testCase).\(type.name.lowercased()).f32"
    return has(name) ? try floats(name) : nil
  }

  /// The variant `CASE.type.f32` was made from: `.im` where it exists, else the plain one.
  func dequantizedSourceName(_ testCase: String, _ type: GGMLType) -> String? {
    let im = Self.quantizedName(testCase, type, imatrix: true)
    if has(im) { return im }
    let plain = Self.quantizedName(testCase, type, imatrix: false)
    return has(plain) ? plain : nil
  }
}

/// A problem with the golden data itself.
enum GoldenError: Error, CustomStringConvertible {
  case missing(String)
  case notF32(String)

  var description: String {
    switch self {
    case .missing(let n): "golden tensor \(n) is missing"
    case .notF32(let n): "golden tensor \(n) is not F32"
    }
  }
}

/// The golden files, opened once.
enum GoldenVectors {
  /// Where the golden files live.
  static var directory: URL { TestPaths.golden }

  /// `ggml-quants.gguf`, or the error opening it.
  static let main: Result<GoldenFile, any Error> = Result { try GoldenFile("ggml-quants.gguf") }
  /// `ggml-quants-extra.gguf` (Q8_1, Q8_K, Q2_0), or the error opening it.
  static let extra: Result<GoldenFile, any Error> = Result { try GoldenFile("ggml-quants-extra.gguf") }

  /// The file holding `type`'s vectors.
  static func file(for type: GGMLType) throws -> GoldenFile {
    switch type {
    case .q8_1, .q8_K, .q2_0: try extra.get()
    default: try main.get()
    }
  }

  /// Cases of the main file (empty if it cannot be opened; a separate test requires it).
  static var mainCases: [String] { (try? main.get().cases) ?? [] }
  /// Cases of the extra file.
  static var extraCases: [String] { (try? extra.get().cases) ?? [] }

  /// Index of the first differing `blockBytes`-sized block, or `nil` when equal.
  static func firstDifferingBlock(_ a: [UInt8], _ b: [UInt8], blockBytes: Int) -> Int? {
    if a.count != b.count { return -1 }
    for i in 0..<a.count where a[i] != b[i] { return i / blockBytes }
    return nil
  }

  /// Index of the first float whose bits differ, or `nil` when bit-identical.
  static func firstDifferingValue(_ a: [Float], _ b: [Float]) -> Int? {
    if a.count != b.count { return -1 }
    for i in 0..<a.count where a[i].bitPattern != b[i].bitPattern { return i }
    return nil
  }
}
