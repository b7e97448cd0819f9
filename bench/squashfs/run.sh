#!/usr/bin/env bash
# Squashfs reader benchmark: read every file of a 20,000-small-file image (the issue's hot case: many files,
# many sharing fragment blocks) through Burrow's reader, with 1 and 2 threads, against Debian's unsquashfs
# extracting the same image (to tmpfs) and catting every file, in one run on the same image.
#   bench/squashfs/run.sh [FILES] [COMPRESSOR]     default 20000 files, gzip (mksquashfs's default)
# The reader's figure is in-process (image opened afresh per round: a cold block cache, a warm page cache);
# the unsquashfs figures are whole processes (hyperfine), which start in about 1 ms.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/common.sh"
cd "$BURROW_ROOT"

count="${1:-20000}"
compressor="${2:-gzip}"
for tool in mksquashfs unsquashfs hyperfine python3; do
  command -v "$tool" >/dev/null || die "$tool is needed for this benchmark"
done
work="$(mktemp -d /dev/shm/burrow-sqfs-bench.XXXXXX 2>/dev/null || mktemp -d)"
trap 'rm -rf "$work"' EXIT

info "making $count small files (100 B to 8 KiB, text) in 200 directories"
python3 - "$work/tree" "$count" <<'PY'
import os, random, sys
root, count = sys.argv[1], int(sys.argv[2])
r = random.Random(1)
words = b"burrow squashfs fragment inode directory block cache reader "
for i in range(count):
    d = os.path.join(root, f"d{i % 200:03d}")
    os.makedirs(d, exist_ok=True)
    size = r.randint(100, 8192)
    with open(os.path.join(d, f"file-{i:05d}.txt"), "wb") as f:
        f.write((words * (size // len(words) + 1))[:size] + str(i).encode())
PY
mksquashfs "$work/tree" "$work/image.sqfs" -noappend -quiet -no-progress -comp "$compressor" >/dev/null
info "image: $(du -h "$work/image.sqfs" | cut -f1), $compressor, $(unsquashfs -s "$work/image.sqfs" | sed -n 's/^Number of fragments //p') fragment blocks"

info "building the reader's driver"
dotnet build bench/squashfs/ReadAll -c Release -v quiet -nologo -clp:NoSummary -o "$work/readall" >/dev/null
driver=(dotnet "$work/readall/ReadAll.dll" "$work/image.sqfs")

"${driver[@]}" 1 7
"${driver[@]}" 2 7

(cd "$work/tree" && find . -type f | sed 's|^\./||' | sort) > "$work/list"
cat_all() { (cd "$work" && xargs -a list unsquashfs -cat image.sqfs >/dev/null); }
export -f cat_all
export work
hyperfine -N --warmup 1 --runs 7 --export-markdown "$work/hyperfine.md" \
  -n "unsquashfs -d (extract to tmpfs, all cores)" "bash -c 'rm -rf $work/out; unsquashfs -no-progress -quiet -d $work/out $work/image.sqfs >/dev/null'" \
  -n "unsquashfs -processors 1 -d (extract, one thread)" "bash -c 'rm -rf $work/out; unsquashfs -processors 1 -no-progress -quiet -d $work/out $work/image.sqfs >/dev/null'" \
  -n "unsquashfs -cat (every file)" "bash -c cat_all" >/dev/null
cat "$work/hyperfine.md"
info "load average while measuring: $(cut -d' ' -f1-3 /proc/loadavg)"
