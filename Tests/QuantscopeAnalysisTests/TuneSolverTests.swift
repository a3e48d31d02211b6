import QuantscopeAnalysis
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

@Suite struct TuneSolverTests {
  /// A random instance: sizes grow with the type, errors fall (with noise, so hulls are not trivial).
  static func instance(_ rng: inout SplitMix, items: Int, options: Int) -> TuneTable {
    let types: [GGMLType] = [.q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_0]
    return TuneTable(
      items: (0..<items).map { i in
        let scale = Double.random(in: 0.1...10, using: &rng)
        var bytes = Int.random(in: 10...40, using: &rng)
        var error = Double.random(in: 50...100, using: &rng) * scale
        var opts: [TuneTable.Option] = []
        for t in 0..<options {
          opts.append(TuneTable.Option(type: types[t], bytes: bytes, error: error))
          bytes += Int.random(in: 1...30, using: &rng)
          error *= Double.random(in: 0.2...1.05, using: &rng)
        }
        return TuneTable.Item(name: "t\(i)", kind: "k", layer: nil, parameters: 1, options: opts)
      })
  }

  /// The least total error within `budget`, by enumerating every choice.
  static func exhaustive(_ table: TuneTable, budget: Int) -> Double? {
    var best: Double? = nil
    func go(_ i: Int, _ bytes: Int, _ error: Double) {
      if bytes > budget { return }
      if i == table.items.count {
        if best == nil || error < best! { best = error }
        return
      }
      for o in table.items[i].options { go(i + 1, bytes + o.bytes, error + o.error) }
    }
    go(0, 0, 0)
    return best
  }

  @Test func matchesExhaustiveSearchOnSmallInstances() throws {
    var rng = SplitMix(seed: 0x7475_6e65)
    var instances = 0, optimal = 0
    var worst = 0.0
    for _ in 0..<300 {
      let table = Self.instance(
        &rng, items: Int.random(in: 1...6, using: &rng), options: Int.random(in: 1...5, using: &rng))
      let budget = Int.random(in: table.minimumBytes...table.maximumBytes + 5, using: &rng)
      let solution = try TuneSolver.solve(table, budget: budget)
      let best = try #require(Self.exhaustive(table, budget: budget))
      instances += 1
      // Always within budget, never below the true optimum, and the bound never above it.
      #expect(solution.bytes <= budget)
      #expect(solution.bytes == zip(table.items, solution.choices).reduce(0) { $0 + $1.0.options[$1.1].bytes })
      #expect(solution.error >= best * (1 - 1e-12))
      #expect(solution.bound <= best * (1 + 1e-12))
      // The reported gap covers the true distance from optimal.
      #expect(solution.error - best <= solution.gap + 1e-9 * best)
      if solution.error <= best * (1 + 1e-12) { optimal += 1 }
      // Proven optimal: the bound closes on the error.
      #expect(solution.gap <= 1e-9 * max(1, best))
      worst = max(worst, (solution.error - best) / best)
    }
    print("TuneSolver: optimal on \(optimal) of \(instances) random instances; worst excess \(worst)")
    // Instances this small are within the exact search's work limit: every one is optimal.
    #expect(optimal == instances)
    #expect(worst <= 1e-12)
  }

  @Test func budgetAtTheExtremes() throws {
    var rng = SplitMix(seed: 42)
    let table = Self.instance(&rng, items: 8, options: 6)
    let low = try TuneSolver.solve(table, budget: table.minimumBytes)
    #expect(low.bytes == table.minimumBytes)
    let high = try TuneSolver.solve(table, budget: table.maximumBytes)
    // With room for everything, every tensor gets its least-error option.
    let least = table.items.reduce(0.0) { $0 + $1.options.map(\.error).min()! }
    #expect(abs(high.error - least) <= 1e-9 * least)
    #expect(throws: TuneSolver.Infeasible.self) { try TuneSolver.solve(table, budget: table.minimumBytes - 1) }
  }

  @Test func frontierFallsAsTheBudgetGrows() throws {
    var rng = SplitMix(seed: 7)
    let table = Self.instance(&rng, items: 20, options: 6)
    let frontier = TuneSolver.frontier(table, count: 40)
    #expect(frontier.count > 5)
    for (a, b) in zip(frontier, frontier.dropFirst()) {
      #expect(b.budget > a.budget)
      #expect(b.error <= a.error * (1 + 1e-12))
    }
  }

  @Test func hullDropsDominatedAndConcavePoints() {
    let o: [TuneTable.Option] = [
      .init(type: .q2_K, bytes: 10, error: 100), .init(type: .q3_K, bytes: 20, error: 90),  // above the chord
      .init(type: .q4_K, bytes: 30, error: 20), .init(type: .q5_K, bytes: 40, error: 25),  // dominated
      .init(type: .q6_K, bytes: 50, error: 10),
    ]
    let t = TuneTable(items: [.init(name: "a", kind: "k", layer: nil, parameters: 1, options: o)])
    // At 20 bytes the hull step 10→30 does not fit; the greedy fill takes q3_K.
    let s = try? TuneSolver.solve(t, budget: 20)
    #expect(s?.choices == [1])
    #expect(s.map { $0.bound <= 90 } == true)
  }
}
