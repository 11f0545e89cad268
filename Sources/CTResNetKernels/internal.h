// Shared between the kernel files of this target; not part of its public header.
#ifndef TRESNET_KERNELS_INTERNAL_H
#define TRESNET_KERNELS_INTERNAL_H

#include "tresnet_kernels.h"

/// Register tile: MR pixels × NR output channels (a panel of the packed weights).
#ifndef NR
#define NR 32
#endif
#ifndef MR
#define MR 8
#endif

#if defined(__x86_64__)
/// One MR × NR output tile of the convolution `a` (conv.c; AVX-512, call only when tk_available()).
void tk_tile(const tk_conv_args *a, int m0, int panel);
#endif

#endif
