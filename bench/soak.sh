#!/usr/bin/env bash
# Soak: 10 minutes (SOAK_SECONDS) of mixed traffic against a release build on
# PostgreSQL with 100,000 tickets; memory, open files, latencies and errors.
# Results: docs/reliability.md. Needs psql and python3. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

db="${SOAK_DATABASE_URL:-postgres://postgres@%2Fvar%2Frun%2Fpostgresql/affdesk_soak}"
admin_url="${SOAK_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
data="$PWD/bench/data-soak"
export DRILL_PSQL="${SOAK_PSQL:-postgres://postgres@127.0.0.1:5432/affdesk_soak}"
export DRILL_DATABASE_URL="$db" DRILL_PORT=18183

cargo build --release --quiet
psql "$admin_url" -qc "DROP DATABASE IF EXISTS affdesk_soak WITH (FORCE)" -c "CREATE DATABASE affdesk_soak"
rm -rf "$data"; mkdir -p "$data"
export DATABASE_URL="$db"
target/release/affdesk --data-dir "$data" demo --tickets "${SOAK_TICKETS:-100000}" | tail -n 1
export SOAK_KEY=$(target/release/affdesk --data-dir "$data" apikey --email admin@affdesk.test)
RUST_LOG=warn target/release/affdesk --data-dir "$data" serve --bind 127.0.0.1:18183 \
  --secret soak-secret-soak-secret-soak-secret-0 --login-attempts 100000 --api-rate-limit 1000000 >"$data/server.log" 2>&1 &
export SOAK_PID=$!
trap 'kill $SOAK_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -fs http://127.0.0.1:18183/healthz >/dev/null && break; sleep 0.2; done
python3 bench/soak.py
