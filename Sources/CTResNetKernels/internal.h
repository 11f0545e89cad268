// Shared between the kernel files of this target; not part of its public header.
#ifndef TRESNET_KERNELS_INTERNAL_H
#define TRESNET_KERNELS_INTERNAL_H

#include "tresnet_kernels.h"

/// Columns of one packed weight panel (tk_pack); the same for every ISA, so packing never depends on the CPU.
#define NR 32
/// A panel is stored as two halves of TK_HALF columns, each [k][TK_HALF]: a 16-column register tile (AVX2, NEON,
/// portable) then reads one contiguous stream (64 bytes per k) instead of every other cache line of a
/// [k][32] panel, which used only half of the L1 cache's sets; a 32-column tile reads both halves.
#define TK_HALF 16
/// Channels of the shared zero row that stands for the padding of a 3×3 direct convolution.
#define TK_MAX_PADDED_CHANNELS 16384
/// Products summed in registers before they are folded into a tile's running sum.
#define TK_CHUNK 128

/// The zero row (conv.c).
extern const float tk_zeros[TK_MAX_PADDED_CHANNELS];

/// Where a Winograd convolution's tiles are: its arguments and the count of 2×2 output tiles per row/column.
typedef struct {
    const tk_conv_args *a;
    int th, tw;
} tk_wino_geometry;

/// The kernels of one ISA (kernel_body.h instantiated by conv_<isa>.c).
typedef struct {
    int isa;
    /// Pixels × output channels of one register tile; `block_columns` divides NR.
    int rows, block_columns;
    /// One rows × block_columns output tile: pixels m0 ..< m0 + rows (those past the end are not stored) and
    /// output channels block·block_columns ..< (block + 1)·block_columns (those past out_channels are not stored).
    void (*tile)(const tk_conv_args *a, int m0, int block);
    /// Winograd input transform of tiles t0 ..< t1 into `v` (tile t's row of matrix e at v[(e·stride + t − base)·C]).
    void (*wino_input)(const tk_wino_geometry *g, long t0, long t1, float *v, long base, long stride);
    /// Winograd output transform of tiles t0 ..< t1 (row of matrix e at m[(e·stride + t − base)·N]) with the
    /// epilogue.
    void (*wino_output)(const tk_wino_geometry *g, long t0, long t1, const float *m, long base, long stride);
} tk_kernels;

extern const tk_kernels tk_kernels_portable;
#if defined(__x86_64__)
extern const tk_kernels tk_kernels_avx2;
extern const tk_kernels tk_kernels_avx512;
#endif
#if defined(__aarch64__)
extern const tk_kernels tk_kernels_neon;
#endif

/// The bf16 kernels (conv_bf16.c; x86-64 with AVX512-BF16): tiles that read bf16 inputs (cp = C + C % 2 channels
/// per pixel) and tk_pack_bf16 weights, and a Winograd input transform that stores bf16; no output transform
/// (AVX-512's serves).
#if defined(__x86_64__)
extern const tk_kernels tk_kernels_avx512bf16;
#endif
/// `a->input` converted to bf16 with cp channels per pixel (aligned_alloc; the caller frees), or NULL.
unsigned short *tk_bf16_input(const tk_conv_args *a);

/// Converts `rows` pixels of C f32 channels (contiguous) to bf16 with cp = C + C % 2 channels each (the pad zero).
void tk_bf16_rows(const float *src, int rows, int C, unsigned short *dst);

/// The kernels of a convolution's ISA and precision (conv.c), or NULL when this CPU does not run them.
const tk_kernels *tk_kernels_of(const tk_conv_args *a);

/// The kernels of `isa` (TK_ISA_DEFAULT: tk_isa_default()), or NULL when this CPU does not run them.
const tk_kernels *tk_kernels_for(int isa);

#endif
