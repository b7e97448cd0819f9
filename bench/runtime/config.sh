#!/usr/bin/env bash
# What reading burrow.conf costs each launch: in one run, as the same unprivileged user, the median wall time of
# `burrow exec SANDBOX true` from three copies of the same build that differ only in etc/burrow/:
#   - no burrow.conf at all         (one failed open: the cost before configuration existed, to within a syscall)
#   - the shipped burrow.conf       (every key commented out: what an installation has by default)
#   - every key set                 (the file parsed and every value mapped)
# and of `burrow exec --explain` for the last (planning alone); writes them into bench/README.md.
# Usage: bench/runtime/config.sh [RUNS]   (default 60; build first with scripts/build)
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/common.sh"
cd "$BURROW_ROOT"

runs="${1:-60}"
image="$BURROW_TEST_CACHE/images/busybox"
[ -x "$BURROW_ROOT/out/bin/burrow" ] || die "no build in out/: run scripts/build first"
[ -d "$image" ] || die "no busybox image at $image: run scripts/setup as root first"
command -v hyperfine >/dev/null || die "hyperfine is needed for this benchmark (see BURROW_DEBIAN_PACKAGES)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"
for tree in none shipped full; do
  cp -a "$BURROW_ROOT/out" "$work/$tree"
done
rm -f "$work/none/etc/burrow/burrow.conf"
cat > "$work/full/etc/burrow/burrow.conf" <<'EOF'
allow-image-kinds = ["sif", "sandbox", "oci", "encrypted"]
limit-container-paths = []
limit-container-owners = []
bind-path = ["/etc/hosts:/etc/hosts:ro", "/etc/localtime:/etc/localtime:ro"]
user-bind-control = true
mount-home = "yes"
mount-tmp = "yes"
mount-proc = "yes"
mount-sys = "yes"
mount-dev = "yes"
allow-pid-ns = true
allow-ipc-ns = true
allow-uts-ns = true
allow-net-ns = true
allow-fakeroot = true
allow-userns-modes = ["auto", "keep-id"]
sessiondir-max-size = 64
cache-dir = ""
temp-dir = ""
binary-path = "$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ecl-file = "ecl.toml"
EOF
chmod -R a+rX "$work"
mkdir "$work/results"
is_root && chown "$BURROW_TEST_USER_NOSUB" "$work/results"

if is_root; then
  user="$BURROW_TEST_USER_NOSUB"
  home="$(getent passwd "$user" | cut -d: -f6)"
  as_user() { setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups --inh-caps=-all -- \
    env -i HOME="$home" USER="$user" PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin "$@"; }
else
  user="$(id -un)"
  as_user() { "$@"; }
fi

names=("no burrow.conf" "the shipped burrow.conf (all comments)" "every key set" "every key set, --explain (planning only)")
commands=(
  "$work/none/bin/burrow exec $image true"
  "$work/shipped/bin/burrow exec $image true"
  "$work/full/bin/burrow exec $image true"
  "$work/full/bin/burrow exec --explain $image true"
)
info "benchmarking as $user, $runs runs each"
as_user hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/results/times.json" "${commands[@]}" >&2

# The load itself, measured inside burrow (the -d line of CliConfig), free of the machine's scheduling noise
# that dominates whole launches on a busy machine: the median of $runs launches of each tree.
for tree in none shipped full; do
  for _ in $(seq "$runs"); do
    as_user "$work/$tree/bin/burrow" -d exec --explain "$image" true 2>&1 >/dev/null \
      | sed -n 's/^DEBUG: *configuration .* in \([0-9.]*\) ms$/\1/p'
  done > "$work/results/load-$tree.txt"
done

load="$(cut -d' ' -f1-3 /proc/loadavg)"
section="$(python3 - "$work/results/times.json" "$load" "$work/results" "${names[@]}" <<'PY'
import json, statistics, sys
times, load, loads, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
results = json.load(open(times))["results"]
inproc = {t: statistics.median(float(l) for l in open(f"{loads}/load-{t}.txt") if l.strip()) for t in ("none", "shipped", "full")}
out = ["| `burrow exec SANDBOX true` with | median [ms] | mean ± σ [ms] |", "|:---|---:|---:|"]
for n, r in zip(names, results):
    out.append(f"| {n} | {r['median'] * 1000:.2f} | {r['mean'] * 1000:.2f} ± {r['stddev'] * 1000:.2f} |")
base = results[0]["median"] * 1000
out.append("")
out.append(f"- whole launches, every key set − no file: {results[2]['median'] * 1000 - base:+.2f} ms; shipped − no file: {results[1]['median'] * 1000 - base:+.2f} ms (read only from a quiet machine)")
out.append(f"- finding, checking and parsing the file, measured inside burrow (median): no file **{inproc['none']:.3f} ms**, shipped **{inproc['shipped']:.3f} ms**, every key set **{inproc['full']:.3f} ms** (target: within 1 ms)")
out.append(f"- load average while measuring: {load}")
print("\n".join(out))
PY
)"

readme="$BURROW_ROOT/bench/README.md"
python3 - "$readme" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
text = open(path).read()
begin, end = "<!-- config-start -->", "<!-- config-end -->"
block = f"{begin}\n{section}\n{end}"
if begin in text:
    text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
else:
    text = text.rstrip("\n") + ("\n\n## Reading burrow.conf\n\n`bench/runtime/config.sh`: the same build from three trees that differ only in"
        " `etc/burrow/burrow.conf`, so the difference is what reading and checking the configuration costs a launch"
        " (figures below from its latest run).\n\n" + block + "\n")
open(path, "w").write(text)
PY
printf '%s\n' "$section"
