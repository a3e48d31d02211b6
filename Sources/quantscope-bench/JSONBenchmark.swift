import ArgumentParser
import Foundation
import QuantscopeFormats

#if canImport(Glibc)
  import Glibc
#endif

/// `json`: quantscope's JSON reader (`JSONValue.parse`, which reads every safetensors header and
/// `config.json`) against Foundation's `JSONSerialization` on one generated safetensors-like
/// header, both measured in the same run: best-of-N seconds (alternating round by round) and the
/// peak resident memory each parse adds.
///
/// Peak memory is the rise of the kernel's high-water mark (`VmHWM`) over the resident size just
/// before the parse, after `malloc_trim` has returned what the previous parse freed and
/// `/proc/self/clear_refs` has reset the mark; where that reset is refused the column says so.
struct JSONBenchmark {
  /// Size of the generated header.
  var megabytes = 64
  /// Alternating rounds; each time figure is the fastest.
  var rounds = 3

  /// A header shaped like a large MoE checkpoint's: `__metadata__`, then one entry per tensor
  /// with dtype, shape and data offsets, until it reaches `bytes`.
  static func header(bytes: Int) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(bytes + 256)
    out += Array(#"{"__metadata__":{"format":"pt","producer":"quantscope-bench"}"#.utf8)
    var offset = 0
    var index = 0
    let dtypes = ["F8_E4M3", "BF16", "F32"]
    let kinds = ["gate_proj", "up_proj", "down_proj"]
    while out.count < bytes {
      let layer = index / 768
      let expert = (index / 3) % 256
      let kind = kinds[index % 3]
      let dtype = dtypes[index % 7 == 0 ? (index % 2 == 0 ? 1 : 2) : 0]
      let shape = kind == "down_proj" ? (7168, 2048) : (2048, 7168)
      let size = shape.0 * shape.1
      let entry =
        #","model.layers.\#(layer).mlp.experts.\#(expert).\#(kind).weight":"#
        + #"{"dtype":"\#(dtype)","shape":[\#(shape.0),\#(shape.1)],"data_offsets":[\#(offset),\#(offset + size)]}"#
      out += Array(entry.utf8)
      offset += size
      index += 1
    }
    out += Array("}".utf8)
    return out
  }

  /// Runs the benchmark and prints its table.
  func run() throws {
    let header = Self.header(bytes: megabytes << 20)
    let data = Data(header)
    print(machineLine())
    print("json: \(fixed(Double(header.count) / 1_048_576, 1)) MiB header, best of \(rounds) alternating rounds")

    // Both readers must see the same document before either is timed.
    let ours = try header.withUnsafeBytes { try JSONValue.parse($0, path: "generated") }
    let theirs = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    guard let members = ours.members, let theirs, members.count == theirs.count else {
      throw ValidationError("the two readers disagree on the generated header's member count")
    }

    var peak: [String] = []
    peak.append(Self.peakGrowth { _ = try? header.withUnsafeBytes { try JSONValue.parse($0, path: "generated") } })
    peak.append(Self.peakGrowth { _ = try? JSONSerialization.jsonObject(with: data) })
    let times = alternatingBest(
      rounds: rounds,
      [
        { _ = try? header.withUnsafeBytes { try JSONValue.parse($0, path: "generated") } },
        { _ = try? JSONSerialization.jsonObject(with: data) },
      ])

    print(pad("reader", 36) + padLeft("seconds", 10) + padLeft("MB/s", 10) + padLeft("peak +MiB", 12))
    let names = ["quantscope JSONValue.parse", "Foundation JSONSerialization"]
    for (i, name) in names.enumerated() {
      let rate = Double(header.count) / 1e6 / times[i]
      print(pad(name, 36) + padLeft(fixed(times[i], 3), 10) + padLeft(fixed(rate, 0), 10) + padLeft(peak[i], 12))
    }
    print("quantscope/Foundation time: \(ratio(times[0], times[1])); \(members.count) members")
  }

  /// MiB by which `body` raises the resident high-water mark, or why it could not be measured.
  static func peakGrowth(_ body: () -> Void) -> String {
    releaseFreedMemory()
    guard resetPeak(), let before = statusKiB("VmRSS") else { return "n/a" }
    body()
    guard let high = statusKiB("VmHWM") else { return "n/a" }
    return fixed(Double(high - before) / 1024, 0)
  }

  /// Resets `VmHWM` to the current resident size (`5` to `/proc/self/clear_refs`, Linux ≥ 4.0).
  static func resetPeak() -> Bool {
    let fd = open("/proc/self/clear_refs", O_WRONLY)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return write(fd, "5", 1) == 1
  }

  /// glibc's `malloc_trim(0)` (not in the Glibc module map, so looked up by name): hands the
  /// previous parse's freed pages back, so they do not hide this parse's growth.
  static func releaseFreedMemory() {
    #if canImport(Glibc)
      typealias Trim = @convention(c) (Int) -> Int32
      if let symbol = dlsym(nil, "malloc_trim") { _ = unsafeBitCast(symbol, to: Trim.self)(0) }
    #endif
  }

  /// A `kB` field of `/proc/self/status`.
  static func statusKiB(_ field: String) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
      return Int(line.dropFirst(field.count + 1).split(whereSeparator: \.isWhitespace).first ?? "")
    }
    return nil
  }
}
