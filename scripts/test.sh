#!/usr/bin/env bash
# Runs the whole test suite: unit tests, store suites and end-to-end tests of the binary.
# Starts the local services a backend's tests need when they are down.
set -euo pipefail
cd "$(dirname "$0")/.."
# The dashboard test drives a real headless Chromium: Debian's package, installed when missing.
command -v chromium >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }
# The PostgreSQL store's tests use the machine's PostgreSQL: installed when missing,
# started when down.
scripts/postgres.sh
cargo test --workspace --locked "$@"
# The end-to-end suite once more, every server on a PostgreSQL database of its own.
TASKCENTER_TEST_STORE=postgres cargo test --locked -p taskcenter --tests "$@"
