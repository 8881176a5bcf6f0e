#!/usr/bin/env bash
# Installs what is missing, builds with warnings as errors, runs every unit test and the smoke
# profile of every claim (ctest labels `unit` and `smoke`), prints ctest's summary, then runs every
# fuzz target for a bounded time (scripts/fuzz.sh; ATTNLAB_FUZZ_SECONDS per target, default 36)
# beside a sanitized (ASan+UBSan) build of the unit tests of the kernels, generators and readers.
#   scripts/test.sh              Release build in build/test, then the fuzzers
#   scripts/test.sh --sanitize   Debug build with ASan+UBSan in build/sanitize (unit tests)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

mode=release
case "${1:-}" in
  "") ;;
  --sanitize) mode=sanitize ;;
  *) echo "scripts/test.sh: unknown option '$1' (allowed: --sanitize)" >&2; exit 2 ;;
esac

install_packages "${ATTNLAB_PACKAGES[@]}"
# The Python module's test fits a VAR with statsmodels (tests/python/test_module.py).
install_packages python3-statsmodels
start=$(date +%s)
if [ "$mode" = sanitize ]; then
  build build/sanitize Debug -DATTNLAB_WERROR=ON -DATTNLAB_SANITIZE=ON -DATTNLAB_NATIVE=OFF
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build/sanitize -L unit --output-on-failure -j2 --timeout 900
else
  build build/test Release -DATTNLAB_WERROR=ON
  ctest --test-dir build/test -L 'unit|smoke' --output-on-failure -j2 --timeout 900
  # The clang ASan+UBSan build: fuzz targets, and beside them the unit tests of the code that
  # indexes raw memory (the named subset in fuzz/CMakeLists.txt).
  scripts/fuzz.sh --time "${ATTNLAB_FUZZ_SECONDS:-36}" --unit-tests
fi
echo "scripts/test.sh: $mode passed in $(( $(date +%s) - start )) s"
