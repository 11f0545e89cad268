// libFuzzer's driver entry point (compiler-rt, LLVM >= 11). The fuzz executables call it from their own
// `main`: SwiftPM links every executable with `--defsym main=<Module>_main`, so libFuzzer's `main` cannot be used.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
