import QuantscopeFormats

/// Codecs of the microscaling FP4 family: MXFP4 (32 E2M1 values under one E8M0 power-of-two
/// scale) and NVFP4 (64 values, one UE4M3 scale per 16).
///
/// Both store E2M1 codes as nibbles into `kvalues_fp4` (twice the E2M1 value); ggml's scale
/// decoders therefore return half the scale. Decoders match `dequantize_row_mxfp4` /
/// `dequantize_row_nvfp4` bit for bit.
public enum MicroscalingQuants {
  /// This family's codecs.
  public static let codecs: [BlockCodec] = [
    BlockCodec(type: .mxfp4, decode: decodeMXFP4),
    BlockCodec(type: .nvfp4, decode: decodeNVFP4),
  ]

  /// MXFP4 (17 bytes / 32): E8M0 exponent, then 16 bytes of split-halves nibbles.
  static func decodeMXFP4(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    iqKvaluesFP4Float.withUnsafeBufferPointer { kv in
      for b in 0..<blocks {
        let x = source + b * 17
        let y = destination + b * 32
        let d = iqE8M0Half(x.load(as: UInt8.self))
        for j in 0..<16 {
          let q = x.load(fromByteOffset: 1 + j, as: UInt8.self)
          y[j] = kv[Int(q & 0xF)] * d
          y[j + 16] = kv[Int(q >> 4)] * d
        }
      }
    }
  }

  /// NVFP4 (36 bytes / 64): four UE4M3 scales, then per 16 values 8 bytes whose low nibbles
  /// hold values 0–7 and high nibbles values 8–15.
  static func decodeNVFP4(_ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>) {
    iqKvaluesFP4Float.withUnsafeBufferPointer { kv in
      for b in 0..<blocks {
        let x = source + b * 36
        let y = destination + b * 64
        for s in 0..<4 {
          let d = iqUE4M3Half(x.load(fromByteOffset: s, as: UInt8.self))
          let ys = y + 16 * s
          for j in 0..<8 {
            let q = x.load(fromByteOffset: 4 + 8 * s + j, as: UInt8.self)
            ys[j] = kv[Int(q & 0xF)] * d
            ys[j + 8] = kv[Int(q >> 4)] * d
          }
        }
      }
    }
  }
}
