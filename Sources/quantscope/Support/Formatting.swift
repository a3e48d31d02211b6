import Foundation
import QuantscopeFormats

/// Numbers printed the way users read them, one spelling per kind of number in every table:
/// sizes in the binary unit that fits, bpw with three decimals, dB with one, counts with
/// thousands separators, shapes as `[256, 640]`.
enum Format {
  static func bpw(_ v: Double) -> String { String(format: "%.3f", v) }
  static func db(_ v: Double) -> String { v.isFinite ? String(format: "%.1f", v) : (v > 0 ? "inf" : "-inf") }
  static func sci(_ v: Double) -> String { String(format: "%.3e", v) }
  static func cosine(_ v: Double) -> String { String(format: "%.6f", v) }

  /// `n` with a comma every three digits: `246,587,904`.
  static func count(_ n: Int) -> String {
    let s = String(n)
    var out = ""
    for (i, ch) in s.reversed().enumerated() {
      if i > 0 && i % 3 == 0 && ch != "-" { out.append(",") }
      out.append(ch)
    }
    return String(out.reversed())
  }

  /// A shape, outermost dimension first, as numpy and `inspect` print it: `[256, 640]`.
  static func shape(_ dimensions: [Int]) -> String {
    "[" + dimensions.map(String.init).joined(separator: ", ") + "]"
  }

  /// `bytes` in the largest binary unit up to GiB that keeps the number at least 1 (a GiB is
  /// 2^30 bytes, never called GB): `512 B`, `1.50 KiB`,
  /// `8.27 MiB`, `281.04 GiB` (two decimals; bytes exact).
  static func size(_ bytes: Int) -> String { ByteSize.describe(bytes) }

  /// A change of size with its sign: `+1.50 MiB`, `-512 B`, `0 B`.
  static func sizeChange(_ bytes: Int) -> String {
    bytes > 0 ? "+" + size(bytes) : size(bytes)
  }
}

/// Prints a `--json` result document: the one path every subcommand's JSON takes to stdout.
func printJSON(_ document: QuantscopeFormats.JSONValue) {
  print(document.prettySerialized, terminator: "")
}
