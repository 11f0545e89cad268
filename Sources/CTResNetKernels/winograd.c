// Winograd F(2×2, 3×3) for the stride-1, zero-padded 3×3 convolutions of TResNet (Lavin & Gray 2015), NHWC:
// input tiles are transformed into 16 matrices [tiles][cin], multiplied by the 16 transformed weight matrices
// on conv.c's register tiles, and transformed back into 2×2 output tiles with the epilogue fused.
#include "tresnet_kernels.h"
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/// The blocked schedule is used from this many blocks per thread on.
#ifndef TK_WINO_BLOCKED_FROM
#define TK_WINO_BLOCKED_FROM 4L
#endif

size_t tk_winograd_packed_count(int cin, int cout) { return 16 * tk_packed_count(cin, cout); }

int tk_winograd_pack(const float *w, int cin, int cout, float *packed) {
    static const double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    float *u = malloc(sizeof(float) * 16 * (size_t)cin * (size_t)cout);  // [16][cin][cout]
    if (!u) return -1;
    for (int c = 0; c < cin; c++)
        for (int o = 0; o < cout; o++) {
            double g[3][3], t[4][3];
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++) g[ky][kx] = w[((size_t)(ky * 3 + kx) * cin + c) * cout + o];
            for (int i = 0; i < 4; i++)
                for (int kx = 0; kx < 3; kx++) t[i][kx] = G[i][0] * g[0][kx] + G[i][1] * g[1][kx] + G[i][2] * g[2][kx];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    u[((size_t)(i * 4 + j) * cin + c) * cout + o] =
                        (float)(t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2]);
        }
    size_t one = tk_packed_count(cin, cout);
    for (int e = 0; e < 16; e++) tk_pack(u + (size_t)e * cin * cout, cin, cout, packed + e * one);
    free(u);
    return 0;
}

#if defined(__x86_64__)

// The transforms' scratch (16·tiles·cin + 16·tiles·cout + cout floats) is kept between calls so that large
// buffers are not faulted in again every convolution; a concurrent second caller allocates its own.
static pthread_mutex_t tk_scratch_lock = PTHREAD_MUTEX_INITIALIZER;
static float *tk_scratch;
static size_t tk_scratch_floats;

typedef struct {
    const tk_conv_args *a;
    int th, tw, mtiles, panels;
    long tiles, items, block;
    float *v, *m;
    const float *zeros;
    tk_conv_args gemm[16];
} tk_wino_job;


/// Transforms input tiles t0 ..< t1 into `v`, where tile t's row of matrix e is v[(e·stride + t − base)·C].
TK_AVX512 static void tk_wino_input_tiles(const tk_wino_job *job, long t0, long t1, float *v, long base, long stride) {
    const tk_conv_args *a = job->a;
    const int C = a->in_channels, H = a->height, W = a->width;
    for (long t = t0; t < t1; t++) {
        const int b = (int)(t / ((long)job->th * job->tw)), r = (int)(t % ((long)job->th * job->tw));
        const int y0 = 2 * (r / job->tw) - 1, x0 = 2 * (r % job->tw) - 1;
        for (int c0 = 0; c0 < C; c0 += 16) {
            const __mmask16 mask = tk_mask(C - c0);
            __m512 d[4][4], u[4][4];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) {
                    const int y = y0 + i, x = x0 + j;
                    d[i][j] = (y >= 0 && y < H && x >= 0 && x < W)
                        ? _mm512_maskz_loadu_ps(mask, a->input + ((size_t)(b * H + y) * W + x) * C + c0)
                        : _mm512_setzero_ps();
                }
            for (int i = 0; i < 4; i++) {  // d·B, row by row
                __m512 r0 = _mm512_sub_ps(d[i][0], d[i][2]), r1 = _mm512_add_ps(d[i][1], d[i][2]);
                __m512 r2 = _mm512_sub_ps(d[i][2], d[i][1]), r3 = _mm512_sub_ps(d[i][1], d[i][3]);
                d[i][0] = r0; d[i][1] = r1; d[i][2] = r2; d[i][3] = r3;
            }
            for (int j = 0; j < 4; j++) {  // Bᵀ·(d·B), column by column
                u[0][j] = _mm512_sub_ps(d[0][j], d[2][j]);
                u[1][j] = _mm512_add_ps(d[1][j], d[2][j]);
                u[2][j] = _mm512_sub_ps(d[2][j], d[1][j]);
                u[3][j] = _mm512_sub_ps(d[1][j], d[3][j]);
            }
            for (int e = 0; e < 16; e++)
                _mm512_mask_storeu_ps(v + ((size_t)e * stride + (t - base)) * C + c0, mask, u[e / 4][e % 4]);
        }
    }
}

static void tk_wino_input(void *context, int index, int count) {
    const tk_wino_job *job = context;
    const long T = job->tiles;
    tk_wino_input_tiles(job, T * index / count, T * (index + 1) / count, job->v, 0, T);
}

static void tk_wino_gemms(void *context, int index, int count) {
    const tk_wino_job *job = context;
    const long per = (long)job->panels * job->mtiles;
    for (long i = job->items * index / count; i < job->items * (index + 1) / count; i++) {
        const long within = i % per;
        tk_tile(&job->gemm[i / per], (int)(within % job->mtiles) * MR, (int)(within / job->mtiles));
    }
}


/// Transforms the GEMM results of tiles t0 ..< t1 (row of matrix e at m[(e·stride + t − base)·N]) back into
/// 2×2 output tiles, with bias, residual and activation.
TK_AVX512 static void tk_wino_output_tiles(const tk_wino_job *job, long t0, long t1, const float *mm, long base,
                                           long stride) {
    const tk_conv_args *a = job->a;
    const int N = a->out_channels, H = a->height, W = a->width;
    const __m512 slope = _mm512_set1_ps(a->slope);
    for (long t = t0; t < t1; t++) {
        const int b = (int)(t / ((long)job->th * job->tw)), r = (int)(t % ((long)job->th * job->tw));
        const int y0 = 2 * (r / job->tw), x0 = 2 * (r % job->tw);
        for (int o0 = 0; o0 < N; o0 += 16) {
            const __mmask16 mask = tk_mask(N - o0);
            __m512 m[4][4], s[4][2], y[2][2];
            for (int e = 0; e < 16; e++)
                m[e / 4][e % 4] = _mm512_maskz_loadu_ps(mask, mm + ((size_t)e * stride + (t - base)) * N + o0);
            for (int i = 0; i < 4; i++) {  // m·A
                s[i][0] = _mm512_add_ps(_mm512_add_ps(m[i][0], m[i][1]), m[i][2]);
                s[i][1] = _mm512_sub_ps(_mm512_sub_ps(m[i][1], m[i][2]), m[i][3]);
            }
            for (int j = 0; j < 2; j++) {  // Aᵀ·(m·A)
                y[0][j] = _mm512_add_ps(_mm512_add_ps(s[0][j], s[1][j]), s[2][j]);
                y[1][j] = _mm512_sub_ps(_mm512_sub_ps(s[1][j], s[2][j]), s[3][j]);
            }
            const __m512 bias = _mm512_maskz_loadu_ps(mask, a->bias + o0);
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++) {
                    if (y0 + i >= H || x0 + j >= W) continue;
                    const size_t offset = ((size_t)(b * H + y0 + i) * W + x0 + j) * N + o0;
                    __m512 v = _mm512_add_ps(y[i][j], bias);
                    if (a->residual) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, a->residual + offset));
                    _mm512_mask_storeu_ps(a->output + offset, mask, tk_activate(v, a->activation, slope));
                }
        }
    }
}

static void tk_wino_output(void *context, int index, int count) {
    const tk_wino_job *job = context;
    const long T = job->tiles;
    tk_wino_output_tiles(job, T * index / count, T * (index + 1) / count, job->m, 0, T);
}

/// The GEMM arguments of the 16 products for `rows` transformed tiles held in v/m with row stride `stride`.
static void tk_wino_gemm_args(tk_wino_job *job, tk_conv_args g[16], const float *v, float *m, long rows,
                              long stride, const float *zeros) {
    const tk_conv_args *a = job->a;
    const size_t one = tk_packed_count(a->in_channels, a->out_channels);
    for (int e = 0; e < 16; e++) {
        tk_conv_args x = {0};
        x.input = v + (size_t)e * stride * a->in_channels;
        x.batch = 1;
        x.height = 1;
        x.width = (int)rows;
        x.in_channels = a->in_channels;
        x.kernel = 1;
        x.packed = a->packed + e * one;
        x.out_channels = a->out_channels;
        x.bias = zeros;
        x.output = m + (size_t)e * stride * a->out_channels;
        x.activation = TK_IDENTITY;
        g[e] = x;
    }
}

/// Blocked schedule for many tiles: each thread takes whole blocks of `block` tiles and runs input transform,
/// the 16 GEMMs and the output transform on one block at a time, in its own slice of the scratch small enough
/// to stay in its L2 cache (instead of three passes over buffers of tens of MB at batch 8).
static void tk_wino_blocks(void *context, int index, int count) {
    tk_wino_job *job = context;
    const tk_conv_args *a = job->a;
    const long block = job->block, blocks = (job->tiles + block - 1) / block;
    float *v = job->v + (size_t)index * 16 * block * (a->in_channels + a->out_channels);
    float *m = v + (size_t)16 * block * a->in_channels;
    for (long b = blocks * index / count; b < blocks * (index + 1) / count; b++) {
        const long t0 = b * block, t1 = t0 + block < job->tiles ? t0 + block : job->tiles;
        tk_wino_input_tiles(job, t0, t1, v, t0, block);
        tk_conv_args g[16];
        tk_wino_gemm_args(job, g, v, m, t1 - t0, block, job->zeros);
        const int mtiles = (int)((t1 - t0 + MR - 1) / MR);
        for (int e = 0; e < 16; e++)
            for (int panel = 0; panel < job->panels; panel++)
                for (int mt = 0; mt < mtiles; mt++) tk_tile(&g[e], mt * MR, panel);
        tk_wino_output_tiles(job, t0, t1, m, t0, block);
    }
}

int tk_winograd_conv(const tk_conv_args *a) {
    if (!tk_available() || a->kernel != 3) return -1;
    const int C = a->in_channels, N = a->out_channels;
    tk_wino_job job;
    memset(&job, 0, sizeof job);
    job.a = a;
    job.th = (a->height + 1) / 2;
    job.tw = (a->width + 1) / 2;
    job.tiles = (long)a->batch * job.th * job.tw;
    if (job.tiles <= 0 || N <= 0) return 0;
    int threads = tk_threads();
    // Blocks of tiles whose 16 transformed inputs and products (16·block·(C + N) floats) fit in ~768 KiB of L2,
    // when there are enough of them to keep every thread busy; otherwise three passes over all tiles.
    long block = (768L << 10) / (64L * (C + N)) / MR * MR;
    if (block < MR) block = MR;
    const int blocked = job.tiles >= TK_WINO_BLOCKED_FROM * threads * block;
    job.block = block;
    const size_t need = (blocked ? (size_t)threads * 16 * (size_t)block : 16 * (size_t)job.tiles) * ((size_t)C + N)
        + (size_t)N + 64;
    float *scratch = NULL;
    const int shared = pthread_mutex_trylock(&tk_scratch_lock) == 0;
    if (shared) {
        if (tk_scratch_floats < need) {
            free(tk_scratch);
            tk_scratch_floats = 0;
            tk_scratch = aligned_alloc(64, (need * sizeof(float) + 63) / 64 * 64);
            if (tk_scratch) tk_scratch_floats = need;
        }
        scratch = tk_scratch;
    } else {
        scratch = aligned_alloc(64, (need * sizeof(float) + 63) / 64 * 64);
    }
    if (!scratch) {
        if (shared) pthread_mutex_unlock(&tk_scratch_lock);
        return -1;
    }
    float *zeros = scratch + need - (size_t)N - 64;
    memset(zeros, 0, sizeof(float) * (size_t)N);
    job.zeros = zeros;
    job.panels = (N + NR - 1) / NR;
    job.v = scratch;
    if (blocked) {
        const long blocks = (job.tiles + block - 1) / block;
        tk_parallel(threads > blocks ? (int)blocks : threads, tk_wino_blocks, &job);
    } else {
        job.m = scratch + 16 * (size_t)job.tiles * C;
        job.mtiles = (int)((job.tiles + MR - 1) / MR);
        tk_wino_gemm_args(&job, job.gemm, job.v, job.m, job.tiles, job.tiles, zeros);
        job.items = 16L * job.panels * job.mtiles;
        tk_parallel(threads > job.tiles ? (int)job.tiles : threads, tk_wino_input, &job);
        tk_parallel(threads > job.items ? (int)job.items : threads, tk_wino_gemms, &job);
        tk_parallel(threads > job.tiles ? (int)job.tiles : threads, tk_wino_output, &job);
    }
    if (shared) pthread_mutex_unlock(&tk_scratch_lock);
    else free(scratch);
    return 0;
}

#else

int tk_winograd_conv(const tk_conv_args *a) { (void)a; return -1; }

#endif
