#!/bin/sh
# valgrind memcheck on the CLI: `qg info`, `qg quantize` (a small GGUF) and short
# `qg run`s on a tiny random llama model (tests/scripts/make_tiny_llama.py), then a short
# `qg run` on the real model when it is present (QG_MODEL or ~/.cache/qgraph/models).
# Any memcheck error or definite/indirect/possible leak fails the script (exit 1).
# Only the cpu plugin is loaded (QG_PLUGIN_PATH points at it): the Vulkan and OpenCL
# plugins bring in their drivers (Mesa, PoCL), whose own reports are not ours to judge.
#
# usage: tools/valgrind-check.sh [BUILD_DIR]   (default: build)
#   QG_VALGRIND_REAL=0  skip the real-model run
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd) || { echo "valgrind-check: no build directory ${1:-$root/build}" >&2; exit 2; }
qg=$build/bin/qg
cpu=$build/lib/qgraph/libqg-cpu.so
command -v valgrind >/dev/null 2>&1 || { echo "valgrind-check: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
[ -x "$qg" ] || { echo "valgrind-check: $qg not built" >&2; exit 2; }
[ -r "$cpu" ] || { echo "valgrind-check: $cpu not built" >&2; exit 2; }
export QG_PLUGIN_PATH="$cpu"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failed=0
vg() { # name, command...
  name=$1
  shift
  log="$work/$name.vg"
  t0=$(date +%s)
  valgrind --tool=memcheck --error-exitcode=1 --leak-check=full --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible --track-origins=yes --log-file="$log" "$@" \
    >"$work/$name.out" 2>"$work/$name.err"
  rc=$?
  secs=$(( $(date +%s) - t0 ))
  summary=$(grep -E "ERROR SUMMARY" "$log" | tail -1 | sed 's/^==[0-9]*== //')
  leaks=$(grep -E "definitely lost|indirectly lost|possibly lost" "$log" | sed 's/^==[0-9]*== *//' | tr '\n' ';')
  if [ $rc -eq 0 ]; then
    echo "ok    $name (${secs}s): $summary"
  else
    echo "FAIL  $name (${secs}s, exit $rc): $summary $leaks"
    sed 's/^/    /' "$log" | grep -v "^    ==[0-9]*== *$" | head -80
    tail -5 "$work/$name.err" | sed 's/^/    stderr: /'
    failed=1
  fi
}

tiny=$work/tiny.gguf
if python3 "$root/tests/scripts/make_tiny_llama.py" "$tiny" --layers 2 --ctx 64 >/dev/null; then
  vg info "$qg" info "$tiny"
  vg info_json "$qg" info "$tiny" --json
  vg quantize_q8_0 "$qg" quantize "$tiny" "$work/tiny-q8_0.gguf" q8_0
  vg quantize_q4_k_m "$qg" quantize "$tiny" "$work/tiny-q4_k_m.gguf" q4_k_m
  vg run_tiny "$qg" run -m "$tiny" -p "the cat sat" -n 4 --temp 0.8 --seed 1 --ctx 32
  vg run_tiny_q8 "$qg" run -m "$work/tiny-q8_0.gguf" -p "the cat sat" -n 4 --temp 0 --ctx 32 --json
  # Past the context: 40 tokens in 16 positions (context shifts where qg run enables them).
  vg run_tiny_long "$qg" run -m "$tiny" -p "the" -n 40 --temp 0.8 --seed 2 --ctx 16
else
  echo "skip  tiny-model runs: tests/scripts/make_tiny_llama.py failed (python gguf package missing?)"
fi

model=${QG_MODEL:-$HOME/.cache/qgraph/models/SmolLM2-135M-Instruct.Q4_1.gguf}
if [ "${QG_VALGRIND_REAL:-1}" != 0 ] && [ -r "$model" ]; then
  vg info_real "$qg" info "$model"
  vg run_real "$qg" run -m "$model" -p "The capital of France is" -n 4 --temp 0 --ctx 64 --threads 2
else
  echo "skip  real-model run (no $model, or QG_VALGRIND_REAL=0)"
fi
[ $failed -eq 0 ] && echo "valgrind-check: all clean" || echo "valgrind-check: FAILED"
exit $failed
