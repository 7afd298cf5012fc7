#!/bin/sh
# Allocation-failure sweep over existing test programs (issue #10).
#
#   tools/fault-sweep.sh BUILD_DIR TEST...      e.g. build-sanitize test_graph test_sched
#
# For each ctest test named, a counting run (QG_ALLOC_STATS=1) tells how many host
# allocations k libqgraph makes in it; the test is then run again for N = 1..k with
# QG_FAIL_ALLOC=N (the N-th allocation fails), with ctest's command line and
# environment. A run is classified as
#   crash      killed by a signal, a signal caught by cmocka, or an ASan/UBSan report
#   test-crash the same, located in the test's own code under tests/ (reported, not
#              counted as a library failure)
#   leak       a LeakSanitizer report while every test assertion held (a test that failed
#              an assertion abandons its own objects, so its leaks prove nothing)
#   timeout    longer than FAULT_TIMEOUT seconds (default 60)
#   pass       exit 0 (the failure was absorbed or the test tolerated it)
#   clean-fail any other exit: a test assertion saw the error status; no crash
# Crashes and leaks are printed with the tail of their output and make the script exit 1.
# FAULT_MAX_RUNS (default 400) caps the runs per test: beyond it N walks 1..k in even
# steps, and the summary says so. Use a sanitizer build so that leaks count as crashes.
set -eu
if [ $# -lt 2 ]; then
  echo "usage: $0 BUILD_DIR TEST..." >&2
  exit 2
fi
build=$1
shift
exec python3 - "$build" "$@" <<'PY'
import json, os, re, subprocess, sys

build = os.path.abspath(sys.argv[1])
names = sys.argv[2:]
timeout = float(os.environ.get("FAULT_TIMEOUT", "60"))
max_runs = int(os.environ.get("FAULT_MAX_RUNS", "400"))
info = json.loads(subprocess.run(["ctest", "--test-dir", build, "--show-only=json-v1"],
                                 capture_output=True, text=True, check=True).stdout)
tests = {t["name"]: t for t in info["tests"]}
CRASH = re.compile(r"ERROR: AddressSanitizer|runtime error:|ThreadSanitizer|Test failed with exception")
LEAK = re.compile(r"ERROR: LeakSanitizer")
TEST_FAILED = re.compile(r"\[  (FAILED|ERROR) +\]")

def env_of(t):
    env = dict(os.environ)
    for p in t.get("properties", []):
        if p["name"] == "ENVIRONMENT":
            for kv in p["value"]:
                k, _, v = kv.partition("=")
                env[k] = v
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:use_sigaltstack=0")
    return env

def run(t, extra):
    env = env_of(t)
    env.update(extra)
    cwd = next((p["value"] for p in t.get("properties", []) if p["name"] == "WORKING_DIRECTORY"), build)
    try:
        r = subprocess.run(t["command"], env=env, cwd=cwd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", -1, ""
    out = (r.stdout + r.stderr).decode(errors="replace")
    m = CRASH.search(out)
    if m:
        # Where: the first source location after the report. A crash inside the test's
        # own code (dereferencing a NULL it did not check) is the test's bug.
        loc = re.search(r"(/[^\s:]+\.c):\d+", out[max(0, m.start() - 200):])
        if loc and "/tests/" in loc.group(1):
            return "test-crash", r.returncode, out
        return "crash", r.returncode, out
    if r.returncode < 0:
        return "crash", r.returncode, out
    # A test that failed an assertion abandons its own objects: leaks then prove
    # nothing about the library. Leaks with every assertion holding do.
    if LEAK.search(out) and not TEST_FAILED.search(out):
        return "leak", r.returncode, out
    return ("pass" if r.returncode == 0 else "clean-fail"), r.returncode, out

bad = 0
for name in names:
    t = tests.get(name)
    if not t or "command" not in t:
        print(f"{name}: no such test in {build}")
        bad = 1
        continue
    kind, rc, out = run(t, {"QG_ALLOC_STATS": "1"})
    counts = re.findall(r"qg: (\d+) allocations", out)
    if kind != "pass" or not counts:
        print(f"{name}: the counting run did not pass (exit {rc}); skipped\n{out[-2000:]}")
        bad = 1
        continue
    k = int(counts[-1])  # the test's own process (children print theirs first)
    step = max(1, -(-k // max_runs))
    res = {"pass": 0, "clean-fail": 0, "crash": 0, "test-crash": 0, "leak": 0, "timeout": 0}
    n_runs = 0
    for n in range(1, k + 1, step):
        kind, rc, out = run(t, {"QG_FAIL_ALLOC": str(n)})
        res[kind] += 1
        n_runs += 1
        if kind in ("crash", "leak", "timeout"):
            bad = 1
            print(f"{name}: QG_FAIL_ALLOC={n}: {kind} (exit {rc})\n{out[-3000:]}\n")
        elif kind == "test-crash":
            where = re.search(r"(/[^\s:]+\.c:\d+)[^\n]*", out)
            print(f"{name}: QG_FAIL_ALLOC={n}: crash in the test's own code: {where.group(0) if where else '?'}")
    sampled = "" if step == 1 else f", every {step}th"
    print(f"{name}: k={k}, N=1..{k}{sampled}: {n_runs} runs: {res['pass']} pass, "
          f"{res['clean-fail']} clean-fail, {res['crash']} crash, {res['test-crash']} test-crash, "
          f"{res['leak']} leak, "
          f"{res['timeout']} timeout", flush=True)
sys.exit(bad)
PY
