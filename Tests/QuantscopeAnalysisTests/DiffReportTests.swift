import QuantscopeAnalysis
import QuantscopeFormats
import Testing

/// The report `diff` renders: row order, top-N, roll-ups over every tensor, the gate, and the CSV
/// and JSON it writes — built from values, without files.
@Suite("diff report")
struct DiffReportTests {
  /// A tensor result whose candidate is `reference` plus `error` in every value.
  static func tensor(_ name: String, reference: [Double], error: Double) -> Diff.TensorResult {
    var acc = ErrorAccumulator()
    let candidate = reference.map { $0 + error }
    candidate.withUnsafeBufferPointer { c in
      reference.withUnsafeBufferPointer { r in
        acc.add(candidate: c.baseAddress!, reference: r.baseAddress!, count: r.count, firstIndex: 0)
      }
    }
    return Diff.TensorResult(
      name: name, type: "Q4_K", bitsPerWeight: 4.5, shape: [reference.count], referenceOrigin: "ref", sums: acc)
  }

  /// A tensor with a NaN candidate value: no metrics.
  static func poisoned(_ name: String) -> Diff.TensorResult {
    var acc = ErrorAccumulator()
    let candidate: [Double] = [1, .nan], reference: [Double] = [1, 2]
    candidate.withUnsafeBufferPointer { c in
      reference.withUnsafeBufferPointer { r in
        acc.add(candidate: c.baseAddress!, reference: r.baseAddress!, count: 2, firstIndex: 0)
      }
    }
    return Diff.TensorResult(
      name: name, type: "Q4_K", bitsPerWeight: 4.5, shape: [2], referenceOrigin: "ref", sums: acc)
  }

  /// Three tensors: `blk.0.a` small error on large values (best NMSE, worst MSE), `blk.1.b`
  /// medium, `blk.1.a` large error on small values (worst NMSE).
  static func diff(_ tensors: [Diff.TensorResult]? = nil) -> Diff {
    let list =
      tensors ?? [
        tensor("blk.0.a.weight", reference: [100, -100, 50, 25], error: 0.5),
        tensor("blk.1.b.weight", reference: [3, -2, 1, 4], error: 0.1),
        tensor("blk.1.a.weight", reference: [0.1, -0.2, 0.3, 0.1], error: 0.05),
      ]
    return Diff(
      tensors: list, missingReference: ["output.weight"], unmappedReference: [], skippedReference: [],
      architecture: "llama", precision: .exact, weighted: false)
  }

  @Test func `metric orders put the worst first in each metric's own direction`() throws {
    let d = Self.diff()
    let nmse = DiffReport(d, order: .nmse).rows.map(\.name)
    #expect(nmse == ["blk.1.a.weight", "blk.1.b.weight", "blk.0.a.weight"])
    let mse = DiffReport(d, order: .mse).rows.map(\.name)
    #expect(mse.first == "blk.0.a.weight")
    // Cosine is worse when lower: the lowest first.
    let cosines = DiffReport(d, order: .cosine).rows.map { $0.metrics!.cosine }
    #expect(cosines == cosines.sorted())
    let maxabs = DiffReport(d, order: .max_abs).rows.map { $0.metrics!.maxAbsoluteError }
    #expect(maxabs == maxabs.sorted(by: >))
    #expect(DiffReport(d, order: .name).rows.map(\.name) == ["blk.0.a.weight", "blk.1.a.weight", "blk.1.b.weight"])
    #expect(DiffReport(d, order: .file).rows.map(\.name) == d.tensors.map(\.name))
  }

  @Test func `tensors without metrics sort first, ties keep file order`() {
    let same = Self.tensor("blk.2.c.weight", reference: [3, -2, 1, 4], error: 0.1)
    let d = Self.diff([
      Self.tensor("blk.0.a.weight", reference: [3, -2, 1, 4], error: 0.1), Self.poisoned("blk.0.x.weight"), same,
      Self.poisoned("blk.0.y.weight"),
    ])
    for order in [DiffReport.Order.nmse, .mse, .cosine, .max_abs] {
      #expect(
        DiffReport(d, order: order).rows.map(\.name)
          == ["blk.0.x.weight", "blk.0.y.weight", "blk.0.a.weight", "blk.2.c.weight"], "\(order)")
    }
    let report = DiffReport(d)
    #expect(report.nonFiniteTensors.map(\.name) == ["blk.0.x.weight", "blk.0.y.weight"])
    #expect(report.model.metrics == nil, "a roll-up over a NaN tensor has no score")
  }

  @Test func `top keeps the first rows; roll-ups and the gate still cover every tensor`() throws {
    let d = Self.diff()
    let threshold = try DiffGate.Threshold(parsing: "nmse_db=-30")
    let report = DiffReport(d, order: .nmse, top: 1, thresholds: [threshold])
    #expect(report.rows.map(\.name) == ["blk.1.a.weight"])
    #expect(report.model.tensors == 3)
    #expect(report.layers.map(\.label) == ["blk.0", "blk.1"])
    #expect(report.layers.map(\.tensors) == [1, 2])
    #expect(report.kinds.map(\.label) == ["a", "b"])
    let gate = try #require(report.gate)
    #expect(gate.tensorsCompared == 3)
    #expect(gate.failures.first?.worst?.name == "blk.1.a.weight")
    #expect(report.gateFailed)
    #expect(DiffReport(d).gate == nil, "no thresholds, no gate")
    #expect(!DiffReport(d).gateFailed)
    #expect(!DiffReport(d, thresholds: [try DiffGate.Threshold(parsing: "nmse_db=100")]).gateFailed)
  }

  @Test func `CSV and JSON hold the shown rows and every roll-up`() throws {
    let report = DiffReport(
      Self.diff([
        Self.tensor("blk.0.a.weight", reference: [1, 2], error: 0.5),
        Self.poisoned("blk.0.x.weight"),
      ]), order: .file)
    let lines = report.csv.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.count == 3)
    #expect(lines[0].hasPrefix("name,type,bpw,elements,mse,"))
    #expect(lines[1].hasPrefix("blk.0.a.weight,Q4_K,4.5,2,0.25,0.5,"))
    #expect(lines[2] == "blk.0.x.weight,Q4_K,4.5,2,,,,,,,,,,,0,1", "no number a tensor does not have")

    let json = report.jsonDocument(candidate: "c.gguf", reference: ["r/"])
    #expect(json["schema"]?.string == "quantscope.diff/2")
    #expect(json["reference_precision"]?.string == "exact")
    #expect(json["architecture"]?.string == "llama")
    #expect(json["tensors"]?.array?.count == 2)
    #expect(json["tensors"]?.array?[1]["mse"] == .null)
    #expect(json["model"]?["tensors"]?.int == 2)
    #expect(json["missing_reference"]?.array?.first?.string == "output.weight")
    #expect(json["gate"] == .null)
  }
}
