// The kernels written once over a small vector vocabulary, instantiated per ISA by conv_<isa>.c, which defines
// before including this file (no include guard: once per ISA file):
//   TK_SUFFIX       name suffix of this instantiation (avx512, avx2, neon, portable)
//   TK_ISA_ID       its TK_ISA_* value
//   TK_TARGET       the function attribute that enables the ISA (per function, never for the whole file)
//   TK_VL           floats per vector;  TK_NV  vectors per register tile row;  TK_MR  pixels per register tile
//   tk_v            the vector type
//   V_ZERO()  V_SET1(x)  V_LOAD(p) (64-byte-aligned packed weights)  V_ADD(a, b)  V_SUB(a, b)
//   V_FMA(x, b, acc) = acc + x·b    V_LOADN(p, n) / V_STOREN(p, v, n): the first n lanes (others read as 0)
//   V_ACTIVATE(v, activation, slope_vector)   the epilogue's pointwise function (TK_IDENTITY, TK_RELU, TK_LEAKY_RELU)
// A register tile is TK_MR pixels × TK_NV·TK_VL output channels, a "block" of a packed NR-column panel.
#define TK_CAT_(a, b) a##_##b
#define TK_CAT(a, b) TK_CAT_(a, b)
#define TK_FN(name) TK_CAT(name, TK_SUFFIX)
#define TK_BC (TK_NV * TK_VL)

/// One TK_MR × (TK_VL·nv) output tile: pixels m0 ..< m0 + TK_MR (those past the end read zeros and are not
/// stored), output channels block·TK_BC ..< block·TK_BC + TK_VL·nv. `nv` is TK_NV (a full block) or TK_NV / 2
/// (a block with at most half its channels left, which then costs half the arithmetic); always inlined with a
/// constant, so each use compiles to its own fully unrolled kernel.
TK_TARGET static inline __attribute__((always_inline)) void TK_FN(tk_conv_tile)(const tk_conv_args *a, int m0,
                                                                                int block, const int nv) {
    const int C = a->in_channels, H = a->height, W = a->width, ks = a->kernel, pad = ks / 2;
    const int K = ks * ks * C, N = a->out_channels, HW = H * W, M = a->batch * HW;
    const int rows = M - m0 < TK_MR ? M - m0 : TK_MR;
    int y[TK_MR], xx[TK_MR];
    long image[TK_MR];
    for (int r = 0; r < TK_MR; r++) { // pixel coordinates, needed only to find a 3×3 kernel's padding
        int m = m0 + (r < rows ? r : 0);
        image[r] = ks == 1 ? m : (long)(m / HW) * HW;
        y[r] = ks == 1 ? 0 : (m % HW) / W;
        xx[r] = ks == 1 ? 0 : (m % HW) % W;
    }
    // Two-level summation for accuracy: registers accumulate at most TK_CHUNK products, then fold into `sum`,
    // so a long K is summed in short runs, not as one chain of K additions.
    tk_v acc[TK_MR][TK_NV], sum[TK_MR][TK_NV]; // only [.][0 ..< nv] used
    for (int r = 0; r < TK_MR; r++)
        for (int v = 0; v < nv; v++) acc[r][v] = sum[r][v] = V_ZERO();
    const int column = block * TK_BC;
    const float *bp[TK_NV]; // vector v of the block: its half panel (tk_pack) and column within it
    for (int v = 0; v < nv; v++) {
        const int col = column + TK_VL * v;
        bp[v] = a->packed + ((size_t)(col / NR) * 2 + (col % NR) / TK_HALF) * K * TK_HALF + col % TK_HALF;
    }
    for (int ky = 0; ky < ks; ky++)
        for (int kx = 0; kx < ks; kx++) {
            const float *rowp[TK_MR];
            for (int r = 0; r < TK_MR; r++) {
                int sy = y[r] + ky - pad, sx = xx[r] + kx - pad;
                rowp[r] = (r < rows && sy >= 0 && sy < H && sx >= 0 && sx < W)
                              ? a->input + (size_t)(image[r] + (long)sy * W + sx) * C
                              : tk_zeros;
            }
            for (int c0 = 0; c0 < C; c0 += TK_CHUNK) {
                const int c1 = C - c0 < TK_CHUNK ? C : c0 + TK_CHUNK;
                for (int c = c0; c < c1; c++) {
                    tk_v b[TK_NV];
                    for (int v = 0; v < nv; v++) {
                        b[v] = V_LOAD(bp[v]);
                        bp[v] += TK_HALF;
                    }
                    for (int r = 0; r < TK_MR; r++) {
                        tk_v x = V_SET1(rowp[r][c]);
                        for (int v = 0; v < nv; v++) acc[r][v] = V_FMA(x, b[v], acc[r][v]);
                    }
                }
                for (int r = 0; r < TK_MR; r++)
                    for (int v = 0; v < nv; v++) {
                        sum[r][v] = V_ADD(sum[r][v], acc[r][v]);
                        acc[r][v] = V_ZERO();
                    }
            }
        }
    const tk_v slope = V_SET1(a->slope);
    for (int v = 0; v < nv; v++) {
        const int valid = N - column - TK_VL * v;
        if (valid <= 0) break;
        const tk_v bias = V_LOADN(a->bias + column + TK_VL * v, valid);
        for (int r = 0; r < rows; r++) {
            size_t offset = (size_t)(m0 + r) * N + column + TK_VL * v;
            tk_v value = V_ADD(sum[r][v], bias);
            if (a->residual) value = V_ADD(value, V_LOADN(a->residual + offset, valid));
            V_STOREN(a->output + offset, V_ACTIVATE(value, a->activation, slope), valid);
        }
    }
}

TK_TARGET static void TK_FN(tk_conv_tile_full)(const tk_conv_args *a, int m0, int block) {
    TK_FN(tk_conv_tile)(a, m0, block, TK_NV);
}
TK_TARGET static void TK_FN(tk_conv_tile_half)(const tk_conv_args *a, int m0, int block) {
    TK_FN(tk_conv_tile)(a, m0, block, TK_NV / 2);
}

static void TK_FN(tk_tile)(const tk_conv_args *a, int m0, int block) {
    if (a->out_channels - block * TK_BC > TK_BC / 2)
        TK_FN(tk_conv_tile_full)(a, m0, block);
    else
        TK_FN(tk_conv_tile_half)(a, m0, block);
}

TK_TARGET static void TK_FN(tk_wino_input_tiles)(const tk_wino_geometry *g, long t0, long t1, float *v, long base,
                                                 long stride) {
    const tk_conv_args *a = g->a;
    const int C = a->in_channels, H = a->height, W = a->width;
    for (long t = t0; t < t1; t++) {
        const int b = (int)(t / ((long)g->th * g->tw)), r = (int)(t % ((long)g->th * g->tw));
        const int y0 = 2 * (r / g->tw) - 1, x0 = 2 * (r % g->tw) - 1;
        for (int c0 = 0; c0 < C; c0 += TK_VL) {
            const int valid = C - c0;
            tk_v d[4][4];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) {
                    const int y = y0 + i, x = x0 + j;
                    d[i][j] = (y >= 0 && y < H && x >= 0 && x < W)
                                  ? V_LOADN(a->input + ((size_t)(b * H + y) * W + x) * C + c0, valid)
                                  : V_ZERO();
                }
            for (int i = 0; i < 4; i++) { // d·B, row by row
                tk_v r0 = V_SUB(d[i][0], d[i][2]), r1 = V_ADD(d[i][1], d[i][2]);
                tk_v r2 = V_SUB(d[i][2], d[i][1]), r3 = V_SUB(d[i][1], d[i][3]);
                d[i][0] = r0;
                d[i][1] = r1;
                d[i][2] = r2;
                d[i][3] = r3;
            }
            float *out = v + (size_t)(t - base) * C + c0;
            const size_t step = (size_t)stride * C; // from matrix e to e + 1
            for (int j = 0; j < 4; j++) {           // Bᵀ·(d·B), column by column, each stored as soon as it is made
                V_STOREN(out + (size_t)j * step, V_SUB(d[0][j], d[2][j]), valid);
                V_STOREN(out + (size_t)(4 + j) * step, V_ADD(d[1][j], d[2][j]), valid);
                V_STOREN(out + (size_t)(8 + j) * step, V_SUB(d[2][j], d[1][j]), valid);
                V_STOREN(out + (size_t)(12 + j) * step, V_SUB(d[1][j], d[3][j]), valid);
            }
        }
    }
}

TK_TARGET static void TK_FN(tk_wino_output_tiles)(const tk_wino_geometry *g, long t0, long t1, const float *mm,
                                                  long base, long stride) {
    const tk_conv_args *a = g->a;
    const int N = a->out_channels, H = a->height, W = a->width;
    const tk_v slope = V_SET1(a->slope);
    for (long t = t0; t < t1; t++) {
        const int b = (int)(t / ((long)g->th * g->tw)), r = (int)(t % ((long)g->th * g->tw));
        const int y0 = 2 * (r / g->tw), x0 = 2 * (r % g->tw);
        for (int o0 = 0; o0 < N; o0 += TK_VL) {
            const int valid = N - o0;
            tk_v m[4][4], s[4][2], y[2][2];
            for (int e = 0; e < 16; e++)
                m[e / 4][e % 4] = V_LOADN(mm + ((size_t)e * stride + (t - base)) * N + o0, valid);
            for (int i = 0; i < 4; i++) { // m·A
                s[i][0] = V_ADD(V_ADD(m[i][0], m[i][1]), m[i][2]);
                s[i][1] = V_SUB(V_SUB(m[i][1], m[i][2]), m[i][3]);
            }
            for (int j = 0; j < 2; j++) { // Aᵀ·(m·A)
                y[0][j] = V_ADD(V_ADD(s[0][j], s[1][j]), s[2][j]);
                y[1][j] = V_SUB(V_SUB(s[1][j], s[2][j]), s[3][j]);
            }
            const tk_v bias = V_LOADN(a->bias + o0, valid);
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++) {
                    if (y0 + i >= H || x0 + j >= W) continue;
                    const size_t offset = ((size_t)(b * H + y0 + i) * W + x0 + j) * N + o0;
                    tk_v value = V_ADD(y[i][j], bias);
                    if (a->residual) value = V_ADD(value, V_LOADN(a->residual + offset, valid));
                    V_STOREN(a->output + offset, V_ACTIVATE(value, a->activation, slope), valid);
                }
        }
    }
}

const tk_kernels TK_FN(tk_kernels) = {
    TK_ISA_ID, TK_MR, TK_BC, TK_FN(tk_tile), TK_FN(tk_wino_input_tiles), TK_FN(tk_wino_output_tiles),
};

#undef TK_BC
