#!/usr/bin/env bash
# Whole-process benchmarks for docs/benchmarks.md: the release exporter and the Python peer
# (bench/peer/peloton_peer.py) against the fake Peloton in its own process, for members
# with 100, 2,000 and 20,000 workouts. Loopback only; every phase has a time limit; about
# 10 minutes in all.
#
#   bench/run.sh                              # everything
#   BENCH_SIZES=2000 BENCH_WINDOW=10 bench/run.sh   # one size, shorter windows
#   cargo bench --bench exporter              # the in-process figures (separately)
#
#   BENCH_SIZES=20000 BENCH_EXPORTER=target/x86_64-unknown-linux-musl/release-static/peloton-exporter bench/run.sh
#                                             # the shipped static build
#
#   bench/run.sh builds                       # the shipped static build, the glibc release
#                                             # build and nginx on the same bytes, one run
#
# `builds` builds the static binary (deploy/build-static.sh --no-smoke) and the glibc
# `release` binary, both without the demo, syncs one store (BENCH_SIZES, default 20000),
# starts both builds on copies of it and nginx with the static build's bytes, then runs
# BENCH_ROUNDS rounds (default 5) of wrk (BENCH_WRK_SECONDS each, default 10) on each
# format of each server in turn, the static build's RSS sampled under its load; about
# 6 minutes. BENCH_STATIC and BENCH_GLIBC name builds made elsewhere instead, and
# BENCH_BUILDS=label=path,... any set of builds (the first is compared with the others).
#
# Needs wrk and Python 3 with prometheus-client and requests, and nginx for the "same bytes
# from nginx" rows; installs them when missing and allowed (BENCH_INSTALL=1, or CI=true).
# Results: stdout and target/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-}
case "$mode" in
  "" | builds) ;;
  *) echo "usage: $0 [builds]" >&2; exit 2 ;;
esac

if ! command -v wrk >/dev/null; then
  if [ "${BENCH_INSTALL:-${CI:-}}" = 1 ] || [ "${CI:-}" = true ]; then
    apt-get install -y -qq wrk >/dev/null
  else
    echo "wrk is missing: apt-get install -y wrk (or BENCH_INSTALL=1)" >&2
    exit 1
  fi
fi
if ! python3 -c 'import prometheus_client, requests' 2>/dev/null; then
  if [ "${BENCH_INSTALL:-${CI:-}}" = 1 ] || [ "${CI:-}" = true ]; then
    python3 -m pip install --quiet --disable-pip-version-check prometheus-client requests
  else
    echo "python3 needs prometheus-client and requests: pip install prometheus-client requests (or BENCH_INSTALL=1)" >&2
    exit 1
  fi
fi

if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  if [ "${BENCH_INSTALL:-${CI:-}}" = 1 ] || [ "${CI:-}" = true ]; then
    apt-get install -y -qq nginx-light >/dev/null 2>&1 || apt-get install -y -qq nginx >/dev/null
  else
    echo "nginx is missing: the nginx rows stay empty (apt-get install -y nginx, or BENCH_INSTALL=1)" >&2
  fi
fi

if [ "$mode" = builds ]; then
  target_dir=${CARGO_TARGET_DIR:-target}
  [ -n "${BENCH_STATIC:-}" ] || deploy/build-static.sh --no-smoke
  [ -n "${BENCH_GLIBC:-}" ] || cargo build --release --locked --no-default-features --bin peloton-exporter
  static=${BENCH_STATIC:-$target_dir/$(uname -m)-unknown-linux-musl/release-static/peloton-exporter}
  glibc=${BENCH_GLIBC:-$target_dir/release/peloton-exporter}
  export BENCH_BUILDS=${BENCH_BUILDS:-static=$static,glibc=$glibc}
  export BENCH_SIZES=${BENCH_SIZES:-20000}
  export BENCH_EXPORTER=${BENCH_EXPORTER:-$static}
fi

# BENCH_EXPORTER / BENCH_FAKE: measure builds made elsewhere (e.g. the shipped static binary).
[ -n "${BENCH_EXPORTER:-}" ] || cargo build --release --locked --bin peloton-exporter
[ -n "${BENCH_FAKE:-}" ] || cargo build --release --locked -p peloton-fake --example fake_peloton

load=$(cut -d' ' -f1 /proc/loadavg)
echo "load average now: $load on $(nproc) cores" >&2
if awk -v l="$load" 'BEGIN { exit !(l > 1.0) }'; then
  echo "warning: the machine is busy; figures will be noisy (docs/benchmarks.md records the load)" >&2
fi
exec python3 bench/run.py
