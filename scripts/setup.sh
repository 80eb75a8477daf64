#!/usr/bin/env bash
# Installs what Waymark needs to build and test, from Debian's packages. Safe to run again: it only
# calls apt-get when something is missing.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  libyaml-cpp-dev libhowardhinnant-date-dev tzdata
  libabsl-dev libxxhash-dev libfmt-dev libspdlog-dev libcli11-dev
  libboost1.81-dev libboost-json1.81-dev libsimdjson-dev
  libgtest-dev libgmock-dev libbenchmark-dev libjemalloc-dev
  libssl-dev libboost-url1.81-dev libcurl4-openssl-dev python3-aiosmtpd
  librocksdb-dev zlib1g-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
