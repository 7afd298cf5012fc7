# Thin wrapper around CMake. `make demo` and `make test` work on a fresh Debian 12 machine
# (run as root, missing packages are installed first).
BUILD ?= build
BUILD_SAN ?= build-sanitize
JOBS ?= 2
CMAKE_FLAGS ?= -DQG_WERROR=ON

.PHONY: all deps build demo test check check-sanitize clean

all: build

deps:
	@sh tools/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	./$(BUILD)/bin/simple-graph

# The whole suite: the normal build, then again under AddressSanitizer + UBSan.
test: check check-sanitize

check: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

check-sanitize: deps
	cmake -S . -B $(BUILD_SAN) $(CMAKE_FLAGS) -DQG_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(BUILD_SAN) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(BUILD_SAN) --output-on-failure -j$(JOBS) -LE no-sanitize

clean:
	rm -rf $(BUILD) $(BUILD_SAN)
