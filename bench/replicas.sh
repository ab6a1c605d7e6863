#!/usr/bin/env bash
# bench/replicas.sh [--quick]: adds and fires per second with 1, 2 and 3 taskcenter
# replicas sharing one PostgreSQL database (the BENCHMARKS.md section
# "PostgreSQL replicas").
#
# Builds the release binary, makes sure PostgreSQL is up (scripts/postgres.sh), then for
# each replica count: a fresh database, the replicas on loopback ports, and three loads
# driven by bench/replicas.py, spread round robin over the replicas:
#   single adds  N_SINGLE tasks due in an hour, one per request, 64 requests in flight
#   batch adds   N_BATCH tasks due in an hour, 100 per request, 8 requests in flight
#   fires        a burst of N_FIRE tasks due at one instant; fires/s is the rate at which
#                fire rows are committed between 10 % and 90 % of the burst
# Progress goes to stderr; the last line of stdout is one JSON object, per replica count.
# Raw outputs and server logs stay in bench/results/replicas-<stamp>/.
#
# --quick: small N, to check that it all still runs.
# Environment: BENCH_PG (server URL without database, default
# postgres://postgres@127.0.0.1:5432), BENCH_PORT (first port, default 18180),
# BENCH_SKIP_BUILD=1 (use the release binary already built).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

QUICK=0
case "${1:-}" in
  --quick) QUICK=1 ;;
  "") ;;
  *) echo "usage: bench/replicas.sh [--quick]" >&2; exit 2 ;;
esac
if [[ $QUICK == 1 ]]; then
  N_SINGLE=2000 N_BATCH=10000 N_FIRE=5000 LEAD_S=5
  STAMP="$(date +%Y%m%d-%H%M%S)-quick"
else
  N_SINGLE=30000 N_BATCH=200000 N_FIRE=50000 LEAD_S=15
  STAMP="$(date +%Y%m%d-%H%M%S)"
fi
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
PORT=${BENCH_PORT:-18180}
DB=tc_bench_replicas
RESULTS=$ROOT/bench/results/replicas-$STAMP
mkdir -p "$RESULTS"

log() { echo "[replicas $(date +%T)] $*" >&2; }

PIDS=()
stop_servers() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
trap stop_servers EXIT
trap 'exit 130' INT TERM

TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
  log "building the release binary"
  cargo build --release --locked -p taskcenter >&2
fi
BIN=$TARGET_DIR/release/taskcenter
scripts/postgres.sh

uptime > "$RESULTS/uptime-before.txt"
log "load before: $(cat "$RESULTS/uptime-before.txt")"

sql() { psql "$PG/$1" -Atc "$2"; }

fresh_db() {
  sql postgres "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
  sql postgres "CREATE DATABASE $DB" >/dev/null
}

# Starts $1 replicas on the fresh database; sets SERVERS (comma-separated URLs).
start_replicas() {
  local n=$1 urls=()
  for i in $(seq 1 "$n"); do
    local addr=127.0.0.1:$((PORT + i - 1))
    "$BIN" serve --listen "$addr" --store "$PG/$DB" --data-dir "$RESULTS/data-$i" \
      >>"$RESULTS/server-$n-$i.log" 2>&1 &
    PIDS+=($!)
    urls+=("http://$addr")
  done
  for url in "${urls[@]}"; do
    for _ in $(seq 200); do
      curl -sf "$url/readyz" >/dev/null 2>&1 && break
      sleep 0.05
    done
  done
  # Until every replica holds its share of the shards.
  for _ in $(seq 300); do
    [[ $(sql "$DB" "SELECT count(DISTINCT owner) FROM shard_leases WHERE expires_at > now()") == "$n" ]] && break
    sleep 0.1
  done
  SERVERS=$(IFS=,; echo "${urls[*]}")
}

driver() { python3 bench/replicas.py "$@"; }

RESULT="{"
for n in 1 2 3; do
  log "$n replica(s): single adds ($N_SINGLE)"
  fresh_db
  start_replicas "$n"
  single=$(driver adds --servers "$SERVERS" --n "$N_SINGLE" --batch 1 --inflight 64 | tail -n 1)
  log "$n replica(s): batch adds ($N_BATCH)"
  batch=$(driver adds --servers "$SERVERS" --n "$N_BATCH" --batch 100 --inflight 8 | tail -n 1)
  stop_servers

  log "$n replica(s): a burst of $N_FIRE fires"
  fresh_db
  start_replicas "$n"
  fires=$(driver fires --servers "$SERVERS" --db "$PG/$DB" --n "$N_FIRE" --lead-s "$LEAD_S" | tail -n 1)
  stop_servers

  entry="{\"single_adds\": $single, \"batch_adds\": $batch, \"fires\": $fires}"
  echo "$entry" > "$RESULTS/replicas-$n.json"
  [[ $n == 1 ]] || RESULT+=", "
  RESULT+="\"replicas_$n\": $entry"
done
RESULT+="}"
sql postgres "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
uptime > "$RESULTS/uptime-after.txt"
echo "$RESULT" > "$RESULTS/result.json"
log "results in $RESULTS"
echo "$RESULT"
