#!/usr/bin/env bash
# Run the small default workflow on a throwaway single-node SLURM cluster on localhost through
# snakemake-executor-plugin-slurm (profiles/slurm), and check it against a local run.
#
#   sudo tests/cluster/run_slurm.sh        (or: make cluster-test)
#
# Steps: install Debian's slurm-wlm and munge if missing (apt-get); write a one-node slurm.conf
# (tests/cluster/slurm.conf.in) to /etc/slurm/slurm.conf (refusing to replace one it did not write;
# removed again on exit) with all state in a temporary folder; start munged (unless one already
# answers), slurmctld and slurmd bound to 127.0.0.1; wait until the node is idle; run the default
# config with simulate.n_samples=$N_SAMPLES once locally and once with profiles/slurm; check that
# every non-local job went through sbatch (slurmctld log, squeue, the plugin's per-job logs) and
# that the result tables are byte-identical; stop the daemons it started (trap on EXIT).
#
# No slurmdbd: accounting is off, so `sacct` has nothing to report. Job states are polled with
# `squeue` (MinJobAge=600 keeps finished jobs visible) and submission is verified from the
# slurmctld log and squeue instead of sacct.
#
# Environment: PY (python with snakemake + the plugin; default .venv/bin/python), N_SAMPLES (500),
# CTLD_PORT / SLURMD_PORT (16817 / 16818), KEEP=1 keeps the temporary folder.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY=${PY:-$REPO/.venv/bin/python}
N_SAMPLES=${N_SAMPLES:-500}
CTLD_PORT=${CTLD_PORT:-16817}
SLURMD_PORT=${SLURMD_PORT:-16818}
PARTITION=vdrtest
APT_OPTS=(-o DPkg::Lock::Timeout=900 -y -qq --no-install-recommends)

log() { echo "[run_slurm $(date +%H:%M:%S)] $*"; }
fail() {
    echo "[run_slurm] FAIL: $*" >&2
    exit 1
}

[ "$(id -u)" -eq 0 ] || fail "run as root (installs packages and starts slurmctld/slurmd/munged)"
[ -x "$PY" ] || fail "no python at $PY (make setup, or set PY=...)"
"$PY" -c "import snakemake_executor_plugin_slurm" 2>/dev/null ||
    fail "snakemake-executor-plugin-slurm not installed: $PY -m pip install -r $REPO/requirements-cluster.txt"

# --- 1. packages ------------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    log "installing slurm-wlm and munge (apt-get)"
    apt-get -o DPkg::Lock::Timeout=900 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install "${APT_OPTS[@]}" slurm-wlm munge
fi
log "$(slurmctld -V), $(munged --version 2>&1 | awk '{print $1}')"

WORK=$(mktemp -d /tmp/vdrbone-slurm.XXXXXX)
STATE=$WORK/slurm
mkdir -p "$STATE/ctld" "$STATE/slurmd"
# slurm.conf must sit at the default path: the plugin's job step (snakemake-executor-plugin-
# slurm-jobstep) drops SLURM_* variables, SLURM_CONF included, before its inner `srun`, so srun
# inside a job only finds the default /etc/slurm/slurm.conf (as on a real cluster). An existing
# file that this script did not write is never touched.
export SLURM_CONF=/etc/slurm/slurm.conf
MARKER="# written by vdrbone tests/cluster/run_slurm.sh"
if [ -e "$SLURM_CONF" ] && ! grep -qF "$MARKER" "$SLURM_CONF"; then
    rm -rf "$WORK"
    fail "$SLURM_CONF exists and was not written by this script: not touching a real SLURM setup"
fi
STARTED_MUNGED=""
STATUS=1

cleanup() {
    set +e
    if [ -f "$STATE/slurmctld.pid" ]; then
        scancel --partition="$PARTITION" >/dev/null 2>&1
        sleep 1
    fi
    for daemon in slurmd slurmctld; do
        pidfile=$STATE/$daemon.pid
        if [ -f "$pidfile" ]; then
            pid=$(cat "$pidfile")
            kill "$pid" 2>/dev/null
            for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
            kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
            log "stopped $daemon (pid $pid)"
        fi
    done
    if [ -f "$SLURM_CONF" ] && grep -qF "$MARKER" "$SLURM_CONF"; then
        cp "$SLURM_CONF" "$STATE/slurm.conf"
        rm -f "$SLURM_CONF"
    fi
    if [ -n "$STARTED_MUNGED" ]; then
        kill "$STARTED_MUNGED" 2>/dev/null && log "stopped munged (pid $STARTED_MUNGED)"
    fi
    if [ "$STATUS" -eq 0 ] && [ -z "${KEEP:-}" ]; then
        rm -rf "$WORK"
    else
        log "kept $WORK (logs: $STATE/*.log, $WORK/*.log)"
    fi
}
trap cleanup EXIT

# --- 2. munge ---------------------------------------------------------------------------------
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    log "munged already running: reusing it"
else
    [ -s /etc/munge/munge.key ] || { mungekey --create --keyfile=/etc/munge/munge.key && chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key; }
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 20); do [ -s /run/munge/munged.pid ] && break; sleep 0.25; done
    STARTED_MUNGED=$(cat /run/munge/munged.pid)
    munge -n | unmunge >/dev/null || fail "munged does not answer"
    log "started munged (pid $STARTED_MUNGED)"
fi

# --- 3. slurm.conf and daemons ----------------------------------------------------------------
CPUS=$(nproc)
# RealMemory a little below what slurmd detects, so the node is never drained for low memory.
MEM_MB=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
MEM_MB=$((MEM_MB * 9 / 10))
sed -e "s|@STATE@|$STATE|g" -e "s|@CPUS@|$CPUS|g" -e "s|@MEM_MB@|$MEM_MB|g" \
    -e "s|@PARTITION@|$PARTITION|g" -e "s|@CTLD_PORT@|$CTLD_PORT|g" -e "s|@SLURMD_PORT@|$SLURMD_PORT|g" \
    "$REPO/tests/cluster/slurm.conf.in" >"$STATE/slurm.conf"
mkdir -p "$(dirname "$SLURM_CONF")"
{ echo "$MARKER"; cat "$STATE/slurm.conf"; } >"$SLURM_CONF"

slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N localhost
log "started slurmctld (pid $(cat "$STATE/slurmctld.pid" 2>/dev/null || echo '?')) and slurmd; CPUs=$CPUS RealMemory=$MEM_MB"

for i in $(seq 60); do
    state=$(sinfo -h -N -n localhost -o %t 2>/dev/null || true)
    [ "$state" = "idle" ] && break
    [ "$i" -eq 60 ] && { tail -20 "$STATE/slurmctld.log" "$STATE/slurmd.log" >&2; fail "node not idle after 60 s (state '$state')"; }
    sleep 1
done
sinfo
if command -v ss >/dev/null; then
    ss -ltnp 2>/dev/null | grep -E ":($CTLD_PORT|$SLURMD_PORT) " || true
fi

# --- 4. workflow snapshot, config and profile ---------------------------------------------------
# Both runs use one copy of the working tree: the run id hashes the workflow code, and every SLURM
# job re-parses the Snakefile, so an edit in the checkout during the run would send later jobs to
# another run folder. PYTHONPATH makes the jobs' scripts import the copy's vdrbone package too.
SNAP=$WORK/workflow
mkdir -p "$SNAP"
if git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$REPO" && git ls-files -z --cached --others --exclude-standard -- \
        Snakefile workflow config resources profiles | tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
        tar -xf - -C "$SNAP"
    log "workflow snapshot of $(git -C "$REPO" rev-parse --short HEAD)$(git -C "$REPO" diff --quiet HEAD -- Snakefile workflow config resources profiles || echo ' + uncommitted changes')"
else
    cp -a "$REPO"/{Snakefile,workflow,config,resources,profiles} "$SNAP"/
fi
find "$SNAP" -name __pycache__ -prune -exec rm -rf {} +
export PYTHONPATH=$SNAP/workflow/scripts${PYTHONPATH:+:$PYTHONPATH}

"$PY" - "$SNAP" "$WORK" "$N_SAMPLES" "$PARTITION" <<'PYEOF'
import sys
from pathlib import Path

import yaml

snap, work, n_samples, partition = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
cfg = yaml.safe_load((snap / "config" / "config.yaml").read_text())
cfg["simulate"]["n_samples"] = n_samples
(work / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))

# The project's SLURM profile as a user would fill it in, plus test-only settings: the local
# partition, squeue status polling (no slurmdbd here), short first poll, keep per-job logs.
profile = yaml.safe_load((snap / "profiles" / "slurm" / "profile.yaml").read_text())
profile.setdefault("default-resources", {})["slurm_partition"] = partition
profile.update(
    {
        "jobs": 4,
        "slurm-status-command": "squeue",
        "slurm-init-seconds-before-status-checks": 5,
        "slurm-keep-successful-logs": True,
    }
)
(work / "profile").mkdir()
(work / "profile" / "profile.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
PYEOF

smk() { # smk <workdir> <logfile> args...
    local dir=$1 logfile=$2
    shift 2
    mkdir -p "$dir"
    (cd "$dir" && "$PY" -m snakemake --snakefile "$SNAP/Snakefile" --directory "$dir" \
        --configfile "$WORK/config.yaml" "$@") >"$logfile" 2>&1 ||
        { tail -40 "$logfile" >&2; fail "snakemake failed in $dir (log $logfile)"; }
}

# --- 5. runs ----------------------------------------------------------------------------------
log "dry run through the SLURM profile"
smk "$WORK/slurm" "$WORK/dryrun.log" --profile "$WORK/profile" -n
# Rules with jobs in the DAG, and which of them run locally (the Snakefile's localrules).
ALL_RULES=$(awk '/^Job stats:/{f=1; next} f && /^total/{exit} f && NF==2 && $2 ~ /^[0-9]+$/ {print $1}' "$WORK/dryrun.log" | sort)
LOCAL_RULES=$(awk '/^localrules:/{f=1; next} f && /^[^ \t]/{exit} f {gsub(/[ ,\t]/, ""); if ($0 != "") print}' "$SNAP/Snakefile" | sort)
REMOTE_RULES=$(comm -23 <(echo "$ALL_RULES") <(echo "$LOCAL_RULES"))
EXPECTED_SUBMITTED=$(awk '/^Job stats:/{f=1; next} f && /^total/{exit} f && NF==2 && $2 ~ /^[0-9]+$/ {print}' "$WORK/dryrun.log" |
    grep -wFf <(echo "$REMOTE_RULES") | awk '{s += $2} END {print s}')
log "rules submitted to SLURM: $(echo $REMOTE_RULES) ($EXPECTED_SUBMITTED jobs); local: $(echo $LOCAL_RULES)"

T0=$(date +%s)
log "local run (--cores $CPUS)"
smk "$WORK/local" "$WORK/local.log" --cores "$CPUS"
T1=$(date +%s)
log "local run done in $((T1 - T0)) s; SLURM run (--profile with executor slurm)"
smk "$WORK/slurm" "$WORK/slurm.log" --profile "$WORK/profile"
T2=$(date +%s)
log "SLURM run done in $((T2 - T1)) s"

# --- 6. did the jobs go through sbatch? -------------------------------------------------------
grep -q "SLURM run ID" "$WORK/slurm.log" || fail "the slurm executor was not used (no 'SLURM run ID' in slurm.log)"
N_RPC=$(grep -c "_slurm_rpc_submit_batch_job: JobId=" "$STATE/slurmctld.log" || true)
# squeue keeps finished jobs for MinJobAge; the comment is rule_<rule>[_wildcards_<wc>].
squeue --states=all -h -o '%i|%T|%k' >"$WORK/squeue.txt"
N_JOBS=$(wc -l <"$WORK/squeue.txt")
N_COMPLETED=$(grep -c '|COMPLETED|' "$WORK/squeue.txt" || true)
SQ_RULES=$(cut -d'|' -f3 "$WORK/squeue.txt" | sed -e 's/^rule_//' -e 's/_wildcards_.*//' | sort -u)
N_LOGS=$(find "$WORK/slurm/.snakemake/slurm_logs" -name '*.log' | wc -l)
log "slurmctld accepted $N_RPC batch jobs; squeue: $N_COMPLETED/$N_JOBS COMPLETED; plugin logs: $N_LOGS"
cat "$WORK/squeue.txt"
[ "$N_RPC" -eq "$EXPECTED_SUBMITTED" ] || fail "slurmctld log shows $N_RPC submissions, expected $EXPECTED_SUBMITTED"
[ "$N_COMPLETED" -eq "$EXPECTED_SUBMITTED" ] && [ "$N_JOBS" -eq "$EXPECTED_SUBMITTED" ] ||
    fail "squeue shows $N_COMPLETED COMPLETED of $N_JOBS jobs, expected $EXPECTED_SUBMITTED"
[ "$N_LOGS" -eq "$EXPECTED_SUBMITTED" ] || fail "$N_LOGS plugin job logs, expected $EXPECTED_SUBMITTED"
[ "$SQ_RULES" = "$REMOTE_RULES" ] ||
    fail "rules run on SLURM: $(echo $SQ_RULES); expected exactly the non-local rules $(echo $REMOTE_RULES)"
N_ASSOC=$(grep -c '|rule_associate_wildcards_' "$WORK/squeue.txt" || true)
[ "$N_ASSOC" -eq 4 ] || fail "$N_ASSOC associate jobs on SLURM, expected 4 (one per outcome)"

# --- 7. same results as the local run ---------------------------------------------------------
LOCAL_RUN=$(ls -d "$WORK"/local/results/runs/*/)
SLURM_RUN=$(ls -d "$WORK"/slurm/results/runs/*/)
[ "$(basename "$LOCAL_RUN")" = "$(basename "$SLURM_RUN")" ] ||
    fail "run ids differ: $(basename "$LOCAL_RUN") vs $(basename "$SLURM_RUN")"
for table in association.tsv qc_variants.tsv; do
    [ -s "$LOCAL_RUN/tables/$table" ] || fail "local run has no tables/$table"
done
# Every result table (tables/ and the shareable copies): no run-specific columns, so bytes must match.
N_TABLES=0
for path in "$LOCAL_RUN"/tables/*.tsv "$LOCAL_RUN"/shareable/tables/*.tsv; do
    table=${path#"$LOCAL_RUN"}
    [ -f "$SLURM_RUN/$table" ] || fail "$table missing in the SLURM run"
    cmp "$path" "$SLURM_RUN/$table" || fail "$table differs between the local and the SLURM run"
    N_TABLES=$((N_TABLES + 1))
done
log "run $(basename "$SLURM_RUN"): $N_TABLES tables byte-identical to the local run ($(cd "$LOCAL_RUN/tables" && echo *.tsv), and shareable/)"
log "association.tsv: $(($(wc -l <"$SLURM_RUN/tables/association.tsv") - 1)) rows, sha256 $(sha256sum "$SLURM_RUN/tables/association.tsv" | cut -c1-16)"
STATUS=0
log "PASS"
