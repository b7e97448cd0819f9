#!/usr/bin/env bash
# Published-port networking, in one run, as the same unprivileged user, traffic on 127.0.0.1 only:
#   1. throughput of one HTTP transfer of SIZE MiB (default 1024) from busybox httpd in a container, fetched by curl
#      on the host through the published port: burrow with pasta, burrow with slirp4netns, podman run -p (rootless,
#      slirp4netns, the only helper Debian 12's Podman 4.3 has), and the same httpd on the host network;
#   2. latency: the median time of 200 small requests (one connection each) through the same paths;
#   3. start-to-ready of a service: `burrow instance start` vs `podman run -d`, until the first page is served.
# Usage: bench/network/run.sh [SIZE_MIB]   (as root, after scripts/test). Writes the figures into bench/README.md.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/common.sh"
cd "$BURROW_ROOT"

size="${1:-1024}"
is_root || die "run it as root: it runs the containers as a test user"
[ -x "$BURROW_ROOT/out/bin/burrow" ] || die "no build in out/: run scripts/build first"
image="$BURROW_TEST_CACHE/images/busybox.sif"
[ -f "$image" ] || die "no busybox test image at $image: run scripts/setup first"
for tool in curl python3 setpriv; do command -v "$tool" >/dev/null || die "$tool is needed for this benchmark"; done

user="$BURROW_TEST_USER_SUB"
uid="$(id -u "$user")"; gid="$(id -g "$user")"
home="$(getent passwd "$user" | cut -d: -f6)"
work="$(mktemp -d /var/tmp/burrow-bench-network.XXXXXX)"
chmod 0755 "$work"
as_user() { setpriv --reuid="$uid" --regid="$gid" --init-groups --inh-caps=-all -- \
  env -i HOME="$home" USER="$user" PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin XDG_RUNTIME_DIR= "$@"; }
cleanup() {
  as_user "$burrow" instance stop --all >/dev/null 2>&1 || true
  [ -n "${podman_ok:-}" ] && as_user "${podman[@]}" rm -f -a >/dev/null 2>&1 || true
  kill "${bg[@]}" 2>/dev/null || true
  rm -rf "$work"
}
bg=()
trap cleanup EXIT

prefix="$work/burrow"
cp -a "$BURROW_ROOT/out" "$prefix"; chmod -R a+rX "$prefix"
burrow="$prefix/bin/burrow"
www="$work/www"; mkdir -p "$www"
head -c "$((size * 1024 * 1024))" /dev/urandom > "$www/big"
echo small > "$www/small"
chmod -R a+rX "$www"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() { for _ in $(seq 1 600); do curl -sf -o /dev/null "http://127.0.0.1:$1/small" && return 0; sleep 0.05; done; return 1; }
measure() { # name port -> "name|MiB/s|latency ms"
  local name="$1" port="$2" speed lat
  speed="$(curl -s -o /dev/null -w '%{speed_download}' "http://127.0.0.1:$port/big")"
  lat="$(for _ in $(seq 1 200); do curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port/small"; done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]*1000}')"
  echo "$name|$(python3 -c "print(f'{$speed/1048576:.0f}')")|$lat" >> "$work/results"
}

registry="${BURROW_REGISTRY_ANON:-127.0.0.1:15000}"
mkdir -p "$work/podman"; chown "$uid:$gid" "$work/podman"
podman=(podman --root "$work/podman/root" --runroot "$work/podman/run" --storage-driver overlay --runtime runc)
podman_note=""
if command -v podman >/dev/null && as_user "${podman[@]}" pull -q --tls-verify=false "docker://$registry/small:latest" >/dev/null 2>"$work/podman.err"; then
  podman_ok=1
else
  podman_note="podman not measured: $(head -c 300 "$work/podman.err" 2>/dev/null | tr '\n' ' ')"
fi

info "host network: busybox httpd of the image, run by burrow without a network namespace"
port="$(free_port)"
as_user "$burrow" instance start --bind "$www:/www" "$image" bench-host -c "exec httpd -f -p 127.0.0.1:$port -h /www" >/dev/null
wait_ready "$port"; measure "host network (burrow instance, no namespace)" "$port"
as_user "$burrow" instance stop bench-host >/dev/null

for helper in pasta slirp4netns; do
  info "burrow --network $helper -p"
  port="$(free_port)"
  as_user "$burrow" instance start --network "$helper" -p "127.0.0.1:$port:80" --bind "$www:/www" "$image" "bench-$helper" -c "exec httpd -f -p 80 -h /www" >/dev/null
  wait_ready "$port"; measure "burrow --network $helper -p" "$port"
  as_user "$burrow" instance stop "bench-$helper" >/dev/null
done

if [ -n "${podman_ok:-}" ]; then
  info "podman run -p (slirp4netns)"
  port="$(free_port)"
  as_user "${podman[@]}" run -d --rm --network slirp4netns:port_handler=slirp4netns -p "127.0.0.1:$port:80" -v "$www:/www:ro" \
    --entrypoint httpd "$registry/small:latest" -f -p 80 -h /www >/dev/null
  wait_ready "$port"; measure "podman run -p (slirp4netns)" "$port"
  as_user "${podman[@]}" rm -f -a >/dev/null
fi

info "start-to-ready of a published web server, 5 runs each"
for i in 1 2 3 4 5; do
  port="$(free_port)"
  t0="$(date +%s%N)"
  as_user "$burrow" instance start -p "127.0.0.1:$port:80" --bind "$www:/www" "$image" "ready$i" -c "exec httpd -f -p 80 -h /www" >/dev/null
  wait_ready "$port"; echo "burrow instance start|$(( ($(date +%s%N) - t0) / 1000000 ))" >> "$work/ready"
  as_user "$burrow" instance stop "ready$i" >/dev/null
  if [ -n "${podman_ok:-}" ]; then
    port="$(free_port)"
    t0="$(date +%s%N)"
    as_user "${podman[@]}" run -d --rm -p "127.0.0.1:$port:80" -v "$www:/www:ro" --entrypoint httpd "$registry/small:latest" -f -p 80 -h /www >/dev/null
    wait_ready "$port"; echo "podman run -d|$(( ($(date +%s%N) - t0) / 1000000 ))" >> "$work/ready"
    as_user "${podman[@]}" rm -f -a >/dev/null
  fi
done

load="$(cut -d' ' -f1-3 /proc/loadavg)"
section="$(python3 - "$work/results" "$work/ready" "$size" "$load" "$podman_note" <<'PY'
import statistics, sys
results, ready, size, load, note = sys.argv[1:6]
rows = [l.strip().split("|") for l in open(results) if l.strip()]
host = float(rows[0][1])
out = [f"One transfer of {size} MiB through the published port, and the median of 200 small requests (one connection each):", "",
       "| path | MiB/s | vs host | latency [ms] |", "|:---|---:|---:|---:|"]
for name, speed, lat in rows:
    out.append(f"| {name} | {speed} | {float(speed) / host:.2f} | {float(lat):.2f} |")
times = {}
for l in open(ready):
    name, ms = l.strip().split("|")
    times.setdefault(name, []).append(int(ms))
out += ["", "| start-to-ready (first page served), median of 5 | ms |", "|:---|---:|"]
for name, ms in times.items():
    out.append(f"| {name} | {statistics.median(ms):.0f} |")
if note:
    out.append(f"- {note}")
out.append(f"- load average while measuring: {load}")
print("\n".join(out))
PY
)"
echo "$section"
python3 - "$BURROW_ROOT/bench/README.md" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
text = open(path).read()
block = "<!-- network-start -->\n" + section + "\n<!-- network-end -->"
if "<!-- network-start -->" in text:
    text = re.sub(r"<!-- network-start -->.*?<!-- network-end -->", lambda _: block, text, flags=re.S)
else:
    text += "\n## Networking and instances\n\n`bench/network/run.sh` (figures below from its latest run).\n\n" + block + "\n"
open(path, "w").write(text)
PY
