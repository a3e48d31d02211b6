import QuantscopeFormats

extension ScalarTypes {
  /// This family's quantizers: the three float types `ggml_quantize_chunk` can produce.
  public static let quantizers: [BlockQuantizer] = [
    BlockQuantizer(type: .f32, quantize: quantizeF32),
    BlockQuantizer(type: .f16, quantize: quantizeF16),
    BlockQuantizer(type: .bf16, quantize: quantizeBF16),
  ]

  /// F32 "quantization" is a copy. The importance vector has no effect (as in ggml).
  @Sendable static func quantizeF32(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int,
    _ importance: UnsafePointer<Float>?, _ destination: UnsafeMutableRawPointer
  ) {
    let count = rows * rowLength
    for i in 0..<count {
      destination.storeBytes(of: source[i].bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
    }
  }

  /// F16 with ggml's `GGML_FP32_TO_FP16`: round to nearest even; NaN becomes the canonical quiet
  /// NaN 0x7E00 with the input's sign (ggml drops the payload, which `Float16(_:)` would keep in
  /// part), so NaN inputs give ggml's bytes too.
  @Sendable static func quantizeF16(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int,
    _ importance: UnsafePointer<Float>?, _ destination: UnsafeMutableRawPointer
  ) {
    let count = rows * rowLength
    for i in 0..<count {
      let x = source[i]
      let h: UInt16 = x.isNaN ? (x.sign == .minus ? 0xFE00 : 0x7E00) : Half.fromFloat(x)
      destination.storeBytes(of: h.littleEndian, toByteOffset: 2 * i, as: UInt16.self)
    }
  }

  /// BF16 with ggml's `ggml_compute_fp32_to_bf16` (RNE on the bit pattern, NaN quieted).
  @Sendable static func quantizeBF16(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int,
    _ importance: UnsafePointer<Float>?, _ destination: UnsafeMutableRawPointer
  ) {
    let count = rows * rowLength
    for i in 0..<count {
      destination.storeBytes(of: Half.bf16FromFloat(source[i]).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
    }
  }
}
