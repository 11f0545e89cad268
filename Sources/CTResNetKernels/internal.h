// Shared between the kernel files of this target; not part of its public header.
#ifndef TRESNET_KERNELS_INTERNAL_H
#define TRESNET_KERNELS_INTERNAL_H

#include "tresnet_kernels.h"

/// Register tile: MR pixels × NR output channels (a panel of the packed weights).
#ifndef NR
#define NR 32
#endif
#ifndef MR
#define MR 8
#endif

#if defined(__x86_64__)
#include <immintrin.h>

#define TK_AVX512 __attribute__((target("avx512f")))

/// One MR × NR output tile of the convolution `a` (conv.c; AVX-512, call only when tk_available()).
void tk_tile(const tk_conv_args *a, int m0, int panel);

/// The lanes of a 16-float vector that hold channels, when `left` channels remain from its first one.
static inline __mmask16 tk_mask(int left) { return left >= 16 ? 0xFFFF : left <= 0 ? 0 : (__mmask16)((1u << left) - 1); }

/// The epilogue's pointwise function on 16 values: identity, ReLU, or LeakyReLU (x >= 0 ? x : slope · x).
TK_AVX512 static inline __m512 tk_activate(__m512 v, int activation, __m512 slope) {
    if (activation == TK_RELU) return _mm512_max_ps(v, _mm512_setzero_ps());
    if (activation == TK_LEAKY_RELU) {
        __mmask16 negative = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
        return _mm512_mask_mul_ps(v, negative, v, slope);
    }
    return v;
}
#endif

#endif
