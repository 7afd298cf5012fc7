#!/bin/sh
# ThreadSanitizer check of the concurrency test (issue #10): configures a separate build
# (build-tsan, -fsanitize=thread), builds only what tests/test_concurrency.c needs (the
# library, the CPU plugin, the test) and runs it on the CPU device. Any TSan report
# fails the check. Takes about 2-3 minutes from scratch on 2 cores, seconds when built.
#   BUILD_TSAN=dir  build directory (default build-tsan)   JOBS=n  (default 2)
set -eu
cd "$(dirname "$0")/.."
build=${BUILD_TSAN:-build-tsan}
mkdir -p "$build"
cmake -S . -B "$build" -DQG_SANITIZE=thread -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQG_WERROR=ON >"$build/configure.log" 2>&1 || {
  cat "$build/configure.log"
  exit 1
}
cmake --build "$build" -j"${JOBS:-2}" --target qgraph qg-cpu test_concurrency
log="$build/tsan-check.log"
# Only the CPU plugin of this build (GPU runtimes are not instrumented); fail at the
# first report.
if ! QG_PLUGIN_PATH_ONLY=1 QG_CONCURRENCY_CPU_ONLY=1 \
     TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
     ctest --test-dir "$build" -R '^test_concurrency$' -V >"$log" 2>&1; then
  cat "$log"
  echo "tsan-check: FAILED (see $log)"
  exit 1
fi
if grep -q "ThreadSanitizer" "$log"; then
  cat "$log"
  echo "tsan-check: ThreadSanitizer reported a problem (see $log)"
  exit 1
fi
grep -E "tests passed|bit-identical" "$log" || true
echo "tsan-check: OK"
