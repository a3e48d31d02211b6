/// What `inspect` shows of a model: the selected tensors with their totals and per-type roll-up,
/// computed once, with the `quantscope.inspect/1` document (the CLI formats the text forms).
public struct InspectSummary {
  /// The model inspected.
  public let model: any TensorCollection
  /// The tensors shown (all, or those a filter selected), in file order.
  public let tensors: [TensorInfo]
  /// Show metadata arrays and strings in full instead of shortening them.
  public let full: Bool
  /// Totals over ``tensors``.
  public let totals: TensorTotals
  /// ``tensors`` rolled up by type.
  public let types: [TensorSummary.EncodingRow]

  /// Arrays longer than this are shortened unless `full`.
  public static let arrayPreview = 8
  /// Strings longer than this are shortened in text output unless `full`.
  public static let stringPreview = 200

  /// The summary of `tensors` of `model`; `full` keeps long metadata values whole.
  public init(model: any TensorCollection, tensors: [TensorInfo], full: Bool) {
    self.model = model
    self.tensors = tensors
    self.full = full
    self.totals = TensorTotals(tensors)
    self.types = TensorSummary.byEncoding(tensors)
  }

  /// The model as GGUF, `nil` for safetensors.
  public var gguf: GGUFModel? { model as? GGUFModel }

  /// GGUF files cut off before the end of their tensor data.
  public var truncatedShards: [GGUFFile] { gguf?.truncatedShards ?? [] }

  /// Whether to show each tensor's presence in the text tables (only when some data is absent,
  /// so that the table of a complete file stays as it was).
  public var showsPresence: Bool { tensors.contains { $0.presence != .present } }

  /// How many of a shard's tensors have no data in the file and how many only part of it.
  public static func absentTensors(in shard: GGUFFile) -> (missing: Int, partial: Int) {
    let absent = shard.tensors.filter { $0.presence != .present }
    let partial = absent.filter { $0.presence == .partial }.count
    return (absent.count - partial, partial)
  }

  // MARK: JSON

  /// The `quantscope.inspect/1` document: files, format, metadata (arrays shortened unless
  /// ``full``), the tensor table or the per-layer roll-up, totals and per-type roll-up.
  ///
  /// - Parameters:
  ///   - tensorTable: include the `tensors` array (ignored with `byLayer`).
  ///   - byLayer: include the `layers` roll-up instead of the tensor table.
  public func jsonDocument(tensorTable: Bool, byLayer: Bool) -> JSONValue {
    var root: [(String, JSONValue)] = []
    if let g = gguf {
      root.append(
        (
          "files",
          .array(
            g.shards.map { shard in
              .members([
                ("path", .string(shard.file.path)), ("size", .int(shard.file.size)),
                ("expected_size", .int(shard.expectedSize)), ("truncated", .bool(shard.isTruncated)),
              ])
            })
        ))
    } else {
      root.append(
        ("files", .array(model.files.map { .members([("path", .string($0.path)), ("size", .int($0.size))]) })))
    }
    if let g = gguf {
      let first = g.shards[0]
      root.append(("format", .string("gguf")))
      root.append(("version", .int(Int(first.version))))
      root.append(("big_endian", .bool(first.isBigEndian)))
      root.append(("alignment", .int(first.alignment)))
      root.append(("data_offsets", .array(g.shards.map { .int($0.dataStart) })))
    } else {
      root.append(("format", .string("safetensors")))
    }
    root.append(
      (
        "metadata",
        .array(
          model.metadataEntries.map { entry in
            var o: [(String, JSONValue)] = [("key", .string(entry.key)), ("type", .string(Self.typeName(entry.value)))]
            if let a = entry.value.array { o.append(("count", .int(a.count))) }
            o.append(("value", jsonValue(entry.value, depth: 0)))
            if let name = Self.fileTypeName(entry) { o.append(("file_type_name", .string(name))) }
            return .members(o)
          })
      ))
    if tensorTable && !byLayer {
      root.append(("tensors", .array(tensors.map(jsonTensor))))
    }
    if byLayer {
      root.append(
        (
          "layers",
          .array(
            TensorSummary.byLayer(tensors).map { row in
              var o: [(String, JSONValue)] = [("layer", row.layer.map { .int($0) } ?? .null)]
              o += Self.jsonTotals(row.totals)
              o.append(
                (
                  "types",
                  .array(
                    row.encodings.map { e in
                      .members([("type", .string(e.encoding.name))] + Self.jsonTotals(e.totals))
                    })
                ))
              return .members(o)
            })
        ))
    }
    root.append(("totals", .members(Self.jsonTotals(totals) + [("gib", .number(Self.round(totals.gibibytes, 2)))])))
    root.append(
      (
        "types",
        .array(
          types.map { e in
            .members([("type", .string(e.encoding.name))] + Self.jsonTotals(e.totals))
          })
      ))
    return .document(schema: "quantscope.inspect/1", root)
  }

  /// The members every roll-up row has: counts, bytes and bits per weight to 3 decimals.
  static func jsonTotals(_ t: TensorTotals) -> [(String, JSONValue)] {
    [
      ("tensors", .int(t.tensors)), ("parameters", .int(t.parameters)), ("bytes", .int(t.bytes)),
      ("bpw", .number(round(t.bitsPerWeight, 3))),
    ]
  }

  /// One row of the `tensors` array.
  func jsonTensor(_ t: TensorInfo) -> JSONValue {
    var o: [(String, JSONValue)] = [("name", .string(t.name)), ("type", .string(t.encoding.name))]
    if case .ggml(let type) = t.encoding {
      o.append(("type_id", .int(Int(type.id))))
      if !type.isUsable { o.append(("usable", .bool(false))) }
    }
    o.append(("shape", .array(t.shape.map { .int($0) })))
    o.append(("ne", .array(t.ne.map { .int($0) })))
    o.append(("elements", .int(t.elementCount)))
    o.append(("bytes", .int(t.byteCount)))
    o.append(("bpw", .number(Self.round(t.bitsPerWeight, 4))))
    o.append(("file", .string(t.file.path)))
    o.append(("offset", .int(t.dataOffset)))
    o.append(("data", .string(t.presence.rawValue)))
    o.append(("bytes_present", .int(t.bytesPresent)))
    return .members(o)
  }

  /// A metadata value, arrays shortened unless ``full``.
  func jsonValue(_ v: GGUFValue, depth: Int) -> JSONValue {
    switch v {
    case .uint8(let x): .int(Int(x))
    case .int8(let x): .int(Int(x))
    case .uint16(let x): .int(Int(x))
    case .int16(let x): .int(Int(x))
    case .uint32(let x): .int(Int(x))
    case .int32(let x): .int(Int(x))
    case .uint64(let x): Int64(exactly: x).map { .integer($0) } ?? .unsigned(x)
    case .int64(let x): .int(Int(x))
    case .float32(let x): .number(Double(x))
    case .float64(let x): .number(x)
    case .bool(let x): .bool(x)
    case .string(let s): .string(s)
    case .array(_, let elements):
      .array((full ? elements[...] : elements.prefix(Self.arrayPreview)).map { jsonValue($0, depth: depth + 1) })
    }
  }

  /// The GGUF type name of a metadata value, `ARRAY[T]` for arrays (nested: of the first element's type).
  public static func typeName(_ v: GGUFValue) -> String {
    if case .array(let t, let elements) = v {
      if t == .array, let inner = elements.first { return "ARRAY[\(typeName(inner))]" }
      return "ARRAY[\(t.name)]"
    }
    return v.type.name
  }

  /// llama.cpp's name of `general.file_type` (`MOSTLY_Q4_K_M`), for that entry only and when it
  /// names a known value.
  public static func fileTypeName(_ entry: (key: String, value: GGUFValue)) -> String? {
    guard entry.key == "general.file_type", let n = entry.value.integer else { return nil }
    return GGUFFileType.name(n)
  }

  /// `x` rounded to `decimals` decimal places (non-finite values as they are).
  public static func round(_ x: Double, _ decimals: Int) -> Double {
    guard x.isFinite else { return x }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    return (x * scale).rounded() / scale
  }
}
