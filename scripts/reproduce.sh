#!/usr/bin/env bash
# Reproduces every claim: installs what is missing, builds Release, runs every claim in the
# default profile (writes results/default/), renders figures and results/REPORT.md, and exits
# with the status of `attnlab verify` (0 when every verdict is the expected one).
#   scripts/reproduce.sh [--profile smoke|default|full] [--threads T]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

profile=default
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile=${2:?--profile needs smoke, default or full}; shift 2 ;;
    --threads) extra+=(--threads "${2:?--threads needs a number}"); shift 2 ;;
    *) echo "scripts/reproduce.sh: unknown option '$1' (allowed: --profile P, --threads T)" >&2
       exit 2 ;;
  esac
done

install_packages "${ATTNLAB_PACKAGES[@]}"
build build/release Release
status=0
./build/release/attnlab verify --profile "$profile" --json "results/verify-$profile.json" \
  "${extra[@]}" || status=$?
if [ "$status" -eq 2 ]; then exit 2; fi
./build/release/attnlab report --python "$ATTNLAB_PYTHON" --readme README.md
echo "Report: results/REPORT.md"
exit "$status"
