import Foundation
import QuantscopeFormats

/// A `tune` run as a sharded job records it: every input and option the measured table, the
/// solution and the outputs depend on, so that the parts of one job merge into exactly the single
/// run's output and a part of any other job is refused.
public struct TuneShardJob: Sendable, Equatable {
  /// The source as the user gave it (the layout to tune).
  public var source: [String]
  /// The reference paths as the user gave them (empty: the source holds the values).
  public var reference: [String] = []
  /// `--target-size` as given.
  public var targetSize: String? = nil
  /// `--target-bpw`.
  public var targetBPW: Double? = nil
  /// Candidate types, before the row-length fallback.
  public var types: [GGMLType] = TuneMeasurement.defaultTypes
  /// The importance matrix path, if any.
  public var imatrix: String? = nil
  /// `--sample` as given (a fraction of 1 measures every row, as without it).
  public var sample: Double? = nil
  /// The calibration file, if any.
  public var calibration: String? = nil
  /// `--base`: a recipe file or a preset name.
  public var base: String? = nil
  /// The row-length fallback table.
  public var fallback: RowFallback = .current
  /// How FP8 × scale references are evaluated.
  public var precision: ReferencePrecision = .exact
  /// `--kv-b`, if given.
  public var kvB: ArchitectureMap.KVBLayout? = nil
  /// `--arch`, if given.
  public var architecture: String? = nil
  /// Whether the Pareto frontier is printed.
  public var pareto = false
  /// Budgets on the frontier.
  public var paretoPoints = 24

  /// A job tuning `source`.
  public init(source: [String]) { self.source = source }

  /// The measurement options the job implies (threads, progress and the shard's share aside).
  public var measurementOptions: TuneMeasurement.Options {
    var options = TuneMeasurement.Options()
    options.types = types
    options.fallback = fallback
    options.precision = precision
    options.sample = sample.flatMap { $0 < 1 ? $0 : nil }
    return options
  }

  /// The job as the parts record it: the identity of every input (the source and reference as
  /// ``PartialResult/identity(of:as:)`` records them, a config-only source by its `config.json`;
  /// the imatrix, the calibration and a `--base` recipe file by their size and XXH3-128) and every
  /// option above, plus the chunk size the sums depend on.
  ///
  /// - Throws: ``FormatError`` when an input cannot be read.
  public func jobValue(kind: PlanSource.Kind, options: TuneMeasurement.Options) throws -> JSONValue {
    var inputs: [(String, JSONValue)] = [("source", try sourceIdentity(kind: kind))]
    if !reference.isEmpty {
      inputs.append(("reference", PartialResult.identity(of: try WeightFiles.open(reference), as: reference)))
    }
    if let imatrix { inputs.append(("imatrix", try DiffShardJob.imatrixIdentity(imatrix))) }
    if let calibration { inputs.append(("calibration", try DiffShardJob.imatrixIdentity(calibration))) }
    if let base {
      var isDirectory: ObjCBool = false
      // A preset is identified by its name and the quantscope version the parts share.
      let isFile = FileManager.default.fileExists(atPath: base, isDirectory: &isDirectory) && !isDirectory.boolValue
      inputs.append(("base", isFile ? try DiffShardJob.imatrixIdentity(base) : .members([("preset", .string(base))])))
    }
    return .members([
      ("inputs", .members(inputs)),
      (
        "options",
        .members([
          ("target_size", .optional(targetSize)), ("target_bpw", targetBPW.map { .exact($0) } ?? .null),
          ("types", .array(types.map { .string($0.name.lowercased()) })),
          ("sample", sample.map { .exact($0) } ?? .null),
          ("fallback", .string(fallback.rawValue)), ("reference_precision", .string(precision.rawValue)),
          ("kv_b", .optional(kvB?.rawValue)), ("arch", .optional(architecture)), ("pareto", .bool(pareto)),
          ("pareto_points", .int(paretoPoints)), ("chunk_values", .int(options.chunkValues)),
        ])
      ),
    ])
  }

  /// The source's identity: its files' (as a GGUF or checkpoint), or its `config.json`'s for a
  /// directory that holds only that.
  func sourceIdentity(kind: PlanSource.Kind) throws -> JSONValue {
    guard kind == .configOnly else { return PartialResult.identity(of: try WeightFiles.open(source), as: source) }
    return .members([
      ("given", .array(source.map { .string($0) })),
      ("config", try DiffShardJob.imatrixIdentity(source[0] + "/config.json")),
    ])
  }

  /// The job recorded in a part.
  ///
  /// - Throws: ``FormatError`` naming `path` when a field is missing or invalid.
  public init(job: JSONValue, path: String) throws {
    func bad(_ what: String) -> FormatError { FormatError(.malformed, path: path, "tune job: bad or missing \(what)") }
    let options = job["options"], inputs = job["inputs"]
    guard let source = inputs?["source"]?["given"]?.array?.compactMap(\.string), !source.isEmpty else {
      throw bad("source")
    }
    self.init(source: source)
    reference = inputs?["reference"]?["given"]?.array?.compactMap(\.string) ?? []
    imatrix = inputs?["imatrix"]?["path"]?.string
    calibration = inputs?["calibration"]?["path"]?.string
    base = inputs?["base"]?["path"]?.string ?? inputs?["base"]?["preset"]?.string
    targetSize = options?["target_size"]?.string
    targetBPW = options?["target_bpw"]?.exactDouble
    guard targetSize != nil || targetBPW != nil else { throw bad("budget") }
    guard let names = options?["types"]?.array?.compactMap(\.string) else { throw bad("types") }
    types = try names.map { name in
      guard let t = GGMLType(name: name) else { throw bad("type \(name)") }
      return t
    }
    sample = options?["sample"]?.exactDouble
    guard let f = options?["fallback"]?.string.flatMap(RowFallback.init(rawValue:)) else { throw bad("fallback") }
    fallback = f
    guard let p = options?["reference_precision"]?.string.flatMap(ReferencePrecision.init(rawValue:)) else {
      throw bad("reference_precision")
    }
    precision = p
    if let layout = options?["kv_b"]?.string {
      guard let k = ArchitectureMap.KVBLayout(rawValue: layout) else { throw bad("kv_b") }
      kvB = k
    }
    architecture = options?["arch"]?.string
    guard let pareto = options?["pareto"]?.bool, let points = options?["pareto_points"]?.int else {
      throw bad("pareto")
    }
    self.pareto = pareto
    paretoPoints = points
  }
}

extension TuneMeasurement {
  /// The work a tensor gives a shard: its values times its candidate types (after the row-length
  /// fallback), what its measurement quantizes and decodes.
  public static func shardWeight(_ input: PlanInput, options: Options) -> Int {
    let rowLength = input.ne.first ?? 1
    let types = Set(options.types.map { options.fallback.resolve($0, rowLength: rowLength) })
    return input.ne.reduce(1, *) * types.count
  }

  /// The tuned tensors (those not in `fixed`) shard `shard` measures, in model order: its share
  /// balanced by ``shardWeight(_:options:)``.
  public static func shardTensors(
    model: PlanModel, fixed: [String: (type: GGMLType, reason: String)], options: Options, shard: ShardSpec
  ) -> Set<String> {
    let tuned = model.tensors.filter { fixed[$0.name] == nil }
    return Set(shard.select(tuned) { shardWeight($0, options: options) }.map(\.name))
  }

  /// A shard's mergeable result: for every tensor it measured (those of `only`) and each candidate
  /// type, the bytes, the error sum and, when sampled, the sums of the estimate's variance and its
  /// degrees of freedom (``TuneSampling/Estimate``), each `Double` exact, so that the merge takes
  /// the square root and the t factor of exactly the single run's sums.
  public static func partialPayload(_ table: TuneTable, only: Set<String>) -> JSONValue {
    let rows: [JSONValue] = table.items.filter { $0.fixedBy == nil && only.contains($0.name) }.map { item in
      .members([
        ("name", .string(item.name)),
        (
          "options",
          .array(
            item.options.map {
              .members([
                ("type", .string($0.type.name.lowercased())), ("bytes", .int($0.bytes)), ("error", .exact($0.error)),
                ("variance", .exact($0.sample?.variance ?? 0)),
                ("degrees_of_freedom", .int($0.sample?.degreesOfFreedom ?? 0)), ("sampled", .bool($0.sample != nil)),
              ])
            })
        ),
      ])
    }
    return .members([("tensors", .array(rows))])
  }

  /// The whole job's table: `skeleton` (every tensor with its options, measured for none —
  /// ``Options/only`` empty) with each tuned tensor's sums taken from the one part that measured
  /// it, a sampled one's standard error finished from its sums as the single run finishes it.
  /// Every tensor was measured within one shard in the single run's chunk order, so the table is
  /// bit for bit the single run's.
  ///
  /// - Throws: ``FormatError`` naming `path` for a malformed payload, a tensor in two parts or in
  ///   none, or options that differ from the skeleton's.
  public static func merged(skeleton: TuneTable, payloads: [JSONValue], path: String) throws -> TuneTable {
    func bad(_ what: String) -> FormatError { FormatError(.malformed, path: path, "tune part: \(what)") }
    var position: [String: Int] = [:]
    for (i, item) in skeleton.items.enumerated() where item.fixedBy == nil { position[item.name] = i }
    var table = skeleton
    var done = Set<String>()
    for payload in payloads {
      guard let tensors = payload["tensors"]?.array else { throw bad("no tensors") }
      for t in tensors {
        guard let name = t["name"]?.string, let options = t["options"]?.array else {
          throw bad("malformed tensor entry")
        }
        guard let i = position[name] else { throw bad("\(name) is not a tuned tensor of the source") }
        guard done.insert(name).inserted else { throw bad("\(name) is in two parts") }
        guard options.count == table.items[i].options.count else { throw bad("\(name): other candidate types") }
        for (k, o) in options.enumerated() {
          let expected = table.items[i].options[k]
          guard o["type"]?.string == expected.type.name.lowercased(), o["bytes"]?.int == expected.bytes,
            let error = o["error"]?.exactDouble, let variance = o["variance"]?.exactDouble,
            let degrees = o["degrees_of_freedom"]?.int, let sampled = o["sampled"]?.bool
          else { throw bad("\(name): malformed or other option \(k)") }
          if sampled {
            table.items[i].options[k].sampled(
              TuneSampling.Estimate(estimate: error, variance: variance, degreesOfFreedom: degrees))
          } else {
            table.items[i].options[k].error = error
          }
        }
      }
    }
    if let missing = table.items.first(where: { $0.fixedBy == nil && !done.contains($0.name) }) {
      throw bad("no part measured \(missing.name) (\(position.count - done.count) tensors missing)")
    }
    return table
  }
}
