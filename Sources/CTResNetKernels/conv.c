// Direct convolution as an indirect GEMM (XNNPACK's idea): each output tile of MR pixels × NR channels
// accumulates over the kernel taps, reading every tap's input pixel in place through a row pointer (a zero
// row for the padding) — no im2col copy — against weights packed once into NR-column panels. Bias, residual
// and activation are applied in the store. Work items (panel, pixel tile) are split evenly across threads.
#include "tresnet_kernels.h"
#include "internal.h"

#define NV (NR / 16)
#define TK_MAX_PADDED_CHANNELS 16384
/// Products summed in registers before they are folded into the tile's running sum.
#define TK_CHUNK 128

size_t tk_packed_count(int k, int n) { return (size_t)((n + NR - 1) / NR) * (size_t)k * NR; }

void tk_pack(const float *w, int k, int n, float *packed) {
    int panels = (n + NR - 1) / NR;
    for (int p = 0; p < panels; p++)
        for (int row = 0; row < k; row++) {
            float *dst = packed + ((size_t)p * k + row) * NR;
            for (int j = 0; j < NR; j++) {
                int column = p * NR + j;
                dst[j] = column < n ? w[(size_t)row * n + column] : 0.0f;
            }
        }
}

#if defined(__x86_64__)

int tk_available(void) {
    static _Atomic int available = -1;
    if (available < 0) {
        __builtin_cpu_init();
        available = __builtin_cpu_supports("avx512f") ? 1 : 0;
    }
    return available;
}

static const float tk_zeros[TK_MAX_PADDED_CHANNELS] __attribute__((aligned(64)));

/// One MR × (16·nv) output tile: pixels m0 ..< m0 + MR (those past the end read zeros and are not stored),
/// output channels panel·NR ..< panel·NR + 16·nv. `nv` is 2 (a full panel) or 1 (a panel with at most 16
/// channels left, which then costs half the arithmetic); always inlined with a constant, so each use compiles
/// to its own fully unrolled kernel.
TK_AVX512 static inline __attribute__((always_inline)) void tk_conv_tile(const tk_conv_args *a, int m0, int panel,
                                                                          const int nv) {
    const int C = a->in_channels, H = a->height, W = a->width, ks = a->kernel, pad = ks / 2;
    const int K = ks * ks * C, N = a->out_channels, HW = H * W, M = a->batch * HW;
    const int rows = M - m0 < MR ? M - m0 : MR;
    int y[MR], xx[MR];
    long image[MR];
    for (int r = 0; r < MR; r++) {  // pixel coordinates, needed only to find a 3×3 kernel's padding
        int m = m0 + (r < rows ? r : 0);
        image[r] = ks == 1 ? m : (long)(m / HW) * HW;
        y[r] = ks == 1 ? 0 : (m % HW) / W;
        xx[r] = ks == 1 ? 0 : (m % HW) % W;
    }
    // Two-level summation for accuracy: registers accumulate at most TK_CHUNK products, then fold into `sum`
    // (in L1), so a long K is summed in short runs, not as one chain of K additions.
    __m512 acc[MR][NV], sum[MR][NV];  // only [.][0 ..< nv] used
    for (int r = 0; r < MR; r++) for (int v = 0; v < nv; v++) acc[r][v] = sum[r][v] = _mm512_setzero_ps();
    const float *bp = a->packed + (size_t)panel * K * NR;
    for (int ky = 0; ky < ks; ky++)
        for (int kx = 0; kx < ks; kx++) {
            const float *rowp[MR];
            for (int r = 0; r < MR; r++) {
                int sy = y[r] + ky - pad, sx = xx[r] + kx - pad;
                rowp[r] = (r < rows && sy >= 0 && sy < H && sx >= 0 && sx < W)
                    ? a->input + (size_t)(image[r] + (long)sy * W + sx) * C : tk_zeros;
            }
            for (int c0 = 0; c0 < C; c0 += TK_CHUNK) {
                const int c1 = C - c0 < TK_CHUNK ? C : c0 + TK_CHUNK;
                for (int c = c0; c < c1; c++) {
                    __m512 b[NV];
                    for (int v = 0; v < nv; v++) b[v] = _mm512_load_ps(bp + 16 * v);
                    bp += NR;
                    for (int r = 0; r < MR; r++) {
                        __m512 x = _mm512_set1_ps(rowp[r][c]);
                        for (int v = 0; v < nv; v++) acc[r][v] = _mm512_fmadd_ps(x, b[v], acc[r][v]);
                    }
                }
                for (int r = 0; r < MR; r++)
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
        const __mmask16 mask = tk_mask(valid);
        const __m512 bias = _mm512_maskz_loadu_ps(mask, a->bias + column + 16 * v);
        for (int r = 0; r < rows; r++) {
            size_t offset = (size_t)(m0 + r) * N + column + 16 * v;
            __m512 value = _mm512_add_ps(sum[r][v], bias);
            if (a->residual) value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(mask, a->residual + offset));
            _mm512_mask_storeu_ps(a->output + offset, mask, tk_activate(value, a->activation, slope));
        }
    }
}

TK_AVX512 static void tk_conv_tile32(const tk_conv_args *a, int m0, int panel) { tk_conv_tile(a, m0, panel, 2); }
TK_AVX512 static void tk_conv_tile16(const tk_conv_args *a, int m0, int panel) { tk_conv_tile(a, m0, panel, 1); }

/// One MR-pixel × NR-channel tile of any convolution described by `a` (used by winograd.c for its GEMMs).
void tk_tile(const tk_conv_args *a, int m0, int panel) {
    if (a->out_channels - panel * NR > 16) tk_conv_tile32(a, m0, panel);
    else tk_conv_tile16(a, m0, panel);
}

typedef struct { const tk_conv_args *args; int tiles; long items; } tk_conv_job;

static void tk_conv_range(void *context, int index, int count) {
    const tk_conv_job *job = context;
    long begin = job->items * index / count, end = job->items * (index + 1) / count;
    for (long i = begin; i < end; i++) {
        tk_tile(job->args, (int)(i % job->tiles) * MR, (int)(i / job->tiles));
    }
}

int tk_conv(const tk_conv_args *a) {
    if (!tk_available() || (a->kernel != 1 && a->kernel != 3)) return -1;
    if (a->kernel == 3 && a->in_channels > TK_MAX_PADDED_CHANNELS) return -1;
    long m = (long)a->batch * a->height * a->width;
    if (m <= 0 || a->out_channels <= 0) return 0;
    tk_conv_job job = { a, (int)((m + MR - 1) / MR), 0 };
    job.items = (long)job.tiles * ((a->out_channels + NR - 1) / NR);
    int threads = tk_threads();
    if (threads > job.items) threads = (int)job.items;
    tk_parallel(threads, tk_conv_range, &job);
    return 0;
}

#else

int tk_available(void) { return 0; }
int tk_conv(const tk_conv_args *a) { (void)a; return -1; }

#endif
