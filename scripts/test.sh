#!/usr/bin/env bash
# Installs, builds with AddressSanitizer + UndefinedBehaviorSanitizer, and runs every test:
# unit tests, scenario files, the Liquid differential corpus, the replay determinism checks, and
# the end-to-end tests of `waymark serve` with real parts (SMTP server, Segment's Node client,
# the kill -9 crash test). docs/testing.md lists them.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/build.sh build-asan Debug ON
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd build-asan
ctest --output-on-failure -j "$(nproc)"
