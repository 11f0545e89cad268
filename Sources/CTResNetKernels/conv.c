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
} tk_conv_job;

/// Runs items [begin, end): each is one pixel tile against one group of column blocks, so the tile's input is
/// read from memory once per group rather than once per column block, and its output rows are written whole.
static void tk_conv_range(void *context, int index, int count) {
    const tk_conv_job *job = context;
    const tk_conv_args *a = job->args;
    const int rows = job->kernels->rows, N = a->out_channels, C = a->in_channels, cp = C + C % 2;
    const long M = (long)a->batch * a->height * a->width;
    long begin = job->items * index / count, end = job->items * (index + 1) / count;
    unsigned short *packed = NULL;
    if (job->pack_bf16 && begin < end) {
        packed = aligned_alloc(64, ((size_t)rows * cp * 2 + 63) / 64 * 64);
        if (!packed) { // cannot happen in practice (a few KiB); convert the whole input instead
            unsigned short *all = tk_bf16_input(a);
            tk_conv_args x = *a;
            x.input = (const float *)(const void *)all;
            for (long i = begin; i < end && all; i++)
                for (int b = (int)(i / job->tiles) * job->group, b1 = b + job->group; b < b1 && b < job->blocks; b++)
                    job->kernels->tile(&x, (int)(i % job->tiles) * rows, b);
            free(all);
            return;
        }
    }
    for (long i = begin; i < end; i++) {
        const int m0 = (int)(i % job->tiles) * rows, b0 = (int)(i / job->tiles) * job->group;
        const int b1 = b0 + job->group < job->blocks ? b0 + job->group : job->blocks;
        if (packed) {
            const int n = M - m0 < rows ? (int)(M - m0) : rows;
            tk_bf16_rows(a->input + (size_t)m0 * C, n, C, packed);
            tk_conv_args x = *a;
            x.input = (const float *)(const void *)packed;
            x.batch = 1;
            x.height = 1;
            x.width = n;
            x.output = a->output + (size_t)m0 * N;
            if (a->residual) x.residual = a->residual + (size_t)m0 * N;
            for (int b = b0; b < b1; b++) job->kernels->tile(&x, 0, b);
        } else {
            for (int b = b0; b < b1; b++) job->kernels->tile(a, m0, b);
        }
    }
    free(packed);
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
        &converted, kernels, (int)((m + kernels->rows - 1) / kernels->rows), 0, 1, 0, bf16 && a->kernel == 1};
    job.blocks = (a->out_channels + kernels->block_columns - 1) / kernels->block_columns;
    // Column groups whose packed weights take at most TK_GROUP_BYTES (they stay in L2 while the pixel tiles pass).
    const size_t k = (size_t)a->kernel * a->kernel * (a->in_channels + (bf16 ? a->in_channels % 2 : 0));
    const size_t block_bytes = k * kernels->block_columns * (bf16 ? 2 : 4);
    job.group = (int)(TK_GROUP_BYTES / block_bytes);
    if (job.group < 1) job.group = 1;
    if (job.group > job.blocks) job.group = job.blocks;
    // Few pixel tiles (batch 1, the last layers): smaller groups, so that the items share out evenly.
    while (job.group > 1 && (long)job.tiles * ((job.blocks + job.group - 1) / job.group) < 32L * tk_threads())
        job.group = (job.group + 1) / 2;
    job.items = (long)job.tiles * ((job.blocks + job.group - 1) / job.group);
    // A few parts per thread: the pool hands them out as threads come free, so one late thread does not hold
    // up the rest.
    long parts = 4L * tk_threads();
    if (parts > job.items) parts = job.items;
    tk_parallel(tk_threads() == 1 ? 1 : (int)parts, tk_conv_range, &job);
    free(input);
    return 0;
}
