// Which instruction set the kernels run: detected at run time (__builtin_cpu_supports on x86-64; Advanced SIMD is
// part of every aarch64 core), capped by TRESNET_MAX_ISA as oneDNN's ONEDNN_MAX_CPU_ISA caps its own.
#include "internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <strings.h>

static const char *const tk_isa_names[] = {"default", "portable", "avx2", "neon", "avx512"};

const char *tk_isa_name(int isa) {
    return isa >= TK_ISA_PORTABLE && isa <= TK_ISA_AVX512 ? tk_isa_names[isa] : "unknown";
}

int tk_isa_parse(const char *name) {
    if (!name) return -1;
    for (int isa = TK_ISA_PORTABLE; isa <= TK_ISA_AVX512; isa++)
        if (strcasecmp(name, tk_isa_names[isa]) == 0) return isa;
    return -1;
}

int tk_isa_supported(int isa) {
    switch (isa) {
    case TK_ISA_PORTABLE:
        return 1;
#if defined(__x86_64__)
    case TK_ISA_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case TK_ISA_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f");
#endif
#if defined(__aarch64__)
    case TK_ISA_NEON:
        return 1;
#endif
    default:
        return 0;
    }
}

/// The rank of an ISA for a cap: NEON and AVX2 share one.
static int tk_isa_rank(int isa) { return isa == TK_ISA_NEON ? TK_ISA_AVX2 : isa; }

int tk_isa_default(void) {
    static atomic_int chosen = 0;
    int isa = atomic_load(&chosen);
    if (isa) return isa;
    int cap = tk_isa_parse(getenv("TRESNET_MAX_ISA"));
    isa = TK_ISA_PORTABLE;
    for (int candidate = TK_ISA_PORTABLE; candidate <= TK_ISA_AVX512; candidate++)
        if (tk_isa_supported(candidate) && (cap < 0 || tk_isa_rank(candidate) <= tk_isa_rank(cap))) isa = candidate;
    atomic_store(&chosen, isa);
    return isa;
}

int tk_available(void) { return tk_isa_default() != TK_ISA_PORTABLE; }

const tk_kernels *tk_kernels_for(int isa) {
    if (isa == TK_ISA_DEFAULT) isa = tk_isa_default();
    if (!tk_isa_supported(isa)) return NULL;
    switch (isa) {
#if defined(__x86_64__)
    case TK_ISA_AVX2:
        return &tk_kernels_avx2;
    case TK_ISA_AVX512:
        return &tk_kernels_avx512;
#endif
#if defined(__aarch64__)
    case TK_ISA_NEON:
        return &tk_kernels_neon;
#endif
    default:
        return &tk_kernels_portable;
    }
}
