// Only a header target: LLVMFuzzerRunDriver itself comes from the toolchain's libFuzzer.
#include "CFuzzerDriver.h"
