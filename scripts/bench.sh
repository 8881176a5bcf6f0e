#!/usr/bin/env bash
# Installs the peers (libxsmm, OpenBLAS, PyTorch), builds Release and runs `attnlab bench`.
#   scripts/bench.sh [attnlab bench options...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
install_packages "${ATTNLAB_PACKAGES[@]}" "${ATTNLAB_BENCH_PACKAGES[@]}"
build build/release Release
exec ./build/release/attnlab bench "$@"
