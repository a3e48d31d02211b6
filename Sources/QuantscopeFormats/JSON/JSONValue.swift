/// A JSON value, as read from a safetensors header, an index or a `config.json`.
///
/// Objects keep their members in file order (and keep duplicates; lookups take the last one,
/// as serde_json does when it fills a map). Integer literals that fit in `Int64` stay exact.
public indirect enum JSONValue: Sendable, Equatable {
  /// `null`.
  case null
  /// `true` or `false`.
  case bool(Bool)
  /// An integer literal (no fraction, no exponent) that fits in `Int64`.
  case integer(Int64)
  /// Any other number.
  case number(Double)
  /// An unsigned integer above `Int64.max`, kept exact for writing (a GGUF UINT64 value, say).
  /// The parser never produces it: it reads such literals as ``number(_:)``.
  case unsigned(UInt64)
  /// A string, escapes resolved.
  case string(String)
  /// An array's elements in order.
  case array([JSONValue])
  /// An object's members in file order.
  case object([JSONMember])

  /// The value of the last member named `key`, for an object.
  public subscript(key: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    return members.last { $0.key == key }?.value
  }

  /// The value as an `Int`, for an integer literal or a number with an exact integer value.
  public var int: Int? {
    switch self {
    case .integer(let v): Int(exactly: v)
    case .number(let d): Int(exactly: d)
    case .unsigned(let u): Int(exactly: u)
    default: nil
    }
  }

  /// The value as a `Double`, for any number.
  public var double: Double? {
    switch self {
    case .integer(let v): Double(v)
    case .number(let d): d
    case .unsigned(let u): Double(u)
    default: nil
    }
  }

  /// The string, for a string value.
  public var string: String? {
    if case .string(let s) = self { return s }
    return nil
  }

  /// The boolean, for `true` or `false`.
  public var bool: Bool? {
    if case .bool(let b) = self { return b }
    return nil
  }

  /// The elements, for an array.
  public var array: [JSONValue]? {
    if case .array(let a) = self { return a }
    return nil
  }

  /// The members, for an object.
  public var members: [JSONMember]? {
    if case .object(let m) = self { return m }
    return nil
  }

  /// Whether this is `null`.
  public var isNull: Bool { self == .null }

  /// The value written as compact JSON (no spaces), the way serde_json writes it.
  public var serialized: String {
    var out: [UInt8] = []
    JSONWriter.write(self, to: &out)
    return String(decoding: out, as: UTF8.self)
  }
}

/// One member of a JSON object.
public struct JSONMember: Sendable, Equatable {
  /// The member's name.
  public var key: String
  /// The member's value.
  public var value: JSONValue
  /// Creates a member.
  public init(key: String, value: JSONValue) {
    self.key = key
    self.value = value
  }
}

extension JSONValue {
  /// Parses `bytes` as one JSON document (surrounding whitespace allowed).
  ///
  /// - Parameters:
  ///   - path: the file named in errors.
  ///   - baseOffset: the absolute file offset of `bytes[0]`, so errors give file offsets.
  /// - Throws: ``FormatError`` at the offending byte for invalid UTF-8, bad syntax, nesting
  ///   deeper than 128 levels (serde_json's limit) or trailing characters.
  public static func parse(_ bytes: UnsafeRawBufferPointer, path: String, baseOffset: Int = 0) throws -> JSONValue {
    var parser = try JSONParser(bytes, path: path, baseOffset: baseOffset)
    let value = try parser.parseDocument()
    return value
  }
}

/// A strict JSON reader over raw bytes (RFC 8259, as serde_json reads it).
///
/// It works on raw pointers because safetensors headers and indexes of large checkpoints hold
/// tens of megabytes of JSON: the whole DeepSeek-V3 checkpoint has about 21 MB. Everything is
/// bounds-checked, recursion is limited, and errors carry the absolute file offset.
struct JSONParser {
  let base: UnsafePointer<UInt8>?
  let count: Int
  let path: String
  let baseOffset: Int
  /// Index of the next byte.
  var pos = 0
  /// The most containers that may enclose one another: serde_json's recursion limit of 128
  /// fails at the 128th level (checked against the crate: 127 levels load, 128 do not). Deeper
  /// input is an error, not a stack overflow. A value's `depth` is the number of containers
  /// around it, so a container is allowed when `depth < maxDepth`.
  static let maxDepth = 127

  /// Creates a parser; the whole input is checked to be UTF-8 first, as the Rust crate does
  /// with `std::str::from_utf8` before parsing.
  init(_ bytes: UnsafeRawBufferPointer, path: String, baseOffset: Int) throws {
    self.base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
    self.count = bytes.count
    self.path = path
    self.baseOffset = baseOffset
    if let bad = Self.firstInvalidUTF8(base, count) {
      throw FormatError(.malformed, path: path, "JSON is not valid UTF-8", at: location(baseOffset + bad))
    }
  }

  /// The index of the first byte that starts an invalid UTF-8 sequence, or `nil`.
  static func firstInvalidUTF8(_ p: UnsafePointer<UInt8>?, _ n: Int) -> Int? {
    guard let p else { return nil }
    var i = 0
    while i < n {
      let b = p[i]
      if b < 0x80 {
        i += 1
        continue
      }
      let length: Int
      var lo: UInt8 = 0x80
      var hi: UInt8 = 0xBF
      switch b {
      case 0xC2...0xDF: length = 2
      case 0xE0: length = 3; lo = 0xA0
      case 0xE1...0xEC, 0xEE...0xEF: length = 3
      case 0xED: length = 3; hi = 0x9F  // no surrogates
      case 0xF0: length = 4; lo = 0x90
      case 0xF1...0xF3: length = 4
      case 0xF4: length = 4; hi = 0x8F  // nothing past U+10FFFF
      default: return i
      }
      guard n - i >= length else { return i }
      let second = p[i + 1]
      guard second >= lo && second <= hi else { return i }
      var k = 2
      while k < length {
        guard p[i + k] & 0xC0 == 0x80 else { return i }
        k += 1
      }
      i += length
    }
    return nil
  }

  /// Where `offset` is: JSON inside a safetensors file (`baseOffset` past its length prefix) is a
  /// header record; a JSON file of its own has no header/data split.
  func location(_ offset: Int) -> FormatError.Location {
    baseOffset > 0 ? .header(offset) : .byte(offset)
  }

  /// An error at the current position.
  func error(_ message: String) -> FormatError {
    FormatError(.malformed, path: path, message, at: location(baseOffset + pos))
  }

  /// An error at a given position.
  func error(_ message: String, at position: Int, tensor: String? = nil) -> FormatError {
    FormatError(.malformed, path: path, message, tensor: tensor, at: location(baseOffset + position))
  }

  /// The byte at `pos`, or `nil` at the end.
  @inline(__always) var peek: UInt8? {
    guard pos < count, let base else { return nil }
    return base[pos]
  }

  /// Skips JSON whitespace (space, tab, CR, LF only).
  @inline(__always) mutating func skipWhitespace() {
    guard let base else { return }
    while pos < count {
      switch base[pos] {
      case 0x20, 0x09, 0x0A, 0x0D: pos += 1
      default: return
      }
    }
  }

  /// Parses one value and requires only whitespace after it.
  mutating func parseDocument() throws -> JSONValue {
    skipWhitespace()
    let value = try parseValue(depth: 0)
    try expectEnd()
    return value
  }

  /// Requires only whitespace up to the end.
  mutating func expectEnd() throws {
    skipWhitespace()
    if pos < count { throw error("trailing characters after JSON value") }
  }

  /// Consumes `byte` (after whitespace) or throws.
  mutating func expect(_ byte: UInt8, _ what: String) throws {
    skipWhitespace()
    guard peek == byte else {
      throw error(peek == nil ? "unexpected end of JSON, expected \(what)" : "expected \(what)")
    }
    pos += 1
  }

  /// Parses any value at the current position (whitespace already skipped).
  mutating func parseValue(depth: Int) throws -> JSONValue {
    guard let c = peek else { throw error("unexpected end of JSON, expected a value") }
    switch c {
    case UInt8(ascii: "{"):
      guard depth < Self.maxDepth else { throw error("JSON nested too deeply") }
      var members: [JSONMember] = []
      try parseObject { parser, key, _ in
        parser.skipWhitespace()
        members.append(JSONMember(key: key, value: try parser.parseValue(depth: depth + 1)))
      }
      return .object(members)
    case UInt8(ascii: "["):
      guard depth < Self.maxDepth else { throw error("JSON nested too deeply") }
      var elements: [JSONValue] = []
      try parseArray { parser in
        elements.append(try parser.parseValue(depth: depth + 1))
      }
      return .array(elements)
    case UInt8(ascii: "\""):
      return .string(try parseString())
    case UInt8(ascii: "t"):
      try parseLiteral("true")
      return .bool(true)
    case UInt8(ascii: "f"):
      try parseLiteral("false")
      return .bool(false)
    case UInt8(ascii: "n"):
      try parseLiteral("null")
      return .null
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      return try parseNumber()
    default:
      throw error("expected a JSON value")
    }
  }

  /// Parses an object, calling `member` with the parser positioned after each key's colon.
  /// `member` must consume exactly the member's value. The third argument is the key's offset.
  mutating func parseObject(_ member: (inout JSONParser, String, Int) throws -> Void) throws {
    try expect(UInt8(ascii: "{"), "'{'")
    skipWhitespace()
    if peek == UInt8(ascii: "}") {
      pos += 1
      return
    }
    while true {
      skipWhitespace()
      let keyOffset = pos
      guard peek == UInt8(ascii: "\"") else { throw error("expected a string key") }
      let key = try parseString()
      try expect(UInt8(ascii: ":"), "':'")
      skipWhitespace()
      try member(&self, key, keyOffset)
      skipWhitespace()
      switch peek {
      case UInt8(ascii: ","): pos += 1
      case UInt8(ascii: "}"):
        pos += 1
        return
      case nil: throw error("unexpected end of JSON inside an object")
      default: throw error("expected ',' or '}'")
      }
    }
  }

  /// Parses an array, calling `element` with the parser positioned at each element.
  mutating func parseArray(_ element: (inout JSONParser) throws -> Void) throws {
    try expect(UInt8(ascii: "["), "'['")
    skipWhitespace()
    if peek == UInt8(ascii: "]") {
      pos += 1
      return
    }
    while true {
      skipWhitespace()
      try element(&self)
      skipWhitespace()
      switch peek {
      case UInt8(ascii: ","): pos += 1
      case UInt8(ascii: "]"):
        pos += 1
        return
      case nil: throw error("unexpected end of JSON inside an array")
      default: throw error("expected ',' or ']'")
      }
    }
  }

  /// Consumes the ASCII literal `word`.
  mutating func parseLiteral(_ word: StaticString) throws {
    let n = word.utf8CodeUnitCount
    guard count - pos >= n, let base else { throw error("invalid literal") }
    let w = word.utf8Start
    for i in 0..<n where base[pos + i] != w[i] {
      throw error("invalid literal")
    }
    pos += n
  }

  /// Parses a string at `pos` (which holds the opening quote).
  mutating func parseString() throws -> String {
    guard let base, peek == UInt8(ascii: "\"") else { throw error("expected a string") }
    pos += 1
    let start = pos
    // Fast path: no escapes. The input is already known to be UTF-8.
    while pos < count {
      let b = base[pos]
      if b == UInt8(ascii: "\"") {
        let s = String(decoding: UnsafeBufferPointer(start: base + start, count: pos - start), as: UTF8.self)
        pos += 1
        return s
      }
      if b == UInt8(ascii: "\\") { break }
      if b < 0x20 { throw error("control character in string") }
      pos += 1
    }
    var out = Array(UnsafeBufferPointer(start: base + start, count: pos - start))
    while pos < count {
      let b = base[pos]
      if b == UInt8(ascii: "\"") {
        pos += 1
        return String(decoding: out, as: UTF8.self)
      }
      if b < 0x20 { throw error("control character in string") }
      if b != UInt8(ascii: "\\") {
        out.append(b)
        pos += 1
        continue
      }
      let escapeStart = pos
      pos += 1
      guard pos < count else { break }
      let e = base[pos]
      pos += 1
      switch e {
      case UInt8(ascii: "\""): out.append(0x22)
      case UInt8(ascii: "\\"): out.append(0x5C)
      case UInt8(ascii: "/"): out.append(0x2F)
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0C)
      case UInt8(ascii: "n"): out.append(0x0A)
      case UInt8(ascii: "r"): out.append(0x0D)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "u"):
        var scalar = try parseHex4()
        if scalar >= 0xD800 && scalar < 0xDC00 {
          // A high surrogate must be followed by an escaped low surrogate.
          guard count - pos >= 2, base[pos] == UInt8(ascii: "\\"), base[pos + 1] == UInt8(ascii: "u") else {
            throw error("lone leading surrogate in hex escape", at: escapeStart)
          }
          pos += 2
          let low = try parseHex4()
          guard low >= 0xDC00 && low < 0xE000 else {
            throw error("lone leading surrogate in hex escape", at: escapeStart)
          }
          scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if scalar >= 0xDC00 && scalar < 0xE000 {
          throw error("lone trailing surrogate in hex escape", at: escapeStart)
        }
        guard let u = Unicode.Scalar(scalar) else { throw error("invalid escape", at: escapeStart) }
        out.append(contentsOf: u.utf8)
      default:
        throw error("invalid escape", at: escapeStart)
      }
    }
    throw error("unexpected end of JSON inside a string")
  }

  /// Four hex digits of a `\u` escape.
  mutating func parseHex4() throws -> UInt32 {
    guard count - pos >= 4, let base else { throw error("invalid \\u escape") }
    var v: UInt32 = 0
    for i in 0..<4 {
      let c = base[pos + i]
      let d: UInt32
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
      default: throw error("invalid \\u escape", at: pos + i)
      }
      v = v << 4 | d
    }
    pos += 4
    return v
  }

  /// The pieces of a number literal.
  struct NumberToken {
    var negative: Bool
    /// The integer value when the literal has no fraction or exponent and fits in 64 bits.
    var magnitude: UInt64?
    var isInteger: Bool
    var start: Int
    var end: Int
  }

  /// Scans a number literal per the JSON grammar.
  mutating func scanNumber() throws -> NumberToken {
    guard let base else { throw error("expected a number") }
    let start = pos
    var negative = false
    if peek == UInt8(ascii: "-") {
      negative = true
      pos += 1
    }
    guard let first = peek, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else {
      throw error("invalid number")
    }
    var magnitude: UInt64? = 0
    if first == UInt8(ascii: "0") {
      pos += 1
    } else {
      while pos < count, base[pos] >= UInt8(ascii: "0"), base[pos] <= UInt8(ascii: "9") {
        let digit = UInt64(base[pos] - UInt8(ascii: "0"))
        if let m = magnitude {
          let (times10, o1) = m.multipliedReportingOverflow(by: 10)
          let (sum, o2) = times10.addingReportingOverflow(digit)
          magnitude = (o1 || o2) ? nil : sum
        }
        pos += 1
      }
    }
    var isInteger = true
    if peek == UInt8(ascii: ".") {
      isInteger = false
      pos += 1
      guard let d = peek, d >= UInt8(ascii: "0"), d <= UInt8(ascii: "9") else { throw error("invalid number") }
      while pos < count, base[pos] >= UInt8(ascii: "0"), base[pos] <= UInt8(ascii: "9") { pos += 1 }
    }
    if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
      isInteger = false
      pos += 1
      if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { pos += 1 }
      guard let d = peek, d >= UInt8(ascii: "0"), d <= UInt8(ascii: "9") else { throw error("invalid number") }
      while pos < count, base[pos] >= UInt8(ascii: "0"), base[pos] <= UInt8(ascii: "9") { pos += 1 }
    }
    return NumberToken(
      negative: negative, magnitude: isInteger ? magnitude : nil, isInteger: isInteger, start: start, end: pos)
  }

  /// Parses a number into an exact integer when possible, else a double.
  mutating func parseNumber() throws -> JSONValue {
    let token = try scanNumber()
    if let m = token.magnitude {
      if !token.negative, m <= UInt64(Int64.max) { return .integer(Int64(m)) }
      if token.negative, m <= UInt64(Int64.max) + 1 { return .integer(m == UInt64(Int64.max) + 1 ? .min : -Int64(m)) }
    }
    guard let base else { throw error("invalid number") }
    let text = String(
      decoding: UnsafeBufferPointer(start: base + token.start, count: token.end - token.start), as: UTF8.self)
    guard let d = Double(text), d.isFinite else { throw error("number out of range", at: token.start) }
    return .number(d)
  }

  /// Parses a non-negative integer that fits in `Int`, as serde reads a `usize` (which rejects
  /// negative values, fractions and exponents). `what` names the field in errors.
  mutating func parseSize(_ what: String, tensor: String?) throws -> Int {
    let start = pos
    guard let c = peek, c == UInt8(ascii: "-") || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) else {
      throw error("\(what) must be a non-negative integer", at: start, tensor: tensor)
    }
    let token = try scanNumber()
    // serde_json reads `-0` as the float -0.0, so any minus sign is rejected.
    guard token.isInteger, !token.negative else {
      throw error("\(what) must be a non-negative integer", at: start, tensor: tensor)
    }
    guard let m = token.magnitude, let v = Int(exactly: m) else {
      throw error("\(what) is too large", at: start, tensor: tensor)
    }
    return v
  }

  /// Skips any value, checking its syntax, without building it.
  mutating func skipValue(depth: Int) throws {
    guard let c = peek else { throw error("unexpected end of JSON, expected a value") }
    switch c {
    case UInt8(ascii: "{"):
      guard depth < Self.maxDepth else { throw error("JSON nested too deeply") }
      try parseObject { parser, _, _ in try parser.skipValue(depth: depth + 1) }
    case UInt8(ascii: "["):
      guard depth < Self.maxDepth else { throw error("JSON nested too deeply") }
      try parseArray { parser in try parser.skipValue(depth: depth + 1) }
    case UInt8(ascii: "\""): _ = try parseString()
    default: _ = try parseValue(depth: depth)  // numbers too: out-of-range ones are errors
    }
  }
}

/// Writes JSON the way serde_json's compact writer does.
enum JSONWriter {
  static func write(_ value: JSONValue, to out: inout [UInt8]) {
    switch value {
    case .null: out.append(contentsOf: "null".utf8)
    case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
    case .integer(let v): out.append(contentsOf: String(v).utf8)
    case .unsigned(let u): out.append(contentsOf: String(u).utf8)
    case .number(let d):
      if d.isFinite {
        out.append(contentsOf: (d == d.rounded() && abs(d) < 1e16 ? String(Int64(d)) + ".0" : String(d)).utf8)
      } else {
        out.append(contentsOf: "null".utf8)  // serde_json writes non-finite floats as null
      }
    case .string(let s): writeString(s, to: &out)
    case .array(let elements):
      out.append(UInt8(ascii: "["))
      for (i, e) in elements.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        write(e, to: &out)
      }
      out.append(UInt8(ascii: "]"))
    case .object(let members):
      out.append(UInt8(ascii: "{"))
      for (i, m) in members.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        writeString(m.key, to: &out)
        out.append(UInt8(ascii: ":"))
        write(m.value, to: &out)
      }
      out.append(UInt8(ascii: "}"))
    }
  }

  /// A quoted string: `"` and `\` escaped, control characters as short escapes or `\u00XX`.
  static func writeString(_ s: String, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    for b in s.utf8 {
      switch b {
      case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
      case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
      case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
      case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
      case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
      case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
      case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
      case 0..<0x20:
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        out.append(contentsOf: [
          0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(b >> 4)], hex[Int(b & 15)],
        ])
      default: out.append(b)
      }
    }
    out.append(UInt8(ascii: "\""))
  }
}

extension String {
  /// Whether `self` sorts before `other` by UTF-8 bytes, as Rust compares strings (Swift's
  /// `<` compares canonical equivalents as equal, which the reference writer does not).
  func utf8Precedes(_ other: String) -> Bool {
    var a = self
    var b = other
    return a.withUTF8 { pa in
      b.withUTF8 { pb in
        let n = Swift.min(pa.count, pb.count)
        var i = 0
        while i < n {
          if pa[i] != pb[i] { return pa[i] < pb[i] }
          i += 1
        }
        return pa.count < pb.count
      }
    }
  }
}
