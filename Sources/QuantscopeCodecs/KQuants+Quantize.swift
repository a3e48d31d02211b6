import QuantscopeFormats

/// Quantizers take `rows × rowLength` floats with `rowLength` a whole number of 256-element
/// super-blocks (callers size buffers with `GGMLType.byteCount(elements:)`), as ggml asserts.
extension KQuants {
  /// This family's quantizers: `ggml_quantize_chunk` for Q2_K…Q6_K (the `_ref` path without an
  /// importance vector, the per-row `_impl` path with one), and `quantize_row_q8_K_ref` for the
  /// intermediate type Q8_K (which ignores importance).
  public static let quantizers: [BlockQuantizer] = [
    BlockQuantizer(type: .q2_K, quantize: { quantizeQ2_K($0, $1, $2, $3, $4) }),
    BlockQuantizer(type: .q3_K, quantize: { quantizeQ3_K($0, $1, $2, $3, $4) }),
    BlockQuantizer(type: .q4_K, quantize: { quantizeQ4_K($0, $1, $2, $3, $4) }),
    BlockQuantizer(type: .q5_K, quantize: { quantizeQ5_K($0, $1, $2, $3, $4) }),
    BlockQuantizer(type: .q6_K, quantize: { quantizeQ6_K($0, $1, $2, $3, $4) }),
    BlockQuantizer(type: .q8_K, quantize: { quantizeQ8_K($0, $1, $2, $3, $4) }),
  ]

  /// Working arrays of one super-block, allocated once per quantizer call.
  struct Scratch {
    /// Levels of the 256 elements (viewed as `Int8` or `UInt8` as the type's C code declares them).
    let L: UnsafeMutableRawPointer
    /// Candidate levels of one sub-block.
    let Laux: UnsafeMutablePointer<UInt8>
    /// Weights of the 256 elements.
    let weights: UnsafeMutablePointer<Float>
    /// Sub-block scales (16).
    let scales: UnsafeMutablePointer<Float>
    /// Sub-block mins (16).
    let mins: UnsafeMutablePointer<Float>
    /// Sub-block weight sums (16).
    let sw: UnsafeMutablePointer<Float>
    /// Quantized sub-block scales (16).
    let Ls: UnsafeMutableRawPointer
    /// Quantized sub-block mins (16).
    let Lm: UnsafeMutablePointer<UInt8>
    /// Transposed values, weights, levels and candidate levels for the eight-lane searches.
    let laneX: UnsafeMutablePointer<QuantizationSearch.Lanes>
    let laneW: UnsafeMutablePointer<QuantizationSearch.Lanes>
    let laneL: UnsafeMutablePointer<QuantizationSearch.LaneLevels>
    let laneAux: UnsafeMutablePointer<QuantizationSearch.LaneLevels>

    var L8: UnsafeMutablePointer<Int8> { L.assumingMemoryBound(to: Int8.self) }
    var Lu: UnsafeMutablePointer<UInt8> { L.assumingMemoryBound(to: UInt8.self) }

    /// Runs `body` with fresh scratch memory.
    static func with(_ body: (Scratch) -> Void) {
      let byteCount = 256 + 32 + 16 + 16
      let floatCount = 256 + 16 * 3
      let bytes = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 16)
      let floats = UnsafeMutablePointer<Float>.allocate(capacity: floatCount)
      let lanes = UnsafeMutablePointer<QuantizationSearch.Lanes>.allocate(capacity: 64)
      let levels = UnsafeMutablePointer<QuantizationSearch.LaneLevels>.allocate(capacity: 64)
      defer {
        bytes.deallocate()
        floats.deallocate()
        lanes.deallocate()
        levels.deallocate()
      }
      bytes.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
      floats.initialize(repeating: 0, count: floatCount)
      lanes.initialize(repeating: .zero, count: 64)
      levels.initialize(repeating: .zero, count: 64)
      body(
        Scratch(
          L: bytes, Laux: (bytes + 256).assumingMemoryBound(to: UInt8.self), weights: floats,
          scales: floats + 256, mins: floats + 272, sw: floats + 288, Ls: bytes + 288,
          Lm: (bytes + 304).assumingMemoryBound(to: UInt8.self), laneX: lanes, laneW: lanes + 32,
          laneL: levels, laneAux: levels + 32))
    }

    /// Runs `make_qkx2_quants` / `make_qkx3_quants` on the eight consecutive `n`-element
    /// sub-blocks at `x` (weights at `w`, same layout) side by side, writing their levels to
    /// `L` (same layout) and their scales and mins to `scales[0..<8]` / `mins[0..<8]`.
    func searchEight(
      _ n: Int, _ nmax: Int32, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ L: UnsafeMutablePointer<UInt8>,
      scales: UnsafeMutablePointer<Float>, mins: UnsafeMutablePointer<Float>,
      rmin: Float, rdelta: Float, nstep: Int, useMad: Bool, qkx3: Bool
    ) {
      QuantizationSearch.transpose(n, x, stride: n, into: laneX)
      QuantizationSearch.transpose(n, w, stride: n, into: laneW)
      let (scale, theMin) = QuantizationSearch.makeQkxQuantsLanes(
        n, nmax, laneX, laneW, laneL, laneAux, rmin: rmin, rdelta: rdelta, nstep: nstep, useMad: useMad, qkx3: qkx3)
      for k in 0..<8 {
        scales[k] = scale[k]
        mins[k] = theMin[k]
      }
      QuantizationSearch.untranspose(n, laneL, stride: n, into: L)
    }

    /// Runs `make_qx_quants(n, nmax, …, rmse_type = 1, w)` on the eight consecutive `n`-element
    /// groups at `x` side by side (`w == nil`: weights `x²`), writing levels to `L` and scales to
    /// `scales[0..<8]`.
    func qxEight(
      _ n: Int, _ nmax: Int32, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>?, _ L: UnsafeMutablePointer<UInt8>,
      scales: UnsafeMutablePointer<Float>
    ) {
      QuantizationSearch.transpose(n, x, stride: n, into: laneX)
      if let w { QuantizationSearch.transpose(n, w, stride: n, into: laneW) }
      let scale = QuantizationSearch.makeQxQuantsLanes(
        n, nmax, laneX, w == nil ? nil : UnsafePointer(laneW), laneL, laneAux)
      for k in 0..<8 { scales[k] = scale[k] }
      QuantizationSearch.untranspose(n, laneL, stride: n, into: L)
    }
  }

  /// `Σ_{256} x²` in ggml's order.
  @inline(__always)
  static func sumSquares256(_ x: UnsafePointer<Float>) -> Float {
    var s: Float = 0
    for j in 0..<256 { s += x[j] * x[j] }
    return s
  }

  /// Calls `body(x, importance, y)` for each super-block: over the whole chunk without
  /// importance (ggml's `_ref` path treats it as one long row), row by row with it (the
  /// importance vector restarts at every row).
  @inline(__always)
  static func forEachSuperBlock(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer, blockBytes: Int,
    _ body: (UnsafePointer<Float>, UnsafePointer<Float>?, UnsafeMutableRawPointer) -> Void
  ) {
    let perRow = rowLength / 256
    for r in 0..<rows {
      for i in 0..<perRow {
        let b = r * perRow + i
        body(source + 256 * b, importance.map { $0 + 256 * i }, destination + blockBytes * b)
      }
    }
  }

  /// Packs 256 two-bit levels as Q2_K/Q3_K do: `qs[32h + l]` holds `L[128h + l + 32k]` at bits `2k`.
  @inline(__always)
  static func packTwoBit(_ L: UnsafeMutablePointer<UInt8>, _ qs: UnsafeMutableRawPointer) {
    for h in 0..<2 {
      for l in 0..<32 {
        let j = 128 * h + l
        let b = L[j] | (L[j + 32] &<< 2) | (L[j + 64] &<< 4) | (L[j + 96] &<< 6)
        qs.storeBytes(of: b, toByteOffset: 32 * h + l, as: UInt8.self)
      }
    }
  }

  // MARK: - Q2_K

  /// Quantizes to Q2_K.
  public static func quantizeQ2_K(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    Scratch.with { s in
      forEachSuperBlock(source, rows, rowLength, importance, destination, blockBytes: 84) { x, qw, y in
        let L = s.Lu
        let scaleBytes = y
        if let qw {
          let sigma2 = sumSquares256(x) / 256
          for j in 0..<16 {
            let xs = x + 16 * j
            let ws = s.weights + 16 * j
            for l in 0..<16 { ws[l] = qw[16 * j + l] * (sigma2 + xs[l] * xs[l]).squareRoot() }
            var sw: Float = 0
            for l in 0..<16 { sw += ws[l] }
            s.sw[j] = sw
          }
          for g in 0..<2 {
            s.searchEight(
              16, 3, x + 128 * g, s.weights + 128 * g, L + 128 * g, scales: s.scales + 8 * g, mins: s.mins + 8 * g,
              rmin: -0.9, rdelta: 0.05, nstep: 36, useMad: false, qkx3: true)
          }
          let Ls = s.Ls.assumingMemoryBound(to: UInt8.self)
          let dm = QuantizationSearch.makeQpQuants(16, 15, s.scales, Ls, s.sw)
          let mm = QuantizationSearch.makeQpQuants(16, 15, s.mins, s.Lm, s.sw)
          y.storeBytes(of: Half.fromFloat(dm), toByteOffset: 80, as: UInt16.self)
          y.storeBytes(of: Half.fromFloat(mm), toByteOffset: 82, as: UInt16.self)
          for j in 0..<16 {
            scaleBytes.storeBytes(of: Ls[j] | (s.Lm[j] &<< 4), toByteOffset: j, as: UInt8.self)
          }
        } else {
          var maxScale: Float = 0
          var maxMin: Float = 0
          for l in 0..<256 { s.weights[l] = abs(x[l]) }
          for g in 0..<2 {
            s.searchEight(
              16, 3, x + 128 * g, s.weights + 128 * g, L + 128 * g, scales: s.scales + 8 * g, mins: s.mins + 8 * g,
              rmin: -0.5, rdelta: 0.1, nstep: 15, useMad: true, qkx3: false)
          }
          for j in 0..<16 {
            if s.scales[j] > maxScale { maxScale = s.scales[j] }
            if s.mins[j] > maxMin { maxMin = s.mins[j] }
          }
          if maxScale > 0 {
            let iscale = 15 / maxScale
            for j in 0..<16 {
              let l = QuantizationSearch.nearestInt(iscale * s.scales[j])
              scaleBytes.storeBytes(of: UInt8(truncatingIfNeeded: l), toByteOffset: j, as: UInt8.self)
            }
            y.storeBytes(of: Half.fromFloat(maxScale / 15), toByteOffset: 80, as: UInt16.self)
          } else {
            for j in 0..<16 { scaleBytes.storeBytes(of: 0, toByteOffset: j, as: UInt8.self) }
            y.storeBytes(of: Half.fromFloat(0), toByteOffset: 80, as: UInt16.self)
          }
          if maxMin > 0 {
            let iscale = 15 / maxMin
            for j in 0..<16 {
              let l = QuantizationSearch.nearestInt(iscale * s.mins[j])
              let old = scaleBytes.load(fromByteOffset: j, as: UInt8.self)
              scaleBytes.storeBytes(of: old | UInt8(truncatingIfNeeded: l &<< 4), toByteOffset: j, as: UInt8.self)
            }
            y.storeBytes(of: Half.fromFloat(maxMin / 15), toByteOffset: 82, as: UInt16.self)
          } else {
            y.storeBytes(of: Half.fromFloat(0), toByteOffset: 82, as: UInt16.self)
          }
        }
        // Requantize against the stored (f16-rounded) scales.
        let dAll = Half.toFloat(y.loadUnaligned(fromByteOffset: 80, as: UInt16.self))
        let mAll = Half.toFloat(y.loadUnaligned(fromByteOffset: 82, as: UInt16.self))
        for j in 0..<16 {
          let sc = scaleBytes.load(fromByteOffset: j, as: UInt8.self)
          let d = dAll * Float(sc & 0x0f)
          if d == 0 { continue }
          let dm = mAll * Float(sc &>> 4)
          for ii in 0..<16 {
            let l = QuantizationSearch.nearestInt((x[16 * j + ii] + dm) / d)
            L[16 * j + ii] = UInt8(truncatingIfNeeded: Swift.max(0, Swift.min(3, l)))
          }
        }
        packTwoBit(L, y + 16)
      }
    }
  }

  // MARK: - Q3_K

  /// Quantizes to Q3_K.
  public static func quantizeQ3_K(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    Scratch.with { s in
      forEachSuperBlock(source, rows, rowLength, importance, destination, blockBytes: 110) { x, qw, y in
        let L = s.L8
        let scaleBytes = y + 96
        for k in 0..<12 { scaleBytes.storeBytes(of: 0, toByteOffset: k, as: UInt8.self) }
        /// ORs the six-bit `l` of sub-block `j` into the packed scale bytes.
        func packScale(_ j: Int, _ l: Int32) {
          let low = UInt8(truncatingIfNeeded: l & 0x0f)
          if j < 8 {
            scaleBytes.storeBytes(of: low, toByteOffset: j, as: UInt8.self)
          } else {
            let old = scaleBytes.load(fromByteOffset: j - 8, as: UInt8.self)
            scaleBytes.storeBytes(of: old | (low &<< 4), toByteOffset: j - 8, as: UInt8.self)
          }
          let high = UInt8(truncatingIfNeeded: (l &>> 4) &<< Int32(2 * (j / 4)))
          let old = scaleBytes.load(fromByteOffset: 8 + j % 4, as: UInt8.self)
          scaleBytes.storeBytes(of: old | high, toByteOffset: 8 + j % 4, as: UInt8.self)
        }
        if let qw {
          let sigma2 = 2 * sumSquares256(x) / 256
          for j in 0..<16 {
            let xs = x + 16 * j
            let ws = s.weights + 16 * j
            for l in 0..<16 { ws[l] = qw[16 * j + l] * (sigma2 + xs[l] * xs[l]).squareRoot() }
            var sw: Float = 0
            for l in 0..<16 { sw += ws[l] }
            s.sw[j] = sw
          }
          for g in 0..<2 {
            s.qxEight(16, 4, x + 128 * g, s.weights + 128 * g, s.Lu + 128 * g, scales: s.scales + 8 * g)
          }
          let Ls = s.Ls.assumingMemoryBound(to: Int8.self)
          let dBlock = QuantizationSearch.makeQxQuants(16, 32, s.scales, Ls, rmseType: 1, weights: s.sw)
          for j in 0..<16 { packScale(j, Int32(Ls[j])) }
          y.storeBytes(of: Half.fromFloat(dBlock), toByteOffset: 108, as: UInt16.self)
        } else {
          var maxScale: Float = 0
          var amax: Float = 0
          for g in 0..<2 {
            QuantizationSearch.transpose(16, x + 128 * g, stride: 16, into: s.laneX)
            let scales = QuantizationSearch.makeQ3QuantsLanes(16, 4, s.laneX, s.laneL)
            for k in 0..<8 { s.scales[8 * g + k] = scales[k] }
            QuantizationSearch.untranspose(16, s.laneL, stride: 16, into: s.Lu + 128 * g)
          }
          for j in 0..<16 {
            let scale = abs(s.scales[j])
            if scale > amax {
              amax = scale
              maxScale = s.scales[j]
            }
          }
          if maxScale != 0 {
            let iscale = -32 / maxScale
            for j in 0..<16 {
              let l8 = Int8(truncatingIfNeeded: QuantizationSearch.nearestInt(iscale * s.scales[j]))
              let l = Swift.max(-32, Swift.min(31, Int32(l8))) + 32
              packScale(j, l)
            }
            y.storeBytes(of: Half.fromFloat(1 / iscale), toByteOffset: 108, as: UInt16.self)
          } else {
            y.storeBytes(of: Half.fromFloat(0), toByteOffset: 108, as: UInt16.self)
          }
        }
        // Requantize with the stored scales; note the division (not a reciprocal multiply).
        let dAll = Half.toFloat(y.loadUnaligned(fromByteOffset: 108, as: UInt16.self))
        for j in 0..<16 {
          let sc = Int8(truncatingIfNeeded: q3Scale(scaleBytes, j))
          let d = dAll * Float(sc)
          if d == 0 { continue }
          for ii in 0..<16 {
            let l = QuantizationSearch.nearestInt(x[16 * j + ii] / d)
            L[16 * j + ii] = Int8(truncatingIfNeeded: Swift.max(-4, Swift.min(3, l)) + 4)
          }
        }
        // High bits: bit n/32 of hmask[n % 32] is set for levels above 3, which then lose 4.
        // Levels are in [0, 7] here, so "above 3" is bit 2 and "minus 4" is `& 3` (branch-free).
        let Lu = s.Lu
        for m in 0..<32 {
          var h: UInt8 = 0
          for b in 0..<8 {
            let l = Lu[32 * b + m]
            h |= ((l &>> 2) & 1) &<< UInt8(b)
            Lu[32 * b + m] = l & 3
          }
          y.storeBytes(of: h, toByteOffset: m, as: UInt8.self)
        }
        packTwoBit(Lu, y + 32)
      }
    }
  }

  // MARK: - Q4_K and Q5_K

  /// Quantizes to Q4_K.
  public static func quantizeQ4_K(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    quantizeQ45_K(source, rows, rowLength, importance, destination, fiveBit: false)
  }

  /// Quantizes to Q5_K.
  public static func quantizeQ5_K(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    quantizeQ45_K(source, rows, rowLength, importance, destination, fiveBit: true)
  }

  /// The shared Q4_K/Q5_K quantizer; the two differ in `nmax`, the reference search grid, the
  /// (no-op) clamp of imatrix scales and the packing of the fifth bit.
  @inline(__always)
  static func quantizeQ45_K(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer, fiveBit: Bool
  ) {
    let nmax: Int32 = fiveBit ? 31 : 15
    let blockBytes = fiveBit ? 176 : 144
    Scratch.with { s in
      forEachSuperBlock(source, rows, rowLength, importance, destination, blockBytes: blockBytes) { x, qw, y in
        let L = s.Lu
        let Ls = s.Ls.assumingMemoryBound(to: UInt8.self)
        let scaleBytes = y + 4
        if let qw {
          let sigma2 = 2 * sumSquares256(x) / 256
          for j in 0..<8 {
            let xs = x + 32 * j
            let ws = s.weights + 32 * j
            for l in 0..<32 { ws[l] = qw[32 * j + l] * (sigma2 + xs[l] * xs[l]).squareRoot() }
            var sw: Float = 0
            for l in 0..<32 { sw += ws[l] }
            s.sw[j] = sw
          }
          s.searchEight(
            32, nmax, x, s.weights, L, scales: s.scales, mins: s.mins, rmin: -0.9, rdelta: 0.05, nstep: 36,
            useMad: false, qkx3: true)
          let dBlock = QuantizationSearch.makeQpQuants(8, 63, s.scales, Ls, s.sw)
          let mBlock = QuantizationSearch.makeQpQuants(8, 63, s.mins, s.Lm, s.sw)
          if fiveBit {
            for j in 0..<8 {
              Ls[j] = Swift.min(63, Ls[j])
              s.Lm[j] = Swift.min(63, s.Lm[j])
            }
          }
          packScalesK4(Ls, s.Lm, scaleBytes)
          y.storeBytes(of: Half.fromFloat(dBlock), as: UInt16.self)
          y.storeBytes(of: Half.fromFloat(mBlock), toByteOffset: 2, as: UInt16.self)
        } else {
          var maxScale: Float = 0
          var maxMin: Float = 0
          for j in 0..<8 {
            let xs = x + 32 * j
            var sumX2: Float = 0
            for l in 0..<32 { sumX2 += xs[l] * xs[l] }
            let avX = (sumX2 / 32).squareRoot()
            for l in 0..<32 { s.weights[32 * j + l] = avX + abs(xs[l]) }
          }
          s.searchEight(
            32, nmax, x, s.weights, L, scales: s.scales, mins: s.mins, rmin: fiveBit ? -0.5 : -1.0, rdelta: 0.1,
            nstep: fiveBit ? 15 : 20, useMad: false, qkx3: false)
          for j in 0..<8 {
            if s.scales[j] > maxScale { maxScale = s.scales[j] }
            if s.mins[j] > maxMin { maxMin = s.mins[j] }
          }
          let invScale: Float = maxScale > 0 ? 63 / maxScale : 0
          let invMin: Float = maxMin > 0 ? 63 / maxMin : 0
          for j in 0..<8 {
            // The u8 store wraps before the clamp, as in ggml.
            Ls[j] = Swift.min(63, UInt8(truncatingIfNeeded: QuantizationSearch.nearestInt(invScale * s.scales[j])))
            s.Lm[j] = Swift.min(63, UInt8(truncatingIfNeeded: QuantizationSearch.nearestInt(invMin * s.mins[j])))
          }
          packScalesK4(Ls, s.Lm, scaleBytes)
          y.storeBytes(of: Half.fromFloat(maxScale / 63), as: UInt16.self)
          y.storeBytes(of: Half.fromFloat(maxMin / 63), toByteOffset: 2, as: UInt16.self)
        }
        let dAll = Half.toFloat(y.loadUnaligned(as: UInt16.self))
        let mAll = Half.toFloat(y.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
        for j in 0..<8 {
          let (sc, m) = scaleMinK4(j, scaleBytes)
          let d = dAll * Float(sc)
          if d == 0 { continue }
          let dm = mAll * Float(m)
          for ii in 0..<32 {
            let l = QuantizationSearch.nearestInt((x[32 * j + ii] + dm) / d)
            L[32 * j + ii] = UInt8(truncatingIfNeeded: Swift.max(0, Swift.min(nmax, l)))
          }
        }
        if fiveBit {
          let qh = y + 16
          let ql = y + 48
          for j in 0..<32 { qh.storeBytes(of: 0, toByteOffset: j, as: UInt8.self) }
          for c in 0..<4 {
            let m1 = UInt8(1) &<< UInt8(2 * c)
            let m2 = UInt8(2) &<< UInt8(2 * c)
            // Levels are in [0, 31]: "above 15" is bit 4 and "minus 16" is `& 15`.
            for j in 0..<32 {
              let l1 = L[64 * c + j]
              let l2 = L[64 * c + j + 32]
              var h = qh.load(fromByteOffset: j, as: UInt8.self)
              h |= (l1 &>> 4) != 0 ? m1 : 0
              h |= (l2 &>> 4) != 0 ? m2 : 0
              qh.storeBytes(of: h, toByteOffset: j, as: UInt8.self)
              ql.storeBytes(of: (l1 & 15) | ((l2 & 15) &<< 4), toByteOffset: 32 * c + j, as: UInt8.self)
            }
          }
        } else {
          let q = y + 16
          for c in 0..<4 {
            for l in 0..<32 {
              q.storeBytes(of: L[64 * c + l] | (L[64 * c + l + 32] &<< 4), toByteOffset: 32 * c + l, as: UInt8.self)
            }
          }
        }
      }
    }
  }

  /// Packs eight six-bit scales and mins into the 12 bytes Q4_K/Q5_K store (the inverse of
  /// `get_scale_min_k4`), with ggml's u8 arithmetic.
  @inline(__always)
  static func packScalesK4(
    _ Ls: UnsafeMutablePointer<UInt8>, _ Lm: UnsafeMutablePointer<UInt8>, _ q: UnsafeMutableRawPointer
  ) {
    for j in 0..<8 {
      let ls = Ls[j]
      let lm = Lm[j]
      if j < 4 {
        q.storeBytes(of: ls, toByteOffset: j, as: UInt8.self)
        q.storeBytes(of: lm, toByteOffset: j + 4, as: UInt8.self)
      } else {
        q.storeBytes(of: (ls & 0x0f) | ((lm & 0x0f) &<< 4), toByteOffset: j + 4, as: UInt8.self)
        let a = q.load(fromByteOffset: j - 4, as: UInt8.self)
        q.storeBytes(of: a | ((ls &>> 4) &<< 6), toByteOffset: j - 4, as: UInt8.self)
        let b = q.load(fromByteOffset: j, as: UInt8.self)
        q.storeBytes(of: b | ((lm &>> 4) &<< 6), toByteOffset: j, as: UInt8.self)
      }
    }
  }

  // MARK: - Q6_K

  /// Quantizes to Q6_K (with importance, the raw importance slice weights `make_qx_quants`).
  public static func quantizeQ6_K(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    Scratch.with { s in
      forEachSuperBlock(source, rows, rowLength, importance, destination, blockBytes: 210) { x, qw, y in
        let L = s.L8
        var maxScale: Float = 0
        var maxAbsScale: Float = 0
        for g in 0..<2 {
          s.qxEight(16, 32, x + 128 * g, qw.map { $0 + 128 * g }, s.Lu + 128 * g, scales: s.scales + 8 * g)
        }
        for ib in 0..<16 {
          let scale = s.scales[ib]
          let absScale = abs(scale)
          if absScale > maxAbsScale {
            maxAbsScale = absScale
            maxScale = scale
          }
        }
        if maxAbsScale < QuantizationSearch.groupMaxEps {
          y.initializeMemory(as: UInt8.self, repeating: 0, count: 210)
          return
        }
        let iscale = -128 / maxScale
        y.storeBytes(of: Half.fromFloat(1 / iscale), toByteOffset: 208, as: UInt16.self)
        for ib in 0..<16 {
          let v = Swift.min(127, QuantizationSearch.nearestInt(iscale * s.scales[ib]))
          y.storeBytes(of: Int8(truncatingIfNeeded: v), toByteOffset: 192 + ib, as: Int8.self)
        }
        let dAll = Half.toFloat(y.loadUnaligned(fromByteOffset: 208, as: UInt16.self))
        for j in 0..<16 {
          let d = dAll * Float(y.load(fromByteOffset: 192 + j, as: Int8.self))
          if d == 0 { continue }
          for ii in 0..<16 {
            let l = QuantizationSearch.nearestInt(x[16 * j + ii] / d)
            L[16 * j + ii] = Int8(truncatingIfNeeded: Swift.max(-32, Swift.min(31, l)) + 32)
          }
        }
        let Lu = s.Lu
        for h in 0..<2 {
          for l in 0..<32 {
            let j = 128 * h + l
            let q1 = Lu[j] & 0x0f
            let q2 = Lu[j + 32] & 0x0f
            let q3 = Lu[j + 64] & 0x0f
            let q4 = Lu[j + 96] & 0x0f
            y.storeBytes(of: q1 | (q3 &<< 4), toByteOffset: 64 * h + l, as: UInt8.self)
            y.storeBytes(of: q2 | (q4 &<< 4), toByteOffset: 64 * h + l + 32, as: UInt8.self)
            let hb =
              (Lu[j] &>> 4) | ((Lu[j + 32] &>> 4) &<< 2) | ((Lu[j + 64] &>> 4) &<< 4) | ((Lu[j + 96] &>> 4) &<< 6)
            y.storeBytes(of: hb, toByteOffset: 128 + 32 * h + l, as: UInt8.self)
          }
        }
      }
    }
  }

  // MARK: - Q8_K

  /// Quantizes to Q8_K (`quantize_row_q8_K_ref`; importance ignored). ggml leaves the `bsums`
  /// of an all-zero block unwritten; here they are zero.
  public static func quantizeQ8_K(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    for i in 0..<(rows * rowLength / 256) {
      let x = source + 256 * i
      let y = destination + 292 * i
      let (amax, max) = QuantizationSearch.argmaxAbs(256, x)
      if amax == 0 {
        y.initializeMemory(as: UInt8.self, repeating: 0, count: 292)
        continue
      }
      let iscale = -127 / max
      for j in 0..<256 {
        let v = Swift.min(127, QuantizationSearch.nearestInt(iscale * x[j]))
        y.storeBytes(of: Int8(truncatingIfNeeded: v), toByteOffset: 4 + j, as: Int8.self)
      }
      for j in 0..<16 {
        var sum: Int32 = 0
        for ii in 0..<16 { sum &+= Int32(y.load(fromByteOffset: 4 + 16 * j + ii, as: Int8.self)) }
        y.storeBytes(of: Int16(truncatingIfNeeded: sum).littleEndian, toByteOffset: 260 + 2 * j, as: Int16.self)
      }
      y.storeBytes(of: (1 / iscale).bitPattern.littleEndian, as: UInt32.self)
    }
  }
}
