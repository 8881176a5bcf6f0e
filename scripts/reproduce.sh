#!/usr/bin/env bash
# Reproduces every claim: installs what is missing, builds Release, runs every claim in the
# default profile (writes results/default/), renders figures and results/REPORT.md, and exits
# with the status of `attnlab verify` (0 when every verdict is the expected one).
#   scripts/reproduce.sh [--profile smoke|default|full] [--threads T]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

install_packages "${ATTNLAB_PACKAGES[@]}"
build build/release Release
status=0
./build/release/attnlab verify --profile default --json results/verify-default.json "$@" || status=$?
if [ "$status" -eq 2 ]; then exit 2; fi
./build/release/attnlab report --python "$ATTNLAB_PYTHON"
echo "Report: results/REPORT.md"
exit "$status"
