// Direct convolution as an indirect GEMM (XNNPACK's idea): each output tile of pixels × channels accumulates over
// the kernel taps, reading every tap's input pixel in place through a row pointer (a zero row for the padding) —
// no im2col copy — against weights packed once into NR-column panels. Bias, residual and activation are applied
// in the store. Work items (column block, pixel tile) are split evenly across threads. The tiles themselves are
// in kernel_body.h, one instantiation per ISA (conv_avx512.c, conv_avx2.c, conv_neon.c, conv_portable.c).
#include "tresnet_kernels.h"
#include "internal.h"

#include <stdlib.h>

#if defined(_MSC_VER)
#define TK_ALIGNED_64
#else
#define TK_ALIGNED_64 __attribute__((aligned(64)))
#endif

const float tk_zeros[TK_MAX_PADDED_CHANNELS] TK_ALIGNED_64;

/// Bytes of packed weights one work item of tk_conv runs its pixel tile against.
#ifndef TK_GROUP_BYTES
#define TK_GROUP_BYTES (512u << 10)
#endif

/// Pixel tiles a part split by pixels has at least.
#ifndef TK_TILES_PER_PART
#define TK_TILES_PER_PART 3L
#endif

size_t tk_packed_count(int k, int n) { return (size_t)((n + NR - 1) / NR) * (size_t)k * NR; }

void tk_pack(const float *w, int k, int n, float *packed) {
    int panels = (n + NR - 1) / NR;
    for (int p = 0; p < panels; p++)
        for (int half = 0; half < 2; half++)
            for (int row = 0; row < k; row++) {
                float *dst = packed + (((size_t)p * 2 + half) * k + row) * TK_HALF;
                for (int j = 0; j < TK_HALF; j++) {
                    int column = p * NR + half * TK_HALF + j;
                    dst[j] = column < n ? w[(size_t)row * n + column] : 0.0f;
                }
            }
}

typedef struct {
    const tk_conv_args *args;
    const tk_kernels *kernels;
    int tiles;     ///< pixel tiles (kernels->rows pixels each)
    int blocks;    ///< column blocks (kernels->block_columns output channels each)
    int group;     ///< column blocks per work item: their weights stay in L2 while its pixels are in L1
    long items;    ///< column groups × pixel tiles, group-major
    int pack_bf16; ///< 1×1 bf16: each item converts its pixels to bf16 itself (no pass over the whole input)
    int by_pixels; ///< parts are runs of pixel tiles (each against every column), not items
} tk_conv_job;

/// Runs one pixel tile (pixels m0 ..< m0 + rows, the last one ragged) against column blocks [b0, b1); a 1×1 bf16
/// convolution first converts the tile's pixels to bf16 into `converted` (rows · cp values), so the input is read
/// once per column group rather than once per column block, and the tile's output rows are written whole.
static void tk_conv_item(const tk_conv_job *job, int m0, int b0, int b1, unsigned short *converted) {
    const tk_conv_args *a = job->args;
    const int rows = job->kernels->rows, N = a->out_channels, C = a->in_channels;
    const long M = (long)a->batch * a->height * a->width;
    if (!job->pack_bf16) {
        for (int b = b0; b < b1; b++) job->kernels->tile(a, m0, b);
        return;
    }
    const int n = M - m0 < rows ? (int)(M - m0) : rows;
    tk_bf16_rows(a->input + (size_t)m0 * C, n, C, converted);
    tk_conv_args x = *a;
    x.input = (const float *)(const void *)converted;
    x.batch = 1;
    x.height = 1;
    x.width = n;
    x.output = a->output + (size_t)m0 * N;
    if (a->residual) x.residual = a->residual + (size_t)m0 * N;
    for (int b = b0; b < b1; b++) job->kernels->tile(&x, 0, b);
}

/// Part `index` of `count`: a contiguous run of pixel tiles against every column group (`by_pixels`), or items
/// [begin, end) of the (column group, pixel tile) grid; either way group-major, so a group's weights stay in L2
/// while the part's tiles pass.
static void tk_conv_range(void *context, int index, int count) {
    const tk_conv_job *job = context;
    const tk_conv_args *a = job->args;
    const int rows = job->kernels->rows, cp = a->in_channels + a->in_channels % 2;
    // By pixels: tiles [t0, t1) against every group; else items [begin, end) of the whole grid (t0 = 0, t1 = tiles).
    const long t0 = job->by_pixels ? (long)job->tiles * index / count : 0;
    const long t1 = job->by_pixels ? (long)job->tiles * (index + 1) / count : job->tiles;
    const long groups = (job->blocks + job->group - 1) / job->group;
    const long begin = job->by_pixels ? 0 : job->items * index / count;
    const long end = job->by_pixels ? groups * (t1 - t0) : job->items * (index + 1) / count;
    if (begin >= end) return;
    unsigned short *converted = NULL;
    if (job->pack_bf16 && !(converted = aligned_alloc(64, ((size_t)rows * cp * 2 + 63) / 64 * 64))) {
        // cannot happen in practice (a few KiB): convert the whole input instead
        unsigned short *all = tk_bf16_input(a);
        tk_conv_job whole = *job;
        tk_conv_args x = *a;
        x.input = (const float *)(const void *)all;
        whole.args = &x;
        whole.pack_bf16 = 0; // the same part of the same grid, reading the converted input
        if (all) tk_conv_range(&whole, index, count);
        free(all);
        return;
    }
    for (long i = begin; i < end; i++) { // item i: group i / tiles-in-range, tile t0 + i % tiles-in-range
        const int m0 = (int)(t0 + i % (t1 - t0)) * rows, b0 = (int)(i / (t1 - t0)) * job->group;
        tk_conv_item(job, m0, b0, b0 + job->group < job->blocks ? b0 + job->group : job->blocks, converted);
    }
    free(converted);
}

/// The kernels of a convolution's ISA and precision, or NULL when this CPU does not run them.
const tk_kernels *tk_kernels_of(const tk_conv_args *a) {
    if (a->precision == TK_F32) return tk_kernels_for(a->isa);
#if defined(__x86_64__)
    if (a->precision == TK_BF16 && tk_bf16_supported() && (a->isa == TK_ISA_DEFAULT || a->isa == TK_ISA_AVX512))
        return &tk_kernels_avx512bf16;
#endif
    return NULL;
}

int tk_conv(const tk_conv_args *a) {
    const tk_kernels *kernels = tk_kernels_of(a);
    if (!kernels || (a->kernel != 1 && a->kernel != 3)) return -1;
    if (a->kernel == 3 && a->in_channels > TK_MAX_PADDED_CHANNELS) return -1;
    long m = (long)a->batch * a->height * a->width;
    if (m <= 0 || a->out_channels <= 0) return 0;
    tk_conv_args converted = *a;
    unsigned short *input = NULL;
    const int bf16 = a->precision == TK_BF16;
    if (bf16 && a->kernel != 1) { // 3×3: the activations converted once (each pixel is read by 9 taps)
        if (!(input = tk_bf16_input(a))) return -1;
        converted.input = (const float *)(const void *)input;
    }
    tk_conv_job job = {
        &converted, kernels, (int)((m + kernels->rows - 1) / kernels->rows), 0, 1, 0, bf16 && a->kernel == 1, 0};
    job.blocks = (a->out_channels + kernels->block_columns - 1) / kernels->block_columns;
    // Column groups whose packed weights take at most TK_GROUP_BYTES (they stay in L2 while the pixel tiles pass).
    const size_t k = (size_t)a->kernel * a->kernel * (a->in_channels + (bf16 ? a->in_channels % 2 : 0));
    const size_t block_bytes = k * kernels->block_columns * (bf16 ? 2 : 4);
    job.group = (int)(TK_GROUP_BYTES / block_bytes);
    if (job.group < 1) job.group = 1;
    if (job.group > job.blocks) job.group = job.blocks;
    // Parts split by pixels when there are enough pixel tiles for TK_TILES_PER_PART each: a thread then writes the
    // output rows the next layer's part of the same thread reads (the pool keeps parts in order per thread).
    job.by_pixels = tk_threads() > 1 && job.tiles >= TK_TILES_PER_PART * 2L * tk_threads();
    // Otherwise (few pixel tiles: batch 1, the last layers) smaller groups, so that the items share out evenly.
    while (!job.by_pixels && job.group > 1 &&
           (long)job.tiles * ((job.blocks + job.group - 1) / job.group) < 32L * tk_threads())
        job.group = (job.group + 1) / 2;
    job.items = (long)job.tiles * ((job.blocks + job.group - 1) / job.group);
    // A few parts per thread: the pool hands them out as threads come free, so one late thread does not hold
    // up the rest.
    long parts = 4L * tk_threads();
    if (parts > job.items) parts = job.items;
    if (job.by_pixels && parts > job.tiles / TK_TILES_PER_PART) parts = job.tiles / TK_TILES_PER_PART;
    tk_parallel(tk_threads() == 1 ? 1 : (int)parts, tk_conv_range, &job);
    free(input);
    return 0;
}
