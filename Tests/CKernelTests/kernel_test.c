// Unit test of the C kernels (Sources/CTResNetKernels) against reference.h, for every ISA this CPU runs:
// the direct convolution (1×1 and 3×3) and Winograd F(2×2, 3×3), on odd shapes — channel counts that are not
// multiples of any vector width, 1×1, 2×3, 5×4 and 7×7 maps, batch 1 and 3, every epilogue — on 1 and 2
// threads. Built and run by `make test-kernels` (native) and `make test-aarch64` (cross-compiled, under qemu).
// Prints one line per ISA and exits 1 on the first mismatch.
#include "tresnet_kernels.h"
#include "reference.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x9E3779B97F4A7C15ull;
static float uniform(void) { // SplitMix64 → [-1, 1)
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (float)(z >> 40) / (float)(1 << 24) * 2 - 1;
}

static float *random_floats(size_t n, float amplitude) {
    float *p = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) p[i] = uniform() * amplitude;
    return p;
}

static void *aligned_floats(size_t n) { return aligned_alloc(64, (sizeof(float) * (n ? n : 1) + 63) / 64 * 64); }

static int failures, cases;
static double worst_seen[2][2]; // [bf16][winograd]

/// One convolution through `isa`: direct (winograd = 0) or Winograd, against the reference. The bound is
/// relative to the sum of absolute products: 1e-6 of it for the direct kernel (float sums of at most a few
/// thousand terms), 1e-5 for Winograd, whose transforms add and subtract several such sums before rounding.
static void check_precision(int isa, int precision, int winograd, int batch, int h, int w, int cin, int cout, int k,
                            int with_residual, int activation);

static void check(int isa, int winograd, int batch, int h, int w, int cin, int cout, int k, int with_residual,
                  int activation) {
    check_precision(isa, TK_F32, winograd, batch, h, w, cin, cout, k, with_residual, activation);
}

/// bf16 (TK_BF16, AVX512-BF16): inputs and weights rounded to bf16 (relative error ≤ 2⁻⁹ each), products summed
/// in f32: bounded by 1/128 of the sum of absolute products direct, 1/64 for Winograd (its transformed inputs
/// and weights are rounded, and each is a sum of up to 4 and 9 terms).
static void check_precision(int isa, int precision, int winograd, int batch, int h, int w, int cin, int cout, int k,
                            int with_residual, int activation) {
    const size_t pixels = (size_t)batch * h * w, kk = (size_t)k * k * cin;
    float *in = random_floats(pixels * cin, 1), *weights = random_floats(kk * cout, 0.5f);
    float *bias = random_floats((size_t)cout, 1), *residual = with_residual ? random_floats(pixels * cout, 1) : NULL;
    float *out = malloc(sizeof(float) * pixels * cout);
    double *expected = malloc(sizeof(double) * pixels * cout), *scale = malloc(sizeof(double) * pixels * cout);
    const float slope = 0.01f;
    tk_reference_conv(in, batch, h, w, cin, k, weights, cout, bias, residual, activation, slope, expected, scale);
    const int bf16 = precision == TK_BF16;
    float *packed = aligned_floats(
        bf16 ? (winograd ? tk_winograd_packed_bf16_count(cin, cout) : tk_packed_bf16_count(k * k, cin, cout) + 1) / 2
        : winograd ? tk_winograd_packed_count(cin, cout)
                   : tk_packed_count((int)kk, cout));
    if (bf16 && winograd)
        tk_winograd_pack_bf16(weights, cin, cout, (unsigned short *)packed);
    else if (bf16)
        tk_pack_bf16(weights, k * k, cin, cout, (unsigned short *)packed);
    else if (winograd)
        tk_winograd_pack(weights, cin, cout, packed);
    else
        tk_pack(weights, (int)kk, cout, packed);
    for (size_t i = 0; i < pixels * cout; i++) out[i] = NAN; // every output must be written
    tk_conv_args a;
    memset(&a, 0, sizeof a);
    a.input = in;
    a.batch = batch;
    a.height = h;
    a.width = w;
    a.in_channels = cin;
    a.kernel = k;
    a.packed = packed;
    a.out_channels = cout;
    a.bias = bias;
    a.residual = residual;
    a.output = out;
    a.activation = activation;
    a.slope = slope;
    a.isa = isa;
    a.precision = precision;
    const int status = winograd ? tk_winograd_conv(&a) : tk_conv(&a);
    const double relative = bf16 ? (winograd ? 1.0 / 64 : 1.0 / 128) : winograd ? 1e-5 : 1e-6;
    double worst = 0;
    size_t worst_at = 0;
    for (size_t i = 0; i < pixels * cout; i++) {
        const double error = fabs((double)out[i] - expected[i]) / (scale[i] + 1e-30);
        if (!(error <= worst)) {
            worst = error;
            worst_at = i;
        } // NaN counts as worst
    }
    if (worst > worst_seen[bf16][winograd]) worst_seen[bf16][winograd] = worst;
    cases++;
    if (status != 0 || !(worst <= relative)) {
        failures++;
        fprintf(stderr,
                "FAIL %s%s %s k=%d batch=%d %dx%d cin=%d cout=%d residual=%d activation=%d: status %d, "
                "worst relative error %.3g at %zu (got %.9g, want %.9g)\n",
                tk_isa_name(isa), bf16 ? "-bf16" : "", winograd ? "winograd" : "direct", k, batch, h, w, cin, cout,
                with_residual, activation, status, worst, worst_at, out[worst_at], expected[worst_at]);
    }
    free(in);
    free(weights);
    free(bias);
    free(residual);
    free(out);
    free(expected);
    free(scale);
    free(packed);
}

int main(void) {
    static const int maps[][2] = {{1, 1}, {2, 3}, {5, 4}, {7, 7}};
    static const int ins[] = {3, 17, 40}, outs[] = {5, 19, 33, 70};
    const char *expect = getenv("TK_EXPECT_DEFAULT_ISA");
    if (expect && strcmp(expect, tk_isa_name(tk_isa_default())) != 0) {
        fprintf(stderr, "FAIL default ISA is %s, expected %s (TRESNET_MAX_ISA=%s)\n", tk_isa_name(tk_isa_default()),
                expect, getenv("TRESNET_MAX_ISA") ? getenv("TRESNET_MAX_ISA") : "");
        return 1;
    }
    int tested = 0;
    for (int isa = TK_ISA_PORTABLE; isa <= TK_ISA_AVX512; isa++) {
        if (!tk_isa_supported(isa)) continue;
        const int before = failures, start = cases;
        for (int threads = 1; threads <= 2; threads++) {
            tk_set_threads(threads);
            for (int batch = 1; batch <= 3; batch += 2)
                for (size_t s = 0; s < sizeof maps / sizeof maps[0]; s++)
                    for (size_t i = 0; i < sizeof ins / sizeof ins[0]; i++)
                        for (size_t o = 0; o < sizeof outs / sizeof outs[0]; o++) {
                            const int variant = (int)(s + i + o);
                            const int h = maps[s][0], w = maps[s][1], residual = variant % 2, activation = variant % 3;
                            check(isa, 0, batch, h, w, ins[i], outs[o], 1, residual, activation);
                            check(isa, 0, batch, h, w, ins[i], outs[o], 3, residual, activation);
                            check(isa, 1, batch, h, w, ins[i], outs[o], 3, residual, activation);
                        }
        }
        // Winograd's blocked schedule (many 2×2 tiles) on 2 threads.
        check(isa, 1, 1, 222, 222, 8, 8, 3, 1, 2);
        check(isa, 1, 3, 57, 61, 13, 21, 3, 0, 1);
        // Weights past one work item's column group (tk_conv: ≤ 512 KiB per group), the last group partial.
        check(isa, 0, 3, 5, 4, 1030, 200, 1, 1, 2);
        check(isa, 0, 1, 5, 4, 130, 100, 3, 0, 1);
        // Weights too large for L2 (16·97·95 floats): the blocked schedule's longer, evenly shared blocks.
        check(isa, 1, 1, 34, 34, 97, 95, 3, 1, 1);
        // Batch 1 on 2 threads: a 1×1 split by pixels (a ragged last tile), Winograd's per-thread runs of tiles.
        check(isa, 0, 1, 13, 11, 40, 70, 1, 1, 2);
        check(isa, 1, 1, 13, 15, 17, 33, 3, 1, 1);
        check(isa, 1, 3, 14, 14, 40, 19, 3, 0, 2);
        printf("%-8s %d cases, %d failed\n", tk_isa_name(isa), cases - start, failures - before);
        tested++;
    }
    if (tk_bf16_supported()) {
        const int before = failures, start = cases;
        for (int threads = 1; threads <= 2; threads++) {
            tk_set_threads(threads);
            for (int batch = 1; batch <= 3; batch += 2)
                for (size_t s = 0; s < sizeof maps / sizeof maps[0]; s++)
                    for (size_t i = 0; i < sizeof ins / sizeof ins[0]; i++)
                        for (size_t o = 0; o < sizeof outs / sizeof outs[0]; o++) {
                            const int variant = (int)(s + i + o);
                            const int h = maps[s][0], w = maps[s][1], residual = variant % 2, activation = variant % 3;
                            check_precision(TK_ISA_AVX512, TK_BF16, 0, batch, h, w, ins[i], outs[o], 1, residual,
                                            activation);
                            check_precision(TK_ISA_AVX512, TK_BF16, 0, batch, h, w, ins[i], outs[o], 3, residual,
                                            activation);
                            check_precision(TK_ISA_AVX512, TK_BF16, 1, batch, h, w, ins[i], outs[o], 3, residual,
                                            activation);
                        }
        }
        check_precision(TK_ISA_AVX512, TK_BF16, 1, 1, 222, 222, 8, 8, 3, 1, 2);
        check_precision(TK_ISA_AVX512, TK_BF16, 1, 3, 57, 61, 13, 21, 3, 0, 1);
        check_precision(TK_ISA_AVX512, TK_BF16, 1, 1, 34, 34, 131, 129, 3, 1, 1); // weights past L2, blocked
        check_precision(TK_ISA_AVX512, TK_BF16, 0, 3, 5, 4, 2051, 300, 1, 1, 2);  // several column groups
        check_precision(TK_ISA_AVX512, TK_BF16, 0, 1, 5, 4, 261, 100, 3, 0, 1);
        check_precision(TK_ISA_AVX512, TK_BF16, 0, 1, 9, 9, 600, 40, 3, 1, 0);  // K past one summation chunk
        check_precision(TK_ISA_AVX512, TK_BF16, 0, 1, 13, 11, 41, 70, 1, 1, 2); // 1×1 split by pixels
        check_precision(TK_ISA_AVX512, TK_BF16, 1, 1, 13, 15, 17, 33, 3, 1, 1); // Winograd's per-thread runs
        check_precision(TK_ISA_AVX512, TK_BF16, 1, 3, 14, 14, 40, 19, 3, 0, 2);
        printf("%-8s %d cases, %d failed\n", "avx512-bf16", cases - start, failures - before);
        tested++;
    }
    printf(
        "worst error / sum of |products|: f32 direct %.2g, f32 winograd %.2g, bf16 direct %.2g, bf16 winograd %.2g\n",
        worst_seen[0][0], worst_seen[0][1], worst_seen[1][0], worst_seen[1][1]);
    if (!tk_isa_supported(TK_ISA_AVX512 + 1) && tk_isa_parse("bogus") != -1) failures++;
    printf("%d ISAs, %d cases, %d failed (default ISA: %s)\n", tested, cases, failures, tk_isa_name(tk_isa_default()));
    return failures ? 1 : 0;
}
