import CDecodeKernels
import QuantscopeFormats

/// The legacy 32-element block quants: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and Q8_1.
///
/// Layouts (offsets in bytes inside one block; every f16 is little-endian binary16):
///
/// | type | bytes | fields |
/// |---|---|---|
/// | Q4_0 | 18 | `d` f16 @0; `qs[16]` @2 |
/// | Q4_1 | 20 | `d` f16 @0; `m` f16 @2; `qs[16]` @4 |
/// | Q5_0 | 22 | `d` f16 @0; `qh` LE u32 @2; `qs[16]` @6 |
/// | Q5_1 | 24 | `d` f16 @0; `m` f16 @2; `qh` LE u32 @4; `qs[16]` @8 |
/// | Q8_0 | 34 | `d` f16 @0; `qs` int8[32] @2 |
/// | Q8_1 | 36 | `d` f16 @0; `s` f16 @2 (= d·Σqs, unused for decoding); `qs` int8[32] @4 |
///
/// The 4-bit types use "split halves" nibble order: byte `qs[j]` holds element `j` in its low
/// nibble and element `j + 16` in its high nibble. Q5 types add bit `j` of `qh` as the fifth bit
/// of element `j` (bits 16…31 for elements 16…31).
///
/// Values, with products in ggml's order: Q4_0 `f32(q − 8)·d`, Q5_0 `f32(q − 16)·d`, Q4_1/Q5_1
/// `f32(q)·d + m`, Q8_0/Q8_1 `f32(q)·d`. (ggml has no Q8_1 decoder; its value is `d × q` by
/// definition.)
///
/// The kernels are plain loops over raw bytes with a fixed trip count per block, which LLVM
/// vectorizes; the block's scales are read once per block with unaligned loads.
public enum LegacyQuants {
  /// This family's codecs.
  public static let codecs: [BlockCodec] = [
    BlockCodec(type: .q4_0, decode: { decodeQ4_0($0, $1, $2) }),
    BlockCodec(type: .q4_1, decode: { decodeQ4_1($0, $1, $2) }),
    BlockCodec(type: .q5_0, decode: { decodeQ5_0($0, $1, $2) }),
    BlockCodec(type: .q5_1, decode: { decodeQ5_1($0, $1, $2) }),
    BlockCodec(type: .q8_0, decode: { decodeQ8_0($0, $1, $2) }),
    BlockCodec(type: .q8_1, decode: { decodeQ8_1($0, $1, $2) }),
  ]

  /// Decodes `blocks` Q4_0 blocks (18 bytes → 32 floats each).
  public static func decodeQ4_0(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    var x = source
    var y = destination
    for _ in 0..<blocks {
      let d = Half.toFloat(x.loadUnaligned(as: UInt16.self))
      for j in 0..<16 {
        let b = x.load(fromByteOffset: 2 &+ j, as: UInt8.self)
        y[j] = Float(Int32(b & 0x0f) &- 8) * d
        y[j &+ 16] = Float(Int32(b &>> 4) &- 8) * d
      }
      x += 18
      y += 32
    }
  }

  /// Decodes `blocks` Q4_1 blocks (20 bytes → 32 floats each).
  public static func decodeQ4_1(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    var x = source
    var y = destination
    for _ in 0..<blocks {
      let d = Half.toFloat(x.loadUnaligned(as: UInt16.self))
      let m = Half.toFloat(x.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
      for j in 0..<16 {
        let b = x.load(fromByteOffset: 4 &+ j, as: UInt8.self)
        y[j] = Float(Int32(b & 0x0f)) * d + m
        y[j &+ 16] = Float(Int32(b &>> 4)) * d + m
      }
      x += 20
      y += 32
    }
  }

  /// Decodes `blocks` Q5_0 blocks (22 bytes → 32 floats each).
  public static func decodeQ5_0(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    var x = source
    var y = destination
    for _ in 0..<blocks {
      let d = Half.toFloat(x.loadUnaligned(as: UInt16.self))
      let qh = UInt32(littleEndian: x.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
      for j in 0..<16 {
        let b = UInt32(x.load(fromByteOffset: 6 &+ j, as: UInt8.self))
        // Mask tests instead of per-lane variable shifts (which baseline SSE2 lacks).
        let h0: UInt32 = qh & (1 &<< UInt32(j)) != 0 ? 0x10 : 0
        let h1: UInt32 = qh & (0x1_0000 &<< UInt32(j)) != 0 ? 0x10 : 0
        y[j] = Float(Int32(bitPattern: (b & 0x0f) | h0) &- 16) * d
        y[j &+ 16] = Float(Int32(bitPattern: (b &>> 4) | h1) &- 16) * d
      }
      x += 22
      y += 32
    }
  }

  /// Decodes `blocks` Q5_1 blocks (24 bytes → 32 floats each).
  public static func decodeQ5_1(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    var x = source
    var y = destination
    for _ in 0..<blocks {
      let d = Half.toFloat(x.loadUnaligned(as: UInt16.self))
      let m = Half.toFloat(x.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
      let qh = UInt32(littleEndian: x.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
      for j in 0..<16 {
        let b = UInt32(x.load(fromByteOffset: 8 &+ j, as: UInt8.self))
        // Mask tests instead of per-lane variable shifts (which baseline SSE2 lacks).
        let h0: UInt32 = qh & (1 &<< UInt32(j)) != 0 ? 0x10 : 0
        let h1: UInt32 = qh & (0x1_0000 &<< UInt32(j)) != 0 ? 0x10 : 0
        y[j] = Float(Int32(bitPattern: (b & 0x0f) | h0)) * d + m
        y[j &+ 16] = Float(Int32(bitPattern: (b &>> 4) | h1)) * d + m
      }
      x += 24
      y += 32
    }
  }

  /// Decodes `blocks` Q8_0 blocks (34 bytes → 32 floats each), with the AVX2 kernel where the
  /// CPU has it (``DecodeKernels``), else ``portableDecodeQ8_0(_:_:_:)``.
  public static func decodeQ8_0(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    #if arch(x86_64)
      if DecodeKernels.avx2 {
        qs_decode_int8_blocks_avx2(source, blocks, destination, 34, 2)
        return
      }
    #endif
    portableDecodeQ8_0(source, blocks, destination)
  }

  /// Decodes `blocks` Q8_0 blocks in portable Swift (baseline SIMD), the same bits as the AVX2 kernel.
  public static func portableDecodeQ8_0(
    _ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>
  ) {
    decodeInt8Blocks(source, blocks, destination, blockBytes: 34, quantOffset: 2)
  }

  /// Decodes `blocks` Q8_1 blocks (36 bytes → 32 floats each): `d × q`, ignoring the stored sum;
  /// AVX2 where the CPU has it, else ``portableDecodeQ8_1(_:_:_:)``.
  public static func decodeQ8_1(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    #if arch(x86_64)
      if DecodeKernels.avx2 {
        qs_decode_int8_blocks_avx2(source, blocks, destination, 36, 4)
        return
      }
    #endif
    portableDecodeQ8_1(source, blocks, destination)
  }

  /// Decodes `blocks` Q8_1 blocks in portable Swift (baseline SIMD), the same bits as the AVX2 kernel.
  public static func portableDecodeQ8_1(
    _ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>
  ) {
    decodeInt8Blocks(source, blocks, destination, blockBytes: 36, quantOffset: 4)
  }

  /// Shared body of Q8_0 and Q8_1: an f16 scale at offset 0 and 32 int8 quants.
  @inline(__always)
  static func decodeInt8Blocks(
    _ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>,
    blockBytes: Int, quantOffset: Int
  ) {
    var x = source
    var y = destination
    for _ in 0..<blocks {
      let d = Half.toFloat(x.loadUnaligned(as: UInt16.self))
      let q = x + quantOffset
      for j in 0..<32 {
        y[j] = Float(q.load(fromByteOffset: j, as: Int8.self)) * d
      }
      x += blockBytes
      y += 32
    }
  }
}
