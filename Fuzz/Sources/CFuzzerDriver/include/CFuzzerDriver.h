// libFuzzer's driver entry point (compiler-rt's FuzzerInterface.h), declared for Swift.
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer with `argc`/`argv` on `callback`; supplied by `-sanitize=fuzzer`.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
