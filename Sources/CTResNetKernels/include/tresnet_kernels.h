// tresnet-kit's own CPU kernels (AVX-512, AVX2+FMA, NEON and portable C, chosen at run time): a direct (indirect-GEMM)
// convolution for NHWC activations with weights packed once at load and bias, residual and activation fused into the
// store, and a small thread pool to run it on every core. Called only from
// Sources/TResNetRuntime/Internals/Kernels.swift.
#ifndef TRESNET_KERNELS_H
#define TRESNET_KERNELS_H

#include <stddef.h>

/// The instruction sets the kernels are written for. Ordered: a cap admits every ISA at or below it
/// (TK_ISA_NEON ranks with TK_ISA_AVX2: "the vector ISA below AVX-512").
enum { TK_ISA_DEFAULT = 0, TK_ISA_PORTABLE = 1, TK_ISA_AVX2 = 2, TK_ISA_NEON = 3, TK_ISA_AVX512 = 4 };

/// 1 when this CPU (and OS) runs the kernels of `isa` (TK_ISA_PORTABLE: plain C, everywhere; TK_ISA_AVX2: AVX2
/// and FMA, x86-64-v3; TK_ISA_AVX512: AVX-512F; TK_ISA_NEON: aarch64 Advanced SIMD), else 0.
int tk_isa_supported(int isa);

/// The ISA named `name` ("portable", "avx2", "avx512", "neon"; case-insensitive), or -1.
int tk_isa_parse(const char *name);

/// The name of `isa` ("portable", "avx2", "avx512", "neon"), or "unknown".
const char *tk_isa_name(int isa);

/// The best ISA this CPU runs, capped by the environment variable TRESNET_MAX_ISA when it names an ISA
/// (read once; an unknown value caps nothing here: the Swift runtime rejects it before it runs anything).
int tk_isa_default(void);

/// 1 when tk_isa_default() is a vector ISA (our kernels then beat OpenBLAS), else 0.
int tk_available(void);

/// Floats needed to pack a GEMM right-hand side of k rows and n columns (32-column panels, zero padded).
size_t tk_packed_count(int k, int n);

/// Packs the row-major matrix w[k][n] into panels [ceil(n/32)][2][k][16] (each 32-column panel as two 16-column
/// halves, so a 16-column register tile reads one contiguous stream); `packed` holds tk_packed_count floats
/// and should be 64-byte aligned.
void tk_pack(const float *w, int k, int n, float *packed);

/// The pointwise function applied last in the store.
enum { TK_IDENTITY = 0, TK_RELU = 1, TK_LEAKY_RELU = 2 };

/// A stride-1 "same" convolution (kernel 1 or 3, zero padding kernel/2) over NHWC activations:
/// output = activation(conv(input) + bias (+ residual)).
typedef struct {
    const float *input; ///< [batch][height][width][in_channels]
    int batch, height, width, in_channels;
    int kernel;          ///< 1 or 3
    const float *packed; ///< tk_pack of the [kernel·kernel·in_channels][out_channels] weights, order (ky, kx, c)
    int out_channels;
    const float *bias;     ///< [out_channels]
    const float *residual; ///< [batch][height][width][out_channels], or NULL
    float *output;         ///< [batch][height][width][out_channels]; must not alias input or residual
    int activation;        ///< TK_IDENTITY, TK_RELU or TK_LEAKY_RELU
    float slope;           ///< the LeakyReLU slope: x >= 0 ? x : slope · x
    int isa;               ///< TK_ISA_DEFAULT (tk_isa_default()) or a TK_ISA_* this CPU supports
    int precision;         ///< TK_F32, or TK_BF16 (`packed` then holds tk_pack_bf16 / tk_winograd_pack_bf16 output)
} tk_conv_args;

/// The arithmetic of a convolution: f32 throughout, or bf16 products with f32 accumulation (AVX512-BF16).
enum { TK_F32 = 0, TK_BF16 = 1 };

/// Runs the convolution on up to tk_threads() threads. Returns 0, or -1 when unsupported (an ISA this CPU does not
/// run, a kernel other than 1 or 3, or more than 16384 input channels for a 3×3 kernel).
int tk_conv(const tk_conv_args *args);

/// Floats needed for a 3×3 convolution's weights transformed for Winograd F(2×2, 3×3): 16 packed [cin][cout].
size_t tk_winograd_packed_count(int cin, int cout);

/// Transforms 3×3 weights given as the GEMM right-hand side [(ky·3 + kx)·cin + c][cout] into Winograd's
/// U = G·g·Gᵀ per input and output channel (computed in double, rounded once) and packs each of the 16
/// [cin][cout] matrices like tk_pack. `packed` holds tk_winograd_packed_count floats, 64-byte aligned.
/// Returns 0, or -1 when out of memory.
int tk_winograd_pack(const float *w, int cin, int cout, float *packed);

/// tk_conv for a 3×3 kernel whose `packed` weights come from tk_winograd_pack, computed as Winograd
/// F(2×2, 3×3): each 4×4 input tile is transformed (Bᵀ·d·B), the 16 transformed positions are 16 GEMMs over
/// [tiles × cin]·[cin × cout] on the same register tiles as tk_conv, and each 4×4 result is transformed back
/// (Aᵀ·m·A) into a 2×2 output tile with bias, residual and activation applied in the store. 2.25× fewer
/// multiplications than the direct 3×3. The transforms' scratch is allocated per call (sized for this call) and
/// freed. Returns 0, or -1 when unsupported (an ISA this CPU does not run, kernel ≠ 3, out of memory).
int tk_winograd_conv(const tk_conv_args *args);

/// 1 when this CPU runs the bf16 kernels (AVX512-BF16 with AVX512-BW/VL: VDPBF16PS, VCVTNEPS2BF16), else 0.
int tk_bf16_supported(void);

/// bf16 values (uint16_t) needed to pack `taps` × `cin` rows by n columns as bf16 channel pairs (an odd cin is
/// padded with a zero channel), 32-column panels.
size_t tk_packed_bf16_count(int taps, int cin, int n);

/// Packs weights w[(tap·cin + c)][n] (the f32 GEMM right-hand side) as bf16, rounded to nearest even, in panels
/// [ceil(n/32)][taps·cp/2][32][2] (cp = cin rounded up to even): per channel pair, both weights of each column
/// side by side, as VDPBF16PS reads them. `packed` should be 64-byte aligned.
void tk_pack_bf16(const float *w, int taps, int cin, int n, unsigned short *packed);

/// bf16 values needed for Winograd weights in bf16: 16 × tk_packed_bf16_count(1, cin, cout).
size_t tk_winograd_packed_bf16_count(int cin, int cout);

/// tk_winograd_pack's transform (in double, rounded once to f32), then each of the 16 matrices packed as bf16.
/// Returns 0, or -1 when out of memory.
int tk_winograd_pack_bf16(const float *w, int cin, int cout, unsigned short *packed);

/// Sets the number of threads the kernels use (the caller's thread counts as one); clamped to 1…64.
void tk_set_threads(int n);
/// The number of threads the kernels use (default: the online processors, at most 64).
int tk_threads(void);

/// Runs fn(context, t, count) for t in 0..<count on `count` threads (the caller runs t = 0) and returns when all
/// are done. Concurrent callers are serialised by running the later one on its own thread.
void tk_parallel(int count, void (*fn)(void *context, int index, int count), void *context);

#endif
