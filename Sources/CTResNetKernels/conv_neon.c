// The kernels for aarch64 Advanced SIMD (NEON, part of every ARMv8-A core): 6 pixels × 16 channels per register
// tile (24 of the 32 q registers accumulate, four hold weights, one a broadcast), half of a 32-column panel per
// tile; tails through a small stack buffer.
#include "internal.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#include <string.h>

#define TK_SUFFIX neon
#define TK_ISA_ID TK_ISA_NEON
#define TK_TARGET
#define TK_VL 4
#define TK_NV 4
#define TK_MR 6
typedef float32x4_t tk_v;

static inline float32x4_t tk_loadn(const float *p, int n) {
    if (n >= 4) return vld1q_f32(p);
    float lanes[4] = {0, 0, 0, 0};
    if (n > 0) memcpy(lanes, p, sizeof(float) * (size_t)n);
    return vld1q_f32(lanes);
}

static inline void tk_storen(float *p, float32x4_t v, int n) {
    if (n >= 4) {
        vst1q_f32(p, v);
        return;
    }
    float lanes[4];
    vst1q_f32(lanes, v);
    if (n > 0) memcpy(p, lanes, sizeof(float) * (size_t)n);
}

static inline float32x4_t tk_activate(float32x4_t v, int activation, float32x4_t slope) {
    if (activation == TK_RELU) return vmaxq_f32(v, vdupq_n_f32(0));
    if (activation == TK_LEAKY_RELU) return vbslq_f32(vcltq_f32(v, vdupq_n_f32(0)), vmulq_f32(v, slope), v);
    return v;
}

#define V_ZERO() vdupq_n_f32(0)
#define V_SET1(x) vdupq_n_f32(x)
#define V_LOAD(p) vld1q_f32(p)
#define V_ADD(a, b) vaddq_f32(a, b)
#define V_SUB(a, b) vsubq_f32(a, b)
#define V_FMA(x, b, acc) vfmaq_f32(acc, x, b)
#define V_LOADN(p, n) tk_loadn(p, n)
#define V_STOREN(p, v, n) tk_storen(p, v, n)
#define V_ACTIVATE(v, activation, slope) tk_activate(v, activation, slope)

#include "kernel_body.h"

#endif
