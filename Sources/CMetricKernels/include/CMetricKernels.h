#ifndef CMETRICKERNELS_H
#define CMETRICKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The error sums of one row segment (see ErrorAccumulator): Σ e², Σ |e|, Σ r², Σ c², Σ c·r with
/// e = c − r, all in binary64, and the largest |e| above a threshold with its first index.
typedef struct {
  double squared_error;
  double absolute_error;
  double squared_reference;
  double squared_candidate;
  double product;
  /// The largest |e| if it is above the threshold, else the threshold.
  double max_absolute_error;
  /// Index of the first |e| equal to `max_absolute_error` when above the threshold, else −1.
  ptrdiff_t max_index;
} qs_error_sums;

/// Sums `count` pairs of a binary32 candidate and a binary64 reference. `threshold` is the running
/// largest error (−1 before any value): only an error strictly above it is reported.
///
/// The summation order is fixed (eight lanes, reduced in a fixed order, then the tail in order),
/// and every build of the kernel (SSE2, AVX, AVX2, AVX-512) performs the same IEEE operations lane by lane, so
/// the result is bit-identical whichever the CPU runs. No fused multiply-add. NaN or infinite
/// inputs make the sums non-finite; the caller redoes such segments value by value.
qs_error_sums qs_error_sums_f32_f64(const float *candidate, const double *reference, ptrdiff_t count,
                                    double threshold);

/// The sums of one row whose reference is FP8 codes times one factor per `block` columns:
/// element i's reference is `table[codes[i]] × factors[i / block]`. `block` must be a multiple of
/// eight unless the row is one block. Bit-identical to `qs_error_sums_f32_f64` on the decoded
/// reference (same products, same order).
qs_error_sums qs_error_sums_f32_scaled_codes(const float *candidate, const uint8_t *codes, const double *table,
                                             const double *factors, ptrdiff_t block, ptrdiff_t count,
                                             double threshold);

/// The builds of the kernels, narrowest first. All give the same bits.
enum {
  /// Baseline x86-64 (SSE2), or portable C elsewhere.
  QS_ERROR_SUMS_BASELINE = 0,
  QS_ERROR_SUMS_AVX = 1,
  QS_ERROR_SUMS_AVX2 = 2,
  /// AVX-512 F, VL and DQ, on 256-bit registers (32 of them).
  QS_ERROR_SUMS_AVX512 = 3,
};

/// The kernels in the build `level` asks for, or the widest below it that the CPU has (the
/// tests use this to check every build gives the same bits).
qs_error_sums qs_error_sums_f32_f64_isa(int level, const float *candidate, const double *reference, ptrdiff_t count,
                                        double threshold);
qs_error_sums qs_error_sums_f32_scaled_codes_isa(int level, const float *candidate, const uint8_t *codes,
                                                 const double *table, const double *factors, ptrdiff_t block,
                                                 ptrdiff_t count, double threshold);

/// The widest build this CPU runs, which the unsuffixed kernels use. `QUANTSCOPE_METRIC_KERNEL`
/// (`baseline`, `avx`, `avx2` or `avx512`) in the environment caps it.
int qs_error_sums_level(void);

/// A build's name for reports: "baseline", "AVX", "AVX2" or "AVX-512".
const char *qs_error_sums_level_name(int level);

#ifdef __cplusplus
}
#endif

#endif
