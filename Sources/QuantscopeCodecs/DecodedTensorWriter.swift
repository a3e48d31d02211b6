import QuantscopeFormats

/// Writes decoded tensors (float32 values, FP8 scales applied) to a file: what `quantscope
/// decode` writes, in the library so that the atomic-output guarantees can be tested with
/// ``FaultPlan`` on the very code the command runs.
public enum DecodedTensorWriter {
  /// Output encodings.
  public enum Format: String, Sendable, CaseIterable {
    /// NumPy `.npy` version 1.0, little-endian float32, C order (one tensor).
    case npy
    /// Raw little-endian float32 (one tensor).
    case f32
    /// Raw little-endian IEEE half (one tensor).
    case f16
    /// Raw little-endian bfloat16 (one tensor).
    case bf16
    /// A safetensors file of F32 tensors, back to back in the given order.
    case safetensors
  }

  /// Writes `decoders`' tensors to `output` in `format` and commits it; on any error the output
  /// is abandoned (no file at its name, no temporary file) and the error rethrown.
  ///
  /// - Parameter rows: only these rows (of the rows × row-length view) of a single tensor.
  public static func write(
    _ decoders: [TensorDecoder], rows: Range<Int>? = nil, format: Format, to output: OutputFile
  ) throws {
    do {
      guard let first = decoders.first else { throw FormatError(path: output.path, "no tensor to write") }
      if format != .safetensors && decoders.count > 1 {
        throw FormatError(path: output.path, "\(decoders.count) tensors: only safetensors holds several")
      }
      switch format {
      case .safetensors:
        try write(safetensorsHeader(decoders.map { d in
          let shape = rows.map { [$0.count, d.rowLength] } ?? d.tensor.shape
          return (d.tensor.name, shape, shape.reduce(1, *) * 4)
        }), to: output)
        for d in decoders { try stream(d, rows: rows, as: .f32, to: output) }
      case .npy:
        let shape = rows.map { [$0.count, first.rowLength] } ?? first.tensor.shape
        try write(npyHeader(shape: shape), to: output)
        try stream(first, rows: rows, as: .f32, to: output)
      case .f32, .f16, .bf16:
        try stream(first, rows: rows, as: format, to: output)
      }
      try output.commit()
    } catch {
      output.abandon()
      throw error
    }
  }

  private static func write(_ bytes: [UInt8], to output: OutputFile) throws {
    try bytes.withUnsafeBytes { try output.write($0) }
  }

  /// Decodes `decoder`'s rows tile by tile and writes them as f32, f16 or bf16.
  static func stream(_ decoder: TensorDecoder, rows: Range<Int>?, as format: Format, to output: OutputFile) throws {
    var halves: [UInt16] = []
    try decoder.forEachTile(rows: rows) { tile in
      switch format {
      case .f16, .bf16:
        halves.removeAll(keepingCapacity: true)
        for v in tile {
          if format == .bf16 {
            halves.append(Half.bf16FromFloat(v).littleEndian)
          } else {
            // A quiet NaN keeps its sign; `Half.fromFloat` would keep payload bits numpy drops.
            halves.append((v.isNaN ? (v.sign == .minus ? 0xFE00 : 0x7E00) : Half.fromFloat(v)).littleEndian)
          }
        }
        try halves.withUnsafeBytes { try output.write($0) }
      default:
        try output.write(UnsafeRawBufferPointer(tile))
      }
    }
  }

  /// The NPY version 1.0 header for a little-endian float32 C-order array of `shape`.
  public static func npyHeader(shape: [Int]) -> [UInt8] {
    let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
    var dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
    // magic (6) + version (2) + length (2) + dict + '\n' must be a multiple of 64.
    let unpadded = 10 + dict.utf8.count + 1
    dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
    let length = UInt16(truncatingIfNeeded: dict.utf8.count)
    bytes += [UInt8(length & 0xFF), UInt8(length >> 8)]
    bytes += Array(dict.utf8)
    return bytes
  }

  /// The header of a safetensors file of F32 tensors laid out back to back in the given order.
  public static func safetensorsHeader(_ tensors: [(name: String, shape: [Int], bytes: Int)]) -> [UInt8] {
    var json = "{"
    var offset = 0
    for (i, t) in tensors.enumerated() {
      if i > 0 { json += "," }
      json += "\(jsonString(t.name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],"
      json += "\"data_offsets\":[\(offset),\(offset + t.bytes)]}"
      offset += t.bytes
    }
    json += "}"
    // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
    json += String(repeating: " ", count: (8 - json.utf8.count % 8) % 8)
    let n = UInt64(json.utf8.count)
    return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * $0)) } + Array(json.utf8)
  }

  /// `s` as a JSON string literal.
  public static func jsonString(_ s: String) -> String {
    let hex = Array("0123456789abcdef".utf8)
    var out = "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if u.value < 0x20 {
          out += "\\u00" + String(decoding: [hex[Int(u.value >> 4)], hex[Int(u.value & 15)]], as: UTF8.self)
        } else {
          out.unicodeScalars.append(u)
        }
      }
    }
    return out + "\""
  }
}
