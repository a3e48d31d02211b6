import Foundation
import QuantscopeFormats

extension MicroscalingQuants {
  /// This family's quantizers, bit-exact with ggml's `quantize_row_mxfp4_ref` /
  /// `quantize_row_nvfp4_ref`. ggml ignores the imatrix for these types, and so do they.
  public static let quantizers: [BlockQuantizer] = [
    BlockQuantizer(type: .mxfp4, quantize: quantizeMXFP4),
    BlockQuantizer(type: .nvfp4, quantize: quantizeNVFP4),
  ]

  /// ggml's `best_index_mxfp4`: the code whose value `kvalues[i]·e` is nearest to x, scanning
  /// from 0 and replacing only on a strictly smaller error (so 0 maps to code 0, not 8).
  @inline(__always)
  static func bestIndexFP4(_ kv: UnsafePointer<Float>, _ x: Float, _ e: Float) -> UInt8 {
    var best: UInt8 = 0
    var bestError = abs(kv[0] * e - x)
    for i in 1..<16 {
      let error = abs(kv[i] * e - x)
      if error < bestError {
        best = UInt8(i)
        bestError = error
      }
    }
    return best
  }

  /// The largest magnitude of `count` values, first wins (`if (amax < |v|)`).
  @inline(__always)
  static func absMax(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
    var amax: Float = 0
    for j in 0..<count where amax < abs(x[j]) { amax = abs(x[j]) }
    return amax
  }

  /// The E8M0 exponent ggml picks for a block whose largest magnitude is `amax`:
  /// `(uint8_t)(floorf(log2f(amax)) − 2 + 127)`, or 0 when amax is not positive.
  ///
  /// `log2f` is taken as the f32 rounding of the double-precision log2, which rounds up to the
  /// integer just below powers of two exactly as glibc's `log2f` does (a bit-level exponent
  /// would not). The float-to-`uint8_t` cast goes through a 32-bit truncation, as on x86-64.
  @inline(__always)
  static func mxfp4Exponent(_ amax: Float) -> UInt8 {
    guard amax > 0 else { return 0 }
    let e = Float(Foundation.log2(Double(amax))).rounded(.down) - 2 + 127
    guard e.isFinite, e >= -2_147_483_648.0, e < 2_147_483_648.0 else { return 0 }
    return UInt8(truncatingIfNeeded: Int32(e))
  }

  /// `quantize_row_mxfp4_ref` (17 bytes / 32).
  static func quantizeMXFP4(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    iqKvaluesFP4Float.withUnsafeBufferPointer { kvBuffer in
      guard let kv = kvBuffer.baseAddress else { return }
      iqForEachBlock(source, rows, rowLength, destination, blockElements: 32, blockBytes: 17) { x, y in
        let e = mxfp4Exponent(absMax(x, 32))
        let d = iqE8M0Half(e)
        y.storeBytes(of: e, as: UInt8.self)
        for j in 0..<16 {
          let byte = bestIndexFP4(kv, x[j], d) | bestIndexFP4(kv, x[16 + j], d) << 4
          y.storeBytes(of: byte, toByteOffset: 1 + j, as: UInt8.self)
        }
      }
    }
  }

  /// `quantize_row_nvfp4_ref` (36 bytes / 64): per 16 values the UE4M3 encoding of amax/6.
  static func quantizeNVFP4(
    _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int, _ importance: UnsafePointer<Float>?,
    _ destination: UnsafeMutableRawPointer
  ) {
    iqKvaluesFP4Float.withUnsafeBufferPointer { kvBuffer in
      guard let kv = kvBuffer.baseAddress else { return }
      iqForEachBlock(source, rows, rowLength, destination, blockElements: 64, blockBytes: 36) { x, y in
        for s in 0..<4 {
          let xb = x + 16 * s
          let ue = iqFloatToUE4M3(absMax(xb, 16) / 6)
          y.storeBytes(of: ue, toByteOffset: s, as: UInt8.self)
          let d = iqUE4M3Half(ue)
          for j in 0..<8 {
            let byte = bestIndexFP4(kv, xb[j], d) | bestIndexFP4(kv, xb[8 + j], d) << 4
            y.storeBytes(of: byte, toByteOffset: 4 + 8 * s + j, as: UInt8.self)
          }
        }
      }
    }
  }
}
