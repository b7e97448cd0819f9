#!/usr/bin/env bash
# Running images, end to end, in one run on the same images and as the same unprivileged user:
#   1. start-to-exit of `burrow exec IMAGE.sif true`, of the same image as a sandbox directory, and of
#      `podman run --rm` (rootless) of the same image: targets SIF within 1.5x of the sandbox, 10x faster than podman;
#   2. reading 20,000 small files (tar of /data) inside a container: the SIF served by burrow, the same squashfs
#      through Debian's squashfuse_ll, the unpacked sandbox, and the host disk; cold (page cache dropped, fresh mount)
#      and warm (a second pass in the same mount): targets warm within 1.5x of the host, cold within 2x, and ahead
#      of squashfuse_ll in both;
#   3. the same read with 2 parallel readers (half the directories each);
#   4. the peak resident memory of the engine while serving.
# Usage: bench/images/run.sh [RUNS]   (as root, after scripts/test: it needs the test users, the Debian test image
# and, for podman, the local test registry; default 10 runs). Writes the figures into bench/README.md.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/common.sh"
cd "$BURROW_ROOT"

runs="${1:-10}"
is_root || die "run it as root: it drops the page cache for the cold figures and runs the containers as a test user"
[ -x "$BURROW_ROOT/out/bin/burrow" ] || die "no build in out/: run scripts/build first"
debian="$BURROW_TEST_CACHE/images/debian-sudo"
[ -d "$debian" ] || die "no Debian test image at $debian: run scripts/setup first"
for tool in hyperfine mksquashfs siftool squashfuse_ll unshare setpriv python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || die "$tool is needed for this benchmark"
done

user="$BURROW_TEST_USER_SUB"
uid="$(id -u "$user")"; gid="$(id -g "$user")"
home="$(getent passwd "$user" | cut -d: -f6)"
work="$(mktemp -d /var/tmp/burrow-bench-images.XXXXXX)"
chmod 0755 "$work"
trap 'rm -rf "$work"' EXIT
as_user() { setpriv --reuid="$uid" --regid="$gid" --init-groups --inh-caps=-all -- \
  env -i HOME="$home" USER="$user" PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin XDG_RUNTIME_DIR= "$@"; }
cold() { sync; echo 3 > /proc/sys/vm/drop_caches; }

prefix="$work/burrow"
cp -a "$BURROW_ROOT/out" "$prefix"
chmod -R a+rX "$prefix"
burrow="$prefix/bin/burrow"

info "making the image: the Debian test image plus /data, 20,000 files of 1-8 KiB in 200 directories"
root="$work/sandbox"
cp -a "$debian" "$root"
python3 - "$root/data" <<'PY'
import os, random, sys
random.seed(1)
for d in range(200):
    path = os.path.join(sys.argv[1], f"d{d:03}")
    os.makedirs(path)
    for f in range(100):
        with open(os.path.join(path, f"f{f:03}"), "wb") as out:
            out.write(random.randbytes(random.randint(1024, 8192)))
PY
host="$work/host-data"
cp -a "$root/data" "$host"
mksquashfs "$root" "$work/image.sqfs" -comp zstd -noappend -quiet >/dev/null
siftool new "$work/image.sif" >/dev/null
siftool add --datatype 4 --partfs 1 --parttype 2 --partarch 2 --groupid 1 "$work/image.sif" "$work/image.sqfs" >/dev/null
# The sandbox as burrow unpacks one (owned by the user), so that the user can read every file of it.
chown -R "$uid:$gid" "$root" "$host"
chmod a+r "$work/image.sif" "$work/image.sqfs"

# --- 1. start-up -------------------------------------------------------------------------------------------------
commands=("$burrow exec $work/image.sif true" "$burrow exec $root true")
names=("burrow exec IMAGE.sif true" "burrow exec SANDBOX true")
podman_note=""
registry="${BURROW_REGISTRY_ANON:-127.0.0.1:15000}"
# Podman with storage of its own for this run: native overlay (rootless vfs would copy the image for every
# container) and runc (crun 1.8 refuses this machine's hybrid cgroups).
mkdir -p "$work/podman"; chown "$uid:$gid" "$work/podman"
podman=(podman --root "$work/podman/root" --runroot "$work/podman/run" --storage-driver overlay --runtime runc)
if command -v podman >/dev/null && as_user "${podman[@]}" pull -q --tls-verify=false "docker://$registry/big:latest" >/dev/null 2>"$work/podman.err"; then
  commands+=("${podman[*]} run --rm --network=none $registry/big:latest true")
  names+=("podman run --rm (rootless, overlay, runc; same Debian tree)")
else
  podman_note="podman not measured: $(head -c 300 "$work/podman.err" 2>/dev/null | tr '\n' ' ')"
fi
info "start-up: $runs runs each"
results="$work/results"
mkdir -p "$results"; chown "$uid:$gid" "$results"
(cd "$results" && as_user hyperfine -N --warmup 3 --runs "$runs" --export-json "$results/start.json" "${commands[@]}" >&2)

# --- 2, 3. reading small files --------------------------------------------------------------------------------------
# Each variant prints "seconds-of-first-pass seconds-of-second-pass"; the first pass after dropping the page cache
# and mounting afresh is the cold one.
read_twice='s=$(date +%s.%N); tar cf - $0 | cat >/dev/null; m=$(date +%s.%N); tar cf - $0 | cat >/dev/null; e=$(date +%s.%N); echo "$s $m $e"'
# The parallel figure is warm: a first pass in the same container (so the same mount) fills the caches.
read_parallel='tar cf - $0 | cat >/dev/null; s=$(date +%s.%N); (tar cf - $0/d0* $0/d1[0-4]* | cat >/dev/null) & (tar cf - $0/d1[5-9]* | cat >/dev/null) & wait; e=$(date +%s.%N); echo "$s $e"'
mnt="$work/mnt"
mkdir -p "$mnt"; chown "$uid:$gid" "$mnt"
variant() { # name kind(twice|parallel)
  local script
  [ "$2" = twice ] && script="$read_twice" || script="$read_parallel"
  case "$1" in
    sif) as_user "$burrow" exec "$work/image.sif" sh -c "$script" /data ;;
    squashfuse) as_user unshare --user --map-root-user --mount sh -c \
      "squashfuse_ll '$work/image.sqfs' '$mnt' && sh -c '$script' '$mnt/data'; umount '$mnt'" ;;
    sandbox) as_user "$burrow" exec "$root" sh -c "$script" /data ;;
    host) as_user sh -c "$script" "$host" ;;
  esac
}
: > "$work/reads.txt"
for i in $(seq 1 "$runs"); do
  for v in sif squashfuse sandbox host; do
    cold; printf '%s twice %s\n' "$v" "$(variant "$v" twice)" >> "$work/reads.txt"
    cold; printf '%s parallel-warm %s\n' "$v" "$(variant "$v" parallel)" >> "$work/reads.txt"
  done
done

# --- 4. memory ------------------------------------------------------------------------------------------------------
peak_kb="$(as_user /usr/bin/time -f %M "$burrow" exec "$work/image.sif" sh -c 'tar cf - /data | cat >/dev/null' 2>&1 >/dev/null | tail -1)"

load="$(cut -d' ' -f1-3 /proc/loadavg)"
section="$(python3 - "$results/start.json" "$work/reads.txt" "$peak_kb" "$load" "$podman_note" "${names[@]}" <<'PY'
import json, statistics, sys
start, reads, peak_kb, load, podman_note, names = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6:]
res = json.load(open(start))["results"]
med = {n: r["median"] * 1000 for n, r in zip(names, res)}
out = ["| start to exit | median [ms] | min [ms] |", "|:---|---:|---:|"]
for n, r in zip(names, res):
    out.append(f"| `{n}` | {r['median'] * 1000:.1f} | {r['min'] * 1000:.1f} |")
sif, sandbox = med[names[0]], med[names[1]]
out.append("")
out.append(f"- SIF / sandbox: **{sif / sandbox:.2f}×** (target: within 1.5×)")
if len(names) > 2:
    out.append(f"- podman / SIF: **{med[names[2]] / sif:.1f}×** (target: SIF at least 10× faster)")
elif podman_note:
    out.append(f"- {podman_note}")
cold, warm, par = {}, {}, {}
for line in open(reads):
    f = line.split()
    if f[1] == "twice":
        s, m, e = map(float, f[2:5]); cold.setdefault(f[0], []).append((m - s) * 1000); warm.setdefault(f[0], []).append((e - m) * 1000)
    else:
        s, e = map(float, f[2:4]); par.setdefault(f[0], []).append((e - s) * 1000)
label = {"sif": "SIF, served by burrow", "squashfuse": "same squashfs, squashfuse_ll 0.1.104", "sandbox": "unpacked sandbox (overlay)", "host": "host disk"}
out += ["", "| 20,000 small files (tar) | cold [ms] | warm [ms] | warm, 2 readers [ms] |", "|:---|---:|---:|---:|"]
m = lambda xs: statistics.median(xs)
for v in ["sif", "squashfuse", "sandbox", "host"]:
    out.append(f"| {label[v]} | {m(cold[v]):.0f} | {m(warm[v]):.0f} | {m(par[v]):.0f} |")
out.append("")
out.append(f"- SIF / host: cold **{m(cold['sif']) / m(cold['host']):.2f}×** (target ≤ 2), warm **{m(warm['sif']) / m(warm['host']):.2f}×** (target ≤ 1.5)")
out.append(f"- SIF / squashfuse_ll: cold **{m(cold['sif']) / m(cold['squashfuse']):.2f}×**, warm **{m(warm['sif']) / m(warm['squashfuse']):.2f}×**, 2 readers **{m(par['sif']) / m(par['squashfuse']):.2f}×** (target: below 1)")
out.append(f"- peak resident memory of burrow while serving the read: **{peak_kb / 1024:.1f} MiB**")
out.append(f"- load average while measuring: {load}")
print("\n".join(out))
PY
)"

python3 - bench/README.md "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
text = open(path).read()
begin, end = "<!-- images-start -->", "<!-- images-end -->"
block = f"{begin}\n{section}\n{end}"
if begin in text:
    text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
else:
    text = text.rstrip("\n") + "\n\n## Running images (SIF over FUSE)\n\n`bench/images/run.sh` (figures below from its latest run).\n\n" + block + "\n"
open(path, "w").write(text)
PY
printf '%s\n' "$section"
