/// quantscope's release, as it appears in `--version` and in every JSON document.
public enum QuantscopeVersion {
  /// The version number of this release (semantic versioning).
  public static let number = "0.1.0"
}

extension JSONValue {
  /// A result document as every `--json` output is shaped: an object whose first members are
  /// `schema` (the document's name and major version, e.g. `quantscope.diff/2`) and
  /// `quantscope_version`, followed by `members`.
  ///
  /// Scripts key on `schema`: a field removed or renamed is a new major version of the schema;
  /// fields are only ever added within one.
  public static func document(schema: String, _ members: [(String, JSONValue)]) -> JSONValue {
    .object(
      [
        JSONMember(key: "schema", value: .string(schema)),
        JSONMember(key: "quantscope_version", value: .string(QuantscopeVersion.number)),
      ]
        + members.map { JSONMember(key: $0.0, value: $0.1) })
  }

  /// An object from `(key, value)` pairs, in that order.
  public static func members(_ members: [(String, JSONValue)]) -> JSONValue {
    .object(members.map { JSONMember(key: $0.0, value: $0.1) })
  }

  /// A number, or `null` when it is not finite (JSON has no NaN or infinity; one rule for every
  /// document: a non-finite figure is `null`, and the document says elsewhere why).
  public static func finite(_ value: Double?) -> JSONValue {
    guard let value, value.isFinite else { return .null }
    return .number(value)
  }

  /// An integer.
  public static func int(_ value: Int) -> JSONValue { .integer(Int64(value)) }

  /// An optional string: the string, or `null`.
  public static func optional(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }

  /// The value written for people and scripts alike: two-space indentation, one member or
  /// element per line, members in the order given, a final newline.
  public var prettySerialized: String {
    var out: [UInt8] = []
    JSONWriter.writePretty(self, indent: 0, to: &out)
    out.append(0x0A)
    return String(decoding: out, as: UTF8.self)
  }
}

extension JSONWriter {
  static func writePretty(_ value: JSONValue, indent: Int, to out: inout [UInt8]) {
    func newline(_ level: Int) {
      out.append(0x0A)
      out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * level))
    }
    switch value {
    case .array(let elements) where !elements.isEmpty:
      out.append(UInt8(ascii: "["))
      for (i, e) in elements.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        newline(indent + 1)
        writePretty(e, indent: indent + 1, to: &out)
      }
      newline(indent)
      out.append(UInt8(ascii: "]"))
    case .object(let members) where !members.isEmpty:
      out.append(UInt8(ascii: "{"))
      for (i, m) in members.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        newline(indent + 1)
        writeString(m.key, to: &out)
        out.append(contentsOf: ": ".utf8)
        writePretty(m.value, indent: indent + 1, to: &out)
      }
      newline(indent)
      out.append(UInt8(ascii: "}"))
    default:
      write(value, to: &out)
    }
  }
}

/// A result document whose one large array is written element by element, so a document about
/// millions of tensors never has to be held in memory. The text is the same shape as
/// ``JSONValue/prettySerialized`` gives, except that each element takes one compact line.
public struct JSONDocumentStream {
  private let write: (String) -> Void
  private var elements = 0

  /// Starts the document: `schema`, `quantscope_version`, `members`, then the array `arrayKey`.
  public init(
    schema: String, _ members: [(String, JSONValue)] = [], arrayKey: String, write: @escaping (String) -> Void
  ) {
    self.write = write
    var head = JSONValue.document(schema: schema, members + [(arrayKey, .array([]))]).prettySerialized
    // The pretty writer ends an empty array as `[]\n}\n`: open it instead.
    head.removeLast("[]\n}\n".count)
    write(head + "[")
  }

  /// Writes the next element of the array.
  public mutating func append(_ element: JSONValue) {
    write((elements == 0 ? "\n    " : ",\n    ") + element.serialized)
    elements += 1
  }

  /// Closes the array and the document.
  public func finish() {
    write(elements == 0 ? "]\n}\n" : "\n  ]\n}\n")
  }
}
