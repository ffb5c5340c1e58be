#!/usr/bin/env bash
# Start a single-node Slurm (munge + slurmctld + slurmd) on this host for the tests.
# Usage: start.sh DIR   — writes DIR/slurm.conf, logs and spool there; needs root and
# Debian's slurm-wlm + munge (make system). Prints the slurm.conf path; export it as SLURM_CONF.
set -euo pipefail
dir=$(realpath "$1")
mkdir -p "$dir/ctld" "$dir/d"
host=$(hostname -s)
cat > "$dir/slurm.conf" <<CONF
ClusterName=anodescreen-test
SlurmctldHost=$host
AuthType=auth/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/d
SlurmctldPidFile=$dir/ctld.pid
SlurmdPidFile=$dir/d.pid
SlurmctldLogFile=$dir/ctld.log
SlurmdLogFile=$dir/d.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
if ! munge -n >/dev/null 2>&1; then
  [ -s /etc/munge/munge.key ] || mungekey --create --force >/dev/null
  mkdir -p /run/munge && chown munge:munge /run/munge
  runuser -u munge -- /usr/sbin/munged
fi
export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do
  if sinfo -h -o %t 2>/dev/null | grep -q idle; then echo "$SLURM_CONF"; exit 0; fi
  sleep 1
done
echo "slurm did not come up; see $dir/ctld.log and $dir/d.log" >&2
exit 1
