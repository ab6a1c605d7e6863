#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for SECONDS each (default 60), installing
# cargo-fuzz first when it is missing.
#
# The toolchain is stable; cargo-fuzz needs unstable rustc flags (sanitizers, coverage
# passes), which RUSTC_BOOTSTRAP=1 unlocks on a stable compiler.
#
# New interesting inputs go to fuzz/target/corpus-work/<target> so the committed seed
# corpora in fuzz/corpus/<target> stay small; a crash is saved under fuzz/artifacts/<target>/
# and stops the script with a non-zero exit. Reproduce one with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/artifacts/<target>/<file>   (in fuzz/)
# and then commit the input to fuzz/corpus/<target>/ so `cargo test` replays it.
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

cd "$root/fuzz"
for target in $(cargo fuzz list); do
    work="$root/fuzz/target/corpus-work/$target"
    mkdir -p "$work"
    echo "== $target: ${seconds}s"
    # Overflow checks on (cargo-fuzz's default, stated so it stays): an arithmetic
    # overflow on some input is a bug worth a crash.
    cargo fuzz run --debug-assertions "$target" "$work" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
done
