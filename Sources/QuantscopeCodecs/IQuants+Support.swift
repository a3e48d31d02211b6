// Small primitives shared by the IQ, ternary, microscaling and binary codecs. Names carry an
// `iq` prefix so they cannot clash with the helpers of other families in this module.

/// Reads a little-endian `UInt16` at `offset` bytes past `p` (blocks leave fields misaligned).
@inline(__always)
func iqLoadU16(_ p: UnsafeRawPointer, _ offset: Int) -> UInt16 {
  UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
}

/// Reads a little-endian `UInt32` at `offset` bytes past `p`.
@inline(__always)
func iqLoadU32(_ p: UnsafeRawPointer, _ offset: Int) -> UInt32 {
  UInt32(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
}

/// Writes `value` little-endian at `offset` bytes past `p`.
@inline(__always)
func iqStoreU16(_ p: UnsafeMutableRawPointer, _ offset: Int, _ value: UInt16) {
  p.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt16.self)
}

/// The f16 scale stored at `offset`, as f32.
@inline(__always)
func iqLoadHalf(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
  Half.toFloat(iqLoadU16(p, offset))
}

/// ggml's `nearest_int`: adds 1.5·2²³ and reads the low mantissa bits, which rounds half to
/// even inside ±2²² and wraps (without trapping) outside it, exactly as the C bit trick does.
@inline(__always)
func iqNearestInt(_ f: Float) -> Int32 {
  let t = f + 12_582_912.0
  let bits = Int32(bitPattern: t.bitPattern)
  return (bits & 0x007F_FFFF) &- 0x0040_0000
}

/// C's `lroundf` (half away from zero) as glibc behaves on x86-64: values that do not fit a
/// `long`, and NaN, give `Int.min` instead of trapping.
@inline(__always)
func iqLround(_ f: Float) -> Int {
  let r = f.rounded(.toNearestOrAwayFromZero)
  guard r.isFinite, r >= -9.223_372e18, r < 9.223_372e18 else { return Int.min }
  return Int(r)
}

/// ggml's `best_index_int8(16, values, x)`: the index of the nearest entry of the sorted table
/// `values`, by binary search, with ties going to the upper entry.
@inline(__always)
func iqBestIndexInt8(_ values: UnsafePointer<Float>, _ x: Float) -> Int {
  if x <= values[0] { return 0 }
  if x >= values[15] { return 15 }
  var lo = 0
  var hi = 15
  while hi - lo > 1 {
    let mid = (lo + hi) / 2
    if x < values[mid] { hi = mid } else { lo = mid }
  }
  return x - values[hi - 1] < values[hi] - x ? hi - 1 : hi
}

/// `kvalues_iq4nl` converted to f32 once (the C code converts each `int8_t` on use; the values
/// are small integers, so the conversion is exact either way).
let iqKvaluesIQ4NLFloat: [Float] = IQGrids.kvaluesIQ4NL.map { Float($0) }

/// `kvalues_fp4` (doubled E2M1 values, shared by MXFP4 and NVFP4) as f32.
let iqKvaluesFP4Float: [Float] = IQGrids.kvaluesFP4.map { Float($0) }

/// ggml's `e8m0_to_fp32_half`: half the E8M0 scale, 2^(e−128), with e < 2 giving subnormals.
@inline(__always)
func iqE8M0Half(_ e: UInt8) -> Float {
  if e < 2 { return Float(bitPattern: UInt32(0x0020_0000) << UInt32(e)) }
  return Float(bitPattern: UInt32(e - 1) << 23)
}

/// ggml's `ue4m3_to_fp32`: half the UE4M3 value (0x00 and 0x7F give 0; bit 7 is ignored).
@inline(__always)
func iqUE4M3Half(_ x: UInt8) -> Float {
  if x == 0 || x == 0x7F { return 0 }
  let exponent = Int((x >> 3) & 0xF)
  let mantissa = Float(x & 7)
  let raw: Float
  if exponent == 0 {
    // man·2⁻⁹, exact.
    raw = mantissa * 0x1p-9
  } else {
    // (1 + man/8)·2^(exp−7); every step is exact.
    raw = (1.0 + mantissa / 8.0) * Float(sign: .plus, exponent: exponent - 7, significand: 1)
  }
  return raw * 0.5
}

/// ggml's `fp32_to_ue4m3`: encodes a positive scale, clamping to 448 and rounding with one
/// guard bit (round half up), not to nearest even.
@inline(__always)
func iqFloatToUE4M3(_ value: Float) -> UInt8 {
  guard value > 0 else { return 0 }  // also NaN
  let x = value > 448 ? 448 : value
  let bits = x.bitPattern
  let exponent = Int((bits >> 23) & 0xFF) - 127
  var mantissa = Int((bits >> 20) & 7)
  var ue = exponent + 7
  if ue <= 0 {
    // Subnormal: man = (int)(x·512 + 0.5), truncated; x < 2⁻⁶ here so this cannot overflow.
    var m = Int(x * 512.0 + 0.5)
    if m > 7 { m = 7 }
    if m < 1 { return 0 }
    return UInt8(m)
  }
  if ue >= 15 { return 0x7E }
  mantissa += Int((bits >> 19) & 1)
  if mantissa > 7 {
    mantissa = 0
    ue += 1
    if ue >= 15 { return 0x7E }
  }
  return UInt8(ue << 3 | mantissa)
}

/// C's `(int)roundf(f)` as x86-64 executes it: half away from zero, and values outside the
/// `int` range (or NaN) give `Int32.min` (the `cvttss2si` "integer indefinite" value).
@inline(__always)
func iqRoundToInt32(_ f: Float) -> Int32 {
  let r = f.rounded(.toNearestOrAwayFromZero)
  guard r.isFinite, r >= -2_147_483_648.0, r < 2_147_483_648.0 else { return Int32.min }
  return Int32(r)
}

/// Calls `body` once per block of a `rows × rowLength` matrix, with the block's first value and
/// its destination. A row tail shorter than one block (ggml asserts there is none) is skipped.
@inline(__always)
func iqForEachBlock(
  _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ destination: UnsafeMutableRawPointer,
  blockElements: Int, blockBytes: Int, _ body: (UnsafePointer<Float>, UnsafeMutableRawPointer) -> Void
) {
  let perRow = rowLength / blockElements
  for row in 0..<rows {
    for b in 0..<perRow {
      body(source + row * rowLength + b * blockElements, destination + (row * perRow + b) * blockBytes)
    }
  }
}
