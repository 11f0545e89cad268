// The naive reference every kernel test compares with: a stride-1 "same" convolution over NHWC activations,
// summed in double, straight from the definition (no packing, no tiles, no transforms).
#ifndef TK_REFERENCE_H
#define TK_REFERENCE_H

#include <math.h>
#include <stddef.h>

/// out[m][o] = activation(Σ w[(ky·k + kx)·cin + c][o] · in[pixel + (ky, kx) − k/2][c] + bias[o] (+ residual)),
/// and scale[m][o] = the same sum over absolute values (the size a rounding error is measured against).
static void tk_reference_conv(const float *in, int batch, int h, int w, int cin, int k, const float *weights,
                              int cout, const float *bias, const float *residual, int activation, float slope,
                              double *out, double *scale) {
    const int pad = k / 2;
    for (int b = 0; b < batch; b++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int o = 0; o < cout; o++) {
                    const size_t m = ((size_t)b * h + y) * w + x;
                    double sum = bias[o], size = fabs(bias[o]);
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++) {
                            const int sy = y + ky - pad, sx = x + kx - pad;
                            if (sy < 0 || sy >= h || sx < 0 || sx >= w) continue;
                            const float *pixel = in + (((size_t)b * h + sy) * w + sx) * cin;
                            for (int c = 0; c < cin; c++) {
                                const double product =
                                    (double)weights[((size_t)(ky * k + kx) * cin + c) * cout + o] * pixel[c];
                                sum += product;
                                size += fabs(product);
                            }
                        }
                    if (residual) {
                        sum += residual[m * cout + o];
                        size += fabs(residual[m * cout + o]);
                    }
                    if (activation == 1 && sum < 0) sum = 0;
                    if (activation == 2 && sum < 0) sum *= slope;
                    out[m * cout + o] = sum;
                    scale[m * cout + o] = size;
                }
}

#endif
