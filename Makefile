# Thin wrapper around CMake. `make demo` and `make test` work on a fresh Debian 12 machine
# (run as root, missing packages are installed first).
BUILD ?= build
BUILD_SAN ?= build-sanitize
JOBS ?= 2
CMAKE_FLAGS ?= -DQG_WERROR=ON
# The sanitizer pass skips what only repeats the normal pass at 3-10x the cost: the
# conformance catalogues, the model-vs-llama.cpp comparison, and the OpenCL/Vulkan
# suites (their kernels run inside PoCL/lavapipe, which are not instrumented).
SAN_EXCLUDE ?= no-sanitize|conform|opencl|vulkan

.PHONY: all deps build model demo test check check-sanitize check-tsan clean

all: build

deps:
	@sh tools/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j$(JOBS)

# The demo fetches SmolLM2-135M-Instruct (tools/fetch-model.sh, once) and asks it a question
# on the CPU backend, formatted with the model's chat template (--chat).
demo: build
	./$(BUILD)/bin/simple-graph
	MODEL=$$(sh tools/fetch-model.sh) && \
	  ./$(BUILD)/bin/qg run -m "$$MODEL" --chat -p "Why is the sky blue? Answer briefly." -n 48 --backend cpu

# The whole suite: the normal build, then again under AddressSanitizer + UBSan, then the
# concurrency test under ThreadSanitizer.
test: check check-sanitize check-tsan

# The llama tests need the demo model; without it (no network) they say SKIPPED.
model:
	@sh tools/fetch-model.sh >/dev/null || echo "make: could not fetch the demo model; the llama tests will be SKIPPED"

check: build model
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

# use_sigaltstack=0: LLVM inside PoCL replaces a thread's alternate signal stack, and ASan
# then aborts at that thread's exit trying to unmap the stack it no longer owns.
check-sanitize: deps model
	cmake -S . -B $(BUILD_SAN) $(CMAKE_FLAGS) -DQG_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug -DQG_CUDA=OFF
	cmake --build $(BUILD_SAN) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:use_sigaltstack=0 UBSAN_OPTIONS=print_stacktrace=1 QG_CONCURRENCY_CPU_ONLY=1 \
	  ctest --test-dir $(BUILD_SAN) --output-on-failure -j$(JOBS) -LE "$(SAN_EXCLUDE)"

# Two threads running graphs on shared and separate backends, under ThreadSanitizer.
check-tsan: deps
	sh tools/tsan-check.sh

clean:
	rm -rf $(BUILD) $(BUILD_SAN)
