import QuantscopeFormats

/// A tuned mix: the measured table, the choice for the budget, and what it is written as.
public struct TuneResult: Sendable {
  /// One tensor's choice.
  public struct Row: Sendable {
    /// GGUF name.
    public let name: String
    /// `diff`'s kind.
    public let kind: String
    /// `blk.N` index, if any.
    public let layer: Int?
    /// The chosen type.
    public let type: GGMLType
    /// Bytes at that type.
    public let bytes: Int
    /// Predicted error at that type.
    public let error: Double
    /// Its standard error (0 unless sampled).
    public let standardError: Double
    /// Why the tensor was not tuned, if it was not.
    public let fixedBy: String?
  }

  /// The measurement.
  public let table: TuneTable
  /// The choice.
  public let solution: TuneSolver.Solution
  /// The fraction of rows measured (1 for every row).
  public let sampleFraction: Double
  /// Whether an importance matrix weighted the error.
  public let weighted: Bool
  /// The calibration file whose per-kind factors turned the errors into estimated KLD, if any.
  public let calibration: String?

  /// A result of `solution` over `table`.
  public init(
    table: TuneTable, solution: TuneSolver.Solution, sampleFraction: Double = 1, weighted: Bool = false,
    calibration: String? = nil
  ) {
    self.table = table
    self.solution = solution
    self.sampleFraction = sampleFraction
    self.weighted = weighted
    self.calibration = calibration
  }

  /// What the errors measure, in words.
  public var errorMeasure: String {
    let base =
      weighted ? "sum of imatrix-weighted squared error (a proxy for the layer output error)" : "sum of squared error"
    guard calibration != nil else { return base }
    return "estimated KLD: \(base) times its kind's calibrated KLD per unit of error (a first-order model)"
  }

  /// Every tensor's choice, in model order.
  public var rows: [Row] {
    zip(table.items, solution.choices).map { item, c in
      let o = item.options[c]
      return Row(
        name: item.name, kind: item.kind, layer: item.layer, type: o.type, bytes: o.bytes, error: o.error,
        standardError: o.standardError, fixedBy: item.fixedBy)
    }
  }

  /// Standard error of the total (tensors' estimates are independent).
  public var totalStandardError: Double {
    rows.reduce(0.0) { $0 + $1.standardError * $1.standardError }.squareRoot()
  }

  /// Bits per weight of the choice.
  public var bitsPerWeight: Double {
    table.parameters == 0 ? 0 : Double(solution.bytes) * 8 / Double(table.parameters)
  }

  /// The choice as a llama-quantize `--tensor-type-file` (which `requant --recipe` reads too):
  /// one `pattern=type` token per line, nothing else (llama-quantize refuses comments).
  ///
  /// Tensors llama-quantize never quantizes are left out. Where every tensor of a kind gets one
  /// type and a `^blk\.[0-9]+\.KIND\.weight$` pattern matches exactly those tensors, one rule
  /// covers them; every other tensor gets an anchored exact-name rule. Each tensor is matched by
  /// exactly one rule, so whether the first or last matching rule wins cannot matter.
  public var recipeText: String {
    let named = rows.filter { $0.fixedBy == nil || !$0.fixedBy!.hasPrefix("keep:") }
    let allNames = table.items.map(\.name)
    var lines: [String] = []
    var done = Set<String>()
    var kindsInOrder: [String] = []
    var byKind: [String: [Row]] = [:]
    for r in named {
      if byKind[r.kind] == nil { kindsInOrder.append(r.kind) }
      byKind[r.kind, default: []].append(r)
    }
    for kind in kindsInOrder {
      let group = byKind[kind]!
      guard group.count > 1, Set(group.map(\.type)).count == 1, group.allSatisfy({ $0.layer != nil }),
        group.allSatisfy({ $0.name.hasSuffix(".weight") }),
        kind.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
      else { continue }
      let pattern = "^blk\\.[0-9]+\\.\(kind)\\.weight$"
      guard let regex = try? Regex(pattern) else { continue }
      let matched = Set(allNames.filter { $0.wholeMatch(of: regex) != nil })
      guard matched == Set(group.map(\.name)) else { continue }
      lines.append("\(pattern)=\(group[0].type.name.lowercased())")
      done.formUnion(matched)
    }
    for r in named where !done.contains(r.name) {
      lines.append("\(TensorTypeFile.exactPattern(r.name))=\(r.type.name.lowercased())")
    }
    return lines.map { $0 + "\n" }.joined()
  }

  /// The `quantscope.tune/1` document.
  ///
  /// - Parameters:
  ///   - source: the source as the user gave it.
  ///   - reference: the reference paths as the user gave them.
  ///   - recipe: where the recipe was written.
  ///   - frontier: solutions at other budgets (`--pareto`), if computed.
  public func jsonDocument(
    source: String, reference: [String], recipe: String?, frontier: [TuneSolver.Solution] = []
  ) -> JSONValue {
    let tensors: [JSONValue] = zip(rows, table.items).map { r, item in
      .members([
        ("name", .string(r.name)), ("kind", .string(r.kind)), ("layer", r.layer.map { .int($0) } ?? .null),
        ("type", .string(r.type.name.lowercased())), ("bytes", .int(r.bytes)), ("error", .finite(r.error)),
        ("standard_error", .finite(r.standardError)),
        ("share", .finite(solution.error > 0 ? r.error / solution.error : 0)),
        ("tuned", .bool(r.fixedBy == nil)), ("fixed_by", .optional(r.fixedBy)),
        (
          "options",
          .array(
            item.options.map {
              .members([
                ("type", .string($0.type.name.lowercased())), ("bytes", .int($0.bytes)), ("error", .finite($0.error)),
                ("standard_error", .finite($0.standardError)),
              ])
            })
        ),
      ])
    }
    func point(_ s: TuneSolver.Solution) -> JSONValue {
      .members([
        ("budget", .int(s.budget)), ("bytes", .int(s.bytes)), ("error", .finite(s.error)),
        ("bound", .finite(s.bound)),
      ])
    }
    return .document(
      schema: "quantscope.tune/1",
      [
        ("source", .string(source)), ("reference", .array(reference.map { .string($0) })),
        ("recipe", .optional(recipe)), ("sample_fraction", .finite(sampleFraction)), ("weighted", .bool(weighted)),
        ("calibration", .optional(calibration)), ("error_measure", .string(errorMeasure)),
        ("budget", .int(solution.budget)), ("bytes", .int(solution.bytes)), ("bpw", .finite(bitsPerWeight)),
        ("parameters", .int(table.parameters)), ("error", .finite(solution.error)),
        ("error_standard_error", .finite(totalStandardError)), ("bound", .finite(solution.bound)),
        ("gap", .finite(solution.gap)), ("relative_gap", .finite(solution.relativeGap)),
        ("lambda", .finite(solution.lambda)), ("tensors", .array(tensors)),
        ("pareto", .array(frontier.map(point))),
      ])
  }
}
