#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang, ASan and UBSan in build-fuzz and
# runs each for SECONDS (default 60), starting from the seed corpus in tests/fuzz/corpus.
# New interesting inputs go to build-fuzz/corpus-<target> (the tree's seeds are not
# touched); crashes to build-fuzz/crash-<target>/. Prints libFuzzer's final stats line per
# target and exits non-zero when a target crashed.
#
#   tools/fuzz.sh [SECONDS] [TARGET...]     TARGET: gguf, safetensors, graph, tokenizer (default all)
set -euo pipefail

secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(gguf safetensors graph tokenizer)
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QG_FUZZ_BUILD:-$root/build-fuzz}
jobs=${QG_FUZZ_JOBS:-2}

mkdir -p "$build"
command -v clang >/dev/null || { echo "fuzz.sh: clang not found" >&2; exit 2; }
CC=clang cmake -S "$root" -B "$build" -DQG_FUZZ=ON -DQG_SANITIZE=address,undefined \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link" \
  -DQG_BUILD_EXAMPLES=OFF -DQG_VULKAN=OFF -DQG_OPENCL=OFF -DQG_CUDA=OFF >"$build/fuzz-cmake.log" 2>&1 ||
  { cat "$build/fuzz-cmake.log" >&2; exit 2; }
cmake --build "$build" -j"$jobs" --target "${targets[@]/#/fuzz_}" >"$build/fuzz-build.log" 2>&1 ||
  { tail -40 "$build/fuzz-build.log" >&2; exit 2; }

status=0
for t in "${targets[@]}"; do
  corpus=$build/corpus-$t
  crashes=$build/crash-$t
  mkdir -p "$corpus" "$crashes"
  log=$build/fuzz-$t.log
  rc=0
  dict=()
  [ -f "$root/tests/fuzz/$t.dict" ] && dict=(-dict="$root/tests/fuzz/$t.dict")
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$build/bin/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$crashes/" \
    -max_len=65536 "${dict[@]}" "$corpus" "$root/tests/fuzz/corpus/$t" "$root/tests/fuzz/regressions" >"$log" 2>&1 || rc=$?
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' || true)
  echo "fuzz_$t: ${secs}s, exit $rc, executed units: ${execs:-?}"
  echo "  last status: ${last:-none}"
  if [ "$rc" -ne 0 ]; then
    echo "  CRASH: see $log and $crashes" >&2
    grep -E 'ERROR|SUMMARY|runtime error' "$log" | head -5 >&2 || true
    status=1
  fi
done
exit $status
