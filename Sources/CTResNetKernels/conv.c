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

typedef struct { const tk_conv_args *args; const tk_kernels *kernels; int tiles; long items; } tk_conv_job;

static void tk_conv_range(void *context, int index, int count) {
    const tk_conv_job *job = context;
    const int rows = job->kernels->rows;
    long begin = job->items * index / count, end = job->items * (index + 1) / count;
    for (long i = begin; i < end; i++) job->kernels->tile(job->args, (int)(i % job->tiles) * rows, (int)(i / job->tiles));
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
    if (a->precision == TK_BF16) {  // the activations, converted once (the packing of this GEMM's left side)
        if (!(input = tk_bf16_input(a))) return -1;
        converted.input = (const float *)(const void *)input;
    }
    tk_conv_job job = { &converted, kernels, (int)((m + kernels->rows - 1) / kernels->rows), 0 };
    job.items = (long)job.tiles * ((a->out_channels + kernels->block_columns - 1) / kernels->block_columns);
    // A few parts per thread: the pool hands them out as threads come free, so one late thread does not hold
    // up the rest.
    long parts = 4L * tk_threads();
    if (parts > job.items) parts = job.items;
    tk_parallel(tk_threads() == 1 ? 1 : (int)parts, tk_conv_range, &job);
    free(input);
    return 0;
}
