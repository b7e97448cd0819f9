#!/usr/bin/env bash
# Burrow under Slurm, in one run on the one-machine test cluster (scripts/test.d/60-slurm.sh) as an unprivileged user:
#   1. per-task overhead: `srun -n 8 burrow exec IMAGE.sif true` against `srun -n 8 true` and, where rootless Podman
#      works, `srun -n 8 podman run --rm IMAGE true`; warm, and cold (page cache dropped before every run);
#   2. peak memory on the node with 8 ranks of one image: the sum of the proportional set sizes of all of the user's
#      burrow processes (engines, starters, the shared server and its holder), sampled every 20 ms while each rank
#      reads the image's /usr, against 1 rank and against 8 ranks with a server each (--no-share).
# The target (issue 15): per-task overhead within P2 of a single container's start; memory for 8 ranks within 1.5x of
# one container's — which needs the 8 containers of one image to share one FUSE server.
# Usage: bench/slurm/run.sh [RUNS]   (as root, after scripts/test; default 5 runs). Writes the figures into bench/README.md.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/common.sh"
cd "$BURROW_ROOT"

runs="${1:-5}"
is_root || die "run it as root: it drops the page cache for the cold figures and runs the jobs as a test user"
export BURROW_TEST_CACHE
state="$BURROW_TEST_CACHE/slurm/state"
[ "$(head -n1 "$state" 2>/dev/null)" = ready ] || die "the test cluster is not up ($state): run scripts/test as root first"
prefix="$(e2e_prefix)"
burrow="$prefix/bin/burrow"
[ -x "$burrow" ] || die "no installed build at $prefix: run scripts/test as root first"
image="$BURROW_TEST_CACHE/images/debian-sudo.sif"
[ -f "$image" ] || die "no Debian test image at $image: run scripts/setup first"
for tool in hyperfine srun setpriv python3; do
  command -v "$tool" >/dev/null || die "$tool is needed for this benchmark"
done

user="$BURROW_TEST_USER_SUB"
uid="$(id -u "$user")"; gid="$(id -g "$user")"
home="$(getent passwd "$user" | cut -d: -f6)"
work="$(mktemp -d /var/tmp/burrow-bench-slurm.XXXXXX)"
chmod 0755 "$work"
chown "$uid:$gid" "$work"
trap 'rm -rf "$work"' EXIT
cache="$work/cache"
as_user="setpriv --reuid=$uid --regid=$gid --init-groups --inh-caps=-all -- env -i HOME=$home USER=$user PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin BURROW_CACHEDIR=$cache XDG_RUNTIME_DIR="
drop='sync; echo 3 > /proc/sys/vm/drop_caches'

# --- 1. per-task overhead ------------------------------------------------------------------------------------------
commands=("$as_user srun -n 8 true" "$as_user srun -n 8 $burrow exec $image true")
names=("srun -n 8 true" "srun -n 8 burrow exec IMAGE.sif true")
podman_note=""
registry="${BURROW_REGISTRY_ANON:-127.0.0.1:15000}"
# Podman with storage of its own for this run (native overlay, runc: crun 1.8 refuses this machine's hybrid cgroups),
# the same Debian tree from the local test registry.
podman="podman --root $work/podman/root --runroot $work/podman/run --storage-driver overlay --runtime runc"
mkdir -p "$work/podman"; chown "$uid:$gid" "$work/podman"
if $as_user $podman pull -q --tls-verify=false "docker://$registry/big:latest" >/dev/null 2>"$work/podman.err" \
   && $as_user srun -n 2 $podman run --rm --network=none "$registry/big:latest" true 2>>"$work/podman.err"; then
  commands+=("$as_user srun -n 8 $podman run --rm --network=none $registry/big:latest true")
  names+=("srun -n 8 podman run --rm (rootless, overlay, runc; same Debian tree)")
else
  podman_note="podman under srun not measured: $(tail -c 300 "$work/podman.err" 2>/dev/null | tr '\n' ' ')"
fi
info "per-task overhead: $runs runs each, warm and cold"
hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/warm.json" "${commands[@]}" >&2
hyperfine -N --runs "$runs" --prepare "sh -c '$drop'" --export-json "$work/cold.json" "${commands[@]}" >&2
# One container without Slurm, the reference for "within P2 of a single container's start".
hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/single.json" "$as_user $burrow exec $image true" >&2

# --- 2. memory on the node --------------------------------------------------------------------------------------------
# Proportional set sizes (smaps_rollup's Pss), not resident sets: the 8 engines map the same binary, and a page shared
# by 8 processes is on the node once. Summed RSS would count the binary's text 8 times.
sample() { # ntasks -> peak KiB of the summed PSS of the user's burrow processes
  python3 - "$uid" "$prefix" "$@" <<'PY'
import os, subprocess, sys, time
uid, prefix, argv = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
p = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
peak = 0
while p.poll() is None:
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.stat(f"/proc/{pid}").st_uid != uid or not os.readlink(f"/proc/{pid}/exe").startswith(prefix + "/"):
                continue
            with open(f"/proc/{pid}/smaps_rollup") as f:
                total += next(int(l.split()[1]) for l in f if l.startswith("Pss:"))
        except (OSError, StopIteration):
            pass
    peak = max(peak, total)
    time.sleep(0.02)
print(peak)
PY
}
read_usr='tar cf - /usr 2>/dev/null | cat >/dev/null'
sh -c "$drop"; mem1="$(sample $as_user srun -n 1 "$burrow" exec "$image" sh -c "$read_usr")"
sh -c "$drop"; mem8="$(sample $as_user srun -n 8 "$burrow" exec "$image" sh -c "$read_usr")"
# The peer: the same 8 ranks, each container with a server of its own (what every task did before the shared server).
sh -c "$drop"; mem8own="$(sample $as_user srun -n 8 "$burrow" exec --no-share "$image" sh -c "$read_usr")"

load="$(cut -d' ' -f1-3 /proc/loadavg)"
section="$(python3 - "$work" "$mem1" "$mem8" "$mem8own" "$load" "$podman_note" "${names[@]}" <<'PY'
import json, sys
work, mem1, mem8, mem8own, load, podman_note, names = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6], sys.argv[7:]
warm = json.load(open(f"{work}/warm.json"))["results"]
cold = json.load(open(f"{work}/cold.json"))["results"]
single = json.load(open(f"{work}/single.json"))["results"][0]["median"] * 1000
out = ["| 8 tasks on one node | warm median [ms] | cold median [ms] | per task over `srun true`, warm [ms] |", "|:---|---:|---:|---:|"]
base = warm[0]["median"] * 1000
for n, w, c in zip(names, warm, cold):
    extra = "" if n == names[0] else f"{(w['median'] * 1000 - base) / 8:.0f}"
    out.append(f"| `{n}` | {w['median'] * 1000:.0f} | {c['median'] * 1000:.0f} | {extra} |")
out.append("")
out.append(f"- one `burrow exec IMAGE.sif true` without Slurm: {single:.0f} ms; 8 tasks under srun add {warm[1]['median'] * 1000 - base:.0f} ms to `srun -n 8 true`"
           f" (**{(warm[1]['median'] * 1000 - base) / single:.1f}×** a single start; the tasks share 2 cores)")
if len(names) > 2:
    out.append(f"- podman / burrow under srun, warm: **{warm[2]['median'] / warm[1]['median']:.1f}×**")
elif podman_note:
    out.append(f"- {podman_note}")
out.append(f"- peak memory (summed PSS) of the user's burrow processes while each rank reads the image's /usr: 1 rank **{mem1 / 1024:.0f} MiB**, 8 ranks sharing one server **{mem8 / 1024:.0f} MiB** (**{mem8 / max(mem1, 1):.1f}×**; target ≤ 1.5×), 8 ranks with a server each (`--no-share`) **{mem8own / 1024:.0f} MiB** (sharing saves **{mem8own / max(mem8, 1):.1f}×**)")
out.append(f"- load average while measuring: {load}")
print("\n".join(out))
PY
)"

python3 - bench/README.md "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
text = open(path).read()
begin, end = "<!-- slurm-start -->", "<!-- slurm-end -->"
block = f"{begin}\n{section}\n{end}"
if begin in text:
    text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
else:
    text = text.rstrip("\n") + "\n\n## Slurm: tasks and ranks on one node\n\n`bench/slurm/run.sh` (figures below from its latest run).\n\n" + block + "\n"
open(path, "w").write(text)
PY
printf '%s\n' "$section"
