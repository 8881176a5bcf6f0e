#!/usr/bin/env bash
# Starts a private one-node Slurm cluster (munged + slurmctld + slurmd, no systemd, all state in a
# fresh /tmp/slurm-XXXX dir), runs run_array_test against it, and stops exactly the daemons it
# started. Installs Debian's slurmctld slurmd slurm-client munge when missing. Needs root.
#   scripts/cluster-test.sh
# run_array_test runs a plan of icl.table1 as a job array: it cancels one running task, merges
# (which must name the missing units), resubmits, merges again and compares the result with a
# local run bit for bit. Uses $ATTNLAB_EXE, else build/test/attnlab (scripts/test.sh builds it).
# It ends with 'cluster-test: N passed, N failed'.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "scripts/cluster-test.sh: skipped (needs root to start slurmctld/slurmd/munged)"
  exit 0
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS=0
passed=0
failed=0
summary_done=0
CLUSTER_DIR=""
DAEMON_PIDS=()  # every daemon this script started, and only those

log() { echo "cluster-test: $*" >&2; }

# ---------------------------------------------------------------------------------------------
# Packages
install_missing() {
  local missing=() p
  for p in slurmctld slurmd slurm-client munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing missing Debian packages: ${missing[*]}"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
}

# ---------------------------------------------------------------------------------------------
# Cleanup: cancel our jobs, stop our daemons by PID, end leftovers that hold files in our dir.
alive() {  # alive PID: running and not a zombie (no fork: cheap on a loaded machine)
  local st
  { read -r st <"/proc/$1/stat"; } 2>/dev/null || return 1
  st=${st##*) }  # the state follows the ')' that closes the command name
  st=${st%% *}
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

stop_pids() {  # stop_pids PID...: TERM, wait up to ~10 s, then KILL
  local pid any end=$((SECONDS + 10))
  [ $# -eq 0 ] && return 0
  kill "$@" 2>/dev/null || true
  while [ "$SECONDS" -lt "$end" ]; do
    any=0
    for pid in "$@"; do alive "$pid" && any=1; done
    [ $any -eq 0 ] && break
    sleep 0.2
  done
  for pid in "$@"; do
    if alive "$pid"; then
      log "pid $pid ignored SIGTERM for 10 s; sending SIGKILL"
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
}

# PIDs of processes (slurmstepd, job scripts) with an open file or cwd inside CLUSTER_DIR:
# they belong to this cluster by construction.
pids_in_cluster_dir() {
  find /proc/[0-9]*/cwd /proc/[0-9]*/fd -maxdepth 1 -lname "$CLUSTER_DIR/*" 2>/dev/null |
    cut -d/ -f3 | sort -un | grep -vx "$$" || true
}

cleanup() {
  local rc=$? end left
  trap - EXIT INT TERM
  set +e
  if [ "$rc" -ne 0 ] && [ -n "$CLUSTER_DIR" ]; then
    show_logs
  fi
  # Only ever talk to our own cluster, never to one that the caller's SLURM_CONF names.
  if [ -n "$CLUSTER_DIR" ] && [ "${SLURM_CONF:-}" = "$CLUSTER_DIR/slurm.conf" ]; then
    # Our private cluster holds only our jobs: cancel them all while slurmd still runs.
    # shellcheck disable=SC2046
    scancel --quiet $(squeue -h -o %A 2>/dev/null) >/dev/null 2>&1
    end=$((SECONDS + 10))
    while [ "$SECONDS" -lt "$end" ]; do
      [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
  stop_pids "${DAEMON_PIDS[@]}"
  if [ -n "$CLUSTER_DIR" ]; then
    left=$(pids_in_cluster_dir | tr '\n' ' ')
    if [ -n "$left" ]; then
      log "stopping leftover cluster processes: $left"
      # shellcheck disable=SC2086
      stop_pids $left
    fi
    rm -rf "$CLUSTER_DIR"
  fi
  if [ "$summary_done" -eq 0 ]; then  # stopped early: by an error or a signal
    [ "$rc" -ne 0 ] && failed=$((failed + 1))
    echo "cluster-test: elapsed ${SECONDS} s"
    echo "cluster-test: $passed passed, $failed failed"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Cluster
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

show_logs() {
  local f
  for f in "$CLUSTER_DIR"/log/*; do
    [ -s "$f" ] || continue
    echo "----- tail of $f" >&2
    tail -n 30 "$f" >&2
  done
}

start_cluster() {
  CLUSTER_DIR=$(mktemp -d /tmp/slurm-XXXX)
  local d=$CLUSTER_DIR host node ctld_port slurmd_port end state="" pid
  mkdir -p "$d"/{munge,state,spool,log,run,jobs}
  # munged wants the socket's directory (and its parents) searchable by all, and not writable
  # by group or others.
  chmod 0755 "$d" "$d"/munge

  # munge: a private key and socket; munged runs as root, which owns the key.
  dd if=/dev/urandom of="$d/munge/munge.key" bs=1 count=1024 status=none
  chown root:root "$d/munge/munge.key"
  chmod 0400 "$d/munge/munge.key"
  # Each daemon runs in its own session (setsid execs it, so $! is the daemon's PID): a Ctrl-C or
  # a signal to this script's process group must reach the script, whose EXIT trap then cancels
  # the jobs while the daemons still run, and only then stops the daemons.
  setsid munged -F --key-file="$d/munge/munge.key" --socket="$d/munge/munge.socket" \
    --pid-file="$d/munge/munged.pid" --seed-file="$d/munge/munged.seed" \
    >>"$d/log/munged.log" 2>&1 &  # with -F munged logs to stderr, not to --log-file
  DAEMON_PIDS+=($!)
  end=$((SECONDS + 10))
  while [ "$SECONDS" -lt "$end" ]; do
    [ -S "$d/munge/munge.socket" ] && break
    alive "${DAEMON_PIDS[-1]}" || break
    sleep 0.1
  done
  if ! munge -n -S "$d/munge/munge.socket" | unmunge -S "$d/munge/munge.socket" >/dev/null 2>&1; then
    log "munged did not start"; return 1
  fi

  # Ports: the defaults unless something else listens there.
  ctld_port=6817
  while ! port_free "$ctld_port" || ! port_free $((ctld_port + 1)); do
    ctld_port=$((ctld_port + 2))
    [ "$ctld_port" -gt 6999 ] && { log "no free port pair in 6817-7000"; return 1; }
  done
  slurmd_port=$((ctld_port + 1))

  host=$(hostname -s)
  # slurmd -C prints the node as slurmd detects it (RealMemory must not exceed that).
  node=$(slurmd -C 2>/dev/null | grep -m1 '^NodeName=' || true)
  if [ -z "$node" ]; then
    node="NodeName=$host CPUs=$(nproc) RealMemory=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)"
  fi
  node="NodeName=$host ${node#NodeName=* }"

  cat >"$d/slurm.conf" <<EOF
ClusterName=attnlab-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
AuthInfo=socket=$d/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/run/slurmctld.pid
SlurmdPidFile=$d/run/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
KillWait=5
MailProg=/bin/true
MinJobAge=300
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$d/slurm.conf"

  setsid slurmctld -D -f "$SLURM_CONF" >>"$d/log/slurmctld.stdout" 2>&1 &
  DAEMON_PIDS+=($!)
  setsid slurmd -D -f "$SLURM_CONF" >>"$d/log/slurmd.stdout" 2>&1 &
  DAEMON_PIDS+=($!)

  end=$((SECONDS + 60))
  while [ "$SECONDS" -lt "$end" ]; do
    state=$(sinfo -h -o %T 2>/dev/null || true)
    case $state in
      idle) log "cluster up in ${SECONDS} s (dir $d)"; return 0 ;;
      inval* | drain*) log "node state '$state': slurm.conf does not fit the machine"; return 1 ;;
    esac
    for pid in "${DAEMON_PIDS[@]}"; do
      alive "$pid" || { log "a daemon (pid $pid) exited"; return 1; }
    done
    sleep 0.5
  done
  log "node not idle after 60 s (sinfo: '$state')"
  return 1
}

# ---------------------------------------------------------------------------------------------
# Helpers for run_array_test. All use SLURM_CONF, so they only see this private cluster.

# submit_array ARRAY_SPEC OUT_DIR SCRIPT [SBATCH ARGS...]: prints the job id.
#   e.g. submit_array 0-5%2 "$out" "$CLUSTER_DIR/jobs/task.sh" --cpus-per-task=1
submit_array() {
  local spec=$1 out=$2 script=$3
  shift 3
  sbatch --parsable --array="$spec" --output="$out/%A_%a.out" --error="$out/%A_%a.out" \
    --job-name=cluster-test "$@" "$script" | cut -d';' -f1
}

# running_tasks JOBID: the JOBID_TASKID of each running task, one a line.
running_tasks() { squeue -h -j "$1" -t RUNNING -o %i 2>/dev/null || true; }

# cancel_task JOBID_TASKID
cancel_task() { scancel "$1"; }

# wait_job JOBID TIMEOUT_S [CALLBACK]: waits until squeue lists nothing of JOBID (an array: none
# of its tasks), calling CALLBACK (if given) on every poll. A failing squeue (slurmctld busy) is
# retried; 'Invalid job id' (purged MinJobAge s after the end) counts as finished.
# Returns 1 on timeout.
wait_job() {
  local id=$1 timeout=$2 cb=${3:-} end=$((SECONDS + $2)) q
  while :; do
    if q=$(squeue -h -j "$id" -o %i 2>&1); then
      [ -z "$q" ] && return 0
    else
      case $q in *"Invalid job id"*) return 0 ;; esac
    fi
    if [ -n "$cb" ]; then "$cb"; fi
    if [ "$SECONDS" -ge "$end" ]; then
      log "job $id still in the queue after $timeout s"; squeue -j "$id" >&2 || true
      return 1
    fi
    sleep 0.5
  done
}

# task_state JOBID_TASKID: e.g. COMPLETED, CANCELLED (from slurmctld, kept for MinJobAge s).
task_state() {
  scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -n1 | cut -d= -f2
}

check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1)); log "ok: $what"
  else
    failed=$((failed + 1)); log "FAILED: $what"
  fi
}

# ---------------------------------------------------------------------------------------------
# run_array_test: the smoke plan of icl.table1 over the whole table shape at tiny budgets (3
# models x depths 1-3 x 10 noise columns = 90 units), submitted as a throttled job array; one
# running task is cancelled, the merge must name the missing units, a resubmission of the same
# script runs only those, and the merged result must equal a local run bit for bit (the array
# tasks run on 1 thread, the local run on all).
run_array_test() {
  local dir=$CLUSTER_DIR/attnlab exe=${ATTNLAB_EXE:-$ROOT/build/test/attnlab}
  local sets=(--set steps=300 --set models=gdpp,diag,full --set depths=1,2,3
              --set columns=u0,u1,u2,u3,u4,u5,u6,u7,c13,c135)
  local jobid victim="" line units merge_out rc
  mkdir -p "$dir"
  check "attnlab binary at $exe" test -x "$exe"
  (cd "$dir" && "$exe" plan icl.table1 --profile smoke "${sets[@]}" --results "$dir/results" \
    --out "$dir/plan.jsonl" >&2)
  units=$(grep -c . "$dir/plan.jsonl")
  check "plan has 90 units (has $units)" test "$units" -eq 90
  line=$(cd "$dir" && "$exe" slurm plan.jsonl --per-task 10 --max-parallel 2 --out job.sbatch)
  check "one sbatch line for 9 array tasks ($line)" test "$(echo "$line" | grep -c 'array=0-8%2')" -eq 1
  # The printed line is 'sbatch --array=... --export=... job.sbatch'; submit it as printed.
  jobid=$(cd "$dir" && ${line/sbatch/sbatch --parsable} | cut -d';' -f1)
  check "array submitted (job $jobid)" test -n "$jobid"
  observe() {
    if [ -z "$victim" ]; then
      victim=$(running_tasks "$jobid" | head -n1)
      if [ -n "$victim" ]; then log "cancelling running task $victim"; cancel_task "$victim"; fi
    fi
    return 0
  }
  check "array finished within 150 s" wait_job "$jobid" 150 observe
  check "one running task was cancelled ($victim)" test -n "$victim"
  check "cancelled task's state is CANCELLED" test "$(task_state "$victim")" = CANCELLED
  check "every unit marker parses (nothing half written)" \
    /usr/bin/python3 -c 'import glob,json,sys; [json.load(open(f)) for f in glob.glob(sys.argv[1])]' \
    "$dir/results/smoke/icl.table1/units/*.json"
  rc=0
  merge_out=$(cd "$dir" && "$exe" merge plan.jsonl 2>/dev/null) || rc=$?
  check "merge with the cancelled task's units missing exits 1 (exit $rc)" test "$rc" -eq 1
  check "merge names the missing units" grep -q "icl.table1: incomplete, missing units" <<<"$merge_out"
  jobid=$(cd "$dir" && ${line/sbatch/sbatch --parsable} | cut -d';' -f1)
  check "same script resubmitted (job $jobid) finished within 150 s" wait_job "$jobid" 150
  # Exit 1 would now mean a verdict other than the expected one, which this reduced table may
  # give (its smoke thresholds are for one column); what matters is that no unit is missing.
  merge_out=$(cd "$dir" && "$exe" merge plan.jsonl 2>/dev/null) || true
  log "merge: $merge_out"
  check "merge after the resubmission names no missing unit" \
    test "$(grep -c 'incomplete' <<<"$merge_out")" -eq 0
  check "merge wrote the claim's result" test -f "$dir/results/smoke/icl.table1/result.json"
  (cd "$dir" && "$exe" run icl.table1 --profile smoke "${sets[@]}" --out "$dir/local" >/dev/null 2>&1) || true
  check "merged result equals one local run bit for bit" /usr/bin/python3 - \
    "$dir/results/smoke/icl.table1/result.json" "$dir/local/smoke/icl.table1/result.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for r in (a, b):  # bookkeeping of the cell store: how many runs were reused or trained
    r["data"].pop("runs_reused", None); r["data"].pop("runs_trained", None)
same = all(a[k] == b[k] for k in ("verdict", "metrics", "checks", "per_seed", "data", "config"))
print("cluster-test: merged", a["verdict"], "local", b["verdict"], "identical" if same else "DIFFERENT",
      file=sys.stderr)
sys.exit(0 if same else 1)
PY
}

# ---------------------------------------------------------------------------------------------
install_missing
start_cluster || exit 1  # the EXIT trap prints the logs and '0 passed, 1 failed'
run_array_test
echo "cluster-test: elapsed ${SECONDS} s"
echo "cluster-test: $passed passed, $failed failed"
summary_done=1
[ "$failed" -eq 0 ]
