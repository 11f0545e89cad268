// The kernels for AVX2 + FMA (x86-64-v3): 6 pixels × 16 channels per register tile (12 ymm accumulators, two
// weight vectors and one broadcast: 15 of the 16 registers), half of a 32-column panel per tile; masked tails.
#include "internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TK_SUFFIX avx2
#define TK_ISA_ID TK_ISA_AVX2
#define TK_TARGET __attribute__((target("avx2,fma")))
#define TK_VL 8
#define TK_NV 2
#define TK_MR 6
typedef __m256 tk_v;

/// A lane mask for the first `left` of 8 floats (all lanes from 8 on).
TK_TARGET static inline __m256i tk_mask8(int left) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(left), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

TK_TARGET static inline __m256 tk_loadn(const float *p, int n) {
    return n >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, tk_mask8(n));
}

TK_TARGET static inline void tk_storen(float *p, __m256 v, int n) {
    if (n >= 8)
        _mm256_storeu_ps(p, v);
    else
        _mm256_maskstore_ps(p, tk_mask8(n), v);
}

TK_TARGET static inline __m256 tk_activate(__m256 v, int activation, __m256 slope) {
    if (activation == TK_RELU) return _mm256_max_ps(v, _mm256_setzero_ps());
    if (activation == TK_LEAKY_RELU) {
        __m256 negative = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
        return _mm256_blendv_ps(v, _mm256_mul_ps(v, slope), negative);
    }
    return v;
}

#define V_ZERO() _mm256_setzero_ps()
#define V_SET1(x) _mm256_set1_ps(x)
#define V_LOAD(p) _mm256_load_ps(p)
#define V_ADD(a, b) _mm256_add_ps(a, b)
#define V_SUB(a, b) _mm256_sub_ps(a, b)
#define V_FMA(x, b, acc) _mm256_fmadd_ps(x, b, acc)
#define V_LOADN(p, n) tk_loadn(p, n)
#define V_STOREN(p, v, n) tk_storen(p, v, n)
#define V_ACTIVATE(v, activation, slope) tk_activate(v, activation, slope)

#include "kernel_body.h"

#endif
