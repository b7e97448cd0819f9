# Sourced by scripts/test: a one-machine Slurm cluster from Debian's packages (slurm-wlm, munge) for the Slurm and
# MPI tests, plus the MPI test image built by burrow itself. Idempotent: running daemons with this configuration
# are left alone (a warm run takes well under a second), the image is rebuilt only when examples/mpi.def changes.
#
# slurmctld and slurmd listen on 127.0.0.1; the node is this machine under its short host name, with 8 CPUs
# declared (SlurmdParameters=config_overrides) on a 2-core machine so that 8 tasks fit one job, in a `debug`
# partition. MpiDefault is pmix when Debian's Slurm has the plugin, else pmi2. Process tracking and task
# containment use cgroups when this machine lets root make cgroups, else /proc (the reason is printed).
#
# The outcome is a marker the E2E tests read ($BURROW_SLURM_STATE): `ready` and key=value lines when the cluster
# answers; `unavailable <reason>` when this machine is not one to set it up on (a site's own slurm.conf: the tests
# skip); `failed <reason>` when it should have come up and did not (the tests fail, as they do without a marker).
BURROW_SLURM_DIR="$BURROW_TEST_CACHE/slurm"
export BURROW_SLURM_STATE="$BURROW_SLURM_DIR/state"
export BURROW_MPI_IMAGE="$BURROW_TEST_CACHE/images/mpi.sif"

# The first line of every file this script writes under /etc: it never overwrites a site's own Slurm configuration.
slurm_conf_header="# Written by Burrow's test setup (scripts/test.d/60-slurm.sh); rewritten on every run."

slurm_unavailable() { # reason
  mkdir -p "$BURROW_SLURM_DIR"
  printf 'unavailable %s\n' "$1" > "$BURROW_SLURM_STATE"
  chmod 0644 "$BURROW_SLURM_STATE"
  warn "Slurm tests will be skipped: $1"
}

# The setup was meant to make Slurm available and did not: the Slurm tests run and fail with this reason.
slurm_failed() { # reason
  mkdir -p "$BURROW_SLURM_DIR"
  printf 'failed %s\n' "$1" > "$BURROW_SLURM_STATE"
  chmod 0644 "$BURROW_SLURM_STATE"
  warn "the Slurm test cluster could not be started (the Slurm tests will fail): $1"
}

slurm_pid_alive() { # pidfile comm
  [ -f "$1" ] && [ "$(cat "/proc/$(cat "$1" 2>/dev/null)/comm" 2>/dev/null)" = "$2" ]
}

# Whether root can make a cgroup in each v1 hierarchy Slurm's cgroup plugins use (or in the v2 root on a
# unified host). In a container-like VM these can be missing or read-only; then /proc tracking is the choice.
slurm_cgroup_reason() {
  local fs
  fs="$(stat -fc %T /sys/fs/cgroup 2>/dev/null || echo none)"
  if [ "$fs" = cgroup2fs ]; then
    [ -w /sys/fs/cgroup/cgroup.subtree_control ] || { echo "cgroup v2 root /sys/fs/cgroup is not writable"; return; }
    grep -qw freezer /sys/fs/cgroup/cgroup.controllers 2>/dev/null || true
    return
  fi
  [ "$fs" = tmpfs ] || { echo "no cgroup file system under /sys/fs/cgroup ($fs)"; return; }
  local c probe
  for c in freezer cpuset memory devices; do
    [ -d "/sys/fs/cgroup/$c" ] || { echo "no cgroup v1 $c hierarchy under /sys/fs/cgroup"; return; }
    probe="/sys/fs/cgroup/$c/burrow-slurm-probe.$$"
    if ! mkdir "$probe" 2>/dev/null; then
      echo "root cannot create a cgroup in /sys/fs/cgroup/$c"
      return
    fi
    rmdir "$probe"
  done
}

slurm_write_config() { # proctrack(cgroup|linuxproc) mpi
  local track="$1" mpi="$2" host
  host="$(hostname -s)"
  local task="task/none" proctrack="proctrack/linuxproc"
  if [ "$track" = cgroup ]; then task="task/cgroup"; proctrack="proctrack/cgroup"; fi
  cat > "$BURROW_SLURM_DIR/slurm.conf.new" <<CONF
$slurm_conf_header
ClusterName=burrow-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=slurm
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=$BURROW_SLURM_DIR/slurmctld.pid
SlurmdPidFile=$BURROW_SLURM_DIR/slurmd.pid
SlurmctldLogFile=$BURROW_SLURM_DIR/slurmctld.log
SlurmdLogFile=$BURROW_SLURM_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=$proctrack
TaskPlugin=$task
MpiDefault=$mpi
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
# A killed task's container must be gone quickly: SIGTERM, then SIGKILL after KillWait seconds.
KillWait=5
MinJobAge=30
InactiveLimit=0
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmdParameters=config_overrides
NodeName=$host NodeAddr=127.0.0.1 CPUs=8 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  # Containment only (the job's cgroup), no limits: the node declares more CPUs than it has, and no memory.
  cat > "$BURROW_SLURM_DIR/cgroup.conf.new" <<CONF
$slurm_conf_header
CgroupPlugin=autodetect
ConstrainCores=no
ConstrainRAMSpace=no
ConstrainDevices=no
CONF
}

slurm_config_current() {
  cmp -s "$BURROW_SLURM_DIR/slurm.conf.new" /etc/slurm/slurm.conf && cmp -s "$BURROW_SLURM_DIR/cgroup.conf.new" /etc/slurm/cgroup.conf
}

slurm_stop() {
  local d
  for d in slurmd slurmctld; do
    if slurm_pid_alive "$BURROW_SLURM_DIR/$d.pid" "$d"; then
      kill "$(cat "$BURROW_SLURM_DIR/$d.pid")" 2>/dev/null || true
    fi
  done
  for d in $(seq 1 50); do
    slurm_pid_alive "$BURROW_SLURM_DIR/slurmd.pid" slurmd || slurm_pid_alive "$BURROW_SLURM_DIR/slurmctld.pid" slurmctld || break
    sleep 0.1
  done
}

slurm_start_munge() {
  munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return 0
  [ -s /etc/munge/munge.key ] || { mungekey --create --keyfile /etc/munge/munge.key && chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key; }
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  chmod 0755 /run/munge
  if [ "$(cat /proc/1/comm)" = systemd ]; then
    systemctl start munge
  else
    runuser -u munge -- /usr/sbin/munged
  fi
  local i
  for i in $(seq 1 50); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

slurm_start_daemons() {
  mkdir -p /var/lib/slurm/slurmctld /var/lib/slurm/slurmd
  chown slurm:slurm /var/lib/slurm/slurmctld "$BURROW_SLURM_DIR"
  touch "$BURROW_SLURM_DIR/slurmctld.log" && chown slurm:slurm "$BURROW_SLURM_DIR/slurmctld.log"
  # Without systemd as PID 1 the daemons are started directly (they daemonize and write the pid files above).
  # With it, the same: this configuration's pid and log paths are not the units', and CI has no systemd.
  slurmctld || return 1
  slurmd || return 1
  local i
  for i in $(seq 1 100); do
    sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && return 0
    sleep 0.2
  done
  return 1
}

# The cluster answers and runs a job as an unprivileged user.
slurm_works() {
  sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)' || return 1
  timeout 60 runuser -u "$BURROW_TEST_USER_NOSUB" -- srun -n 2 -t 1 true >/dev/null 2>"$BURROW_SLURM_DIR/probe.err"
}

slurm_write_state() { # proctrack mpi reason
  {
    echo ready
    echo "proctrack=$1"
    echo "mpi=$2"
    echo "node=$(hostname -s)"
    [ -n "$3" ] && echo "cgroup-reason=$3"
  } > "$BURROW_SLURM_STATE"
  chmod 0644 "$BURROW_SLURM_STATE"
}

slurm_setup() {
  if ! is_root; then
    if [ -f "$BURROW_SLURM_STATE" ] && head -n1 "$BURROW_SLURM_STATE" | grep -qx ready && sinfo -h >/dev/null 2>&1; then
      return 0
    fi
    warn "Slurm is not running: run scripts/test as root once"
    return 0
  fi
  local cmd
  for cmd in slurmctld slurmd srun sbatch munged mpirun; do
    command -v "$cmd" >/dev/null || { slurm_failed "$cmd is missing (scripts/setup installs slurm-wlm munge openmpi-bin)"; return 0; }
  done
  mkdir -p "$BURROW_SLURM_DIR" /etc/slurm
  chmod 0755 "$BURROW_SLURM_DIR"
  # The tests count FUSE connections through fusectl: a container's own mount is in no mount table after its pivot_root.
  if [ -d /sys/fs/fuse/connections ] && ! grep -q ' /sys/fs/fuse/connections ' /proc/self/mountinfo; then
    mount -t fusectl fusectl /sys/fs/fuse/connections || warn "cannot mount fusectl on /sys/fs/fuse/connections"
  fi
  local file
  for file in /etc/slurm/slurm.conf /etc/slurm/cgroup.conf; do
    if [ -f "$file" ] && [ "$(head -n1 "$file")" != "$slurm_conf_header" ]; then
      slurm_unavailable "$file is this site's own Slurm configuration; the test setup does not replace it"
      return 0
    fi
  done

  local mpi=pmi2 reason track=cgroup
  ls /usr/lib/x86_64-linux-gnu/slurm-wlm/mpi_pmix.so >/dev/null 2>&1 && mpi=pmix
  reason="$(slurm_cgroup_reason)"
  [ -n "$reason" ] && track=linuxproc
  # A previous run that fell back records it: the cgroup plugins failed here, do not try them on every run.
  if [ -f "$BURROW_SLURM_STATE" ] && grep -q '^cgroup-reason=' "$BURROW_SLURM_STATE"; then
    track=linuxproc
    reason="$(sed -n 's/^cgroup-reason=//p' "$BURROW_SLURM_STATE")"
  fi
  slurm_write_config "$track" "$mpi"
  # Warm: the same configuration, both daemons ours and alive, the node up. Nothing to do.
  if slurm_config_current && slurm_pid_alive "$BURROW_SLURM_DIR/slurmctld.pid" slurmctld \
     && slurm_pid_alive "$BURROW_SLURM_DIR/slurmd.pid" slurmd \
     && sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)' \
     && head -n1 "$BURROW_SLURM_STATE" 2>/dev/null | grep -qx ready; then
    slurm_image_setup
    return 0
  fi

  slurm_start_munge || { slurm_failed "munged did not start (see /var/log/munge/munged.log)"; return 0; }
  slurm_stop
  mv "$BURROW_SLURM_DIR/slurm.conf.new" /etc/slurm/slurm.conf
  mv "$BURROW_SLURM_DIR/cgroup.conf.new" /etc/slurm/cgroup.conf
  chmod 0644 /etc/slurm/slurm.conf /etc/slurm/cgroup.conf
  if ! { slurm_start_daemons && slurm_works; } && [ "$track" = cgroup ]; then
    reason="Slurm's cgroup plugins failed here: $(grep -hiE 'error' "$BURROW_SLURM_DIR/slurmd.log" "$BURROW_SLURM_DIR/probe.err" 2>/dev/null | tail -n1)"
    slurm_stop
    track=linuxproc
    slurm_write_config "$track" "$mpi"
    mv "$BURROW_SLURM_DIR/slurm.conf.new" /etc/slurm/slurm.conf
    mv "$BURROW_SLURM_DIR/cgroup.conf.new" /etc/slurm/cgroup.conf
    slurm_start_daemons || true
  fi
  if ! slurm_works; then
    # The tests were meant to run: say so loudly, and let the suite report them as failed rather than stop here.
    slurm_failed "the one-machine cluster did not run a job: $(tail -n3 "$BURROW_SLURM_DIR/probe.err" "$BURROW_SLURM_DIR/slurmd.log" 2>/dev/null | tr '\n' ' ')"
    return 0
  fi
  [ "$track" = linuxproc ] && info "Slurm tracks processes with proctrack/linuxproc, not cgroups: $reason"
  slurm_write_state "$track" "$mpi" "$reason"
  info "Slurm: $(hostname -s) up (MpiDefault=$mpi, proctrack/$track)"
  slurm_image_setup
}

# The MPI image: examples/mpi.def built by the installed burrow as the test user with a subordinate range (a
# definition file needs one), cached by the hash of the definition and of the Debian tree it starts from.
slurm_image_setup() {
  local def="$BURROW_ROOT/examples/mpi.def" dest="$BURROW_MPI_IMAGE" key
  key="$(cat "$def" "$BURROW_ROOT/examples/mpi-ring.c" | sha256sum | cut -c1-16)-$(cat "$BURROW_TEST_CACHE/images/debian-sudo.sif.complete" 2>/dev/null | sha256sum | cut -c1-8)"
  [ -f "$dest" ] && [ "$(cat "$dest.complete" 2>/dev/null)" = "$key" ] && return 0
  info "building the MPI test image $dest from examples/mpi.def (burrow build, a few minutes, once)"
  local work="$BURROW_TEST_CACHE/mpi-build" user="$BURROW_TEST_USER_SUB"
  rm -rf "$work"
  mkdir -p "$work"
  # The checkout may sit where the test user cannot read: the build reads copies.
  cp "$def" "$BURROW_ROOT/examples/mpi-ring.c" "$work/"
  chown -R "$user" "$work"
  if ! (cd "$work" && runuser -u "$user" -- env -i HOME="$(getent passwd "$user" | cut -d: -f6)" PATH=/usr/bin:/bin:/usr/sbin:/sbin \
        TMPDIR="$work" "$BURROW_E2E_PREFIX/bin/burrow" build --build-arg BASE="$BURROW_TEST_CACHE/images/debian-sudo.sif" \
        "$work/mpi.sif" mpi.def > "$BURROW_SLURM_DIR/mpi-build.log" 2>&1); then
    rm -rf "$work"
    # Only the MPI tests need it: they fail on the missing image and name this log; the rest of the suite runs.
    warn "building the MPI image failed (the MPI tests will fail); see $BURROW_SLURM_DIR/mpi-build.log"
    return 0
  fi
  chmod 0644 "$work/mpi.sif"
  mv "$work/mpi.sif" "$dest"
  printf '%s\n' "$key" > "$dest.complete"
  rm -rf "$work"
}
slurm_setup
