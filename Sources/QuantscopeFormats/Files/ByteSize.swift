/// Byte counts written by people: `500M`, `50G`, `1T`, or plain bytes.
///
/// Units are gguf-split's decimal ones (K = 10^3, M = 10^6, G = 10^9, T = 10^12). Parsing uses
/// checked arithmetic: a count that does not fit in 63 bits is `nil` (a usage error for the
/// caller), never a trap.
public enum ByteSize {
  /// The number of bytes `text` names, or `nil` when it is not a positive count that fits.
  public static func parse(_ text: String) -> Int? {
    let units: [Character: Int] = ["K": 1_000, "M": 1_000_000, "G": 1_000_000_000, "T": 1_000_000_000_000]
    var digits = Substring(text)
    var unit = 1
    if let last = text.uppercased().last, let u = units[last] {
      digits = digits.dropLast()
      unit = u
    }
    // Int("+5") and Int("-5") parse; a size is digits only.
    guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(digits) else { return nil }
    let (bytes, overflow) = n.multipliedReportingOverflow(by: unit)
    return overflow || bytes <= 0 ? nil : bytes
  }
}
