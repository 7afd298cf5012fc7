#!/bin/sh
# Runs every libFuzzer target for SECONDS each when clang can build them; says SKIPPED
# (and succeeds) when clang is missing, fails on any crash.
secs=${1:-60}
if ! command -v clang >/dev/null 2>&1; then
  echo "fuzz: SKIPPED: clang is not installed"
  exit 0
fi
exec bash "$(dirname "$0")/fuzz.sh" "$secs"
