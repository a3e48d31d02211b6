import Foundation
import QuantscopeFormats

/// An `audit` run as a sharded job records it: what every shard must share for its part to merge,
/// and what `merge` needs to print the single run's output.
public struct AuditShardJob: Sendable, Equatable {
  /// The candidate as the user gave it.
  public var candidate: String
  /// The reference paths as the user gave them.
  public var reference: [String]
  /// The source precision asked for.
  public var precision: Audit.PrecisionChoice = .auto
  /// The `--tensors` pattern, if any.
  public var tensorFilter: String? = nil
  /// The importance matrix path, if any.
  public var imatrix: String? = nil
  /// The number of tensor rows shown, if limited.
  public var top: Int? = nil

  /// A job auditing `candidate` against `reference`.
  public init(candidate: String, reference: [String]) {
    self.candidate = candidate
    self.reference = reference
  }

  /// The job as the parts record it: the inputs' identity (as ``DiffShardJob`` records them) and
  /// the options above, plus the chunk size the NMSE sums depend on.
  public func jobValue(
    candidate model: GGUFModel, reference ref: any TensorCollection, options: Audit.Options
  ) throws -> JSONValue {
    var inputs: [(String, JSONValue)] = [
      ("candidate", PartialResult.identity(of: model, as: [candidate])),
      ("reference", PartialResult.identity(of: ref, as: reference)),
    ]
    if let imatrix { inputs.append(("imatrix", try DiffShardJob.imatrixIdentity(imatrix))) }
    return .members([
      ("inputs", .members(inputs)),
      (
        "options",
        .members([
          ("reference_precision", .string(precision.rawValue)), ("tensors", .optional(tensorFilter)),
          ("top", top.map { .int($0) } ?? .null), ("chunk_values", .int(options.chunkValues)),
        ])
      ),
    ])
  }

  /// The job recorded in a part.
  ///
  /// - Throws: ``FormatError`` naming `path` when a field is missing or invalid.
  public init(job: JSONValue, path: String) throws {
    func bad(_ what: String) -> FormatError { FormatError(.malformed, path: path, "audit job: bad or missing \(what)") }
    let options = job["options"], inputs = job["inputs"]
    guard let candidate = inputs?["candidate"]?["given"]?.array?.first?.string else { throw bad("candidate") }
    guard let reference = inputs?["reference"]?["given"]?.array?.compactMap(\.string) else { throw bad("reference") }
    self.init(candidate: candidate, reference: reference)
    guard let p = options?["reference_precision"]?.string.flatMap(Audit.PrecisionChoice.init(rawValue:)) else {
      throw bad("reference_precision")
    }
    precision = p
    tensorFilter = options?["tensors"]?.string
    imatrix = inputs?["imatrix"]?["path"]?.string
    top = options?["top"]?.int
  }
}

extension Audit {
  /// The positions in `candidate.tensors` shard `shard` audits: of the tensors `indices` selects
  /// (`nil`: all), its share balanced by ``Diff/shardWeight(_:)`` — the bytes a tensor's audit reads.
  public static func shardIndices(_ indices: [Int]?, of candidate: GGUFModel, shard: ShardSpec) -> [Int] {
    let chosen = indices ?? Array(candidate.tensors.indices)
    return shard.select(chosen) { Diff.shardWeight(candidate.tensors[$0]) }
  }

  /// A shard's mergeable result: every audited tensor, each value written to read back exactly.
  public static func partialPayload(_ tensors: [TensorAudit]) -> JSONValue {
    .members([("tensors", .array(tensors.map(\.partialJSON)))])
  }

  /// The tensors of every part's payload (in any order), for
  /// ``AuditReport/init(candidate:tensors:precision:weighted:presetMatch:)``, which puts them in
  /// candidate order.
  ///
  /// - Throws: ``FormatError`` naming `path` for a malformed payload or a tensor in two parts.
  public static func merged(_ payloads: [JSONValue], path: String) throws -> [TensorAudit] {
    var tensors: [TensorAudit] = []
    for payload in payloads {
      guard let list = payload["tensors"]?.array else {
        throw FormatError(.malformed, path: path, "audit part: no tensors")
      }
      for t in list {
        guard let audit = TensorAudit(partialJSON: t) else {
          throw FormatError(.malformed, path: path, "audit part: malformed tensor entry")
        }
        tensors.append(audit)
      }
    }
    if Set(tensors.map(\.index)).count != tensors.count {
      throw FormatError(.malformed, path: path, "audit part: a tensor is in two parts")
    }
    return tensors
  }
}

extension TensorAudit {
  /// Every field, the NMSE written by ``JSONValue/exact(_:)`` so that it reads back bit for bit.
  public var partialJSON: JSONValue {
    .members([
      ("index", .int(index)), ("name", .string(name)), ("type", .string(type)),
      ("shape", .array(shape.map { .int($0) })), ("bytes", .int(bytes)), ("status", .string(status.rawValue)),
      ("reference", .optional(referenceOrigin)), ("precision", .optional(precision?.rawValue)),
      ("blocks", .int(blocks)), ("differing_blocks", .int(differingBlocks)),
      (
        "first_difference",
        firstDifference.map { .array([.int($0.row), .int($0.column), .int($0.block)]) } ?? .null
      ),
      ("nmse_vs_reproduction", nmseVsReproduction.map { .exact($0) } ?? .null), ("note", .optional(note)),
    ])
  }

  /// The value written by ``partialJSON``; `nil` when a field is missing or invalid.
  public init?(partialJSON v: JSONValue) {
    guard let index = v["index"]?.int, let name = v["name"]?.string, let type = v["type"]?.string,
      let shape = v["shape"]?.array?.compactMap(\.int), let bytes = v["bytes"]?.int,
      let status = v["status"]?.string.flatMap(Status.init(rawValue:)), let blocks = v["blocks"]?.int,
      let differing = v["differing_blocks"]?.int
    else { return nil }
    func optional<T>(_ key: String, _ read: (JSONValue) -> T?) -> T?? {
      guard let value = v[key] else { return .none }
      if value == .null { return .some(nil) }
      return read(value).map { .some($0) } ?? .none
    }
    guard let origin = optional("reference", \.string), let note = optional("note", \.string),
      let precision = optional("precision", { $0.string.flatMap(ReferencePrecision.init(rawValue:)) }),
      let nmse = optional("nmse_vs_reproduction", \.exactDouble),
      let first = optional(
        "first_difference",
        { (d: JSONValue) -> Difference? in
          guard let a = d.array?.compactMap(\.int), a.count == 3 else { return nil }
          return Difference(row: a[0], column: a[1], block: a[2])
        })
    else { return nil }
    self.init(
      index: index, name: name, type: type, shape: shape, bytes: bytes, status: status, referenceOrigin: origin,
      precision: precision, blocks: blocks, differingBlocks: differing, firstDifference: first,
      nmseVsReproduction: nmse, note: note)
  }
}
