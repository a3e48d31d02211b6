/// The scale searches shared by ggml's reference quantizers (`ggml-quants.c`), ported operation
/// for operation so that the bytes match: every sum runs sequentially from index 0 in `Float`,
/// every product chain keeps ggml's association (`(w·x)·l`, not `w·(x·l)`), multiplies and adds
/// stay separate (no fused multiply-add), and integer stores wrap exactly as C's do.
///
/// Arrays are raw pointers owned by the caller; `n` is small (8…32), so nothing here allocates.
///
/// Two forms of each search: the scalar port (the reference, used for odd leftovers and as the
/// test oracle), and an eight-lane form (`…Lanes`) that runs eight independent sub-blocks side by
/// side in `SIMD8` lanes. Each lane performs exactly the scalar sequence of IEEE operations —
/// only independent searches are interleaved, never one search's sums — and branches become
/// per-lane selects, so the bytes are identical while the eight sequential dependency chains
/// overlap (3–5× the scalar speed). Tests check lane = scalar on hostile groups too.
enum QuantizationSearch {
  /// ggml's `GROUP_MAX_EPS`: groups whose largest magnitude is below this are "all zero".
  static let groupMaxEps: Float = 1e-15

  /// ggml's `nearest_int`: round half to even via the 1.5·2²³ trick, wrapping outside ±2²²
  /// exactly as ggml does (NaN gives 0, +∞ gives −4194304).
  @inline(__always)
  static func nearestInt(_ f: Float) -> Int32 {
    let v = f + 12_582_912.0
    return Int32(bitPattern: v.bitPattern & 0x007f_ffff) &- 0x0040_0000
  }

  /// `(largest |x|, the signed value that has it)`, first maximum winning, starting from +0.
  @inline(__always)
  static func argmaxAbs(_ n: Int, _ x: UnsafePointer<Float>) -> (amax: Float, max: Float) {
    var amax: Float = 0
    var max: Float = 0
    for i in 0..<n {
      let ax = abs(x[i])
      if ax > amax {
        amax = ax
        max = x[i]
      }
    }
    return (amax, max)
  }

  /// The weight `make_qx_quants` gives element `i` when no explicit weights are passed.
  @inline(__always)
  static func rmseWeight(_ type: Int, _ x: Float) -> Float {
    switch type {
    case 1: return x * x
    case 2: return 1
    case 3: return abs(x)
    default: return abs(x).squareRoot()
    }
  }

  /// `make_qx_quants`: a symmetric signed scale for `n` values with levels `[−nmax, nmax−1]`,
  /// chosen among 19 candidate inverse scales by weighted least squares. Writes `L[i] ∈
  /// [0, 2·nmax−1]` (level + nmax) and returns the scale (dequantization is `scale·(L − nmax)`).
  static func makeQxQuants(
    _ n: Int, _ nmax: Int32, _ x: UnsafePointer<Float>, _ L: UnsafeMutablePointer<Int8>,
    rmseType: Int, weights qw: UnsafePointer<Float>?
  ) -> Float {
    let (amax, max) = argmaxAbs(n, x)
    if amax < groupMaxEps {
      for i in 0..<n { L[i] = 0 }
      return 0
    }
    let fnmax = Float(nmax)
    var iscale = Float(-nmax) / max
    if rmseType == 0 {
      for i in 0..<n {
        let l = nearestInt(iscale * x[i])
        L[i] = Int8(truncatingIfNeeded: nmax &+ Swift.max(-nmax, Swift.min(nmax &- 1, l)))
      }
      return 1 / iscale
    }
    var type = rmseType
    var returnEarly = false
    if type < 0 {
      type = -type
      returnEarly = true
    }
    var sumlx: Float = 0
    var suml2: Float = 0
    for i in 0..<n {
      var l = nearestInt(iscale * x[i])
      l = Swift.max(-nmax, Swift.min(nmax &- 1, l))
      L[i] = Int8(truncatingIfNeeded: l &+ nmax)
      let w = qw.map { $0[i] } ?? rmseWeight(type, x[i])
      let fl = Float(l)
      sumlx += (w * x[i]) * fl
      suml2 += (w * fl) * fl
    }
    var scale: Float = suml2 != 0 ? sumlx / suml2 : 0
    if returnEarly { return suml2 > 0 ? 0.5 * (scale + 1 / iscale) : 1 / iscale }
    var best = scale * sumlx
    for step in -9...9 where step != 0 {
      iscale = -(fnmax + 0.1 * Float(step)) / max
      sumlx = 0
      suml2 = 0
      for i in 0..<n {
        var l = nearestInt(iscale * x[i])
        l = Swift.max(-nmax, Swift.min(nmax &- 1, l))
        let w = qw.map { $0[i] } ?? rmseWeight(type, x[i])
        let fl = Float(l)
        sumlx += (w * x[i]) * fl
        suml2 += (w * fl) * fl
      }
      if suml2 > 0 && sumlx * sumlx > best * suml2 {
        for i in 0..<n {
          let l = nearestInt(iscale * x[i])
          L[i] = Int8(truncatingIfNeeded: nmax &+ Swift.max(-nmax, Swift.min(nmax &- 1, l)))
        }
        scale = sumlx / suml2
        best = scale * sumlx
      }
    }
    return scale
  }

  /// `make_q3_quants`: the Q3_K reference search (x² weights, then up to five coordinate-descent
  /// passes). Writes `L[i] ∈ [0, 2·nmax−1]` and returns the scale.
  static func makeQ3Quants(
    _ n: Int, _ nmax: Int32, _ x: UnsafePointer<Float>, _ L: UnsafeMutablePointer<Int8>, doRmse: Bool
  ) -> Float {
    let (amax, max) = argmaxAbs(n, x)
    if amax < groupMaxEps {
      for i in 0..<n { L[i] = 0 }
      return 0
    }
    let iscale = Float(-nmax) / max
    if doRmse {
      var sumlx: Float = 0
      var suml2: Float = 0
      for i in 0..<n {
        var l = nearestInt(iscale * x[i])
        l = Swift.max(-nmax, Swift.min(nmax &- 1, l))
        L[i] = Int8(truncatingIfNeeded: l)
        let w = x[i] * x[i]
        let fl = Float(l)
        sumlx += (w * x[i]) * fl
        suml2 += (w * fl) * fl
      }
      for _ in 0..<5 {
        var changed = 0
        for i in 0..<n {
          let w = x[i] * x[i]
          let li = Float(L[i])
          var slx = sumlx - (w * x[i]) * li
          if slx > 0 {
            var sl2 = suml2 - (w * li) * li
            var newL = nearestInt((x[i] * sl2) / slx)
            newL = Swift.max(-nmax, Swift.min(nmax &- 1, newL))
            if newL != Int32(L[i]) {
              let fl = Float(newL)
              slx += (w * x[i]) * fl
              sl2 += (w * fl) * fl
              if sl2 > 0 && (slx * slx) * suml2 > (sumlx * sumlx) * sl2 {
                L[i] = Int8(truncatingIfNeeded: newL)
                sumlx = slx
                suml2 = sl2
                changed += 1
              }
            }
          }
        }
        if changed == 0 { break }
      }
      for i in 0..<n { L[i] = L[i] &+ Int8(truncatingIfNeeded: nmax) }
      return suml2 > 0 ? sumlx / suml2 : 0
    }
    for i in 0..<n {
      var l = nearestInt(iscale * x[i])
      l = Swift.max(-nmax, Swift.min(nmax &- 1, l))
      L[i] = Int8(truncatingIfNeeded: l &+ nmax)
    }
    return 1 / iscale
  }

  /// `make_qkx2_quants`: an asymmetric scale and min (`value ≈ scale·L − theMin`, `L ∈ [0,
  /// nmax]`) by a grid of `nstep + 1` inverse scales around `nmax/(max − min)`, each refined by
  /// weighted least squares. The running best min feeds the next candidates, as in ggml.
  static func makeQkx2Quants(
    _ n: Int, _ nmax: Int32, _ x: UnsafePointer<Float>, _ weights: UnsafePointer<Float>,
    _ L: UnsafeMutablePointer<UInt8>, _ theMin: inout Float, _ Laux: UnsafeMutablePointer<UInt8>,
    rmin: Float, rdelta: Float, nstep: Int, useMad: Bool
  ) -> Float {
    var min = x[0]
    var max = x[0]
    var sumW = weights[0]
    var sumX = sumW * x[0]
    for i in 1..<n {
      if x[i] < min { min = x[i] }
      if x[i] > max { max = x[i] }
      let w = weights[i]
      sumW += w
      sumX += w * x[i]
    }
    if min > 0 { min = 0 }
    if max == min {
      for i in 0..<n { L[i] = 0 }
      theMin = -min
      return 0
    }
    let fnmax = Float(nmax)
    var iscale = fnmax / (max - min)
    var scale = 1 / iscale
    var bestError: Float = 0
    for i in 0..<n {
      let l = nearestInt(iscale * (x[i] - min))
      let li = UInt8(truncatingIfNeeded: Swift.max(0, Swift.min(nmax, l)))
      L[i] = li
      var diff = (scale * Float(li) + min) - x[i]
      diff = useMad ? abs(diff) : diff * diff
      bestError += weights[i] * diff
    }
    if nstep < 1 {
      theMin = -min
      return scale
    }
    for step in 0...nstep {
      iscale = ((rmin + rdelta * Float(step)) + fnmax) / (max - min)
      var sumL: Float = 0
      var sumL2: Float = 0
      var sumXL: Float = 0
      for i in 0..<n {
        var l = nearestInt(iscale * (x[i] - min))
        l = Swift.max(0, Swift.min(nmax, l))
        Laux[i] = UInt8(truncatingIfNeeded: l)
        let w = weights[i]
        let fl = Float(l)
        sumL += w * fl
        sumL2 += (w * fl) * fl
        sumXL += (w * fl) * x[i]
      }
      let D = sumW * sumL2 - sumL * sumL
      if D > 0 {
        var thisScale = (sumW * sumXL - sumX * sumL) / D
        var thisMin = (sumL2 * sumX - sumL * sumXL) / D
        if thisMin > 0 {
          thisMin = 0
          thisScale = sumXL / sumL2
        }
        var curError: Float = 0
        for i in 0..<n {
          var diff = (thisScale * Float(Laux[i]) + thisMin) - x[i]
          diff = useMad ? abs(diff) : diff * diff
          curError += weights[i] * diff
        }
        if curError < bestError {
          for i in 0..<n { L[i] = Laux[i] }
          bestError = curError
          scale = thisScale
          min = thisMin
        }
      }
    }
    theMin = -min
    return scale
  }

  /// `make_qkx3_quants`: as `makeQkx2Quants`, with the degenerate test `max <= min` and levels
  /// computed as `v > 0 ? nearest_int(min(v, nmax)) : 0` in the grid (safe against the ∞/NaN a
  /// running min near max can produce). `weights == nil` means `x²`.
  static func makeQkx3Quants(
    _ n: Int, _ nmax: Int32, _ x: UnsafePointer<Float>, _ weights: UnsafePointer<Float>?,
    _ L: UnsafeMutablePointer<UInt8>, _ theMin: inout Float, _ Laux: UnsafeMutablePointer<UInt8>,
    rmin: Float, rdelta: Float, nstep: Int, useMad: Bool
  ) -> Float {
    @inline(__always) func weight(_ i: Int) -> Float { weights.map { $0[i] } ?? x[i] * x[i] }
    var min = x[0]
    var max = x[0]
    var sumW = weight(0)
    var sumX = sumW * x[0]
    for i in 1..<n {
      if x[i] < min { min = x[i] }
      if x[i] > max { max = x[i] }
      let w = weight(i)
      sumW += w
      sumX += w * x[i]
    }
    if min > 0 { min = 0 }
    if max <= min {
      for i in 0..<n { L[i] = 0 }
      theMin = -min
      return 0
    }
    let fnmax = Float(nmax)
    var iscale = fnmax / (max - min)
    var scale = 1 / iscale
    var bestMad: Float = 0
    for i in 0..<n {
      let l = nearestInt(iscale * (x[i] - min))
      let li = UInt8(truncatingIfNeeded: Swift.max(0, Swift.min(nmax, l)))
      L[i] = li
      var diff = (scale * Float(li) + min) - x[i]
      diff = useMad ? abs(diff) : diff * diff
      bestMad += weight(i) * diff
    }
    if nstep < 1 {
      theMin = -min
      return scale
    }
    for step in 0...nstep {
      iscale = ((rmin + rdelta * Float(step)) + fnmax) / (max - min)
      var sumL: Float = 0
      var sumL2: Float = 0
      var sumXL: Float = 0
      for i in 0..<n {
        let v = iscale * (x[i] - min)
        let l: Int32 = v > 0 ? nearestInt(Swift.min(v, fnmax)) : 0
        Laux[i] = UInt8(truncatingIfNeeded: l)
        let w = weight(i)
        let fl = Float(l)
        sumL += w * fl
        sumL2 += (w * fl) * fl
        sumXL += (w * fl) * x[i]
      }
      let D = sumW * sumL2 - sumL * sumL
      if D > 0 {
        var thisScale = (sumW * sumXL - sumX * sumL) / D
        var thisMin = (sumL2 * sumX - sumL * sumXL) / D
        if thisMin > 0 {
          thisMin = 0
          thisScale = sumXL / sumL2
        }
        var mad: Float = 0
        for i in 0..<n {
          var diff = (thisScale * Float(Laux[i]) + thisMin) - x[i]
          diff = useMad ? abs(diff) : diff * diff
          mad += weight(i) * diff
        }
        if mad < bestMad {
          for i in 0..<n { L[i] = Laux[i] }
          bestMad = mad
          scale = thisScale
          min = thisMin
        }
      }
    }
    theMin = -min
    return scale
  }

  /// `make_qp_quants`: quantizes non-negative values (sub-block scales or mins) to `[0, nmax]`
  /// against weights `qw`, with a 9-point scale grid then up to five coordinate-descent passes.
  /// Levels are stored as `u8` with C's wrap, as ggml does.
  static func makeQpQuants(
    _ n: Int, _ nmax: Int32, _ x: UnsafePointer<Float>, _ L: UnsafeMutablePointer<UInt8>,
    _ qw: UnsafePointer<Float>
  ) -> Float {
    var max: Float = 0
    for i in 0..<n { max = max > x[i] ? max : x[i] }
    if max < groupMaxEps {
      for i in 0..<n { L[i] = 0 }
      return 0
    }
    let fnmax = Float(nmax)
    var iscale = fnmax / max
    for i in 0..<n { L[i] = UInt8(truncatingIfNeeded: nearestInt(iscale * x[i])) }
    let scale = 1 / iscale
    var bestMse: Float = 0
    for i in 0..<n {
      let diff = x[i] - scale * Float(L[i])
      bestMse += (qw[i] * diff) * diff
    }
    for step in -4...4 where step != 0 {
      let iscaleStep = (0.1 * Float(step) + fnmax) / max
      let scaleStep = 1 / iscaleStep
      var mse: Float = 0
      for i in 0..<n {
        let l = Swift.min(nmax, nearestInt(iscaleStep * x[i]))
        let diff = x[i] - scaleStep * Float(l)
        mse += (qw[i] * diff) * diff
      }
      if mse < bestMse {
        bestMse = mse
        iscale = iscaleStep
      }
    }
    var sumlx: Float = 0
    var suml2: Float = 0
    for i in 0..<n {
      let l = Swift.min(nmax, nearestInt(iscale * x[i]))
      L[i] = UInt8(truncatingIfNeeded: l)
      let w = qw[i]
      let fl = Float(l)
      sumlx += (w * x[i]) * fl
      suml2 += (w * fl) * fl
    }
    for _ in 0..<5 {
      var changed = 0
      for i in 0..<n {
        let w = qw[i]
        let li = Float(L[i])
        var slx = sumlx - (w * x[i]) * li
        var sl2 = suml2 - (w * li) * li
        if slx > 0 && sl2 > 0 {
          let newL = Swift.min(nmax, nearestInt((x[i] * sl2) / slx))
          if newL != Int32(L[i]) {
            let fl = Float(newL)
            slx += (w * x[i]) * fl
            sl2 += (w * fl) * fl
            if (slx * slx) * suml2 > (sumlx * sumlx) * sl2 {
              L[i] = UInt8(truncatingIfNeeded: newL)
              sumlx = slx
              suml2 = sl2
              changed += 1
            }
          }
        }
      }
      if changed == 0 { break }
    }
    return suml2 > 0 ? sumlx / suml2 : 0
  }

  // MARK: - Eight independent searches at once

  /// Eight lanes of floats: lane `k` carries sub-block `k`'s search.
  typealias Lanes = SIMD8<Float>
  /// Eight lanes of levels.
  typealias LaneLevels = SIMD8<Int32>

  /// `nearestInt` on every lane (the same bit trick, so the same wrap-around).
  @inline(__always)
  static func nearestInt(_ f: Lanes) -> LaneLevels {
    let v = f + Lanes(repeating: 12_582_912.0)
    return (unsafeBitCast(v, to: LaneLevels.self) & 0x007f_ffff) &- 0x0040_0000
  }

  /// `|x|` on every lane by clearing the sign bit, exactly as `fabsf`.
  @inline(__always)
  static func magnitude(_ x: Lanes) -> Lanes {
    unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7fff_ffff, to: Lanes.self)
  }

  /// `mask ? a : b` per lane. Always the vector form of `replacing(with:where:)`, which compiles
  /// to compare-and-blend; the scalar `with:` form and bit casts of the mask compiled to
  /// lane-by-lane code that cost more than the whole search.
  @inline(__always)
  static func select(_ mask: SIMDMask<LaneLevels>, _ a: LaneLevels, _ b: LaneLevels) -> LaneLevels {
    b.replacing(with: a, where: mask)
  }

  /// `mask ? a : b` per lane for floats.
  @inline(__always)
  static func select(_ mask: SIMDMask<LaneLevels>, _ a: Lanes, _ b: Lanes) -> Lanes {
    b.replacing(with: a, where: mask)
  }

  /// `-x` on every lane by flipping the sign bit, as C's unary minus does. (The standard
  /// library's SIMD prefix minus computes `0 - x`, which turns −0 into +0 instead of +0 into −0:
  /// a visible difference once a min is stored as f16.)
  @inline(__always)
  static func negate(_ x: Lanes) -> Lanes {
    unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) ^ 0x8000_0000, to: Lanes.self)
  }

  /// `MAX(0, MIN(nmax, l))` on every lane.
  @inline(__always)
  static func clampLevels(_ l: LaneLevels, _ nmax: Int32) -> LaneLevels {
    let top = LaneLevels(repeating: nmax)
    let capped = select(top .< l, top, l)
    return select(capped .< LaneLevels.zero, .zero, capped)
  }

  /// `make_qkx2_quants` (`qkx3 == false`) or `make_qkx3_quants` (`qkx3 == true`) run on eight
  /// independent sub-blocks at once, one per SIMD lane. Element `i` of every sub-block is
  /// `x[i]` (lane `k` = sub-block `k`), with weights `w[i]`; levels come back the same way in
  /// `L`. Each lane performs exactly the scalar sequence of IEEE operations (sums stay
  /// sequential within a lane; only independent sub-blocks run side by side), and branches
  /// become per-lane selects, so the results are bit-identical to the scalar functions — while
  /// the eight sequential sum chains overlap instead of waiting on each other. Requires
  /// `nstep ≥ 1` and explicit weights, as every K-quant caller has.
  static func makeQkxQuantsLanes(
    _ n: Int, _ nmax: Int32, _ x: UnsafePointer<Lanes>, _ w: UnsafePointer<Lanes>,
    _ L: UnsafeMutablePointer<LaneLevels>, _ Laux: UnsafeMutablePointer<LaneLevels>,
    rmin: Float, rdelta: Float, nstep: Int, useMad: Bool, qkx3: Bool
  ) -> (scale: Lanes, theMin: Lanes) {
    var mn = x[0]
    var mx = x[0]
    var sumW = w[0]
    var sumX = sumW * x[0]
    for i in 1..<n {
      let xi = x[i]
      mn = select(xi .< mn, xi, mn)
      mx = select(xi .> mx, xi, mx)
      let wi = w[i]
      sumW += wi
      sumX += wi * xi
    }
    mn = select(mn .> Lanes.zero, .zero, mn)
    let degenerate = qkx3 ? (mx .<= mn) : (mx .== mn)
    let initialMin = mn
    let fnmax = Lanes(repeating: Float(nmax))
    var scale = Lanes(repeating: 1) / (fnmax / (mx - mn))
    let iscale0 = fnmax / (mx - mn)
    var best = Lanes.zero
    for i in 0..<n {
      let l = clampLevels(nearestInt(iscale0 * (x[i] - mn)), nmax)
      L[i] = l
      var diff = (scale * Lanes(l) + mn) - x[i]
      diff = useMad ? magnitude(diff) : diff * diff
      best += w[i] * diff
    }
    for step in 0...nstep {
      let iscale = Lanes(repeating: (rmin + rdelta * Float(step)) + Float(nmax)) / (mx - mn)
      var sumL = Lanes.zero
      var sumL2 = Lanes.zero
      var sumXL = Lanes.zero
      for i in 0..<n {
        let xi = x[i]
        let l: LaneLevels
        if qkx3 {
          let v = iscale * (xi - mn)
          let capped = select(fnmax .< v, fnmax, v)
          l = select(v .> Lanes.zero, nearestInt(capped), .zero)
        } else {
          l = clampLevels(nearestInt(iscale * (xi - mn)), nmax)
        }
        Laux[i] = l
        let fl = Lanes(l)
        let wl = w[i] * fl
        sumL += wl
        sumL2 += wl * fl
        sumXL += wl * xi
      }
      let D = sumW * sumL2 - sumL * sumL
      let usable = D .> Lanes.zero
      if !any(usable) { continue }
      var thisScale = (sumW * sumXL - sumX * sumL) / D
      var thisMin = (sumL2 * sumX - sumL * sumXL) / D
      let positive = thisMin .> Lanes.zero
      thisMin = select(positive, .zero, thisMin)
      thisScale = select(positive, sumXL / sumL2, thisScale)
      var cur = Lanes.zero
      for i in 0..<n {
        var diff = (thisScale * Lanes(Laux[i]) + thisMin) - x[i]
        diff = useMad ? magnitude(diff) : diff * diff
        cur += w[i] * diff
      }
      let better = usable .& (cur .< best)
      if any(better) {
        for i in 0..<n { L[i] = select(better, Laux[i], L[i]) }
        best = select(better, cur, best)
        scale = select(better, thisScale, scale)
        mn = select(better, thisMin, mn)
      }
    }
    for i in 0..<n { L[i] = select(degenerate, .zero, L[i]) }
    scale = select(degenerate, .zero, scale)
    mn = select(degenerate, initialMin, mn)
    return (scale, negate(mn))
  }

  /// `make_qx_quants(n, nmax, x, L, rmse_type = 1, qw)` on eight independent groups at once,
  /// one per lane, laid out as in `makeQkxQuantsLanes` (`w == nil` means weights `x²`). Levels
  /// come back as `L[i] ∈ [0, 2·nmax−1]` per lane; the scales are returned. Bit-identical per
  /// lane to `makeQxQuants(…, rmseType: 1, …)`.
  static func makeQxQuantsLanes(
    _ n: Int, _ nmax: Int32, _ x: UnsafePointer<Lanes>, _ w: UnsafePointer<Lanes>?,
    _ L: UnsafeMutablePointer<LaneLevels>, _ Laux: UnsafeMutablePointer<LaneLevels>
  ) -> Lanes {
    var amax = Lanes.zero
    var mx = Lanes.zero
    for i in 0..<n {
      let ax = magnitude(x[i])
      let larger = ax .> amax
      amax = select(larger, ax, amax)
      mx = select(larger, x[i], mx)
    }
    let zero = amax .< Lanes(repeating: groupMaxEps)
    let low = LaneLevels(repeating: -nmax)
    let high = LaneLevels(repeating: nmax &- 1)
    let offset = LaneLevels(repeating: nmax)
    @inline(__always) func level(_ iscale: Lanes, _ xi: Lanes) -> LaneLevels {
      let l = nearestInt(iscale * xi)
      let capped = select(high .< l, high, l)
      return select(capped .< low, low, capped)
    }
    @inline(__always) func weight(_ i: Int) -> Lanes { w.map { $0[i] } ?? x[i] * x[i] }

    var iscale = Lanes(repeating: Float(-nmax)) / mx
    var sumlx = Lanes.zero
    var suml2 = Lanes.zero
    for i in 0..<n {
      let l = level(iscale, x[i])
      L[i] = l &+ offset
      let wi = weight(i)
      let fl = Lanes(l)
      sumlx += (wi * x[i]) * fl
      suml2 += (wi * fl) * fl
    }
    var scale = select(suml2 .!= Lanes.zero, sumlx / suml2, .zero)
    var best = scale * sumlx
    for step in -9...9 where step != 0 {
      iscale = Lanes(repeating: -(Float(nmax) + 0.1 * Float(step))) / mx
      sumlx = .zero
      suml2 = .zero
      for i in 0..<n {
        let l = level(iscale, x[i])
        Laux[i] = l
        let wi = weight(i)
        let fl = Lanes(l)
        sumlx += (wi * x[i]) * fl
        suml2 += (wi * fl) * fl
      }
      let better = (suml2 .> Lanes.zero) .& (sumlx * sumlx .> best * suml2)
      if any(better) {
        for i in 0..<n { L[i] = select(better, Laux[i] &+ offset, L[i]) }
        let newScale = sumlx / suml2
        scale = select(better, newScale, scale)
        best = select(better, newScale * sumlx, best)
      }
    }
    for i in 0..<n { L[i] = select(zero, .zero, L[i]) }
    return select(zero, .zero, scale)
  }

  /// `make_q3_quants(n, nmax, x, L, do_rmse = true)` on eight independent groups at once, one
  /// per lane. A pass that changes nothing leaves a lane's state as it was, so running further
  /// passes on such a lane (until every lane is settled or five passes are done) changes nothing
  /// either: the results are bit-identical per lane to `makeQ3Quants(…, doRmse: true)`.
  static func makeQ3QuantsLanes(
    _ n: Int, _ nmax: Int32, _ x: UnsafePointer<Lanes>, _ L: UnsafeMutablePointer<LaneLevels>
  ) -> Lanes {
    var amax = Lanes.zero
    var mx = Lanes.zero
    for i in 0..<n {
      let ax = magnitude(x[i])
      let larger = ax .> amax
      amax = select(larger, ax, amax)
      mx = select(larger, x[i], mx)
    }
    let zero = amax .< Lanes(repeating: groupMaxEps)
    let low = LaneLevels(repeating: -nmax)
    let high = LaneLevels(repeating: nmax &- 1)
    @inline(__always) func clamp(_ l: LaneLevels) -> LaneLevels {
      let capped = select(high .< l, high, l)
      return select(capped .< low, low, capped)
    }
    let iscale = Lanes(repeating: Float(-nmax)) / mx
    var sumlx = Lanes.zero
    var suml2 = Lanes.zero
    for i in 0..<n {
      let l = clamp(nearestInt(iscale * x[i]))
      L[i] = l
      let w = x[i] * x[i]
      let fl = Lanes(l)
      sumlx += (w * x[i]) * fl
      suml2 += (w * fl) * fl
    }
    for _ in 0..<5 {
      var changed = SIMDMask<LaneLevels>(repeating: false)
      for i in 0..<n {
        let xi = x[i]
        let w = xi * xi
        let li = Lanes(L[i])
        var slx = sumlx - (w * xi) * li
        let positive = slx .> Lanes.zero
        var sl2 = suml2 - (w * li) * li
        let newL = clamp(nearestInt((xi * sl2) / slx))
        let differs = positive .& (newL .!= L[i])
        let fl = Lanes(newL)
        slx = slx + (w * xi) * fl
        sl2 = sl2 + (w * fl) * fl
        let accept = differs .& (sl2 .> Lanes.zero) .& ((slx * slx) * suml2 .> (sumlx * sumlx) * sl2)
        L[i] = select(accept, newL, L[i])
        sumlx = select(accept, slx, sumlx)
        suml2 = select(accept, sl2, suml2)
        // swift-format-ignore: NoAssignmentInExpressions
        // (a false positive: swift-format 6.3 reads `x = x .| y` as an assignment used as a value)
        changed = changed .| accept
      }
      if !any(changed) { break }
    }
    let offset = LaneLevels(repeating: nmax)
    for i in 0..<n { L[i] = select(zero, .zero, L[i] &+ offset) }
    let scale = select(suml2 .> Lanes.zero, sumlx / suml2, .zero)
    return select(zero, .zero, scale)
  }

  /// Gathers element `i` of eight groups `stride` apart into lane vectors: `out[i][k] =
  /// src[k·stride + i]` for `i < n`.
  @inline(__always)
  static func transpose(_ n: Int, _ src: UnsafePointer<Float>, stride: Int, into out: UnsafeMutablePointer<Lanes>) {
    for i in 0..<n {
      out[i] = Lanes(
        src[i], src[stride + i], src[2 * stride + i], src[3 * stride + i], src[4 * stride + i], src[5 * stride + i],
        src[6 * stride + i], src[7 * stride + i])
    }
  }

  /// Scatters lane levels back: `dst[k·stride + i] = levels[i][k]` (truncated to a byte).
  @inline(__always)
  static func untranspose(
    _ n: Int, _ levels: UnsafePointer<LaneLevels>, stride: Int, into dst: UnsafeMutablePointer<UInt8>
  ) {
    for k in 0..<8 {
      for i in 0..<n { dst[k * stride + i] = UInt8(truncatingIfNeeded: levels[i][k]) }
    }
  }
}
