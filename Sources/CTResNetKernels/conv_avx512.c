// The kernels for AVX-512F: 8 pixels × 32 channels per register tile (16 zmm accumulators), masked tails.
#include "internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TK_SUFFIX avx512
#define TK_ISA_ID TK_ISA_AVX512
#define TK_TARGET __attribute__((target("avx512f")))
#define TK_VL 16
#define TK_NV 2
#define TK_MR 8
typedef __m512 tk_v;

/// The lanes of a 16-float vector that hold channels, when `left` channels remain from its first one.
static inline __mmask16 tk_mask(int left) {
    return left >= 16 ? 0xFFFF : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
}

TK_TARGET static inline __m512 tk_activate(__m512 v, int activation, __m512 slope) {
    if (activation == TK_RELU) return _mm512_max_ps(v, _mm512_setzero_ps());
    if (activation == TK_LEAKY_RELU) {
        __mmask16 negative = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
        return _mm512_mask_mul_ps(v, negative, v, slope);
    }
    return v;
}

#define V_ZERO() _mm512_setzero_ps()
#define V_SET1(x) _mm512_set1_ps(x)
#define V_LOAD(p) _mm512_load_ps(p)
#define V_ADD(a, b) _mm512_add_ps(a, b)
#define V_SUB(a, b) _mm512_sub_ps(a, b)
#define V_FMA(x, b, acc) _mm512_fmadd_ps(x, b, acc)
#define V_LOADN(p, n) _mm512_maskz_loadu_ps(tk_mask(n), p)
#define V_STOREN(p, v, n) _mm512_mask_storeu_ps(p, tk_mask(n), v)
#define V_ACTIVATE(v, activation, slope) tk_activate(v, activation, slope)

#include "kernel_body.h"

#endif
