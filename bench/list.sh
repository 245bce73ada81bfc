#!/usr/bin/env bash
# Benchmark of the managers' ticket list at a million tickets.
#
#   bench/list.sh sqlite                 # SQLite in bench/data-sqlite (seeded on first run)
#   bench/list.sh postgres URL           # PostgreSQL at URL (an empty database; seeded on first run)
#
# For PostgreSQL on the same machine use its Unix socket, as a deployment would:
#   bench/list.sh postgres 'postgres://postgres@%2Fvar%2Frun%2Fpostgresql/affdesk_bench'
# (over 127.0.0.1 libpq negotiates TLS by default, which costs both sides CPU).
#
# Builds the release binary, seeds `demo --tickets 1000000` when the database has no
# tickets yet, starts the server on 127.0.0.1:18181, logs in as the demo admin and
# runs wrk (4 connections, 2 threads) against four views: page 1, a filtered page
# (status + type + manager), a deep page (the middle of the list, by cursor) and a
# text search. Needs wrk (Debian: apt-get install wrk). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

backend=${1:-sqlite}
duration=${DURATION:-15s}
port=18181
base="http://127.0.0.1:$port"

case "$backend" in
  sqlite) export DATABASE_URL="sqlite://$PWD/bench/data-sqlite/affdesk.db"; data_dir="$PWD/bench/data-sqlite" ;;
  postgres) export DATABASE_URL="${2:?give the PostgreSQL URL}"; data_dir="$PWD/bench/data-postgres" ;;
  *) echo "usage: $0 sqlite | postgres URL" >&2; exit 2 ;;
esac
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }

cargo build --release --quiet
bin=target/release/affdesk
mkdir -p "$data_dir"
"$bin" --data-dir "$data_dir" demo --tickets "${TICKETS:-1000000}" | tail -n 4

RUST_LOG=warn "$bin" --data-dir "$data_dir" serve --bind "127.0.0.1:$port" --secret "benchmark-secret-benchmark-secret-0123" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.2; done

jar=$(mktemp)
token=$(curl -fs -c "$jar" -b "$jar" "$base/admin/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1)
curl -fs -c "$jar" -b "$jar" -o /dev/null --data-urlencode "csrf_token=$token" \
  --data-urlencode "email=admin@affdesk.test" --data-urlencode "password=demo-password" "$base/admin/login"
cookie=$(awk '$6 == "affdesk_session" { print $6 "=" $7 }' "$jar")

manager=$(curl -fs -b "$cookie" "$base/admin/tickets" | sed -n 's/.*<option value="\([0-9]*\)">Maria Keller.*/\1/p' | head -n 1)
# A cursor is a (time, id) position; the demo spans 180 days, so 90 days ago is
# the middle of the list, about 500,000 tickets deep.
middle="$(( ($(date +%s) - 90 * 86400) * 1000000 )).999999999"
deep_url="$base/admin/tickets?after=$middle&page=20000"

run() {
  local name=$1 url=$2
  local out; out=$(wrk -t2 -c4 -d"$duration" --latency -H "Cookie: $cookie" "$url")
  local rps p50 p99
  rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
  p50=$(echo "$out" | awk '$1 == "50%" { print $2 }')
  p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
  local non2xx; non2xx=$(echo "$out" | awk '/Non-2xx/ { print $NF }')
  printf '%-10s %-22s %10s req/s   p50 %8s   p99 %8s   %s\n' "$backend" "$name" "$rps" "$p50" "$p99" "${non2xx:+non-2xx: $non2xx}"
}

run "page 1" "$base/admin/tickets"
run "filtered" "$base/admin/tickets?status=open&type=general&type=technical&manager_id=$manager"
run "deep page" "$deep_url"
run "text search" "$base/admin/tickets?q=postback"
