# Sourced by scripts/test: three local registries (Debian's docker-registry) on 127.0.0.1 and the test images
# pushed to them. Idempotent: running registries are left alone, images are built once and cached under
# $BURROW_TEST_CACHE/registry*. All three serve one storage directory, so an image pushed once is on all three.
#   15000 anonymous     15001 htpasswd Basic auth (burrowtest / burrowpass)
#   15002 token auth; its token issuer (realm http://127.0.0.1:15003/token) is a fixture inside the E2E tests
BURROW_REGISTRY_ANON=127.0.0.1:15000
BURROW_REGISTRY_BASIC=127.0.0.1:15001
BURROW_REGISTRY_TOKEN=127.0.0.1:15002
export BURROW_REGISTRY_ANON BURROW_REGISTRY_BASIC BURROW_REGISTRY_TOKEN
export BURROW_REGISTRY_CONFIG="$BURROW_TEST_CACHE/registry-config"
export BURROW_OCI_FIXTURES="$BURROW_TEST_CACHE/registry-fixtures"

# The pids of the processes listening on 127.0.0.1:PORT.
registry_holders() {
  ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
}

registry_setup() {
  local storage="$BURROW_TEST_CACHE/registry" conf="$BURROW_REGISTRY_CONFIG"
  if ! is_root; then
    curl -fsS -o /dev/null "http://$BURROW_REGISTRY_ANON/v2/" 2>/dev/null || warn "registries are not running: run scripts/test as root once"
    return 0
  fi
  command -v docker-registry >/dev/null || die "docker-registry is missing (apt install docker-registry)"
  mkdir -p "$storage" "$conf"
  chmod 0755 "$conf"
  [ -f "$conf/htpasswd" ] || htpasswd -Bbn burrowtest burrowpass > "$conf/htpasswd"
  if [ ! -f "$conf/token.crt" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=burrow-test-token-issuer" \
      -keyout "$conf/token.key" -out "$conf/token.crt" 2>/dev/null
  fi
  chmod 0644 "$conf/token.crt" "$conf/htpasswd"
  local name port auth i holder
  for spec in "anon:15000" "basic:15001" "token:15002"; do
    name="${spec%%:*}"; port="${spec##*:}"
    case "$name" in
      anon) auth="" ;;
      basic) auth=$'auth:\n  htpasswd:\n    realm: burrow-test\n    path: '"$conf/htpasswd" ;;
      token) auth=$'auth:\n  token:\n    realm: http://127.0.0.1:15003/token\n    service: burrow-test-registry\n    issuer: burrow-test-issuer\n    rootcertbundle: '"$conf/token.crt" ;;
    esac
    cat > "$conf/$name.yml.new" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
$auth
YML
    # Reuse a running registry only if it is the one this cache started (its pid holds the port) with this config.
    if [ -f "$conf/$name.pid" ] && registry_holders "$port" | grep -qx "$(cat "$conf/$name.pid")" \
       && curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" 2>/dev/null | grep -qE '^(200|401)$' \
       && cmp -s "$conf/$name.yml.new" "$conf/$name.yml"; then
      rm -f "$conf/$name.yml.new"
      continue
    fi
    mv "$conf/$name.yml.new" "$conf/$name.yml"
    if [ -f "$conf/$name.pid" ] && kill -0 "$(cat "$conf/$name.pid")" 2>/dev/null; then
      kill "$(cat "$conf/$name.pid")" 2>/dev/null || true
    fi
    # A registry started with another configuration (another cache directory, an older run) may still hold
    # the port without a pid file here; it would answer the health check below with the wrong keys.
    for holder in $(registry_holders "$port"); do
      [ "$(cat "/proc/$holder/comm" 2>/dev/null)" = docker-registry ] && kill "$holder" 2>/dev/null || true
    done
    for i in $(seq 1 50); do
      ss -ltnH "sport = :$port" 2>/dev/null | grep -q . || break
      sleep 0.1
    done
    setsid docker-registry serve "$conf/$name.yml" > "$conf/$name.log" 2>&1 < /dev/null &
    echo $! > "$conf/$name.pid"
    local i
    for i in $(seq 1 50); do
      curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" 2>/dev/null | grep -qE '^(200|401)$' && break
      sleep 0.1
    done
    curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" | grep -qE '^(200|401)$' \
      || die "docker-registry ($name) did not start on 127.0.0.1:$port: $(tail -3 "$conf/$name.log")"
  done
  # Test images: OCI layouts made here as root (so owners, setuid bits and device nodes are real), pushed with skopeo.
  python3 "$BURROW_ROOT/scripts/test.d/oci-fixtures.py" "$BURROW_OCI_FIXTURES" "$BURROW_TEST_CACHE/images" "$BURROW_REGISTRY_ANON" \
    || die "building or pushing the OCI test images failed"
  chmod -R a+rX "$BURROW_OCI_FIXTURES"
}
registry_setup
