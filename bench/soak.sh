#!/usr/bin/env bash
# Long soak of the release build: the real exporter polls the fake Peloton for several
# accounts while random faults are injected and /metrics is scraped concurrently; prints
# polls, scrapes, faults and RSS (start/end/max) for docs/reliability.md.
#
#   bench/soak.sh                 # 10 minutes, 8 accounts, 4 scrapers
#   SECONDS_TO_RUN=1800 ACCOUNTS=16 bench/soak.sh
#
# Traffic stays on loopback; the run stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
export PELOTON_SOAK_SECONDS="${SECONDS_TO_RUN:-600}"
export PELOTON_SOAK_ACCOUNTS="${ACCOUNTS:-8}"
export PELOTON_SOAK_SCRAPERS="${SCRAPERS:-4}"
cargo test --release --locked --test it -- soak:: --nocapture --test-threads=1 2>&1 \
  | grep -E '^(soak:|RSS every)|test result|panicked|FAILED'
