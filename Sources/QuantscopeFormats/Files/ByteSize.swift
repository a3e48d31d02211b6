import Foundation

/// A byte count as people write it: `500M`, `50G`, `50GB`, `48GiB`, `1T`, or plain bytes.
///
/// Decimal and binary units are distinct: `K`/`KB`, `M`/`MB`, `G`/`GB`, `T`/`TB` are gguf-split's
/// powers of ten (`50G` = 50·10^9), `KiB`, `MiB`, `GiB`, `TiB` (or `Ki` … `Ti`) powers of two
/// (`48GiB` = 48·2^30). Unit letters are case-insensitive. The count is digits only (no sign,
/// no fraction). Parsing uses checked arithmetic: a count that does not fit in 63 bits is an
/// error, never a trap.
public struct ByteSize: Sendable, Equatable, Hashable, CustomStringConvertible {
  /// A size unit.
  public enum Unit: String, Sendable, CaseIterable {
    /// Bytes.
    case bytes = "B"
    /// 10^3 bytes.
    case kilobytes = "KB"
    /// 10^6 bytes.
    case megabytes = "MB"
    /// 10^9 bytes.
    case gigabytes = "GB"
    /// 10^12 bytes.
    case terabytes = "TB"
    /// 2^10 bytes.
    case kibibytes = "KiB"
    /// 2^20 bytes.
    case mebibytes = "MiB"
    /// 2^30 bytes.
    case gibibytes = "GiB"
    /// 2^40 bytes.
    case tebibytes = "TiB"

    /// Bytes in one of this unit.
    public var bytes: Int {
      switch self {
      case .bytes: 1
      case .kilobytes: 1_000
      case .megabytes: 1_000_000
      case .gigabytes: 1_000_000_000
      case .terabytes: 1_000_000_000_000
      case .kibibytes: 1 << 10
      case .mebibytes: 1 << 20
      case .gibibytes: 1 << 30
      case .tebibytes: 1 << 40
      }
    }

    /// Every spelling accepted for this unit, lowercased.
    var spellings: [String] {
      switch self {
      case .bytes: ["", "b"]
      case .kilobytes: ["k", "kb"]
      case .megabytes: ["m", "mb"]
      case .gigabytes: ["g", "gb"]
      case .terabytes: ["t", "tb"]
      case .kibibytes: ["ki", "kib"]
      case .mebibytes: ["mi", "mib"]
      case .gibibytes: ["gi", "gib"]
      case .tebibytes: ["ti", "tib"]
      }
    }
  }

  /// Why a text is not a size.
  public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text refused.
    public let text: String
    /// What is wrong with it.
    public let reason: String

    public var description: String { "'\(text)' is not a size: \(reason)" }
  }

  /// The number of bytes.
  public let bytes: Int
  /// The count in ``unit`` as written.
  public let count: Int
  /// The unit it was written in.
  public let unit: Unit

  /// `count` of `unit`.
  ///
  /// - Throws: ``ParseError`` when the product does not fit in an `Int`.
  public init(_ count: Int, _ unit: Unit) throws(ParseError) {
    let (bytes, overflow) = count.multipliedReportingOverflow(by: unit.bytes)
    guard !overflow else {
      throw ParseError(text: "\(count)\(unit.rawValue)", reason: "more than \(Int.max) bytes")
    }
    self.bytes = bytes
    self.count = count
    self.unit = unit
  }

  /// Parses a positive size such as `50G`, `50GB`, `48GiB` or `4300000`.
  ///
  /// - Throws: ``ParseError`` for an unknown unit, a sign, a fraction, zero, or a count that
  ///   does not fit in 63 bits.
  public init(parsing text: String) throws(ParseError) {
    let digits = text.prefix { $0.isASCII && $0.isNumber }
    let suffix = text[digits.endIndex...].lowercased()
    let units = Unit.allCases.map(\.rawValue).joined(separator: ", ")
    guard !digits.isEmpty else {
      throw ParseError(text: text, reason: "give a whole number of bytes or of a unit (\(units))")
    }
    guard let unit = Unit.allCases.first(where: { $0.spellings.contains(suffix) }) else {
      throw ParseError(text: text, reason: "unknown unit '\(text[digits.endIndex...])' (one of \(units))")
    }
    guard let count = Int(digits) else {
      throw ParseError(text: text, reason: "more than \(Int.max) bytes")
    }
    guard count > 0 else { throw ParseError(text: text, reason: "a size must be positive") }
    let (bytes, overflow) = count.multipliedReportingOverflow(by: unit.bytes)
    guard !overflow else { throw ParseError(text: text, reason: "more than \(Int.max) bytes") }
    self.bytes = bytes
    self.count = count
    self.unit = unit
  }

  /// The number of bytes `text` names, or `nil` when it is not a positive size that fits (see
  /// ``init(parsing:)``).
  public static func parse(_ text: String) -> Int? {
    try? ByteSize(parsing: text).bytes
  }

  /// The size as written, normalised: `50GB`, `48GiB`, `4300000B`.
  public var description: String { "\(count)\(unit.rawValue)" }

  /// `bytes` for a person: in the largest binary unit up to GiB that keeps the number at least 1,
  /// with two decimals (`812 B`, `8.02 MiB`, `280.42 GiB`, `-1.50 KiB`), so that a small model's
  /// sizes never all read `0.00 GiB`. The unit is always binary and says so.
  public static func describe(_ bytes: Int) -> String {
    let magnitude = bytes.magnitude
    guard magnitude >= 1024 else { return "\(bytes) B" }
    let unit: Unit = magnitude >= 1 << 30 ? .gibibytes : magnitude >= 1 << 20 ? .mebibytes : .kibibytes
    let value = Double(bytes) / Double(unit.bytes)
    return String(format: "%.2f", value) + " " + unit.rawValue
  }
}
