import CDecodeKernels
import Foundation

/// Which decode kernels this process uses, chosen once from the CPU's features.
///
/// The Swift targets are built for baseline x86-64 (SSE2), the same target as the ggml build
/// quantscope is bit-exact with, so any x86-64 can run them. Where the CPU and operating system
/// support AVX2, the decoders of Q8_0, Q8_1, Q4_K, Q5_K, TQ1_0, IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S and BF16
/// switch to C kernels compiled for
/// AVX2 alone: eight floats per instruction instead of four, the same IEEE operations in the same
/// order, no fused multiply-add (AVX2 has none; FMA is a separate feature the kernels are not
/// built for). Every other CPU, and every non-x86 build, keeps the portable Swift loops, which
/// the `portable…` functions expose so tests can hold both paths to the same bits.
///
/// `QUANTSCOPE_DECODE_KERNELS=portable` in the environment keeps the portable loops on any CPU:
/// for profiling and benchmarking them against the AVX2 kernels, and for running the whole test
/// suite on the path a CPU without AVX2 takes.
public enum DecodeKernels {
  /// Whether the AVX2 kernels are in use in this process.
  public static let avx2: Bool = {
    #if arch(x86_64)
      if ProcessInfo.processInfo.environment["QUANTSCOPE_DECODE_KERNELS"] == "portable" { return false }
      return qs_decode_avx2_available() != 0
    #else
      return false
    #endif
  }()

  /// A short name for the kernel set in use, for benchmark banners: `avx2` or `portable`.
  public static var name: String { avx2 ? "avx2" : "portable" }
}
