# Shared by scripts/*: paths and small helpers. Source it; it sets no traps and runs nothing.
BURROW_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Test images and other slow-to-make things live outside the checkout so that reruns and fresh clones reuse them.
BURROW_TEST_CACHE="${BURROW_TEST_CACHE:-/var/cache/burrow-test}"
# Test users: one with /etc/subuid and /etc/subgid ranges of 65536, one without.
BURROW_TEST_USER_SUB="${BURROW_TEST_USER_SUB:-burrowsub}"
BURROW_TEST_USER_NOSUB="${BURROW_TEST_USER_NOSUB:-burrownosub}"
BURROW_DEMO_USER="${BURROW_DEMO_USER:-demouser}"

# Debian packages the build, the tests and the demo need (tools the tests use as peers and oracles included).
BURROW_DEBIAN_PACKAGES=(
  gcc libc6-dev uidmap util-linux procps iproute2 busybox-static debootstrap
  squashfs-tools squashfs-tools-ng squashfuse fuse-overlayfs gocryptfs liblzma5 liblzo2-2
  runc crun podman passt slirp4netns skopeo umoci siftool docker-registry apache2-utils
  hyperfine time strace python3 ca-certificates openssl curl
  slurm-wlm munge openmpi-bin libopenmpi-dev
)

say() { printf '%s\n' "$*" >&2; }
info() { printf 'INFO:    %s\n' "$*" >&2; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() { printf 'ERROR:   %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Where the installed build lives for the end-to-end tests: a place every test user can read,
# one per checkout, because CI's clone may sit under a directory those users cannot enter.
e2e_prefix() {
  if is_root; then
    local key
    key="$(printf '%s' "$BURROW_ROOT" | sha256sum | cut -c1-12)"
    printf '/opt/burrow-e2e/%s' "$key"
  else
    printf '%s/out' "$BURROW_ROOT"
  fi
}

missing_packages() {
  local missing=()
  local p
  for p in "${BURROW_DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  # Nothing at all when nothing is missing: an empty line would read as one missing package named "".
  [ "${#missing[@]}" -eq 0 ] || printf '%s\n' "${missing[@]}"
}
