import QuantscopeFormats

/// Chooses one option per tensor to minimize the total error within a byte budget (a
/// multiple-choice knapsack).
///
/// 1. Each tensor's options are reduced to their lower convex hull in (bytes, error).
/// 2. A Lagrange multiplier λ prices bytes: starting from every tensor's smallest option, hull
///    steps are taken in order of error saved per byte until the next one does not fit. That step's
///    rate is λ, and the total error minus λ × the bytes left is the Lagrangian (linear-relaxation)
///    bound: no choice within the budget has less error.
/// 3. The bytes left are filled greedily with any option (hull or not) that saves the most error
///    and fits, then with pairs of moves (one tensor up, another down) that save error and fit.
///
/// The gap to the bound is reported, so a user sees how far from optimal the choice can be.
public enum TuneSolver {
  /// The choice for one budget.
  public struct Solution: Sendable, Equatable {
    /// The budget in bytes.
    public var budget: Int
    /// Index into each item's options.
    public var choices: [Int]
    /// Bytes of the choice.
    public var bytes: Int
    /// Total predicted error of the choice.
    public var error: Double
    /// The Lagrangian bound: no choice within the budget has a total error below it.
    public var bound: Double
    /// The multiplier (error per byte) at the bound.
    public var lambda: Double

    /// `error − bound`, never negative.
    public var gap: Double { max(0, error - bound) }
    /// The gap relative to the error (0 when the error is 0).
    public var relativeGap: Double { error > 0 ? gap / error : 0 }
  }

  /// Why no choice exists.
  public struct Infeasible: Error, Sendable, CustomStringConvertible {
    /// The budget asked for.
    public let budget: Int
    /// The least bytes any choice takes.
    public let minimum: Int
    /// The problem in words.
    public var description: String {
      "the budget of \(budget) bytes is below the smallest possible mix (\(minimum) bytes with every tuned tensor "
        + "at its smallest type and every fixed tensor as it stays)"
    }
  }

  /// Pair moves are tried only while items × options stays below this (they cost its square).
  static let pairMoveLimit = 6_000

  /// The hull of one item: option indices by increasing bytes and strictly decreasing error,
  /// with convex slopes.
  static func hull(_ options: [TuneTable.Option]) -> [Int] {
    let order = options.indices.sorted {
      options[$0].bytes != options[$1].bytes
        ? options[$0].bytes < options[$1].bytes
        : options[$0].error != options[$1].error
          ? options[$0].error < options[$1].error : $0 < $1
    }
    var frontier: [Int] = []
    for i in order {
      if let last = frontier.last, options[i].error >= options[last].error { continue }
      if let last = frontier.last, options[i].bytes == options[last].bytes { continue }
      frontier.append(i)
    }
    var hull: [Int] = []
    for i in frontier {
      while hull.count >= 2 {
        let a = options[hull[hull.count - 2]], b = options[hull[hull.count - 1]], c = options[i]
        // b lies on or above the segment a–c: it is not on the lower hull.
        let lhs = (b.error - a.error) * Double(c.bytes - a.bytes)
        let rhs = (c.error - a.error) * Double(b.bytes - a.bytes)
        if lhs >= rhs { hull.removeLast() } else { break }
      }
      hull.append(i)
    }
    return hull
  }

  /// The choice for `budget` bytes.
  ///
  /// - Throws: ``Infeasible`` when even the smallest options exceed the budget.
  public static func solve(_ table: TuneTable, budget: Int) throws -> Solution {
    let items = table.items
    let hulls = items.map { hull($0.options) }
    var choices = hulls.map { $0.first ?? 0 }
    var bytes = zip(items, choices).reduce(0) { $0 + ($1.0.options.isEmpty ? 0 : $1.0.options[$1.1].bytes) }
    guard bytes <= budget else { throw Infeasible(budget: budget, minimum: bytes) }
    var error = zip(items, choices).reduce(0.0) { $0 + ($1.0.options.isEmpty ? 0 : $1.0.options[$1.1].error) }

    // Hull steps by rate (error saved per byte); within an item the rates fall, so this order
    // never takes a step before the one it follows.
    struct Step { let item: Int; let position: Int; let rate: Double }
    var steps: [Step] = []
    for (i, h) in hulls.enumerated() where h.count > 1 {
      for p in 1..<h.count {
        let a = items[i].options[h[p - 1]], b = items[i].options[h[p]]
        steps.append(Step(item: i, position: p, rate: (a.error - b.error) / Double(b.bytes - a.bytes)))
      }
    }
    steps.sort {
      $0.rate != $1.rate ? $0.rate > $1.rate : $0.item != $1.item ? $0.item < $1.item : $0.position < $1.position
    }
    var position = [Int](repeating: 0, count: items.count)
    var bound = error
    var lambda = 0.0
    var blocked = false
    for s in steps {
      let h = hulls[s.item]
      let from = items[s.item].options[h[s.position - 1]], to = items[s.item].options[h[s.position]]
      let cost = to.bytes - from.bytes
      if !blocked && position[s.item] == s.position - 1 && cost <= budget - bytes {
        position[s.item] = s.position
        choices[s.item] = h[s.position]
        bytes += cost
        error -= from.error - to.error
        bound = error
        continue
      }
      if !blocked {
        // The linear relaxation takes this step fractionally: that is the bound.
        blocked = true
        lambda = s.rate
        bound = error - Double(budget - bytes) * s.rate
      }
    }

    // Greedy fill of the bytes left: any option of any tensor that saves the most error and fits.
    while true {
      var best: (item: Int, option: Int, saved: Double)? = nil
      for (i, item) in items.enumerated() {
        let current = item.options[choices[i]]
        for (j, o) in item.options.enumerated()
        where o.error < current.error && o.bytes - current.bytes <= budget - bytes {
          let saved = current.error - o.error
          if best == nil || saved > best!.saved { best = (i, j, saved) }
        }
      }
      guard let move = best else { break }
      bytes += items[move.item].options[move.option].bytes - items[move.item].options[choices[move.item]].bytes
      error -= move.saved
      choices[move.item] = move.option
    }

    // Pair moves: one tensor down, another up, when together they save error and fit.
    let size = items.reduce(0) { $0 + $1.options.count }
    if size <= pairMoveLimit {
      var rounds = 0
      while rounds < 1000 {
        rounds += 1
        var best: (a: Int, ao: Int, b: Int, bo: Int, saved: Double)? = nil
        for (a, itemA) in items.enumerated() {
          let ca = itemA.options[choices[a]]
          for (ao, oa) in itemA.options.enumerated() where oa.bytes < ca.bytes {
            let freed = ca.bytes - oa.bytes, cost = oa.error - ca.error
            for (b, itemB) in items.enumerated() where b != a {
              let cb = itemB.options[choices[b]]
              for (bo, ob) in itemB.options.enumerated() where ob.bytes - cb.bytes <= budget - bytes + freed {
                let saved = (cb.error - ob.error) - cost
                if saved > 1e-12 * max(1, abs(error)) && (best == nil || saved > best!.saved) {
                  best = (a, ao, b, bo, saved)
                }
              }
            }
          }
        }
        guard let m = best else { break }
        bytes += items[m.a].options[m.ao].bytes - items[m.a].options[choices[m.a]].bytes
        bytes += items[m.b].options[m.bo].bytes - items[m.b].options[choices[m.b]].bytes
        error -= m.saved
        choices[m.a] = m.ao
        choices[m.b] = m.bo
      }
    }
    // Recomputed from the choice, so no rounding of the running sums is reported.
    error = zip(items, choices).reduce(0.0) { $0 + ($1.0.options.isEmpty ? 0 : $1.0.options[$1.1].error) }
    var solution = Solution(
      budget: budget, choices: choices, bytes: bytes, error: error, bound: min(bound, error), lambda: lambda)
    if bound < error,
      let exact = branchAndBound(
        table, hulls: hulls, steps: steps.map { ($0.item, $0.position) },
        budget: budget, incumbent: solution, workLimit: workLimit)
    {
      solution = exact
    }
    return solution
  }

  /// Work (hull steps scanned) the exact search may spend before it gives up and the heuristic
  /// choice stands.
  public static var workLimit: Int { 20_000_000 }

  /// Depth-first branch and bound over the items, pruned by the linear-relaxation bound of the
  /// items left; returns a proven optimum (bound = error) when the search finishes within
  /// `workLimit`, else `nil`.
  static func branchAndBound(
    _ table: TuneTable, hulls: [[Int]], steps: [(item: Int, position: Int)], budget: Int, incumbent: Solution,
    workLimit: Int
  ) -> Solution? {
    let items = table.items
    let n = items.count
    // Suffix sums of each item's smallest hull option.
    var suffixBytes = [Int](repeating: 0, count: n + 1)
    var suffixError = [Double](repeating: 0, count: n + 1)
    for i in stride(from: n - 1, through: 0, by: -1) {
      let o = items[i].options[hulls[i][0]]
      suffixBytes[i] = suffixBytes[i + 1] + o.bytes
      suffixError[i] = suffixError[i + 1] + o.error
    }
    let orders = items.map { item in item.options.indices.sorted { item.options[$0].error < item.options[$1].error } }
    var best = incumbent
    var current = [Int](repeating: 0, count: n)
    var work = 0
    var aborted = false
    let tolerance = 1e-12

    /// The least error the items from `d` on can reach within `room` bytes (fractionally).
    func relaxation(_ d: Int, _ room: Int) -> Double? {
      var left = room - suffixBytes[d]
      guard left >= 0 else { return nil }
      var error = suffixError[d]
      var at = [Int: Int]()
      for s in steps where s.item >= d {
        work += 1
        let h = hulls[s.item]
        guard (at[s.item] ?? 0) == s.position - 1 else { continue }
        let from = items[s.item].options[h[s.position - 1]], to = items[s.item].options[h[s.position]]
        let cost = to.bytes - from.bytes
        if cost <= left {
          left -= cost
          error -= from.error - to.error
          at[s.item] = s.position
        } else {
          return error - Double(left) / Double(cost) * (from.error - to.error)
        }
      }
      return error
    }

    func search(_ d: Int, _ bytes: Int, _ error: Double) {
      if aborted { return }
      if work > workLimit {
        aborted = true
        return
      }
      if d == n {
        if error < best.error * (1 - tolerance) {
          best.choices = current
          best.bytes = bytes
          best.error = error
        }
        return
      }
      guard let rest = relaxation(d, budget - bytes), error + rest < best.error * (1 - tolerance) else { return }
      for o in orders[d] {
        let option = items[d].options[o]
        guard bytes + option.bytes + suffixBytes[d + 1] <= budget else { continue }
        current[d] = o
        search(d + 1, bytes + option.bytes, error + option.error)
      }
    }
    search(0, 0, 0)
    guard !aborted else { return best.error < incumbent.error ? withBound(best, incumbent.bound) : nil }
    best.error = zip(items, best.choices).reduce(0.0) { $0 + $1.0.options[$1.1].error }
    best.bound = best.error
    return best
  }

  static func withBound(_ s: Solution, _ bound: Double) -> Solution {
    var copy = s
    copy.bound = min(bound, s.error)
    return copy
  }

  /// Solutions at `count` budgets spread evenly from the smallest to the largest possible mix
  /// (the Pareto frontier of size against predicted error), from one measurement.
  public static func frontier(_ table: TuneTable, count: Int) -> [Solution] {
    let low = table.minimumBytes, high = table.maximumBytes
    let n = max(2, count)
    var out: [Solution] = []
    for k in 0..<n {
      let budget = low + Int((Double(high - low) * Double(k) / Double(n - 1)).rounded(.down))
      if let s = try? solve(table, budget: budget), out.last?.choices != s.choices { out.append(s) }
    }
    return out
  }
}
