#!/usr/bin/env bash
# scripts/crash-loop.sh [KILLS]: the crash-loop probe (crates/taskcenter/tests/crash_loop.rs)
# run long, in release mode: adds, fires and acks against the real binary while it is
# killed with `kill -9` KILLS times (default 50) at random moments and restarted on the
# same data. The test's output goes to stderr; stdout gets its JSON lines, the last one
# {"kills": K, "accepted": A, "delivered": D, "lost": L, "doubled": X, "seed": S, "store": …}.
# The exit status is the test's (it fails when anything was lost or doubled).
#
# Environment, passed to the test:
#   TASKCENTER_TEST_STORE=postgres   run the server on PostgreSQL (started when down)
#   TASKCENTER_CRASH_SEED=S          replay the kill moments and load choices of a run
#   TASKCENTER_CRASH_PACE_MS=MS      pause between single adds (default 5)
#   TASKCENTER_CRASH_SOAK_SECS=SECS  a soak instead: no kills, load for SECS, and the
#                                    server's RSS printed every TASKCENTER_CRASH_RSS_EVERY_SECS
#                                    (default 30) as {"t_s": …, "rss_kib": …} lines
set -euo pipefail
cd "$(dirname "$0")/.."
export TASKCENTER_CRASH_KILLS="${1:-${TASKCENTER_CRASH_KILLS:-50}}"
if [[ "${TASKCENTER_TEST_STORE:-}" == postgres ]]; then
  scripts/postgres.sh
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --release --locked -p taskcenter --test crash_loop -- --nocapture 2>&1 \
  | tee "$log" >&2 || status=$?
grep -E '^\{"(t_s|kills)"' "$log" || true
exit "$status"
