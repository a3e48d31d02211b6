import ArgumentParser
import Foundation
import QuantscopeCodecs
import QuantscopeFormats

#if canImport(Glibc)
import Glibc
#endif

extension Quantscope {
  /// `quantscope decode`: write tensors' decoded values (dequantized FP8 included) as npy, raw
  /// little-endian floats or a safetensors file.
  struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Decode tensors to float32 and write them as .npy, raw floats or safetensors.",
      discussion: """
        One tensor is written as NPY (numpy.load reads it) unless --format says otherwise; \
        several tensors (--tensors REGEX or repeated --tensor) are written as one F32 \
        safetensors file. `-o -` writes raw little-endian floats (f32 unless --format) to \
        standard output. FP8 weights with a scale partner (`X.weight_scale_inv`, \
        `X.weight_scale`) are written dequantized: value × scale in float32, and scales \
        selected by --tensors alongside their weight are not written separately. Files are \
        written under a temporary name and renamed when complete. zstd output (`.zst`) is \
        not available yet.
        """)

    /// Output encodings.
    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
      case npy, f32, f16, bf16, safetensors

      var fileExtension: String { rawValue }
    }

    @Argument(help: "GGUF file (any shard of a split set), safetensors file, checkpoint directory or shards.")
    var paths: [String]

    @Option(name: .customLong("tensor"), help: ArgumentHelp("A tensor to decode, by exact name (repeatable).", valueName: "name"))
    var tensorNames: [String] = []

    @Option(name: .customLong("tensors"), help: ArgumentHelp("Decode every tensor whose name matches this regular expression (anywhere in the name).", valueName: "regex"))
    var pattern: String?

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Output file; `-` for standard output. Default: the tensor name with the format's extension.", valueName: "file"))
    var output: String?

    @Option(help: "Output format: npy, f32, f16, bf16 (raw little-endian) or safetensors (F32).")
    var format: OutputFormat?

    @Option(help: ArgumentHelp("Decode only rows A:B (of the rows × row-length view; A: and :B allowed). One tensor only.", valueName: "A:B"))
    var rows: String?

    @Flag(help: "Write FP8 weights as stored, without multiplying by their scale partner.")
    var noScale = false

    func validate() throws {
      if tensorNames.isEmpty && pattern == nil {
        throw ValidationError("give --tensor NAME or --tensors REGEX")
      }
    }

    func run() throws {
      let model = try WeightFiles.open(paths)
      let index = model.tensorsByName
      var selected: [TensorInfo] = []
      var seen = Set<String>()
      for name in tensorNames {
        guard let t = index[name] else { throw FormatError(path: paths[0], "no tensor named \(name)") }
        if seen.insert(name).inserted { selected.append(t) }
      }
      if let pattern {
        let regex: Regex<AnyRegexOutput>
        do { regex = try Regex(pattern) } catch { throw CommandFailure("invalid --tensors pattern: \(error)") }
        var matched = model.tensors.filter { $0.name.contains(regex) && !seen.contains($0.name) }
        if !noScale {
          // A scale that multiplies a selected weight is consumed by it (as fp8_cast_bf16.py
          // drops `*_scale_inv`), so it is not written again on its own.
          let consumed = Set(matched.compactMap { ScalePartners.scale(for: $0, in: index)?.name })
          matched.removeAll { consumed.contains($0.name) }
        }
        for t in matched where seen.insert(t.name).inserted { selected.append(t) }
      }
      guard !selected.isEmpty else { throw CommandFailure("no tensor matches \(pattern ?? "")") }

      let toStdout = output == "-"
      let chosen: OutputFormat
      if let format {
        chosen = format
      } else if selected.count > 1 || output?.hasSuffix(".safetensors") == true {
        chosen = .safetensors
      } else if toStdout {
        chosen = .f32
      } else if let output, let f = OutputFormat(rawValue: (output as NSString).pathExtension) {
        chosen = f
      } else {
        chosen = .npy
      }
      if selected.count > 1 && chosen != .safetensors {
        throw CommandFailure("\(selected.count) tensors selected: only --format safetensors holds several")
      }
      if rows != nil && selected.count > 1 { throw CommandFailure("--rows needs exactly one tensor") }
      let destination: String
      if let output {
        destination = output
      } else if selected.count == 1 {
        destination = selected[0].name.replacingOccurrences(of: "/", with: "_") + "." + chosen.fileExtension
      } else {
        throw CommandFailure("several tensors selected: name the output file with -o")
      }
      if destination.hasSuffix(".zst") {
        throw CommandFailure("zstd-compressed output is not available yet; write \(destination.dropLast(4)) instead")
      }

      let decoders = try selected.map { t in
        noScale ? try TensorDecoder(t) : try TensorDecoder(t, partnersIn: index)
      }
      var rowRange: Range<Int>? = nil
      if let rows { rowRange = try Self.parseRows(rows, count: decoders[0].rowCount) }

      let sink = try OutputSink(path: destination)
      do {
        switch chosen {
        case .safetensors:
          try sink.write(SafetensorsHeader.make(decoders.map { d in
            let shape = rowRange.map { [$0.count, d.rowLength] } ?? d.tensor.shape
            return (d.tensor.name, shape, shape.reduce(1, *) * 4)
          }))
          for d in decoders { try Self.stream(d, rows: rowRange, as: .f32, to: sink) }
        case .npy:
          let d = decoders[0]
          let shape = rowRange.map { [$0.count, d.rowLength] } ?? d.tensor.shape
          try sink.write(NPYHeader.make(shape: shape))
          try Self.stream(d, rows: rowRange, as: .f32, to: sink)
        case .f32, .f16, .bf16:
          try Self.stream(decoders[0], rows: rowRange, as: chosen, to: sink)
        }
        try sink.commit()
      } catch {
        sink.abandon()
        throw error
      }
    }

    /// Parses `A:B`, `A:`, `:B` or `A` against `count` rows.
    static func parseRows(_ text: String, count: Int) throws -> Range<Int> {
      let parts = text.split(separator: ":", omittingEmptySubsequences: false)
      guard parts.count <= 2 else { throw CommandFailure("--rows wants A:B, got \(text)") }
      func bound(_ s: Substring, _ fallback: Int) throws -> Int {
        if s.isEmpty { return fallback }
        guard let v = Int(s) else { throw CommandFailure("--rows wants integers, got \(text)") }
        return v
      }
      let a = try bound(parts[0], 0)
      let b = parts.count == 2 ? try bound(parts[1], count) : a + 1
      guard 0 <= a, a <= b, b <= count else {
        throw CommandFailure("--rows \(text) is outside 0:\(count)")
      }
      return a..<b
    }

    /// Decodes `decoder`'s rows tile by tile and writes them in `format` (f32, f16 or bf16).
    static func stream(_ decoder: TensorDecoder, rows: Range<Int>?, as format: OutputFormat, to sink: OutputSink) throws {
      var halves: [UInt16] = []
      try decoder.forEachTile(rows: rows) { tile in
        switch format {
        case .f16, .bf16:
          halves.removeAll(keepingCapacity: true)
          for v in tile {
            if format == .bf16 {
              halves.append(Half.bf16FromFloat(v).littleEndian)
            } else {
              halves.append((v.isNaN ? (v.sign == .minus ? 0xFE00 : 0x7E00) : Half.fromFloat(v)).littleEndian)
            }
          }
          try halves.withUnsafeBytes { try sink.write($0) }
        default:
          try sink.write(UnsafeRawBufferPointer(tile))
        }
      }
    }
  }
}

/// NPY format version 1.0 header for a little-endian float32 C-order array.
enum NPYHeader {
  static func make(shape: [Int]) -> [UInt8] {
    let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
    var dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
    // magic (6) + version (2) + length (2) + dict + '\n' must be a multiple of 64.
    let unpadded = 10 + dict.utf8.count + 1
    dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
    let length = UInt16(dict.utf8.count)
    bytes += [UInt8(length & 0xFF), UInt8(length >> 8)]
    bytes += Array(dict.utf8)
    return bytes
  }
}

/// The header of a safetensors file of F32 tensors laid out back to back in the given order.
/// (A minimal writer for `decode`; the shared safetensors writer may replace it.)
enum SafetensorsHeader {
  static func make(_ tensors: [(name: String, shape: [Int], bytes: Int)]) -> [UInt8] {
    var json = "{"
    var offset = 0
    for (i, t) in tensors.enumerated() {
      if i > 0 { json += "," }
      json += "\(quote(t.name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],"
      json += "\"data_offsets\":[\(offset),\(offset + t.bytes)]}"
      offset += t.bytes
    }
    json += "}"
    // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
    json += String(repeating: " ", count: (8 - json.utf8.count % 8) % 8)
    let n = UInt64(json.utf8.count)
    return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * $0)) } + Array(json.utf8)
  }

  /// A JSON string literal.
  static func quote(_ s: String) -> String {
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
          out += String(format: "\\u%04x", u.value)
        } else {
          out.unicodeScalars.append(u)
        }
      }
    }
    return out + "\""
  }
}

/// Where `decode` writes: standard output, or a temporary file beside the destination that is
/// renamed over it only when everything was written (so a failed run leaves no partial file).
final class OutputSink {
  let fd: Int32
  let destination: String?
  let temporary: String?

  init(path: String) throws {
    if path == "-" {
      fd = 1
      destination = nil
      temporary = nil
      return
    }
    let url = URL(fileURLWithPath: path)
    let temp = url.deletingLastPathComponent()
      .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
    let f = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard f >= 0 else {
      throw CommandFailure("\(path): cannot create: \(String(cString: strerror(errno)))")
    }
    fd = f
    destination = path
    temporary = temp
  }

  func write(_ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes { try write($0) }
  }

  func write(_ bytes: UnsafeRawBufferPointer) throws {
    guard var p = bytes.baseAddress else { return }
    var left = bytes.count
    while left > 0 {
      let n = Glibc.write(fd, p, left)
      if n < 0 {
        if errno == EINTR { continue }
        throw CommandFailure("\(destination ?? "standard output"): write failed: \(String(cString: strerror(errno)))")
      }
      p += n
      left -= n
    }
  }

  func commit() throws {
    guard let temporary, let destination else { return }
    guard close(fd) == 0 else {
      unlink(temporary)
      throw CommandFailure("\(destination): close failed: \(String(cString: strerror(errno)))")
    }
    guard rename(temporary, destination) == 0 else {
      let message = String(cString: strerror(errno))
      unlink(temporary)
      throw CommandFailure("\(destination): cannot rename into place: \(message)")
    }
  }

  func abandon() {
    guard let temporary else { return }
    close(fd)
    unlink(temporary)
  }
}
