#!/bin/sh
# Installs what building and testing qgraph needs, when it is missing: Debian packages
# through apt-get (only as root) and the Python packages the cross-checking tests use.
set -e
# build and unit tests; clang + its runtime for the libFuzzer targets; the OpenCL ICD loader
# with PoCL and the Vulkan loader, shader compiler and lavapipe, so both GPU-API backends
# are built and tested on the CPU; an aarch64 cross compiler and qemu-user for the NEON
# kernels' correctness test.
pkgs="cmake make gcc pkg-config libcmocka-dev libjansson-dev python3 python3-pip
  clang libclang-rt-14-dev
  ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd
  libvulkan-dev glslang-tools mesa-vulkan-drivers
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user valgrind"
missing=""
for p in $pkgs; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: installing$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
  else
    echo "install-deps: missing Debian packages:$missing (run as root to install them)" >&2
  fi
fi
# Python packages used by the reference cross-checks (official gguf/safetensors readers).
if command -v python3 >/dev/null 2>&1; then
  if ! python3 -c "import gguf, numpy, safetensors, ml_dtypes" >/dev/null 2>&1; then
    echo "install-deps: installing Python packages gguf numpy safetensors ml_dtypes"
    python3 -m pip install -q gguf numpy safetensors ml_dtypes 2>/dev/null ||
      python3 -m pip install -q --break-system-packages gguf numpy safetensors ml_dtypes ||
      echo "install-deps: could not install the Python packages; their tests will say SKIPPED" >&2
  fi
fi
# The Bochs CPU emulator's Python bindings run the AVX-512 kernels (test_cpu_avx512*) on
# processors without AVX-512. Its wheels need two glibc 2.38 symbols, so the test preloads
# a shim (tools/emu/shim.c); a plain `import bochscpu` may fail here, hence `pip show`.
if command -v python3 >/dev/null 2>&1 && ! python3 -m pip show -q bochscpu-python >/dev/null 2>&1; then
  echo "install-deps: installing bochscpu-python (AVX-512 emulator for test_cpu_avx512)"
  python3 -m pip install -q bochscpu-python==0.4.0 2>/dev/null ||
    python3 -m pip install -q --break-system-packages bochscpu-python==0.4.0 ||
    echo "install-deps: could not install bochscpu-python; test_cpu_avx512 will say SKIPPED" >&2
fi
