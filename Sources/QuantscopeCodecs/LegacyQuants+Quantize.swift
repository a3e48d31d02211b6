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
    withScratch { weight, L in
      forEachRow(source, rows, rowLength, destination, blockBytes: 18) { x, y in
        let sigma2 = rowSigma2(x, rowLength)
        for ib in 0..<(rowLength / 32) {
          let xb = x + 32 * ib
          importanceWeights(xb, importance + 32 * ib, sigma2, weight)
          let d = QuantizationSearch.makeQxQuants(32, 8, xb, L, rmseType: 1, weights: weight)
          let out = y + 18 * ib
          out.storeBytes(of: Half.fromFloat(d), as: UInt16.self)
          for j in 0..<16 {
            let b = UInt8(bitPattern: L[j]) | (UInt8(bitPattern: L[j + 16]) &<< 4)
            out.storeBytes(of: b, toByteOffset: 2 + j, as: UInt8.self)
          }
        }
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
    withScratch { weight, L in
      let Lu = UnsafeMutableRawPointer(L).assumingMemoryBound(to: UInt8.self)
      let Laux = Lu + 32
      forEachRow(source, rows, rowLength, destination, blockBytes: 20) { x, y in
        let sigma2 = rowSigma2(x, rowLength)
        for ib in 0..<(rowLength / 32) {
          let xb = x + 32 * ib
          importanceWeights(xb, importance + 32 * ib, sigma2, weight)
          var min: Float = 0
          let d = QuantizationSearch.makeQkx3Quants(
            32, 15, xb, weight, Lu, &min, Laux, rmin: -0.9, rdelta: 0.05, nstep: 36, useMad: false)
          let out = y + 20 * ib
          out.storeBytes(of: Half.fromFloat(d), as: UInt16.self)
          out.storeBytes(of: Half.fromFloat(-min), toByteOffset: 2, as: UInt16.self)
          for j in 0..<16 {
            out.storeBytes(of: Lu[j] | (Lu[j + 16] &<< 4), toByteOffset: 4 + j, as: UInt8.self)
          }
        }
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
    withScratch { weight, L in
      forEachRow(source, rows, rowLength, destination, blockBytes: 22) { x, y in
        let sigma2 = rowSigma2(x, rowLength)
        for ib in 0..<(rowLength / 32) {
          let xb = x + 32 * ib
          importanceWeights(xb, importance + 32 * ib, sigma2, weight)
          let d = QuantizationSearch.makeQxQuants(32, 16, xb, L, rmseType: 1, weights: weight)
          let out = y + 22 * ib
          out.storeBytes(of: Half.fromFloat(d), as: UInt16.self)
          var qh: UInt32 = 0
          for j in 0..<16 {
            let xi0 = UInt8(bitPattern: L[j])
            let xi1 = UInt8(bitPattern: L[j + 16])
            out.storeBytes(of: (xi0 & 0x0f) | ((xi1 & 0x0f) &<< 4), toByteOffset: 6 + j, as: UInt8.self)
            qh |= (UInt32(xi0 & 0x10) &>> 4) &<< UInt32(j)
            qh |= (UInt32(xi1 & 0x10) &>> 4) &<< UInt32(j + 16)
          }
          out.storeBytes(of: qh.littleEndian, toByteOffset: 2, as: UInt32.self)
        }
      }
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
    withScratch { weight, L in
      let Lu = UnsafeMutableRawPointer(L).assumingMemoryBound(to: UInt8.self)
      let Laux = Lu + 32
      forEachRow(source, rows, rowLength, destination, blockBytes: 24) { x, y in
        let sigma2 = rowSigma2(x, rowLength)
        for ib in 0..<(rowLength / 32) {
          let xb = x + 32 * ib
          importanceWeights(xb, importance + 32 * ib, sigma2, weight)
          var min: Float = 0
          let d = QuantizationSearch.makeQkx3Quants(
            32, 31, xb, weight, Lu, &min, Laux, rmin: -0.9, rdelta: 0.05, nstep: 36, useMad: false)
          let out = y + 24 * ib
          out.storeBytes(of: Half.fromFloat(d), as: UInt16.self)
          out.storeBytes(of: Half.fromFloat(-min), toByteOffset: 2, as: UInt16.self)
          var qh: UInt32 = 0
          for j in 0..<16 {
            let xi0 = Lu[j]
            let xi1 = Lu[j + 16]
            out.storeBytes(of: (xi0 & 0x0f) | ((xi1 & 0x0f) &<< 4), toByteOffset: 8 + j, as: UInt8.self)
            qh |= (UInt32(xi0 & 0x10) &>> 4) &<< UInt32(j)
            qh |= (UInt32(xi1 & 0x10) &>> 4) &<< UInt32(j + 16)
          }
          out.storeBytes(of: qh.littleEndian, toByteOffset: 4, as: UInt32.self)
        }
      }
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

  // MARK: - Scratch

  /// `w_j = qw_j · sqrt(sigma2 + x_j²)` for one 32-block.
  @inline(__always)
  static func importanceWeights(
    _ x: UnsafePointer<Float>, _ qw: UnsafePointer<Float>, _ sigma2: Float, _ weight: UnsafeMutablePointer<Float>
  ) {
    for j in 0..<32 { weight[j] = qw[j] * (sigma2 + x[j] * x[j]).squareRoot() }
  }

  /// Runs `body` with 32 floats of weights and 64 bytes of level scratch (one allocation per
  /// quantizer call, so concurrent calls never share state).
  @inline(__always)
  static func withScratch(_ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Int8>) -> Void) {
    let weight = UnsafeMutablePointer<Float>.allocate(capacity: 32)
    let levels = UnsafeMutablePointer<Int8>.allocate(capacity: 64)
    defer {
      weight.deallocate()
      levels.deallocate()
    }
    weight.initialize(repeating: 0, count: 32)
    levels.initialize(repeating: 0, count: 64)
    body(weight, levels)
  }
}
