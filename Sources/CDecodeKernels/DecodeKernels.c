// AVX2 decode kernels, chosen at run time (see include/CDecodeKernels.h).
//
// Bit-exactness with ggml's scalar reference rests on three things: each value is formed with the
// same IEEE operations in the same order (a product, then a difference, never fused: the kernels
// are compiled for "avx2" alone, which has no FMA instruction, and contraction is off below); the
// integer-to-float conversions are exact (|q| < 2^24); and the f16 scales are converted exactly,
// by the same bit manipulation as Swift's `Half.toFloat`.
#pragma STDC FP_CONTRACT OFF
#if defined(__clang__)
#pragma clang fp contract(off)
#endif

#include "CDecodeKernels.h"

#if defined(__x86_64__) || defined(_M_X64)

#include <cpuid.h>
#include <immintrin.h>
#include <string.h>

int qs_decode_avx2_available(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  // OSXSAVE (bit 27) and AVX (bit 28): the OS saves YMM state only if XCR0 says so.
  if ((c & (1u << 27)) == 0 || (c & (1u << 28)) == 0) return 0;
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  if ((lo & 6u) != 6u) return 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
  return (b & (1u << 5)) != 0;
}

/// binary16 bits to binary32, exactly as `Half.toFloat` (and ggml's conversion) do.
static inline float half_bits_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t magnitude = h & 0x7fffu;
  uint32_t shifted = magnitude << 13;
  uint32_t bits;
  if (magnitude < 0x0400u) {
    float small = (float)(int32_t)magnitude * 0x1p-24f;
    memcpy(&bits, &small, 4);
  } else if (magnitude >= 0x7c00u) {
    bits = shifted | 0x7f800000u | (magnitude > 0x7c00u ? 0x00400000u : 0);
  } else {
    bits = shifted + 0x38000000u;
  }
  bits |= sign;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

/// The little-endian binary16 at `p`, widened as `half_bits_to_float`.
static inline float half_to_float(const uint8_t *p) {
  uint16_t h;
  memcpy(&h, p, 2);
  return half_bits_to_float(h);
}

/// ggml's `get_scale_min_k4`: sub-block `j`'s six-bit scale and min from the 12 packed bytes.
static inline void scale_min_k4(int j, const uint8_t *q, uint8_t *scale, uint8_t *min) {
  if (j < 4) {
    *scale = q[j] & 63;
    *min = q[j + 4] & 63;
  } else {
    *scale = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *min = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

/// Outputs at least this large cannot stay in cache, so a decode writing one is bound by its
/// write stream to DRAM. Such outputs are written with streaming (non-temporal) stores when
/// aligned: ordinary stores first read every output line from DRAM (read for ownership), and
/// streaming halves the memory traffic, as `memset` does for large sizes. Smaller outputs, such as
/// the tiles of a fused decode-and-reduce loop, keep ordinary stores so the consumer finds them in
/// L1/L2.
enum { qs_cache_resident_limit_bytes = 8 << 20 };

/// Whether a decode of `elements` floats writes its output to DRAM rather than to cache.
static inline int qs_output_leaves_cache(intptr_t elements) {
  return elements * 4 >= qs_cache_resident_limit_bytes;
}

/// Whether a decode of `elements` floats to `y` should stream: its output leaves the cache, and
/// `y` is 32-byte aligned (every block then writes whole 32-byte lines, since blocks hold
/// multiples of 8 floats).
static inline int qs_should_stream(const float *y, intptr_t elements) {
  return qs_output_leaves_cache(elements) && ((uintptr_t)y & 31) == 0;
}

/// How far ahead of their loads the Q8_0 and Q8_1 kernels prefetch when their output stays in
/// cache: the hardware prefetchers alone keep too few lines in flight for one core
/// (`quantscope-bench decode`, tiled, on the Xeon of scripts/bench/README.md: Q8_0 43.7-44.2 GB/s
/// of output without, 44.8-45.0 with 4 KiB ahead). BF16 does not prefetch: on that Xeon 4 KiB
/// ahead gave 41.8 -> 43.1-43.3 GB/s tiled, but on the AMD EPYC of the same README it cost more
/// (tiled ÷ ggml 0.79-1.07 with it, 0.93-1.16 without, interleaved runs), and one kernel serves both.
enum { qs_prefetch_bytes = 4096 };

__attribute__((target("avx2"))) static inline void store8(float *y, __m256 v, int stream) {
  if (stream) {
    _mm256_stream_ps(y, v);
  } else {
    _mm256_storeu_ps(y, v);
  }
}

__attribute__((target("avx2"))) static inline __m256i load8_u8(const uint8_t *p) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
}

__attribute__((target("avx2"), always_inline)) static inline void int8_blocks(
    const void *source, intptr_t blocks, float *destination, intptr_t block_bytes, intptr_t quant_offset, int stream,
    int prefetch) {
  const uint8_t *x = source;
  float *y = destination;
  for (intptr_t i = 0; i < blocks; i++) {
    if (prefetch) {
      _mm_prefetch((const char *)(x + qs_prefetch_bytes), _MM_HINT_T0);
    }
    // ggml: y = x.qs[j] * d, an exact int-to-float conversion then one product.
    const __m256 d = _mm256_set1_ps(half_to_float(x));
    const uint8_t *q = x + quant_offset;
    for (int j = 0; j < 32; j += 8) {
      __m256i v = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(q + j)));
      store8(y + j, _mm256_mul_ps(_mm256_cvtepi32_ps(v), d), stream);
    }
    x += block_bytes;
    y += 32;
  }
}

__attribute__((target("avx2"), always_inline)) static inline void q4_k(const void *source, intptr_t blocks,
                                                                     float *destination, int stream,
                                                                     int whole_lines) {
  const uint8_t *x = source;
  float *y = destination;
  const __m256i low = _mm256_set1_epi32(0x0f);
  for (intptr_t i = 0; i < blocks; i++) {
    const float d = half_to_float(x);
    const float dmin = half_to_float(x + 2);
    const uint8_t *scales = x + 4;
    const uint8_t *q = x + 16;
    for (int c = 0; c < 4; c++) {
      uint8_t sc, m;
      // ggml: d1 = d * sc; m1 = min * m; y = d1 * q - m1 (two roundings, in that order).
      scale_min_k4(2 * c, scales, &sc, &m);
      const __m256 d1 = _mm256_set1_ps(d * (float)sc), m1 = _mm256_set1_ps(dmin * (float)m);
      scale_min_k4(2 * c + 1, scales, &sc, &m);
      const __m256 d2 = _mm256_set1_ps(d * (float)sc), m2 = _mm256_set1_ps(dmin * (float)m);
      if (whole_lines) {
        // Bound by DRAM: low nibbles to y[0..<32], then high nibbles to y[32..<64], so whole
        // cache lines are written in order (at 64 MiB with ordinary stores, 1.05-1.09x ggml
        // against 0.94-1.00x when the two halves alternate; scripts/bench/README.md).
        for (int l = 0; l < 32; l += 8) {
          __m256 lo = _mm256_cvtepi32_ps(_mm256_and_si256(load8_u8(q + l), low));
          store8(y + l, _mm256_sub_ps(_mm256_mul_ps(d1, lo), m1), stream);
        }
        for (int l = 0; l < 32; l += 8) {
          __m256 hi = _mm256_cvtepi32_ps(_mm256_srli_epi32(load8_u8(q + l), 4));
          store8(y + 32 + l, _mm256_sub_ps(_mm256_mul_ps(d2, hi), m2), stream);
        }
      } else {
        // Bound by the kernel: one load serves both halves.
        for (int l = 0; l < 32; l += 8) {
          __m256i v = load8_u8(q + l);
          __m256 lo = _mm256_cvtepi32_ps(_mm256_and_si256(v, low));
          __m256 hi = _mm256_cvtepi32_ps(_mm256_srli_epi32(v, 4));
          store8(y + l, _mm256_sub_ps(_mm256_mul_ps(d1, lo), m1), stream);
          store8(y + 32 + l, _mm256_sub_ps(_mm256_mul_ps(d2, hi), m2), stream);
        }
      }
      q += 32;
      y += 64;
    }
    x += 144;
  }
}

__attribute__((target("avx2"), always_inline)) static inline void q5_k(const void *source, intptr_t blocks,
                                                                     float *destination, int stream) {
  const uint8_t *x = source;
  float *y = destination;
  const __m256i low = _mm256_set1_epi8(0x0f);
  const __m256i one = _mm256_set1_epi8(1);
  // The five-bit values of one sub-block pair, assembled 32 bytes at a time and widened from here:
  // byte operations do in one instruction what 32-bit lanes need four for.
  _Alignas(32) uint8_t values[64];
  for (intptr_t i = 0; i < blocks; i++) {
    const float d = half_to_float(x);
    const float dmin = half_to_float(x + 2);
    const uint8_t *scales = x + 4;
    const __m256i qh = _mm256_loadu_si256((const __m256i *)(x + 16));
    const uint8_t *q = x + 48;
    for (int c = 0; c < 4; c++) {
      uint8_t sc, m;
      scale_min_k4(2 * c, scales, &sc, &m);
      const __m256 d1 = _mm256_set1_ps(d * (float)sc), m1 = _mm256_set1_ps(dmin * (float)m);
      scale_min_k4(2 * c + 1, scales, &sc, &m);
      const __m256 d2 = _mm256_set1_ps(d * (float)sc), m2 = _mm256_set1_ps(dmin * (float)m);
      // The fifth bits of sub-blocks 2c and 2c+1 are bits 2c and 2c+1 of qh[l]. Shifting 16-bit
      // lanes right and masking each byte to its lowest bit keeps the bytes apart.
      const __m256i v = _mm256_loadu_si256((const __m256i *)q);
      const __m256i h0 = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * c)), one);
      const __m256i h1 = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * c + 1)), one);
      _mm256_store_si256((__m256i *)values, _mm256_or_si256(_mm256_and_si256(v, low), _mm256_slli_epi16(h0, 4)));
      _mm256_store_si256((__m256i *)(values + 32),
                         _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), low), _mm256_slli_epi16(h1, 4)));
      for (int l = 0; l < 32; l += 8) {
        store8(y + l, _mm256_sub_ps(_mm256_mul_ps(d1, _mm256_cvtepi32_ps(load8_u8(values + l))), m1), stream);
      }
      for (int l = 0; l < 32; l += 8) {
        store8(y + 32 + l, _mm256_sub_ps(_mm256_mul_ps(d2, _mm256_cvtepi32_ps(load8_u8(values + 32 + l))), m2), stream);
      }
      q += 32;
      y += 64;
    }
    x += 176;
  }
}

__attribute__((target("avx2"), always_inline)) static inline void tq1_0(const void *source, intptr_t blocks,
                                                                      float *destination, int stream) {
  const uint8_t *x = source;
  float *y = destination;
  const __m256i byte = _mm256_set1_epi32(0xff);
  const __m256i one = _mm256_set1_epi32(1);
  static const int pow3[5] = {1, 3, 9, 27, 81};
  for (intptr_t i = 0; i < blocks; i++) {
    const __m256 d = _mm256_set1_ps(half_to_float(x + 52));
    // ggml: q = qs[j] * 3^n (mod 256); xi = (q * 3) >> 8; y = (float)(xi - 1) * d. qs[0..<32] gives
    // 5 digits of 32, qs[32..<48] 5 digits of 16, qh[0..<4] 4 digits of 4, in that order.
    for (int n = 0; n < 5; n++) {
      const __m256i p = _mm256_set1_epi32(pow3[n]);
      for (int m = 0; m < 32; m += 8) {
        __m256i q = _mm256_and_si256(_mm256_mullo_epi32(load8_u8(x + m), p), byte);
        __m256i t = _mm256_sub_epi32(_mm256_srli_epi32(_mm256_add_epi32(q, _mm256_add_epi32(q, q)), 8), one);
        store8(y + m, _mm256_mul_ps(_mm256_cvtepi32_ps(t), d), stream);
      }
      y += 32;
    }
    for (int n = 0; n < 5; n++) {
      const __m256i p = _mm256_set1_epi32(pow3[n]);
      for (int m = 0; m < 16; m += 8) {
        __m256i q = _mm256_and_si256(_mm256_mullo_epi32(load8_u8(x + 32 + m), p), byte);
        __m256i t = _mm256_sub_epi32(_mm256_srli_epi32(_mm256_add_epi32(q, _mm256_add_epi32(q, q)), 8), one);
        store8(y + m, _mm256_mul_ps(_mm256_cvtepi32_ps(t), d), stream);
      }
      y += 16;
    }
    // The last 16 values, digits 0…3 of qh[0..<4]: each vector holds two digits of the 4 bytes.
    {
      uint32_t w;
      memcpy(&w, x + 48, 4);
      const __m256i qh = _mm256_cvtepu8_epi32(_mm_set_epi32(0, 0, (int)w, (int)w));
      for (int n = 0; n < 4; n += 2) {
        const __m256i p = _mm256_setr_epi32(pow3[n], pow3[n], pow3[n], pow3[n], pow3[n + 1], pow3[n + 1],
                                            pow3[n + 1], pow3[n + 1]);
        __m256i q = _mm256_and_si256(_mm256_mullo_epi32(qh, p), byte);
        __m256i t = _mm256_sub_epi32(_mm256_srli_epi32(_mm256_add_epi32(q, _mm256_add_epi32(q, q)), 8), one);
        store8(y, _mm256_mul_ps(_mm256_cvtepi32_ps(t), d), stream);
        y += 8;
      }
    }
    x += 54;
  }
}

/// Eight values of an IQ1 grid entry: ggml's `dl * (grid[j] + delta)`, a float sum (exact: the
/// grid values are small integers) and then one product.
__attribute__((target("avx2"), always_inline)) static inline void iq1_put8(float *y, __m256 dl, uint64_t grid,
                                                                         __m256 delta, int stream) {
  __m256 g = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_cvtsi64_si128((long long)grid)));
  store8(y, _mm256_mul_ps(dl, _mm256_add_ps(g, delta)), stream);
}

__attribute__((target("avx2"), always_inline)) static inline void iq1_m(const void *source, intptr_t blocks,
                                                                      float *destination, const uint64_t *grid,
                                                                      int stream) {
  const uint8_t *x = source;
  float *y = destination;
  const __m256 plus = _mm256_set1_ps(0.125f), minus = _mm256_set1_ps(-0.125f);
  for (intptr_t i = 0; i < blocks; i++) {
    uint16_t sc[4];
    memcpy(sc, x + 48, 8);
    // The f16 d is spread over the top nibbles of the four scale words.
    const uint16_t d_bits = (uint16_t)((sc[0] >> 12) | ((sc[1] >> 8) & 0x00F0) | ((sc[2] >> 4) & 0x0F00) |
                                       (sc[3] & 0xF000));
    const float d = half_bits_to_float(d_bits);
    for (int ib = 0; ib < 8; ib++) {
      const uint16_t word = sc[ib / 2];
      const int shift = 6 * (ib % 2);
      const __m256 dl1 = _mm256_set1_ps(d * (float)(2 * ((word >> shift) & 7) + 1));
      const __m256 dl2 = _mm256_set1_ps(d * (float)(2 * ((word >> (shift + 3)) & 7) + 1));
      for (int l = 0; l < 4; l++) {
        const int qh = x[32 + 2 * ib + l / 2];
        const int nibble = l % 2 == 0 ? qh & 0xF : qh >> 4;
        const int index = x[4 * ib + l] | ((nibble & 7) << 8);
        iq1_put8(y, l < 2 ? dl1 : dl2, grid[index], (nibble & 8) ? minus : plus, stream);
        y += 8;
      }
    }
    x += 56;
  }
}

__attribute__((target("avx2"), always_inline)) static inline void iq1_s(const void *source, intptr_t blocks,
                                                                      float *destination, const uint64_t *grid,
                                                                      int stream) {
  const uint8_t *x = source;
  float *y = destination;
  const __m256 plus = _mm256_set1_ps(0.125f), minus = _mm256_set1_ps(-0.125f);
  for (intptr_t i = 0; i < blocks; i++) {
    const float d = half_to_float(x);
    for (int ib = 0; ib < 8; ib++) {
      uint16_t qh;
      memcpy(&qh, x + 34 + 2 * ib, 2);
      const __m256 dl = _mm256_set1_ps(d * (float)(2 * ((qh >> 12) & 7) + 1));
      const __m256 delta = (qh & 0x8000) ? minus : plus;
      for (int l = 0; l < 4; l++) {
        const int index = x[2 + 4 * ib + l] | (((qh >> (3 * l)) & 7) << 8);
        iq1_put8(y, dl, grid[index], delta, stream);
        y += 8;
      }
    }
    x += 50;
  }
}

/// Eight values of an IQ2 grid entry: ggml's `db * grid[j] * (sign bit j ? -1.f : 1.f)`, two
/// products in that order (multiplying by -1, not flipping the sign bit, keeps a NaN's bits).
__attribute__((target("avx2"), always_inline)) static inline void iq2_put8(float *y, __m256 db, uint64_t grid,
                                                                         int signs, int stream) {
  const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  __m256 g = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)grid)));
  __m256i set = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(signs), bit), bit);
  __m256 s = _mm256_blendv_ps(_mm256_set1_ps(1.0f), _mm256_set1_ps(-1.0f), _mm256_castsi256_ps(set));
  store8(y, _mm256_mul_ps(_mm256_mul_ps(db, g), s), stream);
}

__attribute__((target("avx2"), always_inline)) static inline void iq2_s(const void *source, intptr_t blocks,
                                                                      float *destination, const uint64_t *grid,
                                                                      int stream) {
  const uint8_t *x = source;
  float *y = destination;
  for (intptr_t i = 0; i < blocks; i++) {
    const float d = half_to_float(x);
    for (int ib = 0; ib < 8; ib++) {
      const int sc = x[74 + ib];
      const __m256 db0 = _mm256_set1_ps((d * (0.5f + (float)(sc & 0xF))) * 0.25f);
      const __m256 db1 = _mm256_set1_ps((d * (0.5f + (float)(sc >> 4))) * 0.25f);
      const int qh = x[66 + ib];
      for (int l = 0; l < 4; l++) {
        const int index = x[2 + 4 * ib + l] | (((qh >> (2 * l)) & 3) << 8);
        iq2_put8(y, l < 2 ? db0 : db1, grid[index], x[2 + 32 + 4 * ib + l], stream);
        y += 8;
      }
    }
    x += 82;
  }
}

__attribute__((target("avx2"), always_inline)) static inline void iq2_xxs(const void *source, intptr_t blocks,
                                                                        float *destination, const uint64_t *grid,
                                                                        const uint8_t *ksigns, int stream) {
  const uint8_t *x = source;
  float *y = destination;
  for (intptr_t i = 0; i < blocks; i++) {
    const float d = half_to_float(x);
    for (int ib = 0; ib < 8; ib++) {
      // Four grid bytes, then a u32 of four 7-bit sign indices and the 4-bit scale on top.
      uint32_t aux;
      memcpy(&aux, x + 2 + 8 * ib + 4, 4);
      const __m256 db = _mm256_set1_ps((d * (0.5f + (float)(aux >> 28))) * 0.25f);
      for (int l = 0; l < 4; l++) {
        iq2_put8(y, db, grid[x[2 + 8 * ib + l]], ksigns[(aux >> (7 * l)) & 127], stream);
        y += 8;
      }
    }
    x += 66;
  }
}

__attribute__((target("avx2"), always_inline)) static inline void iq2_xs(const void *source, intptr_t blocks,
                                                                       float *destination, const uint64_t *grid,
                                                                       const uint8_t *ksigns, int stream) {
  const uint8_t *x = source;
  float *y = destination;
  for (intptr_t i = 0; i < blocks; i++) {
    const float d = half_to_float(x);
    for (int ib = 0; ib < 8; ib++) {
      const int sc = x[66 + ib];
      const __m256 db0 = _mm256_set1_ps((d * (0.5f + (float)(sc & 0xF))) * 0.25f);
      const __m256 db1 = _mm256_set1_ps((d * (0.5f + (float)(sc >> 4))) * 0.25f);
      for (int l = 0; l < 4; l++) {
        // A u16: 9-bit grid index, 7-bit sign index.
        uint16_t v;
        memcpy(&v, x + 2 + 2 * (4 * ib + l), 2);
        iq2_put8(y, l < 2 ? db0 : db1, grid[v & 511], ksigns[v >> 9], stream);
        y += 8;
      }
    }
    x += 74;
  }
}


__attribute__((target("avx2"), always_inline)) static inline void bf16(const void *source, intptr_t count,
                                                                     float *destination, int stream) {
  const uint8_t *x = source;
  float *y = destination;
  intptr_t i = 0;
  for (; i + 32 <= count; i += 32) {
    for (int k = 0; k < 32; k += 8) {
      // The bfloat16 bits become the top half of a binary32: exact, as ggml's conversion.
      __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(x + 2 * (i + k))));
      store8(y + i + k, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)), stream);
    }
  }
  for (; i < count; i++) {
    uint16_t h;
    memcpy(&h, x + 2 * i, 2);
    uint32_t bits = (uint32_t)h << 16;
    memcpy(y + i, &bits, 4);
  }
}

// Each entry point instantiates its kernel twice, so the store kind is a constant in the loop.

__attribute__((target("avx2"))) void qs_decode_int8_blocks_avx2(const void *source, intptr_t blocks,
                                                                float *destination, intptr_t block_bytes,
                                                                intptr_t quant_offset) {
  if (qs_should_stream(destination, blocks * 32)) {
    int8_blocks(source, blocks, destination, block_bytes, quant_offset, 1, 0);
    _mm_sfence();
  } else if (qs_output_leaves_cache(blocks * 32)) {
    // Bound by the write stream to DRAM: prefetched reads in flight would only compete with it
    // (`quantscope-bench decode`, 64 MiB, on the AMD EPYC of scripts/bench/README.md: Q8_0
    // 17.1-18.3 GB/s with the prefetch, 21.8-22.2 without).
    int8_blocks(source, blocks, destination, block_bytes, quant_offset, 0, 0);
  } else {
    int8_blocks(source, blocks, destination, block_bytes, quant_offset, 0, 1);
  }
}

__attribute__((target("avx2"))) void qs_decode_q4_k_avx2(const void *source, intptr_t blocks, float *destination) {
  if (qs_should_stream(destination, blocks * 256)) {
    q4_k(source, blocks, destination, 1, 1);
    _mm_sfence();
  } else if (qs_output_leaves_cache(blocks * 256)) {
    q4_k(source, blocks, destination, 0, 1);
  } else {
    q4_k(source, blocks, destination, 0, 0);
  }
}

__attribute__((target("avx2"))) void qs_decode_q5_k_avx2(const void *source, intptr_t blocks, float *destination) {
  if (qs_should_stream(destination, blocks * 256)) {
    q5_k(source, blocks, destination, 1);
    _mm_sfence();
  } else {
    q5_k(source, blocks, destination, 0);
  }
}

__attribute__((target("avx2"))) void qs_decode_tq1_0_avx2(const void *source, intptr_t blocks, float *destination) {
  if (qs_should_stream(destination, blocks * 256)) {
    tq1_0(source, blocks, destination, 1);
    _mm_sfence();
  } else {
    tq1_0(source, blocks, destination, 0);
  }
}

__attribute__((target("avx2"))) void qs_decode_iq1_m_avx2(const void *source, intptr_t blocks, float *destination,
                                                          const uint64_t *grid) {
  if (qs_should_stream(destination, blocks * 256)) {
    iq1_m(source, blocks, destination, grid, 1);
    _mm_sfence();
  } else {
    iq1_m(source, blocks, destination, grid, 0);
  }
}

__attribute__((target("avx2"))) void qs_decode_iq1_s_avx2(const void *source, intptr_t blocks, float *destination,
                                                          const uint64_t *grid) {
  if (qs_should_stream(destination, blocks * 256)) {
    iq1_s(source, blocks, destination, grid, 1);
    _mm_sfence();
  } else {
    iq1_s(source, blocks, destination, grid, 0);
  }
}

__attribute__((target("avx2"))) void qs_decode_iq2_s_avx2(const void *source, intptr_t blocks, float *destination,
                                                          const uint64_t *grid) {
  if (qs_should_stream(destination, blocks * 256)) {
    iq2_s(source, blocks, destination, grid, 1);
    _mm_sfence();
  } else {
    iq2_s(source, blocks, destination, grid, 0);
  }
}

__attribute__((target("avx2"))) void qs_decode_iq2_xxs_avx2(const void *source, intptr_t blocks, float *destination,
                                                            const uint64_t *grid, const uint8_t *ksigns) {
  if (qs_should_stream(destination, blocks * 256)) {
    iq2_xxs(source, blocks, destination, grid, ksigns, 1);
    _mm_sfence();
  } else {
    iq2_xxs(source, blocks, destination, grid, ksigns, 0);
  }
}

__attribute__((target("avx2"))) void qs_decode_iq2_xs_avx2(const void *source, intptr_t blocks, float *destination,
                                                           const uint64_t *grid, const uint8_t *ksigns) {
  if (qs_should_stream(destination, blocks * 256)) {
    iq2_xs(source, blocks, destination, grid, ksigns, 1);
    _mm_sfence();
  } else {
    iq2_xs(source, blocks, destination, grid, ksigns, 0);
  }
}

__attribute__((target("avx2"))) void qs_decode_bf16_avx2(const void *source, intptr_t count, float *destination) {
  if (qs_should_stream(destination, count)) {
    bf16(source, count, destination, 1);
    _mm_sfence();
  } else {
    bf16(source, count, destination, 0);
  }
}

#else

int qs_decode_avx2_available(void) { return 0; }

#endif
