import Foundation
import QuantscopeFormats

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A `libggml-base` the user built, opened with `dlopen`, so the benchmarks can run ggml's own
/// `to_float` and `ggml_quantize_chunk` beside quantscope's kernels in the same process and
/// print a baseline that was measured, not remembered.
///
/// Nothing here is linked at build time: the bench builds and runs without ggml, and the ggml
/// columns appear only when `--ggml-lib` names a library that passes every check below.
struct GGMLLibrary: @unchecked Sendable {
  // @unchecked: the handle is never closed and ggml documents `to_float` and
  // `ggml_quantize_chunk` as thread-safe, so workers may share these pointers.

  /// `ggml_to_float_t`: `void (*)(const void * x, float * y, int64_t k)`, `k` in elements.
  typealias ToFloat = @convention(c) (UnsafeRawPointer?, UnsafeMutablePointer<Float>?, Int64) -> Void
  /// `ggml_quantize_chunk(type, src, dst, start, nrows, n_per_row, imatrix)`, returning bytes written.
  typealias QuantizeChunk =
    @convention(c) (
      Int32, UnsafePointer<Float>?, UnsafeMutableRawPointer?, Int64, Int64, Int64, UnsafePointer<Float>?
    ) -> Int
  /// `ggml_get_type_traits(type)`: a pointer into ggml's static table.
  typealias GetTypeTraits = @convention(c) (Int32) -> UnsafeRawPointer?
  /// `ggml_quantize_requires_imatrix(type)`.
  typealias RequiresImatrix = @convention(c) (Int32) -> Bool
  /// `ggml_version()` and `ggml_commit()`.
  typealias VersionString = @convention(c) () -> UnsafePointer<CChar>?

  /// Why a library was refused; printed as is, so each case says what to do.
  struct LoadError: Error, CustomStringConvertible {
    let description: String
  }

  /// What ggml says about one type, after checking it agrees with quantscope's `GGMLType`.
  struct TypeTraits: @unchecked Sendable {
    let toFloat: ToFloat?
  }

  /// The path given to `--ggml-lib`, printed with every table.
  let path: String
  /// `ggml_version()`, or `nil` when the library does not export it.
  let version: String?
  /// `ggml_commit()`, or `nil` when the library does not export it.
  let commit: String?
  private let handle: UnsafeMutableRawPointer
  private let getTypeTraits: GetTypeTraits
  private let quantizeChunkFunction: QuantizeChunk
  private let requiresImatrixFunction: RequiresImatrix?
  /// Load address of the library's image, to tell its own data from anything else.
  private let imageBase: UnsafeRawPointer?

  /// Types `ggml_quantize_chunk` has a case for (its `switch` in ggml.c, ggml 0.25.3). Any other
  /// type makes it abort the process (`GGML_ASSERT(result == nrows * row_size)`), so the bench
  /// never passes one; quantscope's own quantizers of the remaining types run without a baseline.
  static let quantizeChunkTypes: Set<GGMLType> = [
    .f32, .f16, .bf16, .q1_0, .q2_0, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .mxfp4, .nvfp4, .q2_K, .q3_K, .q4_K,
    .q5_K, .q6_K, .tq1_0, .tq2_0, .iq2_xxs, .iq2_xs, .iq3_xxs, .iq3_s, .iq2_s, .iq1_s, .iq1_m, .iq4_nl, .iq4_xs,
  ]

  /// Opens `path` and resolves the entry points; throws with a readable reason if any required
  /// one is missing (an old ggml without `ggml_get_type_traits`, or not a ggml at all).
  init(path: String) throws {
    guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
      let reason = dlerror().map { String(cString: $0) } ?? "unknown reason"
      throw LoadError(description: "cannot open \(path): \(reason)")
    }
    func symbol(_ name: String) -> UnsafeMutableRawPointer? { dlsym(handle, name) }
    guard let traits = symbol("ggml_get_type_traits") else {
      throw LoadError(
        description: "\(path) does not export ggml_get_type_traits (a ggml from before late 2024, or not "
          + "libggml-base); build a current one as scripts/bench/README.md describes")
    }
    guard let quantize = symbol("ggml_quantize_chunk") else {
      throw LoadError(description: "\(path) does not export ggml_quantize_chunk; is it libggml-base?")
    }
    self.path = path
    self.handle = handle
    getTypeTraits = unsafeBitCast(traits, to: GetTypeTraits.self)
    quantizeChunkFunction = unsafeBitCast(quantize, to: QuantizeChunk.self)
    imageBase = Self.imageBase(of: traits)
    requiresImatrixFunction = symbol("ggml_quantize_requires_imatrix").map {
      unsafeBitCast($0, to: RequiresImatrix.self)
    }
    func string(_ name: String) -> String? {
      guard let f = symbol(name) else { return nil }
      return unsafeBitCast(f, to: VersionString.self)().map { String(cString: $0) }
    }
    version = string("ggml_version")
    commit = string("ggml_commit")
  }

  /// One line naming the library and its version, for the top of every table.
  var banner: String {
    "ggml: \(path), version \(version ?? "unknown (no ggml_version)"), commit \(commit ?? "unknown (no ggml_commit)")"
  }

  /// ggml's traits of `type`, checked against quantscope's block geometry.
  ///
  /// `struct ggml_type_traits` (ggml/include/ggml.h) is read at its C offsets on LP64:
  /// `type_name` 0, `blck_size` 8, `blck_size_interleave` 16, `type_size` 24, `is_quantized` 32,
  /// `to_float` 40. ggml does not range-check the id in Release builds, so an id beyond an older
  /// library's table returns whatever follows it: the entry and its name pointer must both lie
  /// in this library's image (`dladdr`) before the name is read, and name, block size and block
  /// bytes must all equal quantscope's. Any disagreement refuses the whole comparison, since a
  /// baseline computed on differently laid out bytes would be meaningless.
  func traits(of type: GGMLType) throws -> TypeTraits {
    guard let entry = getTypeTraits(Int32(type.id)), isInsideLibrary(entry) else {
      throw mismatch(type, "ggml has no entry for type id \(type.id) (an older ggml?)")
    }
    let namePointer = entry.load(as: UnsafePointer<CChar>?.self)
    guard let namePointer, isInsideLibrary(UnsafeRawPointer(namePointer)) else {
      throw mismatch(type, "ggml's entry for type id \(type.id) has no name (an older ggml, or another layout?)")
    }
    let name = String(cString: namePointer)
    let blockSize = entry.load(fromByteOffset: 8, as: Int64.self)
    let typeSize = entry.load(fromByteOffset: 24, as: Int.self)
    guard name.lowercased() == type.name.lowercased() else {
      throw mismatch(type, "ggml names type id \(type.id) '\(name)', quantscope '\(type.name)'")
    }
    guard blockSize == type.blockElements, typeSize == type.blockBytes else {
      throw mismatch(
        type,
        "ggml's \(name) has blck_size \(blockSize), type_size \(typeSize); quantscope's has "
          + "\(type.blockElements) elements in \(type.blockBytes) bytes")
    }
    let toFloat = entry.load(fromByteOffset: 40, as: UnsafeRawPointer?.self).map { unsafeBitCast($0, to: ToFloat.self) }
    return TypeTraits(toFloat: toFloat)
  }

  /// Whether ggml refuses to quantize `type` without an importance matrix; `false` when the
  /// library does not say (then quantscope's own flag decides).
  func requiresImatrix(_ type: GGMLType) -> Bool {
    requiresImatrixFunction?(Int32(type.id)) ?? false
  }

  /// Whether `ggml_quantize_chunk` can be called for `type` without aborting the process.
  func canQuantize(_ type: GGMLType) -> Bool { Self.quantizeChunkTypes.contains(type) }

  /// `ggml_quantize_chunk` on rows `firstRow ..< firstRow + rows` of `source` into `destination`
  /// (both the whole arrays, as ggml offsets them itself).
  func quantizeChunk(
    _ type: GGMLType, _ source: UnsafePointer<Float>, _ destination: UnsafeMutableRawPointer, firstRow: Int,
    rows: Int, rowLength: Int, importance: UnsafePointer<Float>?
  ) {
    _ = quantizeChunkFunction(
      Int32(type.id), source, destination, Int64(firstRow * rowLength), Int64(rows), Int64(rowLength), importance)
  }

  /// Whether `address` lies in the same loaded image as `ggml_get_type_traits`, so reading it
  /// cannot fault even when an out-of-range type id made ggml hand back a stray pointer.
  private func isInsideLibrary(_ address: UnsafeRawPointer) -> Bool {
    guard let imageBase, let base = Self.imageBase(of: address) else { return false }
    return base == imageBase
  }

  /// `dladdr(address)->dli_fbase`: the load address of the image containing `address`, or `nil`
  /// when no loaded image contains it. On Linux `dladdr` is a GNU extension the Glibc module does
  /// not import, so it is looked up at run time and `Dl_info` (four pointers: `dli_fname`,
  /// `dli_fbase`, `dli_sname`, `dli_saddr`) read by hand.
  private static func imageBase(of address: UnsafeRawPointer) -> UnsafeRawPointer? {
    #if canImport(Darwin)
      var info = Dl_info()
      return dladdr(address, &info) != 0 ? info.dli_fbase.map { UnsafeRawPointer($0) } : nil
    #else
      typealias DlAddr = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?) -> Int32
      guard let symbol = dlsym(nil, "dladdr") else { return nil }
      let dladdr = unsafeBitCast(symbol, to: DlAddr.self)
      var info: (UnsafeRawPointer?, UnsafeRawPointer?, UnsafeRawPointer?, UnsafeRawPointer?) = (nil, nil, nil, nil)
      let found = withUnsafeMutableBytes(of: &info) { dladdr(address, $0.baseAddress) }
      return found != 0 ? info.1 : nil
    #endif
  }

  /// The refusal for one type, naming the library so the user knows which build to fix.
  private func mismatch(_ type: GGMLType, _ what: String) -> LoadError {
    LoadError(description: "\(path): refusing to compare \(type.name): \(what)")
  }
}
