// bf16 convolutions on AVX512-BF16 (VDPBF16PS: 16 lanes, each += a[2i]·b[2i] + a[2i+1]·b[2i+1] in f32):
// weights packed to bf16 once at load, activations converted to bf16 in the kernels' packing (the direct
// convolution converts its input once per call; Winograd converts its transformed input tiles as it stores them),
// f32 accumulation, and the same f32 epilogue (bias, residual, activation) as the f32 kernels.
//
// Layout: channels are paired along K (pairs never straddle a 3×3 tap: an odd channel count is padded with a zero
// channel to cp = C + C % 2), and a panel of NR output columns holds, per pair q, NR × {w[2q][j], w[2q+1][j]}.
#include "internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/// Rounds to the nearest bf16, ties to even (NaN stays NaN).
static uint16_t tk_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7F800000u) == 0x7F800000u && (u & 0x007FFFFFu)) return (uint16_t)((u >> 16) | 0x40);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1)) >> 16);
}

size_t tk_packed_bf16_count(int taps, int cin, int n) {
    return (size_t)((n + NR - 1) / NR) * (size_t)taps * (size_t)(cin + cin % 2) * NR;
}

void tk_pack_bf16(const float *w, int taps, int cin, int n, unsigned short *packed) {
    const int cp = cin + cin % 2, pairs = taps * cp / 2, panels = (n + NR - 1) / NR;
    for (int p = 0; p < panels; p++)
        for (int q = 0; q < pairs; q++) {
            const int tap = q / (cp / 2), c = 2 * (q % (cp / 2));
            uint16_t *dst = packed + ((size_t)p * pairs + q) * 2 * NR;
            for (int j = 0; j < NR; j++) {
                const int column = p * NR + j;
                for (int h = 0; h < 2; h++)
                    dst[2 * j + h] =
                        column < n && c + h < cin ? tk_bf16(w[((size_t)tap * cin + c + h) * n + column]) : 0;
            }
        }
}

size_t tk_winograd_packed_bf16_count(int cin, int cout) { return 16 * tk_packed_bf16_count(1, cin, cout); }

int tk_winograd_pack_bf16(const float *w, int cin, int cout, unsigned short *packed) {
    float *u = aligned_alloc(64, (tk_winograd_packed_count(cin, cout) * sizeof(float) + 63) / 64 * 64);
    float *plain = malloc(sizeof(float) * (size_t)cin * (size_t)cout);
    if (!u || !plain) {
        free(u);
        free(plain);
        return -1;
    }
    if (tk_winograd_pack(w, cin, cout, u) != 0) {
        free(u);
        free(plain);
        return -1;
    }
    // Unpack each of the 16 transformed f32 panels back to [cin][cout], then pack it as bf16 pairs.
    const size_t one = tk_packed_count(cin, cout), one16 = tk_packed_bf16_count(1, cin, cout);
    for (int e = 0; e < 16; e++) {
        const float *src = u + e * one;
        for (int c = 0; c < cin; c++)
            for (int o = 0; o < cout; o++)
                plain[(size_t)c * cout + o] =
                    src[(((size_t)(o / NR) * 2 + (o % NR) / TK_HALF) * cin + c) * TK_HALF + o % TK_HALF];
        tk_pack_bf16(plain, 1, cin, cout, packed + e * one16);
    }
    free(u);
    free(plain);
    return 0;
}

#if defined(__x86_64__)
#include <immintrin.h>

#define TK_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define TK_MR 8
/// Channel pairs summed in registers before they are folded into a tile's running sum: f32's TK_CHUNK products
/// would fold (16 spilled sums: loads, adds, stores) every 64 pairs; bf16's own rounding (2⁻⁹ per operand)
/// dwarfs f32 summation over 512 products (512 · 2⁻²⁴ ≈ 2⁻¹⁵), so bf16 folds 4× less often.
#ifndef TK_BF16_CHUNK_PAIRS
#define TK_BF16_CHUNK_PAIRS 256
#endif

int tk_bf16_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
}

static inline __mmask16 tk_mask16(int left) {
    return left >= 16 ? 0xFFFF : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
}

TK_BF16 static inline __m512 tk_activate16(__m512 v, int activation, __m512 slope) {
    if (activation == TK_RELU) return _mm512_max_ps(v, _mm512_setzero_ps());
    if (activation == TK_LEAKY_RELU) {
        __mmask16 negative = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
        return _mm512_mask_mul_ps(v, negative, v, slope);
    }
    return v;
}

/// Stores the first `n` of 16 floats rounded to bf16 (ties to even).
TK_BF16 static inline void tk_store_bf16(uint16_t *p, __m512 v, int n) {
    _mm256_mask_storeu_epi16(p, tk_mask16(n), (__m256i)_mm512_cvtneps_pbh(v));
}

/// One 8-pixel × (16·nv)-channel tile of a convolution whose input `a->input` is bf16 with cp channels per pixel
/// (cast to float *) and whose weights `a->packed` come from tk_pack_bf16 (cast to float *).
TK_BF16 static inline __attribute__((always_inline)) void tk_bf16_tile(const tk_conv_args *a, int m0, int panel,
                                                                       const int nv) {
    const int C = a->in_channels, cp = C + C % 2, H = a->height, W = a->width, ks = a->kernel, pad = ks / 2;
    const int pairs = ks * ks * cp / 2, N = a->out_channels, HW = H * W, M = a->batch * HW;
    const int rows = M - m0 < TK_MR ? M - m0 : TK_MR;
    const uint16_t *input = (const uint16_t *)(const void *)a->input;
    int y[TK_MR], xx[TK_MR];
    long image[TK_MR];
    for (int r = 0; r < TK_MR; r++) {
        int m = m0 + (r < rows ? r : 0);
        image[r] = ks == 1 ? m : (long)(m / HW) * HW;
        y[r] = ks == 1 ? 0 : (m % HW) / W;
        xx[r] = ks == 1 ? 0 : (m % HW) % W;
    }
    __m512 acc[TK_MR][2], sum[TK_MR][2];
    for (int r = 0; r < TK_MR; r++)
        for (int v = 0; v < nv; v++) acc[r][v] = sum[r][v] = _mm512_setzero_ps();
    const uint16_t *bp = (const uint16_t *)(const void *)a->packed + (size_t)panel * pairs * 2 * NR;
    for (int ky = 0; ky < ks; ky++)
        for (int kx = 0; kx < ks; kx++) {
            const int32_t *rowp[TK_MR];
            for (int r = 0; r < TK_MR; r++) {
                int sy = y[r] + ky - pad, sx = xx[r] + kx - pad;
                rowp[r] = (const int32_t *)(const void *)((r < rows && sy >= 0 && sy < H && sx >= 0 && sx < W)
                                                              ? input + (size_t)(image[r] + (long)sy * W + sx) * cp
                                                              : (const uint16_t *)(const void *)tk_zeros);
            }
            for (int q0 = 0; q0 < cp / 2; q0 += TK_BF16_CHUNK_PAIRS) {
                const int q1 = cp / 2 - q0 < TK_BF16_CHUNK_PAIRS ? cp / 2 : q0 + TK_BF16_CHUNK_PAIRS;
                for (int q = q0; q < q1; q++) {
                    __m512i b[2];
                    for (int v = 0; v < nv; v++) b[v] = _mm512_load_si512((const void *)(bp + 32 * v));
                    bp += 2 * NR;
                    for (int r = 0; r < TK_MR; r++) {
                        __m512i x = _mm512_set1_epi32(rowp[r][q]);
                        for (int v = 0; v < nv; v++)
                            acc[r][v] = _mm512_dpbf16_ps(acc[r][v], (__m512bh)x, (__m512bh)b[v]);
                    }
                }
                for (int r = 0; r < TK_MR; r++)
                    for (int v = 0; v < nv; v++) {
                        sum[r][v] = _mm512_add_ps(sum[r][v], acc[r][v]);
                        acc[r][v] = _mm512_setzero_ps();
                    }
            }
        }
    const int column = panel * NR;
    const __m512 slope = _mm512_set1_ps(a->slope);
    for (int v = 0; v < nv; v++) {
        const int valid = N - column - 16 * v;
        if (valid <= 0) break;
        const __mmask16 mask = tk_mask16(valid);
        const __m512 bias = _mm512_maskz_loadu_ps(mask, a->bias + column + 16 * v);
        for (int r = 0; r < rows; r++) {
            size_t offset = (size_t)(m0 + r) * N + column + 16 * v;
            __m512 value = _mm512_add_ps(sum[r][v], bias);
            if (a->residual) value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(mask, a->residual + offset));
            _mm512_mask_storeu_ps(a->output + offset, mask, tk_activate16(value, a->activation, slope));
        }
    }
}

TK_BF16 static void tk_bf16_tile32(const tk_conv_args *a, int m0, int panel) { tk_bf16_tile(a, m0, panel, 2); }
TK_BF16 static void tk_bf16_tile16(const tk_conv_args *a, int m0, int panel) { tk_bf16_tile(a, m0, panel, 1); }

static void tk_bf16_any_tile(const tk_conv_args *a, int m0, int panel) {
    if (a->out_channels - panel * NR > 16)
        tk_bf16_tile32(a, m0, panel);
    else
        tk_bf16_tile16(a, m0, panel);
}

/// Winograd's input transform with its result rounded to bf16 as it is stored: tile t's row of matrix e at
/// ((uint16_t *)v)[(e·stride + t − base)·cp], the padding channel (odd C) zero.
TK_BF16 static void tk_bf16_wino_input(const tk_wino_geometry *g, long t0, long t1, float *vf, long base, long stride) {
    const tk_conv_args *a = g->a;
    const int C = a->in_channels, cp = C + C % 2, H = a->height, W = a->width;
    uint16_t *v = (uint16_t *)(void *)vf;
    for (long t = t0; t < t1; t++) {
        const int b = (int)(t / ((long)g->th * g->tw)), r = (int)(t % ((long)g->th * g->tw));
        const int y0 = 2 * (r / g->tw) - 1, x0 = 2 * (r % g->tw) - 1;
        for (int c0 = 0; c0 < cp; c0 += 16) {
            const __mmask16 mask = tk_mask16(C - c0);
            __m512 d[4][4];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) {
                    const int yy = y0 + i, x = x0 + j;
                    d[i][j] = (yy >= 0 && yy < H && x >= 0 && x < W)
                                  ? _mm512_maskz_loadu_ps(mask, a->input + ((size_t)(b * H + yy) * W + x) * C + c0)
                                  : _mm512_setzero_ps();
                }
            for (int i = 0; i < 4; i++) {
                __m512 r0 = _mm512_sub_ps(d[i][0], d[i][2]), r1 = _mm512_add_ps(d[i][1], d[i][2]);
                __m512 r2 = _mm512_sub_ps(d[i][2], d[i][1]), r3 = _mm512_sub_ps(d[i][1], d[i][3]);
                d[i][0] = r0;
                d[i][1] = r1;
                d[i][2] = r2;
                d[i][3] = r3;
            }
            uint16_t *out = v + (size_t)(t - base) * cp + c0;
            const size_t step = (size_t)stride * cp; // from matrix e to e + 1
            for (int j = 0; j < 4; j++) {            // each column stored as soon as it is made
                tk_store_bf16(out + (size_t)j * step, _mm512_sub_ps(d[0][j], d[2][j]), cp - c0);
                tk_store_bf16(out + (size_t)(4 + j) * step, _mm512_add_ps(d[1][j], d[2][j]), cp - c0);
                tk_store_bf16(out + (size_t)(8 + j) * step, _mm512_sub_ps(d[2][j], d[1][j]), cp - c0);
                tk_store_bf16(out + (size_t)(12 + j) * step, _mm512_sub_ps(d[1][j], d[3][j]), cp - c0);
            }
        }
    }
}

/// The bf16 kernels in the shape of an ISA's table: bf16 tiles and input transform, AVX-512's output transform.
const tk_kernels tk_kernels_avx512bf16 = {
    TK_ISA_AVX512, TK_MR, NR, tk_bf16_any_tile, tk_bf16_wino_input, NULL,
};

/// Converts pixels [begin, end) of an NHWC f32 map with C channels to bf16 with cp channels (the pad zero).
typedef struct {
    const float *src;
    uint16_t *dst;
    long pixels;
    int C;
} tk_bf16_convert_job;

TK_BF16 static void tk_bf16_convert(void *context, int index, int count) {
    const tk_bf16_convert_job *job = context;
    const int C = job->C, cp = C + C % 2;
    for (long p = job->pixels * index / count; p < job->pixels * (index + 1) / count; p++)
        for (int c0 = 0; c0 < cp; c0 += 16)
            tk_store_bf16(job->dst + (size_t)p * cp + c0,
                          _mm512_maskz_loadu_ps(tk_mask16(C - c0), job->src + (size_t)p * C + c0), cp - c0);
}

void tk_bf16_rows(const float *src, int rows, int C, unsigned short *dst) {
    tk_bf16_convert_job job = {src, dst, rows, C};
    tk_bf16_convert(&job, 0, 1);
}

/// The input of a direct bf16 convolution: `a->input` converted once to bf16 (freed by the caller), or NULL.
unsigned short *tk_bf16_input(const tk_conv_args *a) {
    const long pixels = (long)a->batch * a->height * a->width;
    const int cp = a->in_channels + a->in_channels % 2;
    uint16_t *dst = aligned_alloc(64, ((size_t)pixels * cp * 2 + 63) / 64 * 64);
    if (!dst) return NULL;
    tk_bf16_convert_job job = {a->input, dst, pixels, a->in_channels};
    int threads = tk_threads();
    if (threads > pixels / 64) threads = pixels / 64 > 0 ? (int)(pixels / 64) : 1;
    tk_parallel(threads, tk_bf16_convert, &job);
    return dst;
}

#else

int tk_bf16_supported(void) { return 0; }
unsigned short *tk_bf16_input(const tk_conv_args *a) {
    (void)a;
    return NULL;
}
void tk_bf16_rows(const float *src, int rows, int C, unsigned short *dst) {
    (void)src;
    (void)rows;
    (void)C;
    (void)dst;
}

#endif
