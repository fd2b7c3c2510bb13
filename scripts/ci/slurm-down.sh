#!/usr/bin/env bash
# Stops what scripts/ci/slurm-up.sh $1 started: first the jobs still on that (private) cluster, so no
# slurmstepd outlives it, then each daemon by the pid recorded for it, waiting for it to go.
set -uo pipefail
T=$(realpath -m "${1:?usage: slurm-down.sh DIR}")
if [ -s "$T/run/slurmctld.bgpid" ] && kill -0 "$(cat "$T/run/slurmctld.bgpid")" 2>/dev/null; then
  export SLURM_CONF=$T/slurm.conf
  scancel --user="$(id -un)" 2>/dev/null || true
  for _ in $(seq 1 100); do [ -z "$(squeue --noheader 2>/dev/null)" ] && break; sleep 0.2; done
fi
stop() { # pid file, name
  [ -s "$1" ] || return 0
  local pid
  pid=$(cat "$1")
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  echo "slurm-down: $2 ($pid) ignored SIGTERM; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
}
stop "$T/run/slurmd.bgpid" slurmd
stop "$T/run/slurmctld.bgpid" slurmctld
stop "$T/munge/munged.pid" munged
exit 0
