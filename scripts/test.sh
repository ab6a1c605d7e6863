#!/usr/bin/env bash
# Runs the whole test suite: unit tests, store suites and end-to-end tests of the binary.
# Starts the local services a backend's tests need when they are down.
set -euo pipefail
cd "$(dirname "$0")/.."
# One build of everything: incremental compilation would only add files to `target/`.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# The dashboard test drives a real headless Chromium: Debian's package, installed when missing.
# The benchmark driver's smoke test drives wrk and counts rows with sqlite3's shell.
need=()
for tool in chromium wrk sqlite3; do command -v "$tool" >/dev/null || need+=("$tool"); done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}"
fi
# The PostgreSQL store's tests use the machine's PostgreSQL: installed when missing,
# started when down.
scripts/postgres.sh
# The publisher tests talk to real brokers: Redis, RabbitMQ and NATS with JetStream,
# installed when missing, started when down.
scripts/brokers.sh
# RocketMQ: the rocketmq-rust name server and broker, installed from crates.io when missing
# (10-20 min once), started when down.
scripts/rocketmq.sh
# ... and a second pair that checks ACL keys, for the tests of signed requests.
scripts/rocketmq.sh auth
# The client's broker transports (cargo features nats, redis, amqp of taskcenter-client) are
# enabled by the taskcenter crate's dev-dependency; the rocketmq feature is off by default
# (a heavy client), so the tests build it in.
cargo test --workspace --locked --features taskcenter/rocketmq,taskcenter-bench/rocketmq "$@"
# The end-to-end suite once more, every server on a PostgreSQL database of its own.
TASKCENTER_TEST_STORE=postgres cargo test --locked -p taskcenter --tests --features rocketmq "$@"
# The HTTP API fuzzed against its OpenAPI document, a few minutes at most.
scripts/schemathesis.sh
