#!/usr/bin/env bash
# Starts a real one-node Slurm cluster (munged, slurmctld, slurmd from Debian's packages) in directory $1,
# for the integration tests. Writes $1/slurm.env (SLURM_CONF, VDS_TEST_SLURM_CONF) and a pid file per
# daemon; scripts/ci/slurm-down.sh $1 stops them by those pids. Needs root (Slurm runs the jobs as root
# here). Recipe: ../shared/recipes/slurm-single-node.md.
#   MAX_ARRAY_SIZE  the cluster's MaxArraySize (default 4: small, so the tests can see a grid split)
#   FAKE_GPUS       gres "gpu" devices to declare (plain files; default 2)
#   CPUS            CPUs the node announces (default 4, more than the GPUs, so gres is what limits a GPU
#                   sweep; config_overrides makes slurmd accept more than the machine has)
#   CTLD_PORT, SLURMD_PORT   the daemons' ports (default: the first free pair of 6817/6818, 6827/6828, ...,
#                   so that two clusters, e.g. two CI runs, can share a machine)
set -euo pipefail
T=$(realpath -m "${1:?usage: slurm-up.sh DIR}")
MAX_ARRAY_SIZE=${MAX_ARRAY_SIZE:-4}
FAKE_GPUS=${FAKE_GPUS:-2}
CPUS=${CPUS:-4}
HOST=$(hostname -s)
taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -z "${CTLD_PORT:-}" ]; then
  for base in $(seq 6817 10 7007); do
    if ! taken "$base" && ! taken $((base + 1)); then CTLD_PORT=$base SLURMD_PORT=$((base + 1)); break; fi
  done
fi
SLURMD_PORT=${SLURMD_PORT:-$((CTLD_PORT + 1))}
for port in "$CTLD_PORT" "$SLURMD_PORT"; do
  if taken "$port"; then
    echo "slurm-up: port $port is taken (another Slurm?); set CTLD_PORT / SLURMD_PORT" >&2
    exit 1
  fi
done

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi
if [ ! -s /etc/munge/munge.key ]; then
  mungekey -c && chown munge:munge /etc/munge/munge.key
fi

mkdir -p "$T"/{state,spool,run,log}
# munged (as user munge) must reach its socket: $T and the socket directory enterable by all (755, not
# mktemp's 700), and munged refuses a socket directory that others cannot enter anyway
chmod 755 "$T"
install -d -o munge -g munge -m 755 "$T/munge"
if ! runuser -u munge -- test -x "$T/munge"; then
  echo "slurm-up: user munge cannot enter $T/munge (a parent directory is closed to others); use a directory under /tmp" >&2
  exit 1
fi
runuser -u munge -- /usr/sbin/munged --socket="$T/munge/munge.socket.2" --pid-file="$T/munge/munged.pid"

gres_types='' gres_node='' 
if [ "$FAKE_GPUS" -gt 0 ]; then
  for i in $(seq 0 $((FAKE_GPUS - 1))); do : > "$T/fakegpu$i"; done
  printf 'AutoDetect=off\nNodeName=%s Name=gpu File=%s/fakegpu[0-%d]\n' "$HOST" "$T" $((FAKE_GPUS - 1)) > "$T/gres.conf"
  gres_types='GresTypes=gpu'
  gres_node="Gres=gpu:$FAKE_GPUS"
fi
cat > "$T/slurm.conf" <<CONF
ClusterName=vdsci
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/munge/munge.socket.2
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/run/slurmctld.pid
SlurmdPidFile=$T/run/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
MinJobAge=300
KillWait=10
MaxArraySize=$MAX_ARRAY_SIZE
$gres_types
NodeName=$HOST CPUs=$CPUS Boards=1 SocketsPerBoard=1 CoresPerSocket=$CPUS ThreadsPerCore=1 RealMemory=2000 $gres_node State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF

export SLURM_CONF=$T/slurm.conf
# -D keeps them in the foreground of their own background job: their pids are $!, and the daemons'
# own pid files (written a moment later) are not needed to stop them
slurmctld -D >>"$T/log/slurmctld.out" 2>&1 &
echo $! > "$T/run/slurmctld.bgpid"
slurmd -D >>"$T/log/slurmd.out" 2>&1 &
echo $! > "$T/run/slurmd.bgpid"

for _ in $(seq 1 100); do
  state=$(sinfo -h -N -o '%T' 2>/dev/null | head -1 || true)
  [ "$state" = idle ] && break
  sleep 0.2
done
if [ "$state" != idle ]; then
  echo "slurm-up: the node did not come up idle (state: '${state:-none}'); logs in $T/log" >&2
  tail -n 20 "$T"/log/*.log >&2 || true
  exit 1
fi
printf 'export SLURM_CONF=%q\nexport VDS_TEST_SLURM_CONF=%q\n' "$SLURM_CONF" "$SLURM_CONF" > "$T/slurm.env"
echo "slurm-up: cluster vdsci on $HOST idle ($CPUS CPUs, $FAKE_GPUS fake GPUs, MaxArraySize $MAX_ARRAY_SIZE, ports $CTLD_PORT/$SLURMD_PORT); source $T/slurm.env"
