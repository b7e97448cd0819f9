#!/usr/bin/env bash
# SIF benchmark: opening an image and listing its descriptors must read only the header and the
# descriptor table, however large the image. Builds a sparse 8 GiB SIF (one 8 GiB squashfs partition
# whose bytes are a hole), then measures, in one run and on the same images:
#   - wall time of `burrow sif list` and `siftool list` (hyperfine), on the 8 GiB image and on a fixture;
#   - bytes each tool reads from the image file (strace: read/pread64 on the image's descriptor).
# Usage: bench/sif/run.sh [BURROW_BINARY]   (default: out/bin/burrow; build it with scripts/build)
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/common.sh"
cd "$BURROW_ROOT"

burrow="${1:-$BURROW_ROOT/out/bin/burrow}"
[ -x "$burrow" ] || die "no burrow binary at $burrow: run scripts/build first"
for tool in siftool hyperfine strace python3; do
  command -v "$tool" >/dev/null || die "$tool is needed for this benchmark (Debian package: $tool)"
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
big="$work/sparse-8g.sif"

# A valid SIF written byte by byte (layout of shared/docs/sif-format.md): header, a 48-slot table,
# one Squashfs/PrimSys/amd64 partition of 8 GiB at offset 32768, left as a hole by truncate.
python3 - "$big" <<'PY'
import struct, sys, uuid
path = sys.argv[1]
size = 8 << 30
data_off, obj_off = 4096 + 48 * 585, 32768
hdr = bytearray(128)
hdr[0:31] = b"#!/usr/bin/env run-singularity\n"
hdr[32:42] = b"SIF_MAGIC\0"; hdr[42:45] = b"01\0"; hdr[45:48] = b"02\0"
hdr[48:64] = uuid.UUID("6ecc76b7-a497-4f7f-9ebd-8da2a04c6be1").bytes
struct.pack_into("<qqqqqqqq", hdr, 64, 1593475316, 1593475316, 47, 48, 4096, 48 * 585, data_off, obj_off + size - data_off)
d = bytearray(585)
struct.pack_into("<iBIIIqqqqqqq", d, 0, 0x4004, 1, 1, 0xF0000001, 0, obj_off, size, obj_off - data_off + size, 1593475316, 1593475316, 0, 0)
d[73:73 + 13] = b"rootfs.squash"
struct.pack_into("<ii3s", d, 201, 1, 2, b"02\0")
with open(path, "wb") as f:
    f.write(hdr); f.seek(4096); f.write(d); f.truncate(obj_off + size)
PY

fixture="$(cd "$BURROW_ROOT/.." && pwd)/shared/fixtures/sif/apptainer-sif/test/images/two-groups.sif"
[ -f "$fixture" ] || fixture=/work/shared/fixtures/sif/apptainer-sif/test/images/two-groups.sif

info "image: $(du -h --apparent-size "$big" | cut -f1) apparent, $(du -h "$big" | cut -f1) on disk"
cmp <("$burrow" sif list "$big") <(siftool list "$big") && info "burrow sif list and siftool list print the same bytes"

# Bytes read from the image file itself, by following the descriptor openat() returned for it.
bytes_read() {
  local log="$work/strace.log"
  strace -f -qq -e trace=openat,read,pread64 -o "$log" "$@" >/dev/null
  python3 - "$log" "${@: -1}" <<'PY'
import re, sys
log, image = sys.argv[1], sys.argv[2]
fds, total = set(), 0
for line in open(log):
    line = re.sub(r"^\d+\s+", "", line)
    m = re.match(r'openat\(.*?"(.*?)".*\)\s+=\s+(\d+)', line)
    if m and m.group(1) == image:
        fds.add(int(m.group(2)))
        continue
    m = re.match(r"(?:read|pread64)\((\d+),.*\)\s+=\s+(\d+)", line)
    if m and int(m.group(1)) in fds:
        total += int(m.group(2))
print(total)
PY
}

printf '\n| image | tool | bytes read from the image |\n|---|---|---|\n'
for img in "$big" "$fixture"; do
  printf '| %s | burrow sif list | %s |\n' "$(basename "$img")" "$(bytes_read "$burrow" sif list "$img")"
  printf '| %s | siftool list | %s |\n' "$(basename "$img")" "$(bytes_read siftool list "$img")"
done
echo
hyperfine -N --warmup 3 --runs 30 --style basic --export-markdown "$work/times.md" \
  -n "burrow sif list (8 GiB)" "$burrow sif list $big" \
  -n "siftool list (8 GiB)" "siftool list $big" \
  -n "burrow sif list (two-groups.sif)" "$burrow sif list $fixture" \
  -n "siftool list (two-groups.sif)" "siftool list $fixture" >/dev/null
cat "$work/times.md"
