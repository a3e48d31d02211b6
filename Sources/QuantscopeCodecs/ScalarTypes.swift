import CDecodeKernels
import QuantscopeFormats

/// Codecs of ggml's plain (non-block) types: F32, F16, BF16, F64 and the integers I8…I64.
///
/// Each is a "block" of one element, so the shared streaming machinery (row ranges, tiles)
/// treats them like any quantized type. Values are little-endian, as GGUF stores them; reads use
/// `loadUnaligned` because a tensor view handed to a kernel need not be aligned (a safetensors
/// tensor may start at any byte).
public enum ScalarTypes {
  /// This family's codecs.
  public static let codecs: [BlockCodec] = [
    BlockCodec(type: .f32, decode: decodeF32),
    BlockCodec(type: .f16, decode: decodeF16),
    BlockCodec(type: .bf16, decode: decodeBF16),
    BlockCodec(type: .f64, decode: decodeF64),
    BlockCodec(type: .i8, decode: decodeI8),
    BlockCodec(type: .i16, decode: decodeI16),
    BlockCodec(type: .i32, decode: decodeI32),
    BlockCodec(type: .i64, decode: decodeI64),
  ]

  /// binary32 little-endian: a copy.
  @Sendable static func decodeF32(_ source: UnsafeRawPointer, _ count: Int, _ destination: UnsafeMutablePointer<Float>)
  {
    for i in 0..<count {
      destination[i] = Float(
        bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
    }
  }

  /// binary16 little-endian, widened exactly.
  @Sendable static func decodeF16(_ source: UnsafeRawPointer, _ count: Int, _ destination: UnsafeMutablePointer<Float>)
  {
    for i in 0..<count {
      destination[i] = Half.toFloat(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
    }
  }

  /// bfloat16 little-endian, widened exactly (the bits become the top half of a binary32).
  @Sendable static func decodeBF16(_ source: UnsafeRawPointer, _ count: Int, _ destination: UnsafeMutablePointer<Float>)
  {
    #if arch(x86_64)
      if DecodeKernels.avx2 {
        qs_decode_bf16_avx2(source, count, destination)
        return
      }
    #endif
    portableDecodeBF16(source, count, destination)
  }

  /// BF16 in portable Swift, the same bits as the AVX2 kernel.
  public static func portableDecodeBF16(
    _ source: UnsafeRawPointer, _ count: Int, _ destination: UnsafeMutablePointer<Float>
  ) {
    for i in 0..<count {
      destination[i] = Half.bf16ToFloat(
        UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
    }
  }

  /// binary64 little-endian, rounded to nearest binary32 (what numpy's `astype(float32)` does).
  @Sendable static func decodeF64(_ source: UnsafeRawPointer, _ count: Int, _ destination: UnsafeMutablePointer<Float>)
  {
    for i in 0..<count {
      destination[i] = Float(
        Double(bitPattern: UInt64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
    }
  }

  /// int8, exact.
  @Sendable static func decodeI8(_ source: UnsafeRawPointer, _ count: Int, _ destination: UnsafeMutablePointer<Float>) {
    for i in 0..<count {
      destination[i] = Float(source.load(fromByteOffset: i, as: Int8.self))
    }
  }

  /// int16 little-endian, exact.
  @Sendable static func decodeI16(_ source: UnsafeRawPointer, _ count: Int, _ destination: UnsafeMutablePointer<Float>)
  {
    for i in 0..<count {
      destination[i] = Float(Int16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)))
    }
  }

  /// int32 little-endian, rounded to nearest binary32 when larger than 2^24.
  @Sendable static func decodeI32(_ source: UnsafeRawPointer, _ count: Int, _ destination: UnsafeMutablePointer<Float>)
  {
    for i in 0..<count {
      destination[i] = Float(Int32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
    }
  }

  /// int64 little-endian, rounded to nearest binary32.
  @Sendable static func decodeI64(_ source: UnsafeRawPointer, _ count: Int, _ destination: UnsafeMutablePointer<Float>)
  {
    for i in 0..<count {
      destination[i] = Float(Int64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
    }
  }
}
