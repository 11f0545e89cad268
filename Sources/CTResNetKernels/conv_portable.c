// The kernels in portable C (GCC/Clang vector extensions, no ISA-specific code): 4 pixels × 16 channels per tile
// over 4-float (16-byte) vectors, which the compiler lowers to whatever the target has (SSE2 on baseline x86-64).
// They run everywhere: the kernels of `TRESNET_MAX_ISA=portable` with an explicit direct or winograd backend.
#include "internal.h"

#include <string.h>

#define TK_SUFFIX portable
#define TK_ISA_ID TK_ISA_PORTABLE
#define TK_TARGET
#define TK_VL 4
#define TK_NV 4
#define TK_MR 4
typedef float tk_v __attribute__((vector_size(16)));
typedef int tk_vi __attribute__((vector_size(16)));

static inline tk_v tk_set1(float x) {
    tk_v v;
    for (int i = 0; i < TK_VL; i++) v[i] = x;
    return v;
}

static inline tk_v tk_loadn(const float *p, int n) {
    tk_v v = tk_set1(0);
    if (n >= TK_VL)
        memcpy(&v, p, sizeof v);
    else if (n > 0)
        memcpy(&v, p, sizeof(float) * (size_t)n);
    return v;
}

static inline void tk_storen(float *p, tk_v v, int n) {
    if (n >= TK_VL)
        memcpy(p, &v, sizeof v);
    else if (n > 0)
        memcpy(p, &v, sizeof(float) * (size_t)n);
}

/// Lane-wise select of (v < 0 ? low : v) without the vector ?: operator, which C compilers do not all accept.
static inline tk_v tk_where_negative(tk_v v, tk_v low) {
    tk_vi negative = v < tk_set1(0);
    return (tk_v)(((tk_vi)low & negative) | ((tk_vi)v & ~negative));
}

static inline tk_v tk_activate(tk_v v, int activation, tk_v slope) {
    if (activation == TK_RELU) return tk_where_negative(v, tk_set1(0));
    if (activation == TK_LEAKY_RELU) return tk_where_negative(v, v * slope);
    return v;
}

#define V_ZERO() tk_set1(0)
#define V_SET1(x) tk_set1(x)
#define V_LOAD(p) tk_loadn(p, TK_VL)
#define V_ADD(a, b) ((a) + (b))
#define V_SUB(a, b) ((a) - (b))
#define V_FMA(x, b, acc) ((acc) + (x) * (b))
#define V_LOADN(p, n) tk_loadn(p, n)
#define V_STOREN(p, v, n) tk_storen(p, v, n)
#define V_ACTIVATE(v, activation, slope) tk_activate(v, activation, slope)

#include "kernel_body.h"
