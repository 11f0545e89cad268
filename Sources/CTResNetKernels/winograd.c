// Winograd F(2×2, 3×3) for the stride-1, zero-padded 3×3 convolutions of TResNet (Lavin & Gray 2015), NHWC:
// input tiles are transformed into 16 matrices [tiles][cin], multiplied by the 16 transformed weight matrices
// on conv.c's register tiles, and transformed back into 2×2 output tiles with the epilogue fused. The transforms
// are in kernel_body.h (one instantiation per ISA); this file schedules them.
#include "tresnet_kernels.h"
#include "internal.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/// The blocked schedule is used from this many blocks per thread on.
#ifndef TK_WINO_WEIGHTS_IN_L2
#define TK_WINO_WEIGHTS_IN_L2 (512L << 10)
#endif
#ifndef TK_WINO_MIN_BLOCK
#define TK_WINO_MIN_BLOCK 64L
#endif
#ifndef TK_WINO_BLOCKED_FROM
#define TK_WINO_BLOCKED_FROM 4L
#endif

size_t tk_winograd_packed_count(int cin, int cout) { return 16 * tk_packed_count(cin, cout); }

int tk_winograd_pack(const float *w, int cin, int cout, float *packed) {
    static const double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    float *u = malloc(sizeof(float) * 16 * (size_t)cin * (size_t)cout); // [16][cin][cout]
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

typedef struct {
    tk_wino_geometry g;
    const tk_kernels *k;
    /// The output transform (bf16 runs AVX-512's f32 one).
    void (*output)(const tk_wino_geometry *g, long t0, long t1, const float *m, long base, long stride);
    int mtiles, blocks; // pixel tiles and column blocks of one GEMM
    long tiles, items, block;
    /// Blocked schedule: a part takes a whole number of units of `unit` tiles (a block, or at batch 1 a register
    /// tile's rows) and runs them in chunks of at most `block` tiles.
    long unit;
    float *v, *m;
    const float *zeros;
    tk_conv_args gemm[16];
    /// Blocked schedule: scratch slots (one per thread) in use, one bit each.
    _Atomic unsigned long long slots;
    int slot_count;
} tk_wino_job;

static void tk_wino_input(void *context, int index, int count) {
    const tk_wino_job *job = context;
    const long T = job->tiles;
    job->k->wino_input(&job->g, T * index / count, T * (index + 1) / count, job->v, 0, T);
}

static void tk_wino_gemms(void *context, int index, int count) {
    const tk_wino_job *job = context;
    const long per = (long)job->blocks * job->mtiles;
    for (long i = job->items * index / count; i < job->items * (index + 1) / count; i++) {
        const long within = i % per;
        job->k->tile(&job->gemm[i / per], (int)(within % job->mtiles) * job->k->rows, (int)(within / job->mtiles));
    }
}

static void tk_wino_output(void *context, int index, int count) {
    const tk_wino_job *job = context;
    const long T = job->tiles;
    job->output(&job->g, T * index / count, T * (index + 1) / count, job->m, 0, T);
}

/// The GEMM arguments of the 16 products for `rows` transformed tiles held in v/m with row stride `stride`.
static void tk_wino_gemm_args(const tk_wino_job *job, tk_conv_args g[16], const float *v, float *m, long rows,
                              long stride, const float *zeros) {
    const tk_conv_args *a = job->g.a;
    const int bf16 = a->precision == TK_BF16, cp = a->in_channels + a->in_channels % 2;
    const size_t one = tk_packed_count(a->in_channels, a->out_channels);
    const size_t one16 = tk_packed_bf16_count(1, a->in_channels, a->out_channels);
    for (int e = 0; e < 16; e++) {
        tk_conv_args x = {0};
        x.input = bf16
                      ? (const float *)(const void *)((const unsigned short *)(const void *)v + (size_t)e * stride * cp)
                      : v + (size_t)e * stride * a->in_channels;
        x.batch = 1;
        x.height = 1;
        x.width = (int)rows;
        x.in_channels = a->in_channels;
        x.kernel = 1;
        x.packed = bf16 ? (const float *)(const void *)((const unsigned short *)(const void *)a->packed + e * one16)
                        : a->packed + e * one;
        x.precision = a->precision;
        x.out_channels = a->out_channels;
        x.bias = zeros;
        x.output = m + (size_t)e * stride * a->out_channels;
        x.activation = TK_IDENTITY;
        x.isa = job->k->isa;
        g[e] = x;
    }
}

/// Blocked schedule for many tiles: each thread takes whole blocks of `block` tiles and runs input transform,
/// the 16 GEMMs and the output transform on one block at a time, in its own slice of the scratch small enough
/// to stay in its L2 cache (instead of three passes over buffers of tens of MB at batch 8).
static void tk_wino_blocks(void *context, int index, int count) {
    tk_wino_job *job = context;
    const tk_conv_args *a = job->g.a;
    const long block = job->block;
    // A free slot of scratch: at most one part per thread runs at a time, so one is always free soon.
    // The slot this thread used last comes first: its scratch is still in this core's cache.
    static _Thread_local int last;
    int slot = -1;
    while (slot < 0) {
        unsigned long long used = atomic_load(&job->slots);
        for (int n = 0; n < job->slot_count; n++) {
            const int i = (n + last) % job->slot_count;
            if (!(used & (1ull << i))) {
                if (atomic_compare_exchange_weak(&job->slots, &used, used | (1ull << i))) slot = i;
                break;
            }
        }
        if (slot < 0) sched_yield();
    }
    last = slot;
    float *v = job->v + (size_t)slot * 16 * block * (a->in_channels + a->out_channels);
    float *m = v + (size_t)16 * block * a->in_channels;
    const long units = (job->tiles + job->unit - 1) / job->unit;
    long end = units * (index + 1) / count * job->unit;
    if (end > job->tiles) end = job->tiles;
    for (long t0 = units * index / count * job->unit; t0 < end; t0 += block) {
        const long t1 = t0 + block < end ? t0 + block : end;
        job->k->wino_input(&job->g, t0, t1, v, t0, block);
        tk_conv_args g[16];
        tk_wino_gemm_args(job, g, v, m, t1 - t0, block, job->zeros);
        const int mtiles = (int)((t1 - t0 + job->k->rows - 1) / job->k->rows);
        for (int e = 0; e < 16; e++)
            for (int column = 0; column < job->blocks; column++)
                for (int mt = 0; mt < mtiles; mt++) job->k->tile(&g[e], mt * job->k->rows, column);
        job->output(&job->g, t0, t1, m, t0, block);
    }
    atomic_fetch_and(&job->slots, ~(1ull << slot));
}

int tk_winograd_conv(const tk_conv_args *a) {
    const tk_kernels *kernels = tk_kernels_of(a);
    if (!kernels || a->kernel != 3) return -1;
    const int C = a->in_channels, N = a->out_channels;
    tk_wino_job job;
    memset(&job, 0, sizeof job);
    job.g.a = a;
    job.g.th = (a->height + 1) / 2;
    job.g.tw = (a->width + 1) / 2;
    job.k = kernels;
    job.output = kernels->wino_output;
#if defined(__x86_64__)
    if (!job.output) job.output = tk_kernels_avx512.wino_output;
#endif
    job.tiles = (long)a->batch * job.g.th * job.g.tw;
    if (job.tiles <= 0 || N <= 0) return 0;
    int threads = tk_threads();
    // Blocks of tiles whose 16 transformed inputs and products (16·block·(C + N) floats) fit in ~768 KiB of L2,
    // when there are enough of them to keep every thread busy; otherwise three passes over all tiles.
    const long rows = kernels->rows;
    long block = (768L << 10) / (64L * (C + N)) / rows * rows;
    if (block < rows) block = rows;
    // Every block reads all 16 weight matrices; when they cannot stay in L2 beside the scratch, a block must be
    // long enough that reading them (from L3 or memory) is cheap next to its arithmetic.
    const size_t weight_bytes = 16 * (size_t)C * N * (a->precision == TK_BF16 ? 2 : 4);
    if (weight_bytes > TK_WINO_WEIGHTS_IN_L2 && block < TK_WINO_MIN_BLOCK)
        block = (TK_WINO_MIN_BLOCK + rows - 1) / rows * rows;
    double best_share = 1;
    if (threads > 1) { // the block length in [block/2, block] that shares the tiles most evenly among the threads
        long best = block, lo = block / 2 / rows * rows;
        best_share = 0;
        for (long b = block; b >= (lo > rows ? lo : rows); b -= rows) {
            const long n = (job.tiles + b - 1) / b, rounds = (n + threads - 1) / threads;
            const double share = (double)job.tiles / ((double)rounds * threads * b);
            if (share > best_share + 1e-9) {
                best_share = share;
                best = b;
            }
        }
        block = best;
    }
    // Blocked when there are enough blocks for every thread: at least TK_WINO_BLOCKED_FROM each, or half as many
    // when they share out evenly (≥ 90 % of the threads' time busy).
    int blocked = job.tiles >= TK_WINO_BLOCKED_FROM * threads * block ||
                  (threads > 1 && best_share >= 0.9 && job.tiles >= TK_WINO_BLOCKED_FROM / 2 * threads * block);
    // Too few tiles for blocks of L2's size on every thread (batch 1): still blocked, with two blocks per thread,
    // when those are at least a register tile each. Each thread then transforms, multiplies and transforms back its
    // own tiles (the pool keeps a thread's parts in order, so these are the pixels its part of the layer before
    // wrote), where three passes over all tiles would hand every transformed matrix to the other threads: on cores
    // far apart that traffic, not the arithmetic, set the time.
    job.unit = block;
    long blocks = (job.tiles + block - 1) / block;
    if (!blocked && threads > 1 && job.tiles >= 2L * threads * rows) {
        const long units = (job.tiles + rows - 1) / rows;
        job.unit = rows;
        block = (units + 2L * threads - 1) / (2L * threads) * rows; // the longest part: one chunk each
        blocks = 2L * threads;
        blocked = 1;
    }
    job.block = block;
    // Sized for this call and freed at its end: no buffer outlives the convolution.
    // Blocked: one slot of scratch per thread (a part takes a free slot for as long as it runs).
    // One part per block (claimed as threads come free, so the threads finish together), one slot of scratch
    // per thread.
    const long parts = threads == 1 ? 1 : blocks < 4096 ? blocks : 4096;
    job.slot_count = threads < 64 ? threads : 64;
    if (job.slot_count > parts) job.slot_count = (int)parts;
    atomic_init(&job.slots, 0);
    const size_t need =
        (blocked ? (size_t)job.slot_count * 16 * (size_t)block : 16 * (size_t)job.tiles) * ((size_t)C + N) + (size_t)N +
        64;
    float *scratch = aligned_alloc(64, (need * sizeof(float) + 63) / 64 * 64);
    if (!scratch) return -1;
    float *zeros = scratch + need - (size_t)N - 64;
    memset(zeros, 0, sizeof(float) * (size_t)N);
    job.zeros = zeros;
    job.blocks = (N + kernels->block_columns - 1) / kernels->block_columns;
    job.v = scratch;
    if (blocked) {
        tk_parallel((int)parts, tk_wino_blocks, &job);
    } else {
        job.m = scratch + 16 * (size_t)job.tiles * C;
        job.mtiles = (int)((job.tiles + rows - 1) / rows);
        tk_wino_gemm_args(&job, job.gemm, job.v, job.m, job.tiles, job.tiles, zeros);
        job.items = 16L * job.blocks * job.mtiles;
        // A few parts per thread (no per-part scratch here), handed out as threads come free.
        const long parts = threads == 1 ? 1 : 4L * threads;
        tk_parallel(parts > job.tiles ? (int)job.tiles : (int)parts, tk_wino_input, &job);
        tk_parallel(parts > job.items ? (int)job.items : (int)parts, tk_wino_gemms, &job);
        tk_parallel(parts > job.tiles ? (int)job.tiles : (int)parts, tk_wino_output, &job);
    }
    free(scratch);
    return 0;
}
