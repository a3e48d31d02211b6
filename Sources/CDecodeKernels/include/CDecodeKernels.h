// Decode kernels that need wider SIMD than the baseline x86-64 build of the Swift targets can use.
//
// Every kernel here must give exactly the float bits of ggml's reference `to_float`: the same
// products and differences in the same order, with no fused multiply-add (the kernels are compiled
// for AVX2 only, not FMA, and contraction is switched off in the source). The Swift side
// (QuantscopeCodecs, `DecodeKernels`) calls them only when `qs_decode_avx2_available()` says the
// CPU and the operating system support AVX2; elsewhere it keeps its portable Swift loops.
#ifndef CDECODEKERNELS_H
#define CDECODEKERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when the AVX2 kernels may run on this CPU (AVX2 present and YMM state enabled by the OS),
/// else 0; always 0 on non-x86-64 builds, where the kernels below are absent.
int qs_decode_avx2_available(void);

/// Q8_0 (34-byte blocks) and Q8_1 (36-byte blocks): `block_bytes` and the offset of the 32 int8
/// quants after the leading f16 scale.
void qs_decode_int8_blocks_avx2(const void *source, intptr_t blocks, float *destination, intptr_t block_bytes,
                                intptr_t quant_offset);
/// Q4_K: 144-byte super-blocks of 256 elements.
void qs_decode_q4_k_avx2(const void *source, intptr_t blocks, float *destination);
/// Q5_K: 176-byte super-blocks of 256 elements.
void qs_decode_q5_k_avx2(const void *source, intptr_t blocks, float *destination);
/// TQ1_0: 54-byte blocks of 256 ternary values.
void qs_decode_tq1_0_avx2(const void *source, intptr_t blocks, float *destination);
/// IQ1_M (56-byte blocks) and IQ1_S (50-byte blocks) of 256 values; `grid` is ggml's
/// `iq1s_grid` (2048 entries of eight int8 values), which the Swift side owns.
void qs_decode_iq1_m_avx2(const void *source, intptr_t blocks, float *destination, const uint64_t *grid);
void qs_decode_iq1_s_avx2(const void *source, intptr_t blocks, float *destination, const uint64_t *grid);
/// IQ2_S: 82-byte blocks of 256 values; `grid` is ggml's `iq2s_grid` (1024 entries of eight
/// unsigned bytes).
void qs_decode_iq2_s_avx2(const void *source, intptr_t blocks, float *destination, const uint64_t *grid);
/// IQ2_XXS (66-byte blocks) and IQ2_XS (74-byte blocks) of 256 values; `grid` is ggml's
/// `iq2xxs_grid` (256 entries) or `iq2xs_grid` (512), `ksigns` its `ksigns_iq2xs` (128 bytes).
void qs_decode_iq2_xxs_avx2(const void *source, intptr_t blocks, float *destination, const uint64_t *grid,
                            const uint8_t *ksigns);
void qs_decode_iq2_xs_avx2(const void *source, intptr_t blocks, float *destination, const uint64_t *grid,
                           const uint8_t *ksigns);
/// BF16: `count` little-endian bfloat16 values widened to binary32.
void qs_decode_bf16_avx2(const void *source, intptr_t count, float *destination);

#ifdef __cplusplus
}
#endif

#endif
