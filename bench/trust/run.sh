#!/usr/bin/env bash
# Verifying signed images, in one run on the same 100 MiB image as the same unprivileged user:
#   1. `burrow verify IMAGE.sif` (PGP, one signature over the group): wall time and bytes read from the image
#      (strace, read/pread64 on the image's descriptor), against `gpg --verify` of a detached signature over the
#      same partition bytes: target one read of the image (one hash pass per object);
#   2. `burrow exec IMAGE.sif true` with the execution control list off and activated (whitelist of the signer):
#      the list may add at most one such pass.
# Usage: bench/trust/run.sh [RUNS]   (as root, after scripts/build and scripts/setup; default 10 runs).
# Writes the figures into bench/README.md between the trust-start/trust-end markers.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/common.sh"
cd "$BURROW_ROOT"

runs="${1:-10}"
is_root || die "run it as root: it installs a private copy of the build with its own ecl.toml and runs as a test user"
[ -x "$BURROW_ROOT/out/bin/burrow" ] || die "no build in out/: run scripts/build first"
busybox="$BURROW_TEST_CACHE/images/busybox"
[ -d "$busybox" ] || die "no busybox test image at $busybox: run scripts/setup first"
for tool in hyperfine mksquashfs strace gpg setpriv python3; do
  command -v "$tool" >/dev/null || die "$tool is needed for this benchmark"
done
fixtures="$(cd "$BURROW_ROOT/.." && pwd)/shared/fixtures/sif"
[ -d "$fixtures" ] || fixtures=/work/shared/fixtures/sif
key="$fixtures/apptainer-sif/test/keys/private.asc"
[ -f "$key" ] || die "no fixture key at $key"

user="$BURROW_TEST_USER_SUB"
uid="$(id -u "$user")"; gid="$(id -g "$user")"
home="$(getent passwd "$user" | cut -d: -f6)"
work="$(mktemp -d /var/tmp/burrow-bench-trust.XXXXXX)"
chmod 0755 "$work"
trap 'rm -rf "$work"' EXIT
as_user() { setpriv --reuid="$uid" --regid="$gid" --init-groups --inh-caps=-all -- \
  env -i HOME="$home" USER="$user" PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin XDG_DATA_HOME="$work/xdg" \
  GNUPGHOME="$work/gnupg" "$@"; }

prefix="$work/burrow"
cp -a "$BURROW_ROOT/out" "$prefix"
chmod -R a+rX "$prefix"
burrow="$prefix/bin/burrow"
mkdir -m 0777 "$work/img" "$work/xdg"
mkdir -m 0700 "$work/gnupg"; chown "$uid:$gid" "$work/gnupg"

info "making a 100 MiB signed image (busybox and 100 MiB of random bytes)"
cp -a "$busybox" "$work/root"
head -c 100M /dev/urandom > "$work/root/random.bin"
mksquashfs "$work/root" "$work/root.sqfs" -quiet -noappend -comp gzip >/dev/null
image="$work/img/big.sif"
as_user "$burrow" sif new "$image"
as_user "$burrow" sif add "$image" "$work/root.sqfs" --datatype 4 --partfs 1 --parttype 2 --partarch 2 --groupid 1
as_user "$burrow" key import "$key" >/dev/null
as_user "$burrow" sign "$image" 2>/dev/null
as_user "$burrow" key export --armor "$work/img/public.asc" >/dev/null
"$burrow" key import --global "$work/img/public.asc" >/dev/null
size=$(stat -c %s "$image")

# The same partition bytes, detached-signed by the same key with gpg.
as_user gpg --batch --quiet --import "$key" 2>/dev/null
as_user gpg --batch --quiet --detach-sign --digest-algo SHA256 -o "$work/img/root.sqfs.sig" "$work/root.sqfs"
cp "$work/root.sqfs" "$work/img/root.sqfs"; chmod a+r "$work/img/root.sqfs"

bytes_read() { # bytes the command reads from the file $1 (strace -y names each descriptor's file)
  local file="$1"; shift
  as_user strace -f -y -qq -e trace=read,pread64 -e signal=none -o "$work/img/strace.out" "$@" >/dev/null 2>&1 || true
  python3 - "$work/img/strace.out" "$file" <<'PY'
import re, sys
total = 0
for line in open(sys.argv[1]):
    m = re.search(r'(?:read|pread64)\(\d+<([^>]*)>.*\)\s+=\s+(\d+)', line)
    if m and m.group(1) == sys.argv[2]:
        total += int(m.group(2))
print(total)
PY
}

info "bytes read"
verify_bytes=$(bytes_read "$image" "$burrow" verify "$image")
gpg_bytes=$(bytes_read "$work/img/root.sqfs" gpg --batch --verify "$work/img/root.sqfs.sig" "$work/img/root.sqfs")
exec_off_bytes=$(bytes_read "$image" "$burrow" exec "$image" true)
cat > "$prefix/etc/burrow/ecl.toml" <<EOF
activated = true
[[execgroup]]
  tagname = "bench"
  mode = "whitelist"
  dirpath = "$work/img"
  keyfp = ["12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84"]
EOF
exec_on_bytes=$(bytes_read "$image" "$burrow" exec "$image" true)
rm "$prefix/etc/burrow/ecl.toml"

info "wall time ($runs runs each)"
as_user hyperfine -N --warmup 2 --runs "$runs" --export-markdown "$work/img/verify.md" \
  -n "burrow verify (100 MiB SIF)" "$burrow verify $image" \
  -n "gpg --verify (same 100 MiB, detached)" "gpg --batch --verify $work/img/root.sqfs.sig $work/img/root.sqfs" >/dev/null 2>&1
as_user hyperfine -N --warmup 2 --runs "$runs" --export-markdown "$work/img/exec-off.md" \
  -n "burrow exec (ECL off)" "$burrow exec $image true" >/dev/null 2>&1
cat > "$prefix/etc/burrow/ecl.toml" <<EOF
activated = true
[[execgroup]]
  tagname = "bench"
  mode = "whitelist"
  dirpath = "$work/img"
  keyfp = ["12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84"]
EOF
as_user hyperfine -N --warmup 2 --runs "$runs" --export-markdown "$work/img/exec-on.md" \
  -n "burrow exec (ECL activated, whitelist)" "$burrow exec $image true" >/dev/null 2>&1

{
  echo "<!-- trust-start -->"
  echo "Image: $size bytes (a 100 MiB random file in busybox, gzip squashfs; one PGP signature over group 1)."
  echo
  echo "| command | bytes read from the image |"
  echo "|:---|---:|"
  echo "| \`burrow verify\` | $verify_bytes |"
  echo "| \`gpg --verify\` (detached, the partition alone) | $gpg_bytes |"
  echo "| \`burrow exec IMAGE true\`, ECL off | $exec_off_bytes |"
  echo "| \`burrow exec IMAGE true\`, ECL activated | $exec_on_bytes |"
  echo
  cat "$work/img/verify.md"
  tail -n +3 "$work/img/exec-off.md"
  tail -n +3 "$work/img/exec-on.md"
  echo "- load average while measuring: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "<!-- trust-end -->"
} > "$work/figures.md"
cat "$work/figures.md"
python3 - "$BURROW_ROOT/bench/README.md" "$work/figures.md" <<'PY'
import re, sys
readme, figures = open(sys.argv[1]).read(), open(sys.argv[2]).read().strip()
new = re.sub(r"<!-- trust-start -->.*<!-- trust-end -->", lambda _: figures, readme, flags=re.S)
if new == readme and "<!-- trust-start -->" not in readme:
    new = readme.rstrip() + "\n\n## Verifying signed images\n\n`bench/trust/run.sh` (figures below from its latest run).\n\n" + figures + "\n"
open(sys.argv[1], "w").write(new)
PY
info "figures written to bench/README.md"
