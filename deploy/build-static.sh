#!/usr/bin/env bash
# Builds the static (musl) release binary of peloton-exporter without the demo
# (`--no-default-features`: the fake Peloton is test equipment, not product),
# prints its size and checks that it runs: against the fake Peloton in a process
# of its own (crates/peloton-fake's example), /readyz must turn 200 within 30 s,
# and SIGTERM must stop it cleanly. Its --demo must say this build has no demo.
#
# Usage: deploy/build-static.sh [--no-smoke]
#
# Needs rustup (the musl target is added when missing) and musl-gcc
# (`apt-get install musl-tools`): aws-lc-sys compiles C for the target.
# TARGET overrides the target triple (default: <this machine>-unknown-linux-musl);
# CARGO_TARGET_DIR is honoured.
set -euo pipefail

usage() { echo "usage: $0 [--no-smoke]" >&2; }
die() { echo "build-static.sh: $*" >&2; exit 1; }

smoke=1
case "${1:-}" in
    "") ;;
    --no-smoke) smoke=0 ;;
    -h | --help) usage; exit 0 ;;
    *) usage; exit 2 ;;
esac

cd "$(dirname "$0")/.."
target=${TARGET:-$(uname -m)-unknown-linux-musl}

command -v musl-gcc >/dev/null || die "musl-gcc not found: apt-get install musl-tools"
if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target"
fi

revision=${PELOTON_EXPORTER_REVISION:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
PELOTON_EXPORTER_REVISION=$revision \
    cargo build --profile release-static --locked --no-default-features --target "$target" --bin peloton-exporter

target_dir=${CARGO_TARGET_DIR:-target}
bin=$target_dir/$target/release-static/peloton-exporter
[ -x "$bin" ] || die "$bin was not built"

# Static means no program interpreter and no shared libraries.
if readelf --program-headers "$bin" | grep -q INTERP; then
    die "$bin has a program interpreter: not static"
fi
if readelf --dynamic "$bin" | grep -q NEEDED; then
    die "$bin needs shared libraries: not static"
fi

size=$(stat -c %s "$bin")
echo "$bin: static, $size bytes ($(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }') MiB)"

[ "$smoke" = 1 ] || exit 0

# --- smoke test: against the fake Peloton on loopback --------------------------
if out=$("$bin" --demo 2>&1); then
    die "--demo ran in a build without the demo"
fi
case "$out" in
    *"has no demo"*) echo "smoke test: --demo says: $out" ;;
    *) die "--demo in a build without the demo said: $out" ;;
esac

work=$(mktemp -d)
pid=
fake_pid=
cleanup() {
    for p in "$pid" "$fake_pid"; do
        if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
            kill -KILL "$p" 2>/dev/null || true
            wait "$p" 2>/dev/null || true
        fi
    done
    rm -rf "$work"
}
trap cleanup EXIT

cargo build --locked -p peloton-fake --example fake_peloton
fake=$target_dir/debug/examples/fake_peloton
"$fake" --workouts 50 --port 0 >"$work/fake.json" 2>"$work/fake.log" &
fake_pid=$!
for _ in $(seq 1 100); do
    [ -s "$work/fake.json" ] && break
    kill -0 "$fake_pid" 2>/dev/null || { cat "$work/fake.log" >&2; die "the fake Peloton exited"; }
    sleep 0.1
done
field() { python3 -c 'import json, sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])' "$1" <"$work/fake.json"; }

PELOTON_REFRESH_TOKEN=$(field refresh_token) "$bin" \
    --peloton.api-url="$(field api_url)" --peloton.auth-url="$(field auth_url)" \
    --peloton.max-request-rate=50 --web.listen-address=127.0.0.1:0 \
    --storage.path="$work/state" --log.format=json >"$work/log" 2>&1 &
pid=$!

# Status code of GET $1, or nothing; bash's /dev/tcp keeps this free of curl.
http_status() {
    local line
    exec 3<>"/dev/tcp/127.0.0.1/$port" || return 0
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$1" >&3
    read -r -t 5 _ line _ <&3 || true
    exec 3>&-
    echo "$line"
}

port=
ready=
for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || { cat "$work/log" >&2; die "the exporter exited early"; }
    if [ -z "$port" ]; then
        port=$(grep -o '"addr":"127\.0\.0\.1:[0-9]*"' "$work/log" 2>/dev/null | head -n 1 | grep -o '[0-9]*"$' | tr -d '"' || true)
    fi
    if [ -n "$port" ] && [ "$(http_status /readyz 2>/dev/null)" = 200 ]; then
        ready=1
        break
    fi
    sleep 0.1
done
[ -n "$ready" ] || { cat "$work/log" >&2; die "/readyz did not turn 200 within 30 s"; }
echo "smoke test: ready against the fake Peloton on 127.0.0.1:$port (/readyz 200)"

kill -TERM "$pid"
for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
    die "did not stop within 10 s of SIGTERM"
fi
status=0
wait "$pid" || status=$?
pid=
[ "$status" = 0 ] || { cat "$work/log" >&2; die "exited with status $status after SIGTERM"; }
echo "smoke test: SIGTERM stopped it cleanly"
