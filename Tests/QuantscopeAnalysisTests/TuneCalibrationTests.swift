import QuantscopeAnalysis
import QuantscopeFormats
import Testing

@Suite("tune --calibration")
struct TuneCalibrationTests {
  static func item(_ name: String, _ kind: String, errors: [Double]) -> TuneTable.Item {
    TuneTable.Item(
      name: name, kind: kind, layer: 0, parameters: 256,
      options: zip([(GGMLType.q2_K, 100), (.q4_K, 200)], errors).map {
        TuneTable.Option(type: $0.0, bytes: $0.1, error: $1)
      })
  }

  static let table = TuneTable(items: [
    item("blk.0.ffn_down.weight", "ffn_down", errors: [10, 2]),
    item("blk.0.attn_q.weight", "attn_q", errors: [10, 2]),
    item("blk.0.attn_v.weight", "attn_v", errors: [10, 2]),
    item("blk.0.ffn_up.weight", "ffn_up", errors: [4, 1]),
  ])

  static let calibration = ProxyCalibration(
    kinds: [
      "ffn_down": .init(kldPerError: 0.5, kld: 5, error: 10),
      "attn_q": .init(kldPerError: 0.001, kld: 0.01, error: 10),
      "attn_v": .init(kldPerError: 0.1, kld: 1, error: 10),
    ], weighted: false)

  @Test func `each kind's error is multiplied by its factor, an unmeasured kind by the median`() throws {
    let calibrated = try Self.table.calibrated(by: Self.calibration, path: "c.json", weighted: false)
    #expect(calibrated.items[0].options.map(\.error) == [5, 1])
    #expect(calibrated.items[1].options.map(\.error) == [10 * 0.001, 2 * 0.001])
    #expect(calibrated.items[2].options.map(\.error) == [1, 0.2])
    // ffn_up was not measured: the median of 0.001, 0.1 and 0.5.
    #expect(calibrated.items[3].options.map(\.error) == [4 * 0.1, 1 * 0.1])
  }

  @Test func `a calibration of the other error weighting or without factors is refused`() throws {
    #expect(throws: FormatError.self) {
      try Self.table.calibrated(by: Self.calibration, path: "c.json", weighted: true)
    }
    #expect(throws: FormatError.self) {
      try Self.table.calibrated(by: ProxyCalibration(kinds: [:], weighted: false), path: "c.json", weighted: false)
    }
  }

  @Test func `the calibrated table changes the choice toward the kinds that cost output`() throws {
    // With raw error, a budget for one upgrade goes to any of the three equal tensors; calibrated, to ffn_down.
    let budget = 100 * 4 + 100
    let calibrated = try Self.table.calibrated(by: Self.calibration, path: "c.json", weighted: false)
    let solution = try TuneSolver.solve(calibrated, budget: budget)
    #expect(solution.bytes <= budget)
    #expect(solution.choices == [1, 0, 0, 0])
  }
}
