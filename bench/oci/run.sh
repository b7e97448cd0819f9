#!/usr/bin/env bash
# OCI pull benchmark: docker:// of the ~200 MiB test image (Debian minbase+sudo plus 56 MiB of random bytes, one
# layer) from the local test registry to a runnable image, cold (no cache), three ways in one run:
#   burrow pull --disable-cache                       registry -> SIF, one process
#   Apptainer's pipeline: skopeo copy to an OCI layout, umoci unpack --rootless, mksquashfs (gzip, its default)
#   podman pull                                       into an empty, private storage root
# Wall time and peak RSS (the largest process of each step, from /usr/bin/time) are the median of RUNS runs.
# Needs the registries of scripts/test.d/50-registries.sh (run scripts/test once as root) and out/bin/burrow.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/common.sh"
RUNS="${RUNS:-3}"
REGISTRY="${BURROW_REGISTRY_ANON:-127.0.0.1:15000}"
IMAGE="$REGISTRY/big:latest"
BURROW="${BURROW:-$BURROW_ROOT/out/bin/burrow}"
work="$(mktemp -d "${TMPDIR:-/tmp}/burrow-bench-oci.XXXXXX")"
trap 'chmod -R u+rwX "$work" 2>/dev/null; rm -rf "$work"' EXIT
curl -fsS -o /dev/null "http://$REGISTRY/v2/" || die "no test registry at $REGISTRY: run scripts/test as root first"
[ -x "$BURROW" ] || die "no $BURROW: run scripts/build first"

# measure NAME CMD...: appends "seconds kib" of one run to $work/NAME.times
measure() {
  local name="$1"; shift
  /usr/bin/time -f '%e %M' -o "$work/time.out" "$@" >/dev/null 2>"$work/$name.err" || { cat "$work/$name.err" >&2; die "$name failed"; }
  cat "$work/time.out" >> "$work/$name.times"
}

burrow_pull() {
  rm -f "$work/burrow.sif"
  measure burrow "$BURROW" -q pull --disable-cache "$work/burrow.sif" "docker://$IMAGE"
}

apptainer_pipeline() {
  rm -rf "$work/layout" "$work/bundle" "$work/pipeline.sqfs"
  : > "$work/step.times"
  measure skopeo skopeo copy --quiet --src-tls-verify=false "docker://$IMAGE" "oci:$work/layout:big"
  measure umoci umoci unpack --rootless --image "$work/layout:big" "$work/bundle"
  measure mksquashfs mksquashfs "$work/bundle/rootfs" "$work/pipeline.sqfs" -noappend -comp gzip -quiet
  # The pipeline's wall time is the sum of its steps; its peak is the largest step's.
  tail -n1 -q "$work/skopeo.times" "$work/umoci.times" "$work/mksquashfs.times" \
    | awk '{s += $1; if ($2 > m) m = $2} END {print s, m}' >> "$work/pipeline.times"
}

podman_pull() {
  rm -rf "$work/podman-root" "$work/podman-run"
  measure podman podman --root "$work/podman-root" --runroot "$work/podman-run" --storage-driver vfs \
    pull -q --tls-verify=false "$IMAGE"
  podman --root "$work/podman-root" --runroot "$work/podman-run" --storage-driver vfs rmi -af >/dev/null 2>&1 || true
}

for i in $(seq "$RUNS"); do
  burrow_pull
  apptainer_pipeline
  podman_pull
done

median() { sort -n -k"$2" "$1" | awk -v k="$2" '{v[NR] = $k} END {print v[int((NR + 1) / 2)]}'; }
printf '| %-44s | %9s | %13s |\n' "pipeline ($RUNS runs, median)" "wall [s]" "peak RSS [MiB]"
printf '|%s|%s|%s|\n' "---" "---:" "---:"
for row in "burrow:burrow pull (registry -> SIF, zstd)" \
           "pipeline:skopeo + umoci --rootless + mksquashfs (gzip)" \
           "skopeo:  skopeo copy to an OCI layout" "umoci:  umoci unpack --rootless" "mksquashfs:  mksquashfs -comp gzip" \
           "podman:podman pull (vfs, empty storage)"; do
  name="${row%%:*}"; label="${row#*:}"
  printf '| %-44s | %9s | %13s |\n' "$label" "$(median "$work/$name.times" 1)" \
    "$(median "$work/$name.times" 2 | awk '{printf "%.0f", $1 / 1024}')"
done
ls -l "$work/burrow.sif" "$work/pipeline.sqfs" | awk '{print "size:", $5, $9}' >&2
