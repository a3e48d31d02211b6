/// An error found while reading a weight file: what went wrong, in which file, and where.
///
/// Its description is the one line the CLI prints after `quantscope: error: `:
/// `FILE: what (tensor NAME, offset N)`.
public struct FormatError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The file the problem is in.
  public var path: String
  /// What is wrong, in a few words.
  public var message: String
  /// The tensor the problem concerns, when there is one.
  public var tensor: String?
  /// The absolute byte offset in `path` where the problem was found, when known.
  public var offset: Int?

  /// Creates an error naming a file, a problem and optionally a tensor and a byte offset.
  public init(path: String, _ message: String, tensor: String? = nil, offset: Int? = nil) {
    self.path = path
    self.message = message
    self.tensor = tensor
    self.offset = offset
  }

  public var description: String {
    var where_: [String] = []
    if let tensor { where_.append("tensor \(tensor)") }
    if let offset { where_.append("offset \(offset)") }
    let suffix = where_.isEmpty ? "" : " (\(where_.joined(separator: ", ")))"
    return "\(path): \(message)\(suffix)"
  }
}
