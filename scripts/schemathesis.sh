#!/usr/bin/env bash
# Fuzzes the HTTP API against its own OpenAPI document (/openapi.json) with schemathesis:
# starts the built binary on a free port with a temporary data directory, and fails on any
# 5xx, an answer that breaks the document (status, content type, body schema, a non-JSON
# error), or a request the document calls invalid that the server accepts. Requests the
# document allows but the server refuses for reasons a schema cannot state (a crontab that
# never fires, a missing task) are not failures.
#
# schemathesis is installed once into a virtualenv under ~/.cache/taskcenter (override
# with TASKCENTER_SCHEMATHESIS_VENV); later runs reuse it. Bounded: SCHEMATHESIS_EXAMPLES
# cases per operation (default 100), and at most SCHEMATHESIS_TIMEOUT seconds (default 300).
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${TASKCENTER_SCHEMATHESIS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/taskcenter/schemathesis-venv}"
if [ ! -x "$venv/bin/st" ]; then
  # Python 3.12 or later where there is one: hypothesis trips over CPython 3.11.7's ast.
  python=python3
  for candidate in python3.13 python3.12 "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3; do
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      python=$candidate
      break
    fi
  done
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis>=4,<5"
fi

bin=target/debug/taskcenter
[ -x "$bin" ] || cargo build --locked -q -p taskcenter

work=$(mktemp -d)
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
"$bin" serve --listen "127.0.0.1:$port" --data-dir "$work/data" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$base/healthz" >/dev/null || { cat "$work/server.log"; exit 1; }

started=$(date +%s)
status=0
# Run from the temporary directory: schemathesis leaves its cache in the working directory.
scripts=$(pwd)/scripts
(cd "$work" && PYTHONPATH="$scripts" SCHEMATHESIS_HOOKS=schemathesis_hooks \
  timeout "${SCHEMATHESIS_TIMEOUT:-300}" "$venv/bin/st" run "$base/openapi.json" --url "$base" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-100}" \
  --request-timeout 10 \
  --workers 2 \
  --generation-database none \
  --suppress-health-check all \
  --no-color) || status=$?
echo "schemathesis: $(( $(date +%s) - started )) s, exit $status"
if [ "$status" -ne 0 ]; then
  echo "--- server log tail ---"
  tail -n 40 "$work/server.log"
fi
exit "$status"
