#!/usr/bin/env bash
# build.sh DIR TYPE [SANITIZE [TARGET...]]: configure and build Waymark into DIR (every target,
# or only the ones named).
set -euo pipefail
dir=${1:?build dir}
type=${2:-Release}
sanitize=${3:-OFF}
shift $(($# < 3 ? $# : 3))
cd "$(dirname "$0")/.."
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" -DWAYMARK_SANITIZE="$sanitize" >/dev/null
ninja -C "$dir" "$@"
