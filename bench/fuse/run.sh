#!/usr/bin/env bash
# FUSE server micro-benchmark: 20,000 small files read with tar (lstat, open, read, close each) through Burrow's
# server (serving an in-memory tree, so this measures the protocol server, not a squashfs reader), on the host disk,
# and through Debian's squashfuse_ll on an uncompressed squashfs of the same tree; cold (fresh mount; the host disk
# after dropping the page cache, which needs root) and warm, with 1 and 2 parallel readers; and the server's options
# against each other. The harness is the test FuseBenchmark (tests/Burrow.Tests/Fuse); the mounts are made by an
# unprivileged user (burrowsub when run as root) in a user namespace, as a container's are.
# Usage: bench/fuse/run.sh   (writes the figures into bench/README.md)
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/common.sh"
cd "$BURROW_ROOT"

for tool in mksquashfs squashfuse_ll unshare setpriv tar python3; do
  command -v "$tool" >/dev/null || die "$tool is needed for this benchmark"
done
is_root || warn "not root: the host disk's cold figure will be warm (the page cache cannot be dropped)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dotnet build tests/Burrow.Tests -c Release -nologo -v quiet >/dev/null
BURROW_FUSE_BENCH="$work/section.md" dotnet test tests/Burrow.Tests -c Release --no-build -nologo -v quiet \
  --filter 'FullyQualifiedName~FuseBenchmark' >&2
[ -s "$work/section.md" ] || die "the benchmark wrote no figures (was it skipped? see above)"
cat "$work/section.md"

python3 - "$work/section.md" bench/README.md <<'PY'
import re, sys
section = open(sys.argv[1]).read().strip()
readme = sys.argv[2]
text = open(readme).read()
begin, end = "<!-- fuse-start -->", "<!-- fuse-end -->"
block = f"{begin}\n{section}\n{end}"
if begin in text:
    text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
else:
    text = text.rstrip() + "\n\n## FUSE server\n\n`bench/fuse/run.sh` (figures below from its latest run).\n\n" + block + "\n"
open(readme, "w").write(text)
PY
