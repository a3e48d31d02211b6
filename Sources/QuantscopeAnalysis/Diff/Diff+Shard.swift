import Foundation
import QuantscopeFormats

/// A `diff` run as a sharded job records it: what every shard must share for its part to merge,
/// and what `merge` needs to render the single run's output.
public struct DiffShardJob: Sendable, Equatable {
  /// The candidate as the user gave it.
  public var candidate: String
  /// The reference paths as the user gave them.
  public var reference: [String]
  /// How FP8 × scale references are evaluated.
  public var precision: ReferencePrecision = .exact
  /// The `--tensors` pattern, if any.
  public var tensorFilter: String? = nil
  /// The importance matrix path, if any.
  public var imatrix: String? = nil
  /// The tensor table's order.
  public var order: DiffReport.Order = .nmse
  /// The number of tensor rows shown, if limited.
  public var top: Int? = nil
  /// The `--fail-above` limits as given (`nmse_db=-20`), applied at merge.
  public var thresholds: [String] = []

  /// A job comparing `candidate` with `reference`.
  public init(candidate: String, reference: [String]) {
    self.candidate = candidate
    self.reference = reference
  }

  /// The job as the parts record it: the inputs' identity (``PartialResult/identity(of:as:)``,
  /// the imatrix's size and hash) and the options above, plus the chunk size the sums depend on.
  public func jobValue(
    candidate model: GGUFModel, reference ref: any TensorCollection, options: Diff.Options
  ) throws -> JSONValue {
    var inputs: [(String, JSONValue)] = [
      ("candidate", PartialResult.identity(of: model, as: [candidate])),
      ("reference", PartialResult.identity(of: ref, as: reference)),
    ]
    if let imatrix { inputs.append(("imatrix", try Self.imatrixIdentity(imatrix))) }
    return .members([
      ("inputs", .members(inputs)),
      (
        "options",
        .members([
          ("reference_precision", .string(precision.rawValue)), ("tensors", .optional(tensorFilter)),
          ("sort", .string(order.rawValue)), ("top", top.map { .int($0) } ?? .null),
          ("fail_above", .array(thresholds.map { .string($0) })), ("chunk_values", .int(options.chunkValues)),
        ])
      ),
    ])
  }

  /// An importance matrix as a job records it: its path, size and XXH3-128 (every byte weighs in
  /// the result, so a part made with another imatrix does not merge).
  public static func imatrixIdentity(_ path: String) throws -> JSONValue {
    let file = try MappedFile(path: path)
    return .members([
      ("path", .string(path)), ("size", .int(file.size)), ("xxh3_128", .string(XXH3.hash128(file.allBytes).hex)),
    ])
  }

  /// The job recorded in a part.
  ///
  /// - Throws: ``FormatError`` naming `path` when a field is missing or invalid.
  public init(job: JSONValue, path: String) throws {
    func bad(_ what: String) -> FormatError { FormatError(.malformed, path: path, "diff job: bad or missing \(what)") }
    let options = job["options"], inputs = job["inputs"]
    guard let candidate = inputs?["candidate"]?["given"]?.array?.first?.string else { throw bad("candidate") }
    guard let reference = inputs?["reference"]?["given"]?.array?.compactMap(\.string) else { throw bad("reference") }
    self.init(candidate: candidate, reference: reference)
    guard let p = options?["reference_precision"]?.string.flatMap(ReferencePrecision.init(rawValue:)) else {
      throw bad("reference_precision")
    }
    precision = p
    tensorFilter = options?["tensors"]?.string
    imatrix = inputs?["imatrix"]?["path"]?.string
    guard let o = options?["sort"]?.string.flatMap(DiffReport.Order.init(rawValue:)) else { throw bad("sort") }
    order = o
    top = options?["top"]?.int
    guard let limits = options?["fail_above"]?.array?.compactMap(\.string) else { throw bad("fail_above") }
    thresholds = limits
  }

  /// The parsed thresholds.
  public func parsedThresholds() throws -> [DiffGate.Threshold] {
    try thresholds.map { text in
      do { return try DiffGate.Threshold(parsing: text) } catch {
        throw FormatError(.usage, path: "", "--fail-above \(error)")
      }
    }
  }
}

extension Diff {
  /// The work a shard is given: a candidate tensor's bytes plus one per weight (an FP8
  /// reference's bytes), what it reads.
  public static func shardWeight(_ tensor: TensorInfo) -> Int { tensor.byteCount + tensor.elementCount }

  /// This comparison's mergeable result: every tensor's identity and sums (bit for bit), with its
  /// position among `candidate`'s tensors, so that ``merged(_:path:)`` restores candidate order.
  public func partialPayload(candidate: GGUFModel) -> JSONValue {
    var position: [String: Int] = [:]
    for (i, t) in candidate.tensors.enumerated() where position[t.name] == nil { position[t.name] = i }
    let rows: [JSONValue] = tensors.map { t in
      .members([
        ("position", .int(position[t.name] ?? -1)), ("name", .string(t.name)),
        ("layer", t.layer.map { .int($0) } ?? .null), ("kind", .string(t.kind)), ("type", .string(t.type)),
        ("bpw", .exact(t.bitsPerWeight)), ("shape", .array(t.shape.map { .int($0) })),
        ("reference", .string(t.referenceOrigin)), ("sums", t.sums.exactJSON),
      ])
    }
    return .members([
      ("tensors", .array(rows)),
      (
        "missing_reference",
        .array(missingReference.map { .members([("position", .int(position[$0] ?? -1)), ("name", .string($0))]) })
      ),
      ("unmapped_reference", .array(unmappedReference.map { .string($0) })),
      ("skipped_reference", .array(skippedReference.map { .string($0) })),
      ("architecture", .optional(architecture)), ("reference_precision", .string(precision.rawValue)),
      ("weighted", .bool(weighted)),
    ])
  }

  /// The comparison of the whole job from its parts' payloads (in any order): tensors and missing
  /// references in candidate order, so every roll-up sums the same values in the same order as
  /// the single run and every figure is bit-identical.
  ///
  /// - Throws: ``FormatError`` naming `path` for a malformed payload or parts that disagree.
  public static func merged(_ payloads: [JSONValue], path: String) throws -> Diff {
    func bad(_ what: String) -> FormatError { FormatError(.malformed, path: path, "diff part: \(what)") }
    var rows: [(Int, TensorResult)] = []
    var missing: [(Int, String)] = []
    guard let first = payloads.first else { throw bad("no parts") }
    for payload in payloads {
      for key in ["unmapped_reference", "skipped_reference", "architecture", "reference_precision", "weighted"]
      where payload[key] != first[key] {
        throw bad("the parts disagree on \(key)")
      }
      guard let tensors = payload["tensors"]?.array, let missed = payload["missing_reference"]?.array else {
        throw bad("no tensors")
      }
      for t in tensors {
        guard let position = t["position"]?.int, let name = t["name"]?.string, let kind = t["kind"]?.string,
          let type = t["type"]?.string, let bpw = t["bpw"]?.exactDouble,
          let shape = t["shape"]?.array?.compactMap(\.int), let origin = t["reference"]?.string,
          let sums = t["sums"].flatMap(ErrorAccumulator.init(exactJSON:))
        else { throw bad("malformed tensor entry") }
        rows.append(
          (
            position,
            TensorResult(
              name: name, layer: t["layer"]?.int, kind: kind, type: type, bitsPerWeight: bpw, shape: shape,
              referenceOrigin: origin, sums: sums)
          ))
      }
      for m in missed {
        guard let position = m["position"]?.int, let name = m["name"]?.string else { throw bad("malformed missing") }
        missing.append((position, name))
      }
    }
    let positions = rows.map(\.0) + missing.map(\.0)
    if Set(positions).count != positions.count { throw bad("a tensor is in two parts") }
    guard let precision = first["reference_precision"]?.string.flatMap(ReferencePrecision.init(rawValue:)),
      let weighted = first["weighted"]?.bool
    else { throw bad("no reference_precision") }
    return Diff(
      tensors: rows.sorted { $0.0 < $1.0 }.map(\.1), missingReference: missing.sorted { $0.0 < $1.0 }.map(\.1),
      unmappedReference: first["unmapped_reference"]?.array?.compactMap(\.string) ?? [],
      skippedReference: first["skipped_reference"]?.array?.compactMap(\.string) ?? [],
      architecture: first["architecture"]?.string, precision: precision, weighted: weighted)
  }
}

extension ErrorAccumulator {
  /// Every sum, each `Double` written so that it reads back bit for bit (``JSONValue/exact(_:)``).
  public var exactJSON: JSONValue {
    .members([
      ("count", .int(count)), ("sum_squared_error", .exact(sumSquaredError)),
      ("sum_absolute_error", .exact(sumAbsoluteError)), ("sum_squared_reference", .exact(sumSquaredReference)),
      ("sum_squared_candidate", .exact(sumSquaredCandidate)), ("sum_product", .exact(sumProduct)),
      ("max_absolute_error", .exact(maxAbsoluteError)), ("max_error_index", .int(maxErrorIndex)),
      ("weighted_squared_error", .exact(weightedSquaredError)),
      ("weighted_squared_reference", .exact(weightedSquaredReference)), ("sum_weights", .exact(sumWeights)),
      ("non_finite", .int(nonFinite)), ("non_finite_reference", .int(nonFiniteReference)),
      ("non_finite_candidate", .int(nonFiniteCandidate)), ("first_non_finite_index", .int(firstNonFiniteIndex)),
    ])
  }

  /// The sums written by ``exactJSON``; `nil` when one is missing.
  public init?(exactJSON v: JSONValue) {
    self.init()
    guard let count = v["count"]?.int, let sse = v["sum_squared_error"]?.exactDouble,
      let sae = v["sum_absolute_error"]?.exactDouble, let srr = v["sum_squared_reference"]?.exactDouble,
      let scc = v["sum_squared_candidate"]?.exactDouble, let scr = v["sum_product"]?.exactDouble,
      let maxErr = v["max_absolute_error"]?.exactDouble, let maxAt = v["max_error_index"]?.int,
      let wse = v["weighted_squared_error"]?.exactDouble, let wrr = v["weighted_squared_reference"]?.exactDouble,
      let sw = v["sum_weights"]?.exactDouble, let bad = v["non_finite"]?.int,
      let badRef = v["non_finite_reference"]?.int, let badCand = v["non_finite_candidate"]?.int,
      let firstBad = v["first_non_finite_index"]?.int
    else { return nil }
    self.count = count
    sumSquaredError = sse
    sumAbsoluteError = sae
    sumSquaredReference = srr
    sumSquaredCandidate = scc
    sumProduct = scr
    maxAbsoluteError = maxErr
    maxErrorIndex = maxAt
    weightedSquaredError = wse
    weightedSquaredReference = wrr
    sumWeights = sw
    nonFinite = bad
    nonFiniteReference = badRef
    nonFiniteCandidate = badCand
    firstNonFiniteIndex = firstBad
  }
}
