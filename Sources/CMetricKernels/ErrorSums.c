// The metric loop of `diff`: five sums and the first largest error of a candidate/reference pair.
//
// One body, compiled four times: for the baseline x86-64 (SSE2), AVX, AVX2 and AVX-512 (VL/DQ, on
// 256-bit registers), the widest the CPU and OS support chosen at run time. All run the same
// lane-wise IEEE operations on eight lanes and reduce them in the same order, so their results are
// bit-identical; only the instructions differ. AVX2 and AVX-512 matter for speed, not width: the
// AVX build runs out of its 16 registers and spills in the loop, AVX2 broadcasts and compares without
// spilling, and AVX-512's 32 registers hold every accumulator. Contraction into fused multiply-add is
// off: the sums must not depend on the instruction set (AVX-512 implies FMA hardware).

#include "CMetricKernels.h"

#include <stdlib.h>
#include <string.h>

#pragma clang fp contract(off)

typedef double v4d __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));
typedef int64_t v4l __attribute__((vector_size(32)));

// Loads are macros, not functions: a function returning a 256-bit vector would have a different
// ABI in the baseline and AVX builds.
#define QS_LOAD_CANDIDATE(p)          \
  ({                                  \
    v4f v_;                           \
    memcpy(&v_, (p), sizeof v_);      \
    __builtin_convertvector(v_, v4d); \
  })
#define QS_LOAD_DOUBLES(p)       \
  ({                             \
    v4d v_;                      \
    memcpy(&v_, (p), sizeof v_); \
    v_;                          \
  })
#define QS_LOAD_CODES(p)                                                               \
  ({                                                                                   \
    v4d v_ = {table[(p)[0]], table[(p)[1]], table[(p)[2]], table[(p)[3]]};             \
    v_ * factor;                                                                       \
  })

// Adds two groups of four lanes to the sums: the two groups' terms are added together before
// they join the running sums, so each sum's chain of dependent additions has one link per eight
// values (the adds' latency is hidden) while the accumulators and temporaries fit 16 registers.
#define QS_STEP(c0, r0, c1, r1, a0, a1)          \
  do {                                           \
    v4d e0_ = (c0) - (r0), e1_ = (c1) - (r1);    \
    a0 = (v4d)((v4l)e0_ & abs_mask);             \
    a1 = (v4d)((v4l)e1_ & abs_mask);             \
    se += e0_ * e0_ + e1_ * e1_;                 \
    ae += a0 + a1;                               \
    rr += (r0) * (r0) + (r1) * (r1);             \
    cc += (c0) * (c0) + (c1) * (c1);             \
    cr += (c0) * (r0) + (c1) * (r1);             \
  } while (0)

// The kernel body. LOAD_R(i) gives the four reference values at i, SCALAR_R(i) one, and
// NEXT_GROUP(i) runs before the values at i (a multiple of eight) are read.
//
// The largest error is tracked as the sequential loop does (strictly greater replaces, so the first
// occurrence wins), starting from `threshold`: the caller's running maximum, so that after the first
// values a group rarely beats it and the scalar update below is rarely taken.
#define QS_BODY(LOAD_R, SCALAR_R, NEXT_GROUP)                                             \
  const v4l abs_mask = {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX};                       \
  v4d se = {0}, ae = {0}, rr = {0}, cc = {0}, cr = {0};                                    \
  double m = threshold;                                                                    \
  ptrdiff_t at = -1;                                                                       \
  v4d mv = {m, m, m, m};                                                                   \
  ptrdiff_t i = 0;                                                                         \
  for (; i + 8 <= n; i += 8) {                                                             \
    NEXT_GROUP(i);                                                                         \
    v4d c0 = QS_LOAD_CANDIDATE(candidate + i), c1 = QS_LOAD_CANDIDATE(candidate + i + 4);  \
    v4d r0 = LOAD_R(i), r1 = LOAD_R(i + 4);                                                \
    v4d a0, a1;                                                                            \
    QS_STEP(c0, r0, c1, r1, a0, a1);                                                       \
    v4l gt = (v4l)(a0 > mv) | (v4l)(a1 > mv);                                              \
    if (__builtin_expect((gt[0] | gt[1] | gt[2] | gt[3]) != 0, 0)) {                       \
      for (int k = 0; k < 4; k++) {                                                        \
        if (a0[k] > m) { m = a0[k]; at = i + k; }                                          \
      }                                                                                    \
      for (int k = 0; k < 4; k++) {                                                        \
        if (a1[k] > m) { m = a1[k]; at = i + 4 + k; }                                      \
      }                                                                                    \
      mv = (v4d){m, m, m, m};                                                              \
    }                                                                                      \
  }                                                                                        \
  /* Fixed reduction: lanes (0+1) + (2+3). */                                              \
  qs_error_sums s;                                                                         \
  s.squared_error = (se[0] + se[1]) + (se[2] + se[3]);                                     \
  s.absolute_error = (ae[0] + ae[1]) + (ae[2] + ae[3]);                                    \
  s.squared_reference = (rr[0] + rr[1]) + (rr[2] + rr[3]);                                 \
  s.squared_candidate = (cc[0] + cc[1]) + (cc[2] + cc[3]);                                 \
  s.product = (cr[0] + cr[1]) + (cr[2] + cr[3]);                                           \
  for (; i < n; i++) {                                                                     \
    if ((i & 7) == 0) NEXT_GROUP(i);                                                       \
    double c = (double)candidate[i], r = SCALAR_R(i);                                      \
    double e = c - r, a = e < 0 ? -e : e;                                                  \
    s.squared_error += e * e;                                                              \
    s.absolute_error += a;                                                                 \
    s.squared_reference += r * r;                                                          \
    s.squared_candidate += c * c;                                                          \
    s.product += c * r;                                                                    \
    if (a > m) { m = a; at = i; }                                                          \
  }                                                                                        \
  s.max_absolute_error = m;                                                                \
  s.max_index = at;                                                                        \
  return s;

#define QS_F64_LOAD(i) QS_LOAD_DOUBLES(reference + (i))
#define QS_F64_SCALAR(i) reference[(i)]
#define QS_NOTHING(i) ((void)0)

// FP8 rows with one factor per `block` columns: with `block` a multiple of eight (or the whole
// row), the factor changes only between groups of eight.
#define QS_CODES_LOAD(i) QS_LOAD_CODES(codes + (i))
#define QS_CODES_SCALAR(i) (table[codes[(i)]] * factor)
#define QS_CODES_NEXT(i)   \
  do {                     \
    if ((i) == next) {     \
      factor = *++f;       \
      next += block;       \
    }                      \
  } while (0)

#define QS_F64_FUNCTION(name, attributes)                                                            \
  attributes static qs_error_sums name(const float *candidate, const double *reference, ptrdiff_t n, \
                                       double threshold) {                                           \
    QS_BODY(QS_F64_LOAD, QS_F64_SCALAR, QS_NOTHING)                                                  \
  }

#define QS_CODES_FUNCTION(name, attributes)                                                          \
  attributes static qs_error_sums name(const float *candidate, const uint8_t *codes, const double *table, \
                                       const double *factors, ptrdiff_t block, ptrdiff_t n,          \
                                       double threshold) {                                           \
    const double *f = factors;                                                                       \
    double factor = *f;                                                                              \
    ptrdiff_t next = block;                                                                          \
    QS_BODY(QS_CODES_LOAD, QS_CODES_SCALAR, QS_CODES_NEXT)                                           \
  }

QS_F64_FUNCTION(f64_base, )
QS_CODES_FUNCTION(codes_base, )

#if defined(__x86_64__) || defined(__i386__)
#define QS_HAVE_X86 1
#define QS_AVX512 __attribute__((target("avx2,avx512f,avx512vl,avx512dq")))
QS_F64_FUNCTION(f64_avx, __attribute__((target("avx"))))
QS_CODES_FUNCTION(codes_avx, __attribute__((target("avx"))))
QS_F64_FUNCTION(f64_avx2, __attribute__((target("avx2"))))
QS_CODES_FUNCTION(codes_avx2, __attribute__((target("avx2"))))
QS_F64_FUNCTION(f64_avx512, QS_AVX512)
QS_CODES_FUNCTION(codes_avx512, QS_AVX512)
#endif

/// The names QUANTSCOPE_METRIC_KERNEL accepts.
static const char *qs_error_sums_level_key(int level) {
  switch (level) {
  case QS_ERROR_SUMS_AVX: return "avx";
  case QS_ERROR_SUMS_AVX2: return "avx2";
  case QS_ERROR_SUMS_AVX512: return "avx512";
  default: return "baseline";
  }
}

int qs_error_sums_level(void) {
#ifdef QS_HAVE_X86
  // Cached: __builtin_cpu_supports checks the CPU and that the OS saves the wider registers.
  static int cached = -1;
  int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
  if (v < 0) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
      v = QS_ERROR_SUMS_AVX512;
    else if (__builtin_cpu_supports("avx2"))
      v = QS_ERROR_SUMS_AVX2;
    else if (__builtin_cpu_supports("avx"))
      v = QS_ERROR_SUMS_AVX;
    else
      v = QS_ERROR_SUMS_BASELINE;
    // QUANTSCOPE_METRIC_KERNEL caps the build, to time one build against another in one binary or
    // to run the suite on the path a smaller CPU takes.
    const char *cap = getenv("QUANTSCOPE_METRIC_KERNEL");
    if (cap != NULL) {
      for (int level = QS_ERROR_SUMS_BASELINE; level <= QS_ERROR_SUMS_AVX512; level++) {
        if (strcmp(cap, qs_error_sums_level_key(level)) == 0 && level < v) v = level;
      }
    }
    __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
  }
  return v;
#else
  return QS_ERROR_SUMS_BASELINE;
#endif
}

const char *qs_error_sums_level_name(int level) {
  switch (level) {
  case QS_ERROR_SUMS_AVX: return "AVX";
  case QS_ERROR_SUMS_AVX2: return "AVX2";
  case QS_ERROR_SUMS_AVX512: return "AVX-512";
  default: return "baseline";
  }
}

/// The build to run: the one asked for, or the widest below it that the CPU has.
static int qs_level(int requested) {
  int available = qs_error_sums_level();
  return requested < available ? requested : available;
}

qs_error_sums qs_error_sums_f32_f64_isa(int level, const float *candidate, const double *reference, ptrdiff_t count,
                                        double threshold) {
  switch (qs_level(level)) {
#ifdef QS_HAVE_X86
  case QS_ERROR_SUMS_AVX512: return f64_avx512(candidate, reference, count, threshold);
  case QS_ERROR_SUMS_AVX2: return f64_avx2(candidate, reference, count, threshold);
  case QS_ERROR_SUMS_AVX: return f64_avx(candidate, reference, count, threshold);
#endif
  default: return f64_base(candidate, reference, count, threshold);
  }
}

qs_error_sums qs_error_sums_f32_f64(const float *candidate, const double *reference, ptrdiff_t count,
                                    double threshold) {
  return qs_error_sums_f32_f64_isa(QS_ERROR_SUMS_AVX512, candidate, reference, count, threshold);
}

qs_error_sums qs_error_sums_f32_scaled_codes_isa(int level, const float *candidate, const uint8_t *codes,
                                                 const double *table, const double *factors, ptrdiff_t block,
                                                 ptrdiff_t count, double threshold) {
  switch (qs_level(level)) {
#ifdef QS_HAVE_X86
  case QS_ERROR_SUMS_AVX512: return codes_avx512(candidate, codes, table, factors, block, count, threshold);
  case QS_ERROR_SUMS_AVX2: return codes_avx2(candidate, codes, table, factors, block, count, threshold);
  case QS_ERROR_SUMS_AVX: return codes_avx(candidate, codes, table, factors, block, count, threshold);
#endif
  default: return codes_base(candidate, codes, table, factors, block, count, threshold);
  }
}

qs_error_sums qs_error_sums_f32_scaled_codes(const float *candidate, const uint8_t *codes, const double *table,
                                             const double *factors, ptrdiff_t block, ptrdiff_t count,
                                             double threshold) {
  return qs_error_sums_f32_scaled_codes_isa(QS_ERROR_SUMS_AVX512, candidate, codes, table, factors, block, count,
                                            threshold);
}
