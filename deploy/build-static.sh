#!/usr/bin/env bash
# Builds the static (musl) release binary of peloton-exporter, prints its size
# and checks that it runs: with --demo, /readyz must turn 200 within 30 s, and
# SIGTERM must stop it cleanly.
#
# Usage: deploy/build-static.sh [--no-smoke]
#
# Needs rustup (the musl target is added when missing) and musl-gcc
# (`apt-get install musl-tools`): aws-lc-sys compiles C for the target.
# TARGET overrides the target triple (default: <this machine>-unknown-linux-musl).
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
    cargo build --release --locked --target "$target" --bin peloton-exporter

bin=target/$target/release/peloton-exporter
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

# --- smoke test: --demo on a free loopback port ------------------------------
work=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

"$bin" --demo --web.listen-address=127.0.0.1:0 --storage.path="$work/state" \
    --log.format=json >"$work/log" 2>&1 &
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
    kill -0 "$pid" 2>/dev/null || { cat "$work/log" >&2; die "--demo exited early"; }
    if [ -z "$port" ]; then
        port=$(grep -o '"addr":"127\.0\.0\.1:[0-9]*"' "$work/log" | head -n 1 | grep -o '[0-9]*"$' | tr -d '"' || true)
    fi
    if [ -n "$port" ] && [ "$(http_status /readyz 2>/dev/null)" = 200 ]; then
        ready=1
        break
    fi
    sleep 0.1
done
[ -n "$ready" ] || { cat "$work/log" >&2; die "--demo: /readyz did not turn 200 within 30 s"; }
echo "smoke test: --demo is ready on 127.0.0.1:$port (/readyz 200)"

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
