import CDecodeKernels
import QuantscopeFormats

/// The K-quants: 256-element super-blocks split into sub-blocks with their own (quantized)
/// scales: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, and the intermediate Q8_K.
///
/// Layouts (offsets in bytes inside one super-block; f16 fields are little-endian binary16):
///
/// | type | bytes | fields |
/// |---|---|---|
/// | Q2_K | 84 | `scales[16]` @0 (low nibble scale, high nibble min); `qs[64]` @16; `d` @80; `dmin` @82 |
/// | Q3_K | 110 | `hmask[32]` @0; `qs[64]` @32; `scales[12]` @96 (16 × 6 bits); `d` @108 |
/// | Q4_K | 144 | `d` @0; `dmin` @2; `scales[12]` @4 (8 × 6-bit scale, 8 × 6-bit min); `qs[128]` @16 |
/// | Q5_K | 176 | `d` @0; `dmin` @2; `scales[12]` @4; `qh[32]` @16; `qs[128]` @48 |
/// | Q6_K | 210 | `ql[128]` @0; `qh[64]` @128; `scales` int8[16] @192; `d` @208 |
/// | Q8_K | 292 | `d` **f32** @0; `qs` int8[256] @4; `bsums` int16[16] @260 |
///
/// Element placement:
/// - Q2_K/Q3_K: element `128h + 32s + t` (h < 2, s < 4, t < 32) is bits `2s…2s+1` of
///   `qs[32h + t]`; Q3_K's third bit is bit `4h + s` of `hmask[t]`, and a *clear* bit means −4.
///   Sub-block (scale index) is `n / 16`.
/// - Q4_K/Q5_K: element `64c + t` is the low nibble of `qs[32c + t]` (sub-block `2c`),
///   `64c + 32 + t` the high nibble (sub-block `2c + 1`); Q5_K's fifth bit of element `32k + t`
///   is bit `k` of `qh[t]`. Six-bit scales/mins are unpacked as ggml's `get_scale_min_k4`.
/// - Q6_K: element `128h + 32Q + l` takes its low 4 bits from `ql[64h + l + 32(Q & 1)]`
///   (nibble `Q >> 1`) and its high 2 bits from bits `2Q` of `qh[32h + l]`, minus 32.
///
/// Values, products formed in ggml's order: Q2_K `(d·sc)·q − dmin·m`, Q3_K `(d·(sc − 32))·q`,
/// Q4_K/Q5_K `(d·sc)·q − dmin·m`, Q6_K `(d·sc)·q`, Q8_K `d·q`.
public enum KQuants {
  /// This family's codecs.
  public static let codecs: [BlockCodec] = [
    BlockCodec(type: .q2_K, decode: { decodeQ2_K($0, $1, $2) }),
    BlockCodec(type: .q3_K, decode: { decodeQ3_K($0, $1, $2) }),
    BlockCodec(type: .q4_K, decode: { decodeQ4_K($0, $1, $2) }),
    BlockCodec(type: .q5_K, decode: { decodeQ5_K($0, $1, $2) }),
    BlockCodec(type: .q6_K, decode: { decodeQ6_K($0, $1, $2) }),
    BlockCodec(type: .q8_K, decode: { decodeQ8_K($0, $1, $2) }),
  ]

  /// Decodes `blocks` Q2_K super-blocks (84 bytes → 256 floats each).
  public static func decodeQ2_K(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    var x = source
    var y = destination
    for _ in 0..<blocks {
      let d = Half.toFloat(x.loadUnaligned(fromByteOffset: 80, as: UInt16.self))
      let dmin = Half.toFloat(x.loadUnaligned(fromByteOffset: 82, as: UInt16.self))
      for half in 0..<2 {
        let q = x + (16 &+ 32 &* half)
        let out = y + 128 &* half
        // Each qs byte feeds four outputs 32 apart (bit pairs 0, 2, 4, 6), so one pass over 16
        // bytes writes four sub-blocks with constant shifts; that shape vectorizes.
        for part in 0..<2 {
          let base = 8 &* half &+ part
          let s0 = x.load(fromByteOffset: base, as: UInt8.self)
          let s1 = x.load(fromByteOffset: base &+ 2, as: UInt8.self)
          let s2 = x.load(fromByteOffset: base &+ 4, as: UInt8.self)
          let s3 = x.load(fromByteOffset: base &+ 6, as: UInt8.self)
          let d0 = d * Float(s0 & 0x0f), m0 = dmin * Float(s0 &>> 4)
          let d1 = d * Float(s1 & 0x0f), m1 = dmin * Float(s1 &>> 4)
          let d2 = d * Float(s2 & 0x0f), m2 = dmin * Float(s2 &>> 4)
          let d3 = d * Float(s3 & 0x0f), m3 = dmin * Float(s3 &>> 4)
          for i in 0..<16 {
            let l = 16 &* part &+ i
            let b = Int32(q.load(fromByteOffset: l, as: UInt8.self))
            out[l] = d0 * Float(b & 3) - m0
            out[l &+ 32] = d1 * Float((b &>> 2) & 3) - m1
            out[l &+ 64] = d2 * Float((b &>> 4) & 3) - m2
            out[l &+ 96] = d3 * Float((b &>> 6) & 3) - m3
          }
        }
      }
      x += 84
      y += 256
    }
  }

  /// The sixteen signed six-bit scales of a Q3_K block (`scales[12]` at `bytes`), minus 32.
  @inline(__always)
  static func q3Scale(_ bytes: UnsafeRawPointer, _ j: Int) -> Int32 {
    let low =
      j < 8
      ? bytes.load(fromByteOffset: j, as: UInt8.self) & 0x0f
      : bytes.load(fromByteOffset: j &- 8, as: UInt8.self) &>> 4
    let high =
      (bytes.load(fromByteOffset: 8 &+ (j & 3), as: UInt8.self) &>> UInt8(truncatingIfNeeded: 2 &* (j &>> 2))) & 3
    return Int32(low | (high &<< 4)) &- 32
  }

  /// Decodes `blocks` Q3_K super-blocks (110 bytes → 256 floats each).
  public static func decodeQ3_K(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    var x = source
    var y = destination
    for _ in 0..<blocks {
      let d = Half.toFloat(x.loadUnaligned(fromByteOffset: 108, as: UInt16.self))
      // A literal half index keeps the hmask shifts constant after inlining.
      q3Half(x, d, y, half: 0)
      q3Half(x, d, y, half: 1)
      x += 110
      y += 256
    }
  }

  /// The 128 Q3_K elements of `half` of block `x`: as in Q2_K, each byte feeds four outputs
  /// 32 apart, so each pass writes four sub-blocks with constant shifts.
  @inline(__always)
  static func q3Half(_ x: UnsafeRawPointer, _ d: Float, _ y: UnsafeMutablePointer<Float>, half: Int) {
    let q = x + (32 &+ 32 &* half)
    let out = y + 128 &* half
    let hshift = Int32(4 &* half)
    for part in 0..<2 {
      let base = 8 &* half &+ part
      let d0 = d * Float(q3Scale(x + 96, base))
      let d1 = d * Float(q3Scale(x + 96, base &+ 2))
      let d2 = d * Float(q3Scale(x + 96, base &+ 4))
      let d3 = d * Float(q3Scale(x + 96, base &+ 6))
      for i in 0..<16 {
        let l = 16 &* part &+ i
        let b = Int32(q.load(fromByteOffset: l, as: UInt8.self))
        let h = Int32(x.load(fromByteOffset: l, as: UInt8.self)) &>> hshift
        // Value = low − 4 + 4·highbit.
        out[l] = d0 * Float((b & 3) &- 4 &+ ((h & 1) &<< 2))
        out[l &+ 32] = d1 * Float(((b &>> 2) & 3) &- 4 &+ (h & 2) &<< 1)
        out[l &+ 64] = d2 * Float(((b &>> 4) & 3) &- 4 &+ (h & 4))
        out[l &+ 96] = d3 * Float(((b &>> 6) & 3) &- 4 &+ ((h & 8) &>> 1))
      }
    }
  }

  /// Sub-block `j`'s six-bit scale and min from the 12 packed bytes at `q` (`get_scale_min_k4`).
  @inline(__always)
  static func scaleMinK4(_ j: Int, _ q: UnsafeRawPointer) -> (scale: UInt8, min: UInt8) {
    if j < 4 {
      return (q.load(fromByteOffset: j, as: UInt8.self) & 63, q.load(fromByteOffset: j &+ 4, as: UInt8.self) & 63)
    }
    let a = q.load(fromByteOffset: j &+ 4, as: UInt8.self)
    let lo = q.load(fromByteOffset: j &- 4, as: UInt8.self)
    let hi = q.load(fromByteOffset: j, as: UInt8.self)
    return ((a & 0x0f) | ((lo &>> 6) &<< 4), (a &>> 4) | ((hi &>> 6) &<< 4))
  }

  /// Decodes `blocks` Q4_K super-blocks (144 bytes → 256 floats each), with the AVX2 kernel where
  /// the CPU has it (``DecodeKernels``), else ``portableDecodeQ4_K(_:_:_:)``.
  public static func decodeQ4_K(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    #if arch(x86_64)
      if DecodeKernels.avx2 {
        qs_decode_q4_k_avx2(source, blocks, destination)
        return
      }
    #endif
    portableDecodeQ4_K(source, blocks, destination)
  }

  /// Decodes `blocks` Q4_K super-blocks in portable Swift (baseline SIMD), the same bits as the
  /// AVX2 kernel.
  public static func portableDecodeQ4_K(
    _ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>
  ) {
    var x = source
    var y = destination
    for _ in 0..<blocks {
      let d = Half.toFloat(x.loadUnaligned(as: UInt16.self))
      let dmin = Half.toFloat(x.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
      let scales = x + 4
      for c in 0..<4 {
        let (sc0, m0) = scaleMinK4(2 &* c, scales)
        let (sc1, m1) = scaleMinK4(2 &* c &+ 1, scales)
        let d1 = d * Float(sc0)
        let mm1 = dmin * Float(m0)
        let d2 = d * Float(sc1)
        let mm2 = dmin * Float(m1)
        let q = x + (16 &+ 32 &* c)
        let out = y + 64 &* c
        for l in 0..<32 {
          let b = q.load(fromByteOffset: l, as: UInt8.self)
          out[l] = d1 * Float(b & 0x0f) - mm1
          out[32 &+ l] = d2 * Float(b &>> 4) - mm2
        }
      }
      x += 144
      y += 256
    }
  }

  /// Decodes `blocks` Q5_K super-blocks (176 bytes → 256 floats each), with the AVX2 kernel where
  /// the CPU has it (``DecodeKernels``), else ``portableDecodeQ5_K(_:_:_:)``.
  public static func decodeQ5_K(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    #if arch(x86_64)
      if DecodeKernels.avx2 {
        qs_decode_q5_k_avx2(source, blocks, destination)
        return
      }
    #endif
    portableDecodeQ5_K(source, blocks, destination)
  }

  /// Decodes `blocks` Q5_K super-blocks in portable Swift (baseline SIMD), the same bits as the
  /// AVX2 kernel.
  public static func portableDecodeQ5_K(
    _ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>
  ) {
    var x = source
    var y = destination
    for _ in 0..<blocks {
      let d = Half.toFloat(x.loadUnaligned(as: UInt16.self))
      let dmin = Half.toFloat(x.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
      // Literal chunk indices make the qh shifts constants, which lets the loops vectorize.
      q5Chunk(x, d, dmin, y, chunk: 0)
      q5Chunk(x, d, dmin, y, chunk: 1)
      q5Chunk(x, d, dmin, y, chunk: 2)
      q5Chunk(x, d, dmin, y, chunk: 3)
      x += 176
      y += 256
    }
  }

  /// The 64 Q5_K elements of chunk `c` (sub-blocks 2c and 2c+1) of block `x`.
  @inline(__always)
  static func q5Chunk(_ x: UnsafeRawPointer, _ d: Float, _ dmin: Float, _ y: UnsafeMutablePointer<Float>, chunk c: Int)
  {
    let (sc0, m0) = scaleMinK4(2 &* c, x + 4)
    let (sc1, m1) = scaleMinK4(2 &* c &+ 1, x + 4)
    let d1 = d * Float(sc0)
    let mm1 = dmin * Float(m0)
    let d2 = d * Float(sc1)
    let mm2 = dmin * Float(m1)
    let q = x + (48 &+ 32 &* c)
    let qh = x + 16
    let out = y + 64 &* c
    let shift0 = UInt8(truncatingIfNeeded: 2 &* c)
    let shift1 = shift0 &+ 1
    for l in 0..<32 {
      let b = Int32(q.load(fromByteOffset: l, as: UInt8.self))
      let h = Int32(qh.load(fromByteOffset: l, as: UInt8.self))
      let v0 = (b & 0x0f) | (((h &>> Int32(shift0)) & 1) &<< 4)
      let v1 = (b &>> 4) | (((h &>> Int32(shift1)) & 1) &<< 4)
      out[l] = d1 * Float(v0) - mm1
      out[32 &+ l] = d2 * Float(v1) - mm2
    }
  }

  /// Decodes `blocks` Q6_K super-blocks (210 bytes → 256 floats each).
  public static func decodeQ6_K(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    var x = source
    var y = destination
    for _ in 0..<blocks {
      let d = Half.toFloat(x.loadUnaligned(fromByteOffset: 208, as: UInt16.self))
      for h in 0..<2 {
        let ql = x + 64 &* h
        let qh = x + (128 &+ 32 &* h)
        let sc = x + (192 &+ 8 &* h)
        let out = y + 128 &* h
        for half in 0..<2 {
          let base = 16 &* half
          let ds0 = d * Float(sc.load(fromByteOffset: half, as: Int8.self))
          let ds1 = d * Float(sc.load(fromByteOffset: half &+ 2, as: Int8.self))
          let ds2 = d * Float(sc.load(fromByteOffset: half &+ 4, as: Int8.self))
          let ds3 = d * Float(sc.load(fromByteOffset: half &+ 6, as: Int8.self))
          for i in 0..<16 {
            let l = base &+ i
            let a = Int32(ql.load(fromByteOffset: l, as: UInt8.self))
            let b = Int32(ql.load(fromByteOffset: l &+ 32, as: UInt8.self))
            let hb = Int32(qh.load(fromByteOffset: l, as: UInt8.self))
            let q1 = ((a & 0x0f) | ((hb & 3) &<< 4)) &- 32
            let q2 = ((b & 0x0f) | ((hb & 0x0c) &<< 2)) &- 32
            let q3 = ((a &>> 4) | (hb & 0x30)) &- 32
            let q4 = ((b &>> 4) | ((hb &>> 2) & 0x30)) &- 32
            out[l] = ds0 * Float(q1)
            out[l &+ 32] = ds1 * Float(q2)
            out[l &+ 64] = ds2 * Float(q3)
            out[l &+ 96] = ds3 * Float(q4)
          }
        }
      }
      x += 210
      y += 256
    }
  }

  /// Decodes `blocks` Q8_K super-blocks (292 bytes → 256 floats each): `d·q` with an f32 `d`.
  public static func decodeQ8_K(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    var x = source
    var y = destination
    for _ in 0..<blocks {
      let d = Float(bitPattern: UInt32(littleEndian: x.loadUnaligned(as: UInt32.self)))
      for j in 0..<256 {
        y[j] = d * Float(x.load(fromByteOffset: 4 &+ j, as: Int8.self))
      }
      x += 292
      y += 256
    }
  }
}
