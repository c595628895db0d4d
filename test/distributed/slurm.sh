#!/usr/bin/env bash
# A one-node SLURM on this machine, for the SLURM test (test/distributed/slurm.test.ts); run as root.
#
#   test/distributed/slurm.sh up DIR     write DIR/slurm.conf, start munged (unless one answers),
#                                        slurmctld and slurmd without systemd; wait for the node to be idle
#   test/distributed/slurm.sh down DIR   stop what `up DIR` started
#
# Every SLURM command then needs SLURM_CONF=DIR/slurm.conf. Needs Debian's slurm-wlm and munge
# (apt-get install -y slurm-wlm munge). Ports: SLURMCTLD_PORT (default 6817), SLURMD_PORT (6818).
set -euo pipefail

action=${1:?usage: slurm.sh up|down DIR}
dir=$(realpath -m "${2:?usage: slurm.sh up|down DIR}")
export SLURM_CONF="$dir/slurm.conf"

say() { echo "slurm.sh: $*" >&2; }
# Running: not gone and not a zombie (where nothing reaps the daemons, they stay zombies).
running() { [[ -e /proc/$1/stat ]] && ! [[ $(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) == Z* ]]; }
# SIGTERM, then wait (up to 20 s) for the process to be done, so that its files are complete.
stop() {
  kill "$1" 2>/dev/null || return 0
  for _ in $(seq 100); do running "$1" || return 0; sleep 0.2; done
  say "process $1 did not stop on SIGTERM"
}

if [[ $action == down ]]; then
  if [[ -f $SLURM_CONF ]]; then
    scancel --name=quiver-worker >/dev/null 2>&1 || true
    for daemon in slurmd slurmctld; do
      pid=$(cat "$dir/$daemon.pid" 2>/dev/null || true)
      [[ -n $pid ]] && stop "$pid"
    done
  fi
  if [[ -f $dir/munged.started ]]; then
    pid=$(cat /run/munge/munged.pid 2>/dev/null || true)
    [[ -n $pid ]] && stop "$pid"
    rm -f "$dir/munged.started"
  fi
  exit 0
fi
[[ $action == up ]] || { say "unknown action '$action' (up or down)"; exit 2; }

for command in munged slurmctld slurmd sinfo; do
  command -v "$command" >/dev/null || { say "$command is missing: apt-get install -y slurm-wlm munge"; exit 1; }
done
[[ $(id -u) == 0 ]] || { say "must run as root (slurmd runs jobs as their submitter)"; exit 1; }

mkdir -p "$dir/state" "$dir/spool"

# munge: a key, /run/munge owned by munge, and a munged unless one already answers.
if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  if [[ ! -s /etc/munge/munge.key ]]; then
    (command -v mungekey >/dev/null && mungekey --create) || create-munge-key -f
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
  fi
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  chmod 755 /run/munge
  su -s /bin/sh munge -c 'munged' || runuser -u munge -- munged
  touch "$dir/munged.started"
  for _ in $(seq 50); do munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.2; done
  munge -n </dev/null | unmunge >/dev/null || { say "munged does not answer"; exit 1; }
fi

cpus=${SLURM_CPUS:-2}
cat >"$SLURM_CONF" <<EOF
# One-node SLURM for quiver's tests, written by test/distributed/slurm.sh.
ClusterName=quiver-test
SlurmctldHost=localhost
SlurmUser=root
SlurmctldPort=${SLURMCTLD_PORT:-6817}
SlurmdPort=${SLURMD_PORT:-6818}
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF

slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N localhost

for _ in $(seq 150); do
  state=$(sinfo -h -n localhost -o %t 2>/dev/null || true)
  [[ $state == idle ]] && { say "up: node localhost idle, SLURM_CONF=$SLURM_CONF"; exit 0; }
  sleep 0.2
done
say "the node did not become idle (sinfo says '${state:-nothing}'); logs: $dir/slurmctld.log $dir/slurmd.log"
tail -n 20 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
exit 1
