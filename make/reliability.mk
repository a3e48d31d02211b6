# Tests under sanitizers, and fuzzing (see README "Reliability").
#   make test         the whole suite (scripts/test; what CI runs)
#   make test-asan    the whole suite under the address sanitizer (build in .build-asan)
#   make test-tsan    the whole suite under the thread sanitizer (build in .build-tsan)
#   make fuzz-smoke   every fuzz target for FUZZ_TIME seconds (default 30)
#   make fuzz         the long run: every parser target for FUZZ_RUNS executions (default 10^7)
FUZZ_TIME ?= 30
FUZZ_RUNS ?= 10000000
# Swift's crash backtracer reads memory the sanitizers guard; they print their own reports.
SANITIZER_ENV = SWIFT_BACKTRACE=enable=no
# Leak checking is off for the test suite: LeakSanitizer reports Foundation's Data(contentsOf:)
# buffers and objects held by Swift globals through enum payloads (pointers with spare bits set,
# which it cannot see) as leaks. The fuzz targets keep it on (libFuzzer checks each input).
ASAN_ENV = $(SANITIZER_ENV) ASAN_OPTIONS=detect_leaks=0

.PHONY: test test-asan test-tsan fuzz-smoke fuzz

test:
	scripts/test

test-asan:
	scripts/setup --test
	swift build --build-tests --sanitize=address --build-path .build-asan
	$(ASAN_ENV) swift test --skip-build --disable-xctest --sanitize=address --build-path .build-asan

test-tsan:
	scripts/setup --test
	swift build --build-tests --sanitize=thread --build-path .build-tsan
	$(SANITIZER_ENV) TSAN_OPTIONS=suppressions=$(CURDIR)/make/tsan.supp \
	  swift test --skip-build --disable-xctest --sanitize=thread --build-path .build-tsan

fuzz-smoke:
	scripts/fuzz --time $(FUZZ_TIME)

fuzz:
	scripts/fuzz --runs $(FUZZ_RUNS) gguf safetensors shard-index imatrix
	scripts/fuzz --time 600 decoders
