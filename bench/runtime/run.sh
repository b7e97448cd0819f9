#!/usr/bin/env bash
# Runtime start-up benchmark: in one run, on the same busybox root file system and as the same
# unprivileged user, the median wall time of
#   - burrow exec SANDBOX true           (the whole default container: planning, namespaces, mounts)
#   - burrow exec --explain SANDBOX true (planning alone, nothing launched)
#   - rootless runc run                  (a `runc spec --rootless` bundle whose root is the sandbox)
#   - crun run                           (when it works; crun 1.8 refuses hybrid cgroup machines)
#   - unshare -Urm --fork true           (the floor: a user and a mount namespace, nothing else)
# and the peak resident memory of the burrow processes; writes them into bench/README.md.
# Usage: bench/runtime/run.sh [RUNS]   (default 60; build first with scripts/build)
# As root it runs everything as the test user without a subordinate range (scripts/setup creates it).
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/common.sh"
cd "$BURROW_ROOT"

runs="${1:-60}"
image="$BURROW_TEST_CACHE/images/busybox"
[ -x "$BURROW_ROOT/out/bin/burrow" ] || die "no build in out/: run scripts/build first"
[ -d "$image" ] || die "no busybox image at $image: run scripts/setup as root first"
for tool in hyperfine runc unshare python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || die "$tool is needed for this benchmark (see BURROW_DEBIAN_PACKAGES)"
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if is_root; then
  user="$BURROW_TEST_USER_NOSUB"
  id "$user" >/dev/null 2>&1 || die "test user $user is missing: run scripts/setup"
  # Installed where the user can read it, as scripts/test does.
  prefix="$work/burrow"
  cp -a "$BURROW_ROOT/out" "$prefix"
  chmod -R a+rX "$work"
  chown -R "$user" "$work"
  home="$(getent passwd "$user" | cut -d: -f6)"
  as_user() { setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups --inh-caps=-all -- \
    env -i HOME="$home" USER="$user" PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin "$@"; }
else
  user="$(id -un)"
  prefix="$BURROW_ROOT/out"
  as_user() { "$@"; }
fi
burrow="$prefix/bin/burrow"

# The runc bundle: rootless spec (made as the user: it maps the caller's ids), the sandbox as its
# (read-only) root, `true` as the process.
bundle="$work/bundle"
mkdir -p "$bundle"
is_root && chown "$user" "$bundle"
as_user sh -c 'cd "$1" && runc spec --rootless' sh "$bundle"
python3 - "$bundle/config.json" "$image" <<'PY'
import json, sys
path, root = sys.argv[1], sys.argv[2]
c = json.load(open(path))
c["process"]["args"] = ["true"]
c["process"]["terminal"] = False
c["root"] = {"path": root, "readonly": True}
json.dump(c, open(path, "w"), indent=1)
PY
chmod -R a+rX "$bundle"
is_root && chown -R "$user" "$bundle"

commands=(
  "$burrow exec $image true"
  "$burrow exec --explain $image true"
  "runc --root $work/runc-state run --bundle $bundle bench"
)
names=("burrow exec SANDBOX true" "burrow exec --explain SANDBOX true (planning only)" "runc run (rootless)")
crun_note=""
if command -v crun >/dev/null; then
  if out="$(as_user crun --root "$work/crun-state" run --bundle "$bundle" crun-probe 2>&1)"; then
    commands+=("crun --root $work/crun-state run --bundle $bundle bench")
    names+=("crun run (rootless)")
  else
    crun_note="crun $(crun --version | head -1 | awk '{print $3}') does not run here: $(printf '%s' "$out" | head -1)"
  fi
fi
commands+=("unshare -Urm --fork true")
names+=("unshare -Urm --fork true")

info "benchmarking as $user, $runs runs each"
as_user hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/times.json" "${commands[@]}" >&2

# Peak RSS: GNU time reports the largest resident set among burrow and the processes it waited for
# (the engine, the starter's monitor, the stage before it execs the payload).
peak_kb=0
for _ in 1 2 3 4 5; do
  kb="$(as_user /usr/bin/time -f %M "$burrow" exec "$image" true 2>&1 >/dev/null | tail -1)"
  [ "$kb" -gt "$peak_kb" ] && peak_kb="$kb"
done

load="$(cut -d' ' -f1-3 /proc/loadavg)"
section="$(python3 - "$work/times.json" "$peak_kb" "$load" "$crun_note" "${names[@]}" <<'PY'
import json, sys
times, peak_kb, load, crun_note, names = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:]
results = json.load(open(times))["results"]
med = {n: r["median"] * 1000 for n, r in zip(names, results)}
mins = {n: r["min"] * 1000 for n, r in zip(names, results)}
burrow, unshare = med[names[0]], med["unshare -Urm --fork true"]
runc = med.get("runc run (rootless)")
out = []
out.append("| command | median [ms] | min [ms] |")
out.append("|:---|---:|---:|")
for n in names:
    out.append(f"| `{n}` | {med[n]:.1f} | {mins[n]:.1f} |")
out.append("")
out.append(f"- burrow exec / unshare: **{burrow / unshare:.1f}×** (target: within 5×)")
if runc:
    out.append(f"- burrow exec / runc run: **{burrow / runc:.2f}×** (target: below 1)")
out.append(f"- peak resident memory of the burrow processes (largest of engine, monitor, stage): **{peak_kb / 1024:.1f} MiB**")
if crun_note:
    out.append(f"- {crun_note}")
out.append(f"- load average while measuring: {load}")
print("\n".join(out))
PY
)"

readme="$BURROW_ROOT/bench/README.md"
python3 - "$readme" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
text = open(path).read() if __import__("os").path.exists(path) else "# Benchmarks\n"
begin, end = "<!-- runtime-start -->", "<!-- runtime-end -->"
block = f"{begin}\n{section}\n{end}"
if begin in text:
    text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
else:
    text = text.rstrip("\n") + "\n\n## Runtime start-up\n\n`bench/runtime/run.sh` (figures below from its latest run).\n\n" + block + "\n"
open(path, "w").write(text)
PY
printf '%s\n' "$section"
