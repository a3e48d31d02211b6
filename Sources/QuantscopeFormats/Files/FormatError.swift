/// An error found while reading or writing a weight file, or in what a user asked for: what kind of
/// problem, in which file, which tensor, and where in the file.
///
/// Its description is the one line the CLI prints after `quantscope: error: `:
/// `FILE: what (tensor NAME, header record at byte N)`. Callers that need to react to an error
/// (tests, the CLI's exit status) look at ``kind`` and the fields, never at the wording.
public struct FormatError: Error, CustomStringConvertible, Sendable, Equatable {
  /// What sort of problem this is; the CLI maps ``Kind/usage`` to exit status 64 and every other
  /// kind to 1.
  public enum Kind: String, Sendable, CaseIterable, Codable {
    /// A file, directory, tensor or shard that should exist does not.
    case notFound = "not_found"
    /// An output exists and overwriting was not allowed.
    case alreadyExists = "already_exists"
    /// The file is not of the format it was opened as (wrong magic, not a manifest, not an imatrix).
    case badMagic = "bad_magic"
    /// The file ends before something it declares (a header field, a string, a tensor's data).
    case truncated
    /// A declared offset, size or count lies outside what the format or the file allows.
    case outOfBounds = "out_of_bounds"
    /// The bytes are the right format but say something invalid (bad value, duplicate, bad JSON).
    case malformed
    /// Two things that must agree do not: shapes, shards, a read-back, a reference and a candidate.
    case mismatch
    /// Well-formed, but of a version, type or layout this tool does not handle.
    case unsupported
    /// What the user asked for is wrong: a bad option value, pattern, name or combination.
    case usage
    /// The operating system refused an operation (open, write, rename, fsync…).
    case io
    /// An API was used out of order, such as writing after finishing; a bug in the caller.
    case invalidState = "invalid_state"
  }

  /// What an offset points at, so that a message never says a bare "offset".
  public enum Location: Sendable, Equatable, CustomStringConvertible {
    /// A byte of a header record: a GGUF key/value or tensor info, a safetensors or JSON header,
    /// an imatrix entry.
    case header(Int)
    /// A byte of tensor data.
    case data(Int)
    /// A byte of a file that has no header/data split, such as a compressed stream being read or
    /// written.
    case byte(Int)

    /// The absolute byte offset in the file.
    public var byte: Int {
      switch self {
      case .header(let n), .data(let n), .byte(let n): n
      }
    }

    /// `header record at byte N`, `data at byte N` or `byte N`.
    public var description: String {
      switch self {
      case .header(let n): "header record at byte \(n)"
      case .data(let n): "data at byte \(n)"
      case .byte(let n): "byte \(n)"
      }
    }
  }

  /// What sort of problem this is.
  public var kind: Kind
  /// The file the problem is in; empty when the problem is not in a file (a usage mistake, a
  /// mapping between tensor names).
  public var path: String
  /// What is wrong, in a few words.
  public var message: String
  /// The tensor the problem concerns, when there is one.
  public var tensor: String?
  /// Where in `path` the problem was found, when known.
  public var location: Location?

  /// Creates an error of `kind` naming a file, a problem and optionally a tensor and a location.
  public init(_ kind: Kind, path: String, _ message: String, tensor: String? = nil, at location: Location? = nil) {
    self.kind = kind
    self.path = path
    self.message = message
    self.tensor = tensor
    self.location = location
  }

  /// Creates a usage error: something the user asked for is wrong, independent of any file.
  public static func usage(_ message: String) -> FormatError {
    FormatError(.usage, path: "", message)
  }

  /// The absolute byte offset of ``location``, when known.
  public var offset: Int? { location?.byte }

  public var description: String {
    var where_: [String] = []
    if let tensor { where_.append("tensor \(tensor)") }
    if let location { where_.append(location.description) }
    let suffix = where_.isEmpty ? "" : " (\(where_.joined(separator: ", ")))"
    return path.isEmpty ? "\(message)\(suffix)" : "\(path): \(message)\(suffix)"
  }
}
