#!/usr/bin/env bash
# Makes sure PostgreSQL answers on 127.0.0.1:5432 for the tests of the PostgreSQL store
# (database `test`, user `postgres`, no password): installs Debian's package when it is
# missing, starts the cluster when it is down, and on a fresh install lets local TCP
# connections in without a password and creates the `test` database. Idempotent.
set -euo pipefail

ready() { pg_isready -q -h 127.0.0.1 -p 5432; }

fresh=0
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "postgres.sh: installing PostgreSQL" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fresh=1
fi
version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
if [ -z "$version" ]; then
  echo "postgres.sh: no PostgreSQL cluster under /etc/postgresql" >&2
  exit 1
fi
hba=/etc/postgresql/$version/main/pg_hba.conf
if [ "$fresh" = 1 ] && ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
  sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$version" main reload 2>/dev/null || true
fi
if ! ready; then
  echo "postgres.sh: starting PostgreSQL $version" >&2
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do ready && break; sleep 1; done
fi
if ! ready; then
  echo "postgres.sh: PostgreSQL does not answer on 127.0.0.1:5432" >&2
  exit 1
fi
if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1; then
  psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE test"
fi
