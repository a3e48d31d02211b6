/// An importance matrix (imatrix): per tensor, the mean squared activation of each input column,
/// as llama.cpp's `llama-imatrix` measures it.
///
/// Reads both of llama.cpp's formats: the GGUF imatrix (tensors `NAME.in_sum2` and `NAME.counts`,
/// keys `imatrix.datasets`, `imatrix.chunk_count`, `imatrix.chunk_size`) and the legacy binary
/// `.dat`. The importance of a column is `in_sum2 / count` (GGUF; a matrix that saw no input gets
/// 1) or `value / ncall` (legacy), exactly as llama-quantize loads them. For MoE expert tensors
/// the vector holds one slice of `ne[0]` values per expert.
public struct ImportanceMatrix: Sendable {
  /// Importance vectors by GGUF tensor name (`blk.3.ffn_down_exps.weight`).
  public let entries: [String: [Float]]
  /// Calibration datasets named in the file.
  public let datasets: [String]
  /// Chunks of calibration text the matrix was computed on.
  public let chunkCount: Int
  /// The file read.
  public let path: String

  /// A weights vector ready for pointer access.
  public struct Weights: @unchecked Sendable {
    // Sendable: immutable after creation; the storage lives as long as the matrix.
    /// First weight.
    public let base: UnsafePointer<Float>
    /// Number of weights.
    public let count: Int
  }

  private let storage: [String: Storage]

  private final class Storage: @unchecked Sendable {
    // Immutable after init.
    let pointer: UnsafeMutablePointer<Float>
    let count: Int
    init(_ values: [Float]) {
      count = values.count
      pointer = .allocate(capacity: max(1, values.count))
      _ = UnsafeMutableBufferPointer(start: pointer, count: values.count).initialize(from: values)
    }
    deinit { pointer.deallocate() }
  }

  /// The importance weights of `tensor`, if the matrix has them.
  public func weights(for tensor: String) -> Weights? {
    storage[tensor].map { Weights(base: UnsafePointer($0.pointer), count: $0.count) }
  }

  /// Reads an imatrix file of either format.
  public init(path: String) throws {
    try self.init(file: MappedFile(path: path))
  }

  /// Reads an imatrix of either format from an already opened file (or bytes in memory).
  public init(file: MappedFile) throws {
    if file.size >= 4, file.allBytes.prefix(4).elementsEqual("GGUF".utf8) {
      try self.init(gguf: GGUFFile(file: file))
    } else {
      try self.init(legacy: file)
    }
  }

  init(entries: [String: [Float]], datasets: [String], chunkCount: Int, path: String) {
    self.entries = entries
    self.datasets = datasets
    self.chunkCount = chunkCount
    self.path = path
    self.storage = entries.mapValues { Storage($0) }
  }

  private init(gguf: GGUFFile) throws {
    let path = gguf.file.path
    var sums: [String: TensorInfo] = [:]
    var counts: [String: TensorInfo] = [:]
    for t in gguf.tensors {
      if t.name.hasSuffix(".in_sum2") {
        sums[String(t.name.dropLast(8))] = t
      } else if t.name.hasSuffix(".counts") {
        counts[String(t.name.dropLast(7))] = t
      }
    }
    guard !sums.isEmpty else { throw FormatError(.notFound, path: path, "imatrix GGUF has no .in_sum2 tensors") }
    var entries: [String: [Float]] = [:]
    for (name, s) in sums {
      guard let c = counts[name] else {
        throw FormatError(.malformed, path: path, "imatrix has sums but no counts", tensor: name + ".in_sum2")
      }
      guard s.encoding == .ggml(.f32), c.encoding == .ggml(.f32) else {
        throw FormatError(.unsupported, path: path, "imatrix tensors must be F32", tensor: name)
      }
      let rowLength = s.ne.first ?? 1
      let matrices = s.elementCount / max(1, rowLength)
      guard c.elementCount == matrices else {
        throw FormatError(
          .malformed, path: path,
          "counts has \(c.elementCount) values for \(matrices) matrices",
          tensor: name + ".counts")
      }
      let sb = try s.bytes(), cb = try c.bytes()
      var values = [Float](repeating: 1, count: s.elementCount)
      for m in 0..<matrices {
        let count = Float(bitPattern: UInt32(littleEndian: cb.loadUnaligned(fromByteOffset: 4 * m, as: UInt32.self)))
        try Self.check(count, index: m, tensor: c, path: path)
        guard count > 0 else { continue }
        for i in 0..<rowLength {
          let k = m * rowLength + i
          let sum = Float(bitPattern: UInt32(littleEndian: sb.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self)))
          try Self.check(sum, index: k, tensor: s, path: path)
          values[k] = sum / count
        }
      }
      entries[name] = values
    }
    let datasets = gguf["imatrix.datasets"]?.array?.compactMap(\.string) ?? []
    self.init(entries: entries, datasets: datasets, chunkCount: gguf["imatrix.chunk_count"]?.integer ?? 0, path: path)
  }

  /// Refuses a NaN, infinite or negative sum or count: squared activations are never any of
  /// those, and the quantizers' weighted fits would turn one into garbage blocks silently.
  private static func check(_ v: Float, index: Int, tensor: TensorInfo, path: String) throws {
    guard !(v.isFinite && v >= 0) else { return }
    throw FormatError(
      .malformed,
      path: path, "value \(index) is \(v): importances must be finite and non-negative", tensor: tensor.name,
      at: .header(tensor.dataOffset + 4 * index))
  }

  private init(legacy file: MappedFile) throws {
    var c = ByteCursor(file.allBytes, path: file.path)
    let n = try c.read(Int32.self, "entry count")
    guard n > 0, Int(n) <= c.remaining / 12 else {
      throw FormatError(.badMagic, path: file.path, "not an imatrix: entry count \(n)", at: .header(0))
    }
    var entries: [String: [Float]] = [:]
    for i in 0..<Int(n) {
      let at = c.fileOffset
      let len = try c.read(Int32.self, "name length of entry \(i)")
      guard len > 0, Int(len) <= c.remaining else {
        throw FormatError(.malformed, path: file.path, "bad name length \(len) of entry \(i)", at: .header(at))
      }
      let name = String(decoding: try c.readBytes(Int(len), "name of entry \(i)"), as: UTF8.self)
      let ncall = try c.read(Int32.self, "call count", tensor: name)
      let nvalAt = c.fileOffset
      let nval = try c.read(Int32.self, "value count", tensor: name)
      guard nval > 0, Int(nval) <= c.remaining / 4 else {
        throw FormatError(.malformed, path: file.path, "bad value count \(nval)", tensor: name, at: .header(nvalAt))
      }
      let rawAt = c.fileOffset
      let raw = try c.readBytes(Int(nval) * 4, "values", tensor: name)
      var values = [Float](repeating: 0, count: Int(nval))
      for k in 0..<Int(nval) {
        var v = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self)))
        guard v.isFinite && v >= 0 else {
          throw FormatError(
            .malformed,
            path: file.path, "importance value \(k) is \(v): importances must be finite and non-negative",
            tensor: name, at: .header(rawAt + 4 * k))
        }
        if ncall > 0 { v /= Float(ncall) }
        values[k] = v
      }
      entries[name] = values
    }
    var chunks = 0
    var datasets: [String] = []
    if c.remaining >= 8 {
      chunks = Int(try c.read(Int32.self, "last call"))
      let len = try c.read(Int32.self, "dataset name length")
      guard len >= 0, Int(len) <= c.remaining else {
        throw FormatError(.malformed, path: file.path, "bad dataset name length \(len)", at: .header(c.fileOffset - 4))
      }
      datasets = [String(decoding: try c.readBytes(Int(len), "dataset name"), as: UTF8.self)]
    }
    self.init(entries: entries, datasets: datasets, chunkCount: chunks, path: file.path)
  }
}
