import Foundation
import QuantscopeFormats

/// Numbers printed the way users read them: GiB with two decimals, bpw with three, dB with one.
enum Format {
  static func gib(_ bytes: Int) -> String { String(format: "%.2f", Double(bytes) / 1_073_741_824) }
  static func bpw(_ v: Double) -> String { String(format: "%.3f", v) }
  static func db(_ v: Double) -> String { v.isFinite ? String(format: "%.1f", v) : (v > 0 ? "inf" : "-inf") }
  static func sci(_ v: Double) -> String { String(format: "%.3e", v) }
  static func cosine(_ v: Double) -> String { String(format: "%.6f", v) }
  static func count(_ n: Int) -> String {
    let s = String(n)
    var out = ""
    for (i, ch) in s.reversed().enumerated() {
      if i > 0 && i % 3 == 0 && ch != "-" { out.append(",") }
      out.append(ch)
    }
    return String(out.reversed())
  }
}

/// Prints a `--json` result document: the one path every subcommand's JSON takes to stdout.
func printJSON(_ document: QuantscopeFormats.JSONValue) {
  print(document.prettySerialized, terminator: "")
}
