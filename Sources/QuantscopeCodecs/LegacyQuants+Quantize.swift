import QuantscopeFormats

/// Quantizers take `rows × rowLength` floats with `rowLength` a whole number of 32-element
/// blocks (callers size buffers with `GGMLType.byteCount(elements:)`), as ggml asserts.
extension LegacyQuants {
  /// This family's quantizers: `ggml_quantize_chunk` for Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 (with
  /// and without an importance vector), and `quantize_row_q8_1_ref` for the activation type Q8_1.
  public static let quantizers: [BlockQuantizer] = [
    BlockQuantizer(type: .q4_0, quantize: { quantizeQ4_0($0, $1, $2, $3, $4) }),
    BlockQuantizer(type: .q4_1, quantize: { quantizeQ4_1($0, $1, $2, $3, $4) }),
    BlockQuantizer(type: .q5_0, quantize: { quantizeQ5_0($0, $1, $2, $3, $4) }),
    BlockQuantizer(type: .q5_1, quantize: { quantizeQ5_1($0, $1, $2, $3, $4) }),
    BlockQuantizer(type: .q8_0, quantize: { quantizeQ8_0($0, $1, $2, $3, $4) }),
    BlockQuantizer(type: .q8_1, quantize: { quantizeQ8_1($0, $1, $2, $3, $4) }),
  ]

  // MARK: - C conversions

  /// C's float → integer conversion as x86-64 performs it (`cvttss2si`): truncation toward zero,
  /// and the "integer indefinite" value `INT32_MIN` for NaN and out-of-range inputs (where C has
  /// undefined behaviour). Narrower C casts then keep the low bits.
  @inline(__always)
  static func truncateToInt32(_ f: Float) -> Int32 {
    guard f > -2_147_483_904.0 && f < 2_147_483_648.0 else { return Int32.min }
    return Int32(f)
  }

  /// `sum_{j < n} x_j² / n` in ggml's order: the per-row variance proxy of the legacy imatrix paths.
  @inline(__always)
  static func rowSigma2(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var sum: Float = 0
    for j in 0..<n { sum += x[j] * x[j] }
    return sum / Float(n)
  }

  /// Runs `body(rowSource, rowDestination)` for each row, rows laid out back to back.
  @inline(__always)
  static func forEachRow(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ destination: UnsafeMutableRawPointer,
    blockBytes: Int, _ body: (UnsafePointer<Float>, UnsafeMutableRawPointer) -> Void
  ) {
    let rowBytes = rowLength / 32 * blockBytes
    for r in 0..<rows {
      body(source + r * rowLength, destination + r * rowBytes)
    }
  }

  // MARK: - Q4_0

  /// Quantizes to Q4_0: `quantize_row_q4_0_ref`, or `quantize_row_q4_0_impl` with importance.
  public static func quantizeQ4_0(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    guard let importance else {
      referenceQ4_0(source, rows * rowLength / 32, destination)
      return
    }
    searchImportanceBlocks(source, rows, rowLength, importance, destination, blockBytes: 18, .symmetric(8)) {
      out, d, _, L in
      out.storeBytes(of: Half.fromFloat(d), as: UInt16.self)
      for j in 0..<16 {
        out.storeBytes(of: L[j] | (L[j + 16] &<< 4), toByteOffset: 2 + j, as: UInt8.self)
      }
    }
  }

  /// `quantize_row_q4_0_ref` over `blocks` consecutive blocks.
  static func referenceQ4_0(_ source: UnsafePointer<Float>, _ blocks: Int, _ destination: UnsafeMutableRawPointer) {
    for i in 0..<blocks {
      let x = source + 32 * i
      let (_, max) = QuantizationSearch.argmaxAbs(32, x)
      let d = max / -8
      let id: Float = d != 0 ? 1 / d : 0
      let out = destination + 18 * i
      out.storeBytes(of: Half.fromFloat(d), as: UInt16.self)
      for j in 0..<16 {
        let x0 = x[j] * id
        let x1 = x[j + 16] * id
        let xi0 = UInt8(truncatingIfNeeded: Swift.min(15, Int8(truncatingIfNeeded: truncateToInt32(x0 + 8.5))))
        let xi1 = UInt8(truncatingIfNeeded: Swift.min(15, Int8(truncatingIfNeeded: truncateToInt32(x1 + 8.5))))
        out.storeBytes(of: xi0 | (xi1 &<< 4), toByteOffset: 2 + j, as: UInt8.self)
      }
    }
  }

  // MARK: - Q4_1

  /// Quantizes to Q4_1: `quantize_row_q4_1_ref`, or `quantize_row_q4_1_impl` with importance.
  public static func quantizeQ4_1(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    guard let importance else {
      referenceQ4_1(source, rows * rowLength / 32, destination)
      return
    }
    searchImportanceBlocks(source, rows, rowLength, importance, destination, blockBytes: 20, .asymmetric(15)) {
      out, d, min, L in
      out.storeBytes(of: Half.fromFloat(d), as: UInt16.self)
      out.storeBytes(of: Half.fromFloat(-min), toByteOffset: 2, as: UInt16.self)
      for j in 0..<16 {
        out.storeBytes(of: L[j] | (L[j + 16] &<< 4), toByteOffset: 4 + j, as: UInt8.self)
      }
    }
  }

  /// `quantize_row_q4_1_ref` over `blocks` consecutive blocks.
  static func referenceQ4_1(_ source: UnsafePointer<Float>, _ blocks: Int, _ destination: UnsafeMutableRawPointer) {
    for i in 0..<blocks {
      let x = source + 32 * i
      let (min, max) = minMax(x)
      let d = (max - min) / 15
      let id: Float = d != 0 ? 1 / d : 0
      let out = destination + 20 * i
      out.storeBytes(of: Half.fromFloat(d), as: UInt16.self)
      out.storeBytes(of: Half.fromFloat(min), toByteOffset: 2, as: UInt16.self)
      for j in 0..<16 {
        let x0 = (x[j] - min) * id
        let x1 = (x[j + 16] - min) * id
        let xi0 = UInt8(truncatingIfNeeded: Swift.min(15, Int8(truncatingIfNeeded: truncateToInt32(x0 + 0.5))))
        let xi1 = UInt8(truncatingIfNeeded: Swift.min(15, Int8(truncatingIfNeeded: truncateToInt32(x1 + 0.5))))
        out.storeBytes(of: xi0 | (xi1 &<< 4), toByteOffset: 4 + j, as: UInt8.self)
      }
    }
  }

  /// Block minimum and maximum as the Q4_1/Q5_1 references find them (from ±FLT_MAX, strict).
  @inline(__always)
  static func minMax(_ x: UnsafePointer<Float>) -> (min: Float, max: Float) {
    var min = Float.greatestFiniteMagnitude
    var max = -Float.greatestFiniteMagnitude
    for j in 0..<32 {
      let v = x[j]
      if v < min { min = v }
      if v > max { max = v }
    }
    return (min, max)
  }

  // MARK: - Q5_0

  /// Quantizes to Q5_0: `quantize_row_q5_0_ref`, or `quantize_row_q5_0_impl` with importance.
  public static func quantizeQ5_0(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    guard let importance else {
      referenceQ5_0(source, rows * rowLength / 32, destination)
      return
    }
    searchImportanceBlocks(source, rows, rowLength, importance, destination, blockBytes: 22, .symmetric(16)) {
      out, d, _, L in
      out.storeBytes(of: Half.fromFloat(d), as: UInt16.self)
      storeFiveBit(L, out, qhOffset: 2)
    }
  }

  /// `quantize_row_q5_0_ref` over `blocks` consecutive blocks.
  static func referenceQ5_0(_ source: UnsafePointer<Float>, _ blocks: Int, _ destination: UnsafeMutableRawPointer) {
    for i in 0..<blocks {
      let x = source + 32 * i
      let (_, max) = QuantizationSearch.argmaxAbs(32, x)
      let d = max / -16
      let id: Float = d != 0 ? 1 / d : 0
      let out = destination + 22 * i
      out.storeBytes(of: Half.fromFloat(d), as: UInt16.self)
      var qh: UInt32 = 0
      for j in 0..<16 {
        let x0 = x[j] * id
        let x1 = x[j + 16] * id
        let xi0 = UInt8(truncatingIfNeeded: Swift.min(31, Int8(truncatingIfNeeded: truncateToInt32(x0 + 16.5))))
        let xi1 = UInt8(truncatingIfNeeded: Swift.min(31, Int8(truncatingIfNeeded: truncateToInt32(x1 + 16.5))))
        out.storeBytes(of: (xi0 & 0x0f) | ((xi1 & 0x0f) &<< 4), toByteOffset: 6 + j, as: UInt8.self)
        qh |= (UInt32(xi0 & 0x10) &>> 4) &<< UInt32(j)
        qh |= (UInt32(xi1 & 0x10) &>> 4) &<< UInt32(j + 16)
      }
      out.storeBytes(of: qh.littleEndian, toByteOffset: 2, as: UInt32.self)
    }
  }

  // MARK: - Q5_1

  /// Quantizes to Q5_1: `quantize_row_q5_1_ref`, or `quantize_row_q5_1_impl` with importance.
  public static func quantizeQ5_1(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    guard let importance else {
      referenceQ5_1(source, rows * rowLength / 32, destination)
      return
    }
    searchImportanceBlocks(source, rows, rowLength, importance, destination, blockBytes: 24, .asymmetric(31)) {
      out, d, min, L in
      out.storeBytes(of: Half.fromFloat(d), as: UInt16.self)
      out.storeBytes(of: Half.fromFloat(-min), toByteOffset: 2, as: UInt16.self)
      storeFiveBit(L, out, qhOffset: 4)
    }
  }

  /// `quantize_row_q5_1_ref` over `blocks` consecutive blocks.
  static func referenceQ5_1(_ source: UnsafePointer<Float>, _ blocks: Int, _ destination: UnsafeMutableRawPointer) {
    for i in 0..<blocks {
      let x = source + 32 * i
      let (min, max) = minMax(x)
      let d = (max - min) / 31
      let id: Float = d != 0 ? 1 / d : 0
      let out = destination + 24 * i
      out.storeBytes(of: Half.fromFloat(d), as: UInt16.self)
      out.storeBytes(of: Half.fromFloat(min), toByteOffset: 2, as: UInt16.self)
      var qh: UInt32 = 0
      for j in 0..<16 {
        let x0 = (x[j] - min) * id
        let x1 = (x[j + 16] - min) * id
        // `(uint8_t)(v + 0.5f)`: no clamp in ggml.
        let xi0 = UInt8(truncatingIfNeeded: truncateToInt32(x0 + 0.5))
        let xi1 = UInt8(truncatingIfNeeded: truncateToInt32(x1 + 0.5))
        out.storeBytes(of: (xi0 & 0x0f) | ((xi1 & 0x0f) &<< 4), toByteOffset: 8 + j, as: UInt8.self)
        qh |= (UInt32(xi0 & 0x10) &>> 4) &<< UInt32(j)
        qh |= (UInt32(xi1 & 0x10) &>> 4) &<< UInt32(j + 16)
      }
      out.storeBytes(of: qh.littleEndian, toByteOffset: 4, as: UInt32.self)
    }
  }

  // MARK: - Q8_0 and Q8_1

  /// Quantizes to Q8_0 (`quantize_row_q8_0_ref`; ggml ignores the importance vector).
  public static func quantizeQ8_0(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    for i in 0..<(rows * rowLength / 32) {
      let x = source + 32 * i
      let out = destination + 34 * i
      let d = int8Scale(x)
      let id: Float = d != 0 ? 1 / d : 0
      out.storeBytes(of: Half.fromFloat(d), as: UInt16.self)
      for j in 0..<32 {
        let q = Int8(truncatingIfNeeded: truncateToInt32((x[j] * id).rounded()))
        out.storeBytes(of: q, toByteOffset: 2 + j, as: Int8.self)
      }
    }
  }

  /// Quantizes to Q8_1 (`quantize_row_q8_1_ref`): Q8_0's quants plus `s = fp16(f32(Σq)·d)`.
  /// The importance vector is ignored (Q8_1 is an activation type with no imatrix path).
  public static func quantizeQ8_1(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    for i in 0..<(rows * rowLength / 32) {
      let x = source + 32 * i
      let out = destination + 36 * i
      let d = int8Scale(x)
      let id: Float = d != 0 ? 1 / d : 0
      out.storeBytes(of: Half.fromFloat(d), as: UInt16.self)
      var sum: Int32 = 0
      for j in 0..<16 {
        let q0 = Int8(truncatingIfNeeded: truncateToInt32((x[j] * id).rounded()))
        let q1 = Int8(truncatingIfNeeded: truncateToInt32((x[j + 16] * id).rounded()))
        out.storeBytes(of: q0, toByteOffset: 4 + j, as: Int8.self)
        out.storeBytes(of: q1, toByteOffset: 20 + j, as: Int8.self)
        sum &+= Int32(q0) &+ Int32(q1)
      }
      out.storeBytes(of: Half.fromFloat(Float(sum) * d), toByteOffset: 2, as: UInt16.self)
    }
  }

  /// `amax / 127` with `amax = MAX(amax, |v|)` scanned from 0, as the Q8_0/Q8_1 references do.
  @inline(__always)
  static func int8Scale(_ x: UnsafePointer<Float>) -> Float {
    var amax: Float = 0
    for j in 0..<32 {
      let a = abs(x[j])
      amax = amax > a ? amax : a
    }
    return amax / 127
  }

  // MARK: - The imatrix search driver

  /// Which ggml search a legacy imatrix path runs on each 32-block.
  enum BlockSearch {
    /// `make_qx_quants(32, nmax, x, L, 1, w)`: Q4_0 (8) and Q5_0 (16).
    case symmetric(Int32)
    /// `make_qkx3_quants(32, nmax, x, w, L, &min, Laux, −0.9, 0.05, 36, false)`: Q4_1 (15), Q5_1 (31).
    case asymmetric(Int32)
  }

  /// `w_j = qw_j · sqrt(sigma2 + x_j²)` for `count` values.
  @inline(__always)
  static func importanceWeights(
    _ x: UnsafePointer<Float>, _ qw: UnsafePointer<Float>, _ sigma2: Float, _ weight: UnsafeMutablePointer<Float>,
    count: Int = 32
  ) {
    for j in 0..<count { weight[j] = qw[j] * (sigma2 + x[j] * x[j]).squareRoot() }
  }

  /// The shared body of the legacy `quantize_row_*_impl` paths: per row, `sigma2` over the
  /// whole row, per-block weights, then the type's search on each 32-block — eight blocks at a
  /// time in SIMD lanes (bit-identical per lane to the scalar search), the rest one by one.
  /// `store(out, d, min, L)` packs one block (`min` is the asymmetric search's `the_min`).
  @inline(__always)
  static func searchImportanceBlocks(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>,
    _ destination: UnsafeMutableRawPointer, blockBytes: Int, _ search: BlockSearch,
    _ store: (UnsafeMutableRawPointer, Float, Float, UnsafePointer<UInt8>) -> Void
  ) {
    let weights = UnsafeMutablePointer<Float>.allocate(capacity: 256)
    let levels = UnsafeMutablePointer<UInt8>.allocate(capacity: 256 + 32)
    let laneX = UnsafeMutablePointer<QuantizationSearch.Lanes>.allocate(capacity: 64)
    let laneL = UnsafeMutablePointer<QuantizationSearch.LaneLevels>.allocate(capacity: 64)
    defer {
      weights.deallocate()
      levels.deallocate()
      laneX.deallocate()
      laneL.deallocate()
    }
    weights.initialize(repeating: 0, count: 256)
    levels.initialize(repeating: 0, count: 256 + 32)
    laneX.initialize(repeating: .zero, count: 64)
    laneL.initialize(repeating: .zero, count: 64)
    let laneW = laneX + 32
    let laneAux = laneL + 32
    let blocks = rowLength / 32
    let rowBytes = blocks * blockBytes
    for r in 0..<rows {
      let x = source + r * rowLength
      let y = destination + r * rowBytes
      let sigma2 = rowSigma2(x, rowLength)
      var ib = 0
      while ib + 8 <= blocks {
        let xb = x + 32 * ib
        importanceWeights(xb, importance + 32 * ib, sigma2, weights, count: 256)
        QuantizationSearch.transpose(32, xb, stride: 32, into: laneX)
        QuantizationSearch.transpose(32, weights, stride: 32, into: laneW)
        let d: QuantizationSearch.Lanes
        var mins = QuantizationSearch.Lanes.zero
        switch search {
        case .symmetric(let nmax):
          d = QuantizationSearch.makeQxQuantsLanes(32, nmax, laneX, laneW, laneL, laneAux)
        case .asymmetric(let nmax):
          (d, mins) = QuantizationSearch.makeQkxQuantsLanes(
            32, nmax, laneX, laneW, laneL, laneAux, rmin: -0.9, rdelta: 0.05, nstep: 36, useMad: false, qkx3: true)
        }
        QuantizationSearch.untranspose(32, laneL, stride: 32, into: levels)
        for k in 0..<8 {
          store(y + blockBytes * (ib + k), d[k], mins[k], levels + 32 * k)
        }
        ib += 8
      }
      while ib < blocks {
        let xb = x + 32 * ib
        importanceWeights(xb, importance + 32 * ib, sigma2, weights)
        var min: Float = 0
        let d: Float
        switch search {
        case .symmetric(let nmax):
          let L = UnsafeMutableRawPointer(levels).assumingMemoryBound(to: Int8.self)
          d = QuantizationSearch.makeQxQuants(32, nmax, xb, L, rmseType: 1, weights: weights)
        case .asymmetric(let nmax):
          d = QuantizationSearch.makeQkx3Quants(
            32, nmax, xb, weights, levels, &min, levels + 256, rmin: -0.9, rdelta: 0.05, nstep: 36, useMad: false)
        }
        store(y + blockBytes * ib, d, min, levels)
        ib += 1
      }
    }
  }

  /// Packs 32 five-bit levels as Q5_0/Q5_1 do: low nibbles split-halves in `qs` (after `qh`),
  /// fifth bits in the LE u32 `qh` at `qhOffset`.
  @inline(__always)
  static func storeFiveBit(_ L: UnsafePointer<UInt8>, _ out: UnsafeMutableRawPointer, qhOffset: Int) {
    var qh: UInt32 = 0
    for j in 0..<16 {
      let xi0 = L[j]
      let xi1 = L[j + 16]
      out.storeBytes(of: (xi0 & 0x0f) | ((xi1 & 0x0f) &<< 4), toByteOffset: qhOffset + 4 + j, as: UInt8.self)
      qh |= (UInt32(xi0 & 0x10) &>> 4) &<< UInt32(j)
      qh |= (UInt32(xi1 & 0x10) &>> 4) &<< UInt32(j + 16)
    }
    out.storeBytes(of: qh.littleEndian, toByteOffset: qhOffset, as: UInt32.self)
  }
}
