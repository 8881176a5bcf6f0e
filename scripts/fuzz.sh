#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang, ASan + UBSan) in build/fuzz and runs each for a
# fixed time on a temporary copy of its seed corpus fuzz/corpus/<target>/, so the repository is
# never modified. Exits 1 on any crash, timeout, leak or broken invariant, naming the saved input.
#   scripts/fuzz.sh                       every target, 36 s each (CI)
#   scripts/fuzz.sh --time 3600 fuzz_set  one target for an hour
#   scripts/fuzz.sh --merge ...           also minimise the new inputs into fuzz/corpus/<target>/
#   scripts/fuzz.sh --unit-tests ...      also run the unit tests of the same sanitizer build (a
#                                         named subset, fuzz/CMakeLists.txt) beside the fuzzers
# See fuzz/README.md for what each target checks and how to keep a finding as a regression input.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ALL_TARGETS=(fuzz_strict_json fuzz_claim fuzz_set fuzz_synth fuzz_ett)
usage="usage: scripts/fuzz.sh [--time SECONDS] [--merge] [--unit-tests] [TARGET...] (targets: ${ALL_TARGETS[*]})"
seconds=36
merge=0
unit_tests=0
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time)
      if [ $# -lt 2 ] || ! [[ "$2" =~ ^[1-9][0-9]*$ ]]; then
        echo "scripts/fuzz.sh: --time needs a whole number of seconds >= 1; $usage" >&2
        exit 2
      fi
      seconds=$2
      shift 2
      ;;
    --merge) merge=1; shift ;;
    --unit-tests) unit_tests=1; shift ;;
    fuzz_*)
      if ! [[ " ${ALL_TARGETS[*]} " == *" $1 "* ]]; then
        echo "scripts/fuzz.sh: unknown target '$1'; $usage" >&2
        exit 2
      fi
      targets+=("$1")
      shift
      ;;
    *) echo "scripts/fuzz.sh: unknown option or target '$1'; $usage" >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -eq 0 ] && targets=("${ALL_TARGETS[@]}")

install_packages clang libclang-rt-14-dev cmake ninja-build libeigen3-dev libboost-random-dev \
  nlohmann-json3-dev libcli11-dev libgtest-dev
start=$(date +%s)
cmake -S fuzz -B build/fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ >/dev/null
build_targets=("${targets[@]}")
[ "$unit_tests" -eq 1 ] && build_targets+=(sanitized_unit_tests)
ninja -C build/fuzz "${build_targets[@]}"
echo "scripts/fuzz.sh: built in $(( $(date +%s) - start )) s"

# Scratch space: corpus copies, logs, and $TMPDIR for fuzz_synth's output files.
base=/tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && base=/dev/shm
work=$(mktemp -d "$base/attnlab-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
export TMPDIR=$work
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# The sanitized unit tests take about one core for under a minute; the fuzzers run one at a time
# for a fixed time, so running both at once costs no wall time on two cores.
unit_pid=""
if [ "$unit_tests" -eq 1 ]; then
  ASAN_OPTIONS=detect_leaks=1 build/fuzz/sanitized_unit_tests >"$work/unit_tests.log" 2>&1 &
  unit_pid=$!
fi

failed=0
for t in "${targets[@]}"; do
  corpus=$work/$t
  mkdir -p "$corpus" "build/fuzz/artifacts/$t"
  cp fuzz/corpus/"$t"/* "$corpus"/
  dict=()
  [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
  log=$work/$t.log
  rc=0
  build/fuzz/"$t" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="build/fuzz/artifacts/$t/" "$corpus" >"$log" 2>&1 ||
    rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ "$rc" -ne 0 ]; then
    failed=1
    input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    seed=""  # a committed input that fails (a crash-* reproducer not fixed yet)
    if [ -n "$input" ] && [ -f "$input" ]; then
      sum=$(sha1sum <"$input" | cut -d' ' -f1)
      for f in fuzz/corpus/"$t"/*; do
        [ "$(sha1sum <"$f" | cut -d' ' -f1)" = "$sum" ] && seed=" = $f"
      done
    fi
    tail -n 60 "$log" >&2
    echo "scripts/fuzz.sh: $t FAILED (exit $rc) after ${runs:-?} executions; input: ${input:-none saved}$seed (replay: build/fuzz/$t ${input:-INPUT})" >&2
    continue
  fi
  echo "scripts/fuzz.sh: $t: ${runs:-?} executions in $seconds s, no finding"
  if [ "$merge" -eq 1 ]; then
    before=$(ls "fuzz/corpus/$t" | wc -l)
    build/fuzz/"$t" -merge=1 -timeout=10 -rss_limit_mb=2048 "fuzz/corpus/$t" "$corpus" \
      >"$work/$t.merge.log" 2>&1
    echo "scripts/fuzz.sh: $t: merged $(( $(ls "fuzz/corpus/$t" | wc -l) - before )) new inputs into fuzz/corpus/$t"
  fi
done
if [ -n "$unit_pid" ]; then
  if wait "$unit_pid"; then
    echo "scripts/fuzz.sh: sanitized unit tests: $(grep -c '^\[       OK \]' "$work/unit_tests.log") passed under ASan+UBSan"
  else
    failed=1
    grep -E '^\[  FAILED  \]|ERROR: |runtime error' "$work/unit_tests.log" >&2 || tail -n 40 "$work/unit_tests.log" >&2
    echo "scripts/fuzz.sh: sanitized unit tests FAILED (replay: build/fuzz/sanitized_unit_tests)" >&2
  fi
fi
echo "scripts/fuzz.sh: finished in $(( $(date +%s) - start )) s"
exit $failed
