#!/usr/bin/env bash
# Resumes the authors'-scale SAMoVAR plan (var_full_1ec5342.jsonl, made at commit 1ec5342) on this
# machine: two 1-thread workers at nice 19 take its 10 units in priority order (one mkdir lock per
# unit). Units skip what is done; a unit restarts at its last kept checkpoint (<= 5 min lost).
# The plan's cells carry the commit 1ec5342, so the binary must be built from that commit:
#   git worktree add /work/runs/src-1ec5342 1ec5342
#   cmake -S /work/runs/src-1ec5342 -B /work/runs/src-1ec5342/build -G Ninja -DCMAKE_BUILD_TYPE=Release
#   ninja -C /work/runs/src-1ec5342/build attnlab
#   cp results/full/plans/var_full_1ec5342.jsonl /work/runs/var_full.jsonl
#   setsid nohup results/full/plans/run_var_full.sh > /work/runs/run_var_full.out 2>&1 &
# Merge when every unit is done: /work/runs/src-1ec5342/build/attnlab merge /work/runs/var_full.jsonl
set -u
cd /work/runs
# setsid gives this script its own scheduler autogroup, where nice alone does nothing against
# other sessions: lower the whole group instead.
echo 19 > /proc/self/autogroup 2>/dev/null || true
BIN=/work/runs/src-1ec5342/build/attnlab
ORDER="6 7 8 2 3 4 5 0 1 9"
rm -rf /work/runs/lock.*  # locks of workers that no longer run
worker() {
  for i in $ORDER; do
    mkdir /work/runs/lock.$i 2>/dev/null || continue
    echo "worker $1 unit $i start $(date -u +%FT%T)"
    ATTNLAB_THREADS=1 nice -n 19 $BIN run --plan /work/runs/var_full.jsonl --index $i --count 1 \
      --threads 1 > /work/runs/unit.$i.log 2>&1
    echo "worker $1 unit $i rc=$? end $(date -u +%FT%T)"
  done
}
worker A & worker B & wait
