#!/usr/bin/env bash
# Build benchmark: the same recipe built unprivileged two ways, in one run, as a user with a subordinate range:
#   burrow build OUT.sif DEF        Bootstrap: docker from the local test registry, %post writes 10,000 files
#   podman build (rootless, vfs)    the equivalent Containerfile, into an empty, private storage root (runc:
#                                   crun refuses hybrid cgroups, which this machine has)
# Wall time and peak RSS (the largest process, from /usr/bin/time) are the median of RUNS runs; every run is cold
# for both (an empty burrow cache, an empty podman storage root: each pulls the base image first).
# Needs the registries of scripts/test.d/50-registries.sh (run scripts/test once as root) and out/bin/burrow.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/common.sh"
RUNS="${RUNS:-3}"
REGISTRY="${BURROW_REGISTRY_ANON:-127.0.0.1:15000}"
BURROW="${BURROW:-$BURROW_ROOT/out/bin/burrow}"
USER_NAME="${BENCH_USER:-$BURROW_TEST_USER_SUB}"
curl -fsS -o /dev/null "http://$REGISTRY/v2/" || die "no test registry at $REGISTRY: run scripts/test as root first"
[ -x "$BURROW" ] || die "no $BURROW: run scripts/build first"

work="$(mktemp -d "${TMPDIR:-/tmp}/burrow-bench-build.XXXXXX")"
as_user() { "$@"; }
if is_root; then
  # The benchmark is about unprivileged builds: run both as the test user, with a copy of burrow it can read.
  uid="$(id -u "$USER_NAME")"; gid="$(id -g "$USER_NAME")"
  cp -a "$(dirname "$(dirname "$BURROW")")" "$work/install"
  BURROW="$work/install/bin/burrow"
  chown -R "$uid:$gid" "$work"
  as_user() { setpriv --reuid="$uid" --regid="$gid" --init-groups --inh-caps=-all -- env HOME="$work" PATH=/usr/bin:/bin:/usr/sbin:/sbin "$@"; }
fi
trap 'as_user sh -c "chmod -R u+rwX \"$work\" 2>/dev/null; podman --root \"$work/podman-root\" --runroot \"$work/podman-run\" unshare rm -rf \"$work/podman-root\" 2>/dev/null"; rm -rf "$work"' EXIT

cat > "$work/bench.def" <<DEF
Bootstrap: docker
From: $REGISTRY/small:latest

%post
    mkdir -p /data
    i=0
    while [ \$i -lt 10000 ]; do echo \$i > /data/f\$i; i=\$((i + 1)); done
DEF
cat > "$work/Containerfile" <<'CF'
ARG BASE
FROM ${BASE}
RUN mkdir -p /data && i=0 && while [ $i -lt 10000 ]; do echo $i > /data/f$i; i=$((i + 1)); done
CF
chmod a+r "$work/bench.def" "$work/Containerfile"

# measure NAME CMD...: appends "seconds kib" of one run to $work/NAME.times
measure() {
  local name="$1"; shift
  as_user /usr/bin/time -f '%e %M' -o "$work/time.out" "$@" >/dev/null 2>"$work/$name.err" || { cat "$work/$name.err" >&2; die "$name failed"; }
  cat "$work/time.out" >> "$work/$name.times"
}

for i in $(seq "$RUNS"); do
  as_user rm -rf "$work/out.sif" "$work/cache"
  measure burrow env BURROW_CACHEDIR="$work/cache" "$BURROW" -q build "$work/out.sif" "$work/bench.def"
  as_user sh -c "podman --root '$work/podman-root' --runroot '$work/podman-run' unshare rm -rf '$work/podman-root' 2>/dev/null; rm -rf '$work/podman-run'"
  measure podman podman --root "$work/podman-root" --runroot "$work/podman-run" --storage-driver vfs --cgroup-manager cgroupfs \
    --runtime runc build -q --tls-verify=false --build-arg BASE="$REGISTRY/small:latest" -t bench -f "$work/Containerfile" "$work"
done
# Both results hold the 10,000 files.
[ "$(unsquashfs -o "$(siftool list "$work/out.sif" | awk -F'|' '/Squashfs/ {split($4, p, "-"); print p[1] + 0}')" -l "$work/out.sif" | grep -c 'squashfs-root/data/f')" = 10000 ] \
  || die "burrow's image lacks the 10,000 files"

median() { sort -n -k"$2" "$1" | awk -v k="$2" '{v[NR] = $k} END {print v[int((NR + 1) / 2)]}'; }
printf '| %-40s | %9s | %14s |\n' "build ($RUNS runs, median)" "wall [s]" "peak RSS [MiB]"
printf '|%s|%s|%s|\n' "---" "---:" "---:"
for row in "burrow:burrow build (SIF, zstd)" "podman:podman build (rootless, vfs)"; do
  name="${row%%:*}"; label="${row#*:}"
  printf '| %-40s | %9s | %14s |\n' "$label" "$(median "$work/$name.times" 1)" \
    "$(awk '{print $1 / 1024}' <<<"$(median "$work/$name.times" 2)" | xargs printf '%.0f')"
done
