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
# shellcheck source=scripts/ci/stop-pid.sh
source "$(dirname "$0")/stop-pid.sh"
stop_pid "$T/run/slurmd.bgpid" slurmd slurm-down
stop_pid "$T/run/slurmctld.bgpid" slurmctld slurm-down
stop_pid "$T/munge/munged.pid" munged slurm-down
exit 0
