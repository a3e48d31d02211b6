import CDecodeKernels
import QuantscopeFormats

/// Codecs of the "importance" quant family (IQ2_XXS … IQ4_XS): values are indices into fixed
/// lattices (`IQGrids`) or a non-linear 16-entry table, with signs and scales stored beside them.
///
/// Every decoder reproduces ggml's `dequantize_row_iq*` bit for bit: each product is formed in
/// the order ggml writes it (`(d·s)·q`, `(db·grid)·sign`), in f32, without fused multiply-add.
/// Every table index is masked to the table's size, so any input bytes decode without trapping.
public enum IQuants {
  /// This family's codecs.
  public static let codecs: [BlockCodec] = [
    BlockCodec(type: .iq2_xxs, decode: decodeIQ2XXS),
    BlockCodec(type: .iq2_xs, decode: decodeIQ2XS),
    BlockCodec(type: .iq2_s, decode: decodeIQ2S),
    BlockCodec(type: .iq3_xxs, decode: decodeIQ3XXS),
    BlockCodec(type: .iq3_s, decode: decodeIQ3S),
    BlockCodec(type: .iq1_s, decode: decodeIQ1S),
    BlockCodec(type: .iq1_m, decode: decodeIQ1M),
    BlockCodec(type: .iq4_nl, decode: decodeIQ4NL),
    BlockCodec(type: .iq4_xs, decode: decodeIQ4XS),
  ]

  // MARK: Shared inner loops

  /// Writes the 8 values of one IQ2 grid entry, `(db·byte)·(±1)`, where bit j of `signs`
  /// negates value j.
  @inline(__always)
  static func put8(_ y: UnsafeMutablePointer<Float>, _ db: Float, _ grid: UInt64, _ signs: UInt8) {
    for j in 0..<8 {
      let g = Float(UInt8(truncatingIfNeeded: grid &>> UInt64(8 * j)))
      let s: Float = (signs &>> UInt8(j)) & 1 != 0 ? -1 : 1
      y[j] = (db * g) * s
    }
  }

  /// Writes the 4 values of one IQ3 grid entry; `shift` selects which 4 bits of `signs` apply.
  @inline(__always)
  static func put4(_ y: UnsafeMutablePointer<Float>, _ db: Float, _ grid: UInt32, _ signs: UInt8, _ shift: Int) {
    for j in 0..<4 {
      let g = Float(UInt8(truncatingIfNeeded: grid &>> UInt32(8 * j)))
      let s: Float = (signs &>> UInt8(j + shift)) & 1 != 0 ? -1 : 1
      y[j] = (db * g) * s
    }
  }

  /// Writes the 8 values of one IQ1 grid entry (signed bytes in {−1, 0, 1}): `dl·(g + delta)`.
  @inline(__always)
  static func put8Delta(_ y: UnsafeMutablePointer<Float>, _ dl: Float, _ grid: UInt64, _ delta: Float) {
    for j in 0..<8 {
      let g = Float(Int8(truncatingIfNeeded: grid &>> UInt64(8 * j)))
      y[j] = dl * (g + delta)
    }
  }

  // MARK: 2-bit

  /// IQ2_XXS (66 bytes / 256): d, then per 32 values 4 grid bytes and a u32 of 4 × 7-bit sign
  /// indices plus a 4-bit scale in the top bits.
  static func decodeIQ2XXS(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    #if arch(x86_64)
      if DecodeKernels.avx2 {
        IQGrids.iq2xxsGrid.withUnsafeBufferPointer { grid in
          IQGrids.ksignsIQ2XS.withUnsafeBufferPointer { ksigns in
            qs_decode_iq2_xxs_avx2(source, blocks, destination, grid.baseAddress, ksigns.baseAddress)
          }
        }
        return
      }
    #endif
    portableDecodeIQ2_XXS(source, blocks, destination)
  }

  /// IQ2_XXS in portable Swift, the same bits as the AVX2 kernel.
  public static func portableDecodeIQ2_XXS(
    _ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>
  ) {
    IQGrids.iq2xxsGrid.withUnsafeBufferPointer { grid in
      IQGrids.ksignsIQ2XS.withUnsafeBufferPointer { ksigns in
        for b in 0..<blocks {
          let x = source + b * 66
          var y = destination + b * 256
          let d = iqLoadHalf(x, 0)
          for ib in 0..<8 {
            let aux = iqLoadU32(x, 2 + 8 * ib + 4)
            let db = (d * (0.5 + Float(aux >> 28))) * 0.25
            for l in 0..<4 {
              let index = Int(x.load(fromByteOffset: 2 + 8 * ib + l, as: UInt8.self))
              let signs = ksigns[Int((aux >> UInt32(7 * l)) & 127)]
              put8(y, db, grid[index], signs)
              y += 8
            }
          }
        }
      }
    }
  }

  /// IQ2_XS (74 bytes / 256): d, 32 × u16 (9-bit grid index, 7-bit sign index), 8 scale bytes
  /// (two 4-bit scales per 32 values).
  static func decodeIQ2XS(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    #if arch(x86_64)
      if DecodeKernels.avx2 {
        IQGrids.iq2xsGrid.withUnsafeBufferPointer { grid in
          IQGrids.ksignsIQ2XS.withUnsafeBufferPointer { ksigns in
            qs_decode_iq2_xs_avx2(source, blocks, destination, grid.baseAddress, ksigns.baseAddress)
          }
        }
        return
      }
    #endif
    portableDecodeIQ2_XS(source, blocks, destination)
  }

  /// IQ2_XS in portable Swift, the same bits as the AVX2 kernel.
  public static func portableDecodeIQ2_XS(
    _ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>
  ) {
    IQGrids.iq2xsGrid.withUnsafeBufferPointer { grid in
      IQGrids.ksignsIQ2XS.withUnsafeBufferPointer { ksigns in
        for b in 0..<blocks {
          let x = source + b * 74
          var y = destination + b * 256
          let d = iqLoadHalf(x, 0)
          for ib in 0..<8 {
            let sc = x.load(fromByteOffset: 66 + ib, as: UInt8.self)
            let db0 = (d * (0.5 + Float(sc & 0xF))) * 0.25
            let db1 = (d * (0.5 + Float(sc >> 4))) * 0.25
            for l in 0..<4 {
              let v = iqLoadU16(x, 2 + 2 * (4 * ib + l))
              put8(y, l < 2 ? db0 : db1, grid[Int(v & 511)], ksigns[Int(v >> 9)])
              y += 8
            }
          }
        }
      }
    }
  }

  /// IQ2_S (82 bytes / 256): d, 32 low index bytes, 32 sign bytes, 8 qh bytes (2 high index
  /// bits per group), 8 scale bytes.
  static func decodeIQ2S(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    #if arch(x86_64)
      if DecodeKernels.avx2 {
        IQGrids.iq2sGrid.withUnsafeBufferPointer { grid in
          qs_decode_iq2_s_avx2(source, blocks, destination, grid.baseAddress)
        }
        return
      }
    #endif
    portableDecodeIQ2_S(source, blocks, destination)
  }

  /// IQ2_S in portable Swift, the same bits as the AVX2 kernel.
  public static func portableDecodeIQ2_S(
    _ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>
  ) {
    IQGrids.iq2sGrid.withUnsafeBufferPointer { grid in
      for b in 0..<blocks {
        let x = source + b * 82
        var y = destination + b * 256
        let d = iqLoadHalf(x, 0)
        for ib in 0..<8 {
          let sc = x.load(fromByteOffset: 74 + ib, as: UInt8.self)
          let db0 = (d * (0.5 + Float(sc & 0xF))) * 0.25
          let db1 = (d * (0.5 + Float(sc >> 4))) * 0.25
          let qh = Int(x.load(fromByteOffset: 66 + ib, as: UInt8.self))
          for l in 0..<4 {
            let low = Int(x.load(fromByteOffset: 2 + 4 * ib + l, as: UInt8.self))
            let index = low | ((qh >> (2 * l)) & 3) << 8
            let signs = x.load(fromByteOffset: 2 + 32 + 4 * ib + l, as: UInt8.self)
            put8(y, l < 2 ? db0 : db1, grid[index], signs)
            y += 8
          }
        }
      }
    }
  }

  // MARK: 3-bit

  /// IQ3_XXS (98 bytes / 256): d, 64 grid bytes (two 4-value entries per group of 8), then
  /// 8 × u32 of sign indices and a 4-bit scale.
  static func decodeIQ3XXS(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    IQGrids.iq3xxsGrid.withUnsafeBufferPointer { grid in
      IQGrids.ksignsIQ2XS.withUnsafeBufferPointer { ksigns in
        for b in 0..<blocks {
          let x = source + b * 98
          var y = destination + b * 256
          let d = iqLoadHalf(x, 0)
          for ib in 0..<8 {
            let aux = iqLoadU32(x, 2 + 64 + 4 * ib)
            let db = (d * (0.5 + Float(aux >> 28))) * 0.5
            for l in 0..<4 {
              let signs = ksigns[Int((aux >> UInt32(7 * l)) & 127)]
              let g1 = grid[Int(x.load(fromByteOffset: 2 + 8 * ib + 2 * l, as: UInt8.self))]
              let g2 = grid[Int(x.load(fromByteOffset: 2 + 8 * ib + 2 * l + 1, as: UInt8.self))]
              put4(y, db, g1, signs, 0)
              put4(y + 4, db, g2, signs, 4)
              y += 8
            }
          }
        }
      }
    }
  }

  /// IQ3_S (110 bytes / 256): d, 64 low index bytes, 8 qh bytes (the 9th index bit), 32 sign
  /// bytes, 4 scale bytes (one odd 4-bit scale per 32 values).
  static func decodeIQ3S(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    IQGrids.iq3sGrid.withUnsafeBufferPointer { grid in
      for b in 0..<blocks {
        let x = source + b * 110
        var y = destination + b * 256
        let d = iqLoadHalf(x, 0)
        for ib in 0..<8 {
          let sc = x.load(fromByteOffset: 106 + ib / 2, as: UInt8.self)
          let nibble = ib & 1 == 0 ? sc & 0xF : sc >> 4
          let db = d * Float(1 + 2 * Int(nibble))
          let qh = Int(x.load(fromByteOffset: 66 + ib, as: UInt8.self))
          for l in 0..<4 {
            let i1 = Int(x.load(fromByteOffset: 2 + 8 * ib + 2 * l, as: UInt8.self)) | ((qh >> (2 * l)) & 1) << 8
            let i2 =
              Int(x.load(fromByteOffset: 2 + 8 * ib + 2 * l + 1, as: UInt8.self)) | ((qh >> (2 * l + 1)) & 1) << 8
            let signs = x.load(fromByteOffset: 74 + 4 * ib + l, as: UInt8.self)
            put4(y, db, grid[i1], signs, 0)
            put4(y + 4, db, grid[i2], signs, 4)
            y += 8
          }
        }
      }
    }
  }

  // MARK: 1-bit

  /// IQ1_S (50 bytes / 256): d, 32 low index bytes, 8 × u16 qh (3 high index bits per group,
  /// a 3-bit scale, the delta sign).
  /// The AVX2 kernel where the CPU has it (``DecodeKernels``), else ``portableDecodeIQ1_S(_:_:_:)``.
  static func decodeIQ1S(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    #if arch(x86_64)
      if DecodeKernels.avx2 {
        IQGrids.iq1sGrid.withUnsafeBufferPointer { grid in
          qs_decode_iq1_s_avx2(source, blocks, destination, grid.baseAddress)
        }
        return
      }
    #endif
    portableDecodeIQ1_S(source, blocks, destination)
  }

  /// IQ1_S in portable Swift, the same bits as the AVX2 kernel.
  public static func portableDecodeIQ1_S(
    _ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>
  ) {
    IQGrids.iq1sGrid.withUnsafeBufferPointer { grid in
      for b in 0..<blocks {
        let x = source + b * 50
        var y = destination + b * 256
        let d = iqLoadHalf(x, 0)
        for ib in 0..<8 {
          let qh = Int(iqLoadU16(x, 34 + 2 * ib))
          let dl = d * Float(2 * ((qh >> 12) & 7) + 1)
          let delta: Float = qh & 0x8000 != 0 ? -0.125 : 0.125
          for l in 0..<4 {
            let index = Int(x.load(fromByteOffset: 2 + 4 * ib + l, as: UInt8.self)) | ((qh >> (3 * l)) & 7) << 8
            put8Delta(y, dl, grid[index], delta)
            y += 8
          }
        }
      }
    }
  }

  /// IQ1_M (56 bytes / 256): 32 low index bytes, 16 qh bytes (a nibble per group: 3 high index
  /// bits and the delta sign), 4 × u16 of 3-bit scales whose top nibbles hold the f16 d.
  /// The AVX2 kernel where the CPU has it (``DecodeKernels``), else ``portableDecodeIQ1_M(_:_:_:)``.
  static func decodeIQ1M(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    #if arch(x86_64)
      if DecodeKernels.avx2 {
        IQGrids.iq1sGrid.withUnsafeBufferPointer { grid in
          qs_decode_iq1_m_avx2(source, blocks, destination, grid.baseAddress)
        }
        return
      }
    #endif
    portableDecodeIQ1_M(source, blocks, destination)
  }

  /// IQ1_M in portable Swift, the same bits as the AVX2 kernel.
  public static func portableDecodeIQ1_M(
    _ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>
  ) {
    IQGrids.iq1sGrid.withUnsafeBufferPointer { grid in
      for b in 0..<blocks {
        let x = source + b * 56
        var y = destination + b * 256
        let sc = (iqLoadU16(x, 48), iqLoadU16(x, 50), iqLoadU16(x, 52), iqLoadU16(x, 54))
        let dBits = (sc.0 >> 12) | ((sc.1 >> 8) & 0x00F0) | ((sc.2 >> 4) & 0x0F00) | (sc.3 & 0xF000)
        let d = Half.toFloat(dBits)
        for ib in 0..<8 {
          let word: UInt16
          switch ib / 2 {
          case 0: word = sc.0
          case 1: word = sc.1
          case 2: word = sc.2
          default: word = sc.3
          }
          let shift = UInt16(6 * (ib % 2))
          let dl1 = d * Float(2 * Int((word >> shift) & 7) + 1)
          let dl2 = d * Float(2 * Int((word >> (shift + 3)) & 7) + 1)
          for l in 0..<4 {
            let qh = Int(x.load(fromByteOffset: 32 + 2 * ib + l / 2, as: UInt8.self))
            let nibble = l % 2 == 0 ? qh & 0xF : qh >> 4
            let index = Int(x.load(fromByteOffset: 4 * ib + l, as: UInt8.self)) | (nibble & 7) << 8
            let delta: Float = nibble & 8 != 0 ? -0.125 : 0.125
            put8Delta(y, l < 2 ? dl1 : dl2, grid[index], delta)
            y += 8
          }
        }
      }
    }
  }

  // MARK: 4-bit non-linear

  /// IQ4_NL (18 bytes / 32): d, 16 bytes of split-halves nibbles into `kvalues_iq4nl`.
  static func decodeIQ4NL(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    iqKvaluesIQ4NLFloat.withUnsafeBufferPointer { kv in
      for b in 0..<blocks {
        let x = source + b * 18
        let y = destination + b * 32
        let d = iqLoadHalf(x, 0)
        for j in 0..<16 {
          let q = x.load(fromByteOffset: 2 + j, as: UInt8.self)
          y[j] = d * kv[Int(q & 0xF)]
          y[j + 16] = d * kv[Int(q >> 4)]
        }
      }
    }
  }

  /// IQ4_XS (136 bytes / 256): d, 6-bit sub-block scales split into `scales_h` (2 bits each)
  /// and `scales_l` (4 bits each), 128 bytes of split-halves nibbles into `kvalues_iq4nl`.
  static func decodeIQ4XS(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    iqKvaluesIQ4NLFloat.withUnsafeBufferPointer { kv in
      for b in 0..<blocks {
        let x = source + b * 136
        let y = destination + b * 256
        let d = iqLoadHalf(x, 0)
        let scalesH = Int(iqLoadU16(x, 2))
        for ib in 0..<8 {
          let low = Int(x.load(fromByteOffset: 4 + ib / 2, as: UInt8.self) >> UInt8(4 * (ib % 2))) & 0xF
          let ls = low | ((scalesH >> (2 * ib)) & 3) << 4
          let dl = d * Float(ls - 32)
          let yb = y + 32 * ib
          for j in 0..<16 {
            let q = x.load(fromByteOffset: 8 + 16 * ib + j, as: UInt8.self)
            yb[j] = dl * kv[Int(q & 0xF)]
            yb[j + 16] = dl * kv[Int(q >> 4)]
          }
        }
      }
    }
  }
}
