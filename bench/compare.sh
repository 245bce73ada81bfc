#!/usr/bin/env bash
# Two builds of the managers' list on one SQLite database, alternating: the way a
# change is judged on a shared machine (docs/benchmarks.md, "Ratios, not absolute
# numbers").
#
#   bench/compare.sh BEFORE-BINARY AFTER-BINARY    # e.g. two copies of target/release/affdesk
#
# Uses bench/data-sqlite (seed it with bench/list.sh sqlite first). ROUNDS rounds
# (default 3), each starting the first build, then the second, on a fresh server;
# bench/list.sh's four views, DURATION each (default 10 s). Prints one row per run:
# round, build, view, req/s, p99.
set -euo pipefail
cd "$(dirname "$0")/.."
before=${1:?give the binary before the change}
after=${2:?give the binary after the change}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
data_dir="$PWD/bench/data-sqlite"
[ -f "$data_dir/affdesk.db" ] || { echo "seed bench/data-sqlite first: bench/list.sh sqlite" >&2; exit 1; }
export DATABASE_URL="sqlite://$data_dir/affdesk.db"
duration=${DURATION:-10s}
port=18181
base="http://127.0.0.1:$port"

run() {
  local name=$1; shift
  local out
  out=$(wrk -t2 -c4 -d"$duration" --latency "$@")
  printf '%s\t%-6s\t%-12s\t%10s req/s\tp99 %8s\n' "$round" "$build" "$name" \
    "$(echo "$out" | awk '/Requests\/sec/ { print $2 }')" "$(echo "$out" | awk '$1 == "99%" { print $2 }')"
}

for round in $(seq 1 "${ROUNDS:-3}"); do
  for build in before after; do
    bin=$before; [ "$build" = after ] && bin=$after
    RUST_LOG=warn "$bin" --data-dir "$data_dir" serve --bind "127.0.0.1:$port" \
      --secret "benchmark-secret-benchmark-secret-0123" >/dev/null 2>"$data_dir/server.log" &
    server=$!
    for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.2; done
    jar=$(mktemp)
    token=$(curl -fs -c "$jar" -b "$jar" "$base/admin/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1)
    curl -fs -c "$jar" -b "$jar" -o /dev/null --data-urlencode "csrf_token=$token" \
      --data-urlencode "email=admin@affdesk.test" --data-urlencode "password=demo-password" "$base/admin/login"
    cookie=$(awk '$6 == "affdesk_session" { print $6 "=" $7 }' "$jar")
    rm -f "$jar"
    manager=$(curl -fs -b "$cookie" "$base/admin/tickets" | sed -n 's/.*<option value="\([0-9]*\)">Maria Keller.*/\1/p' | head -n 1)
    middle="$(( ($(date +%s) - 90 * 86400) * 1000000 )).999999999"
    run "page 1" -H "Cookie: $cookie" "$base/admin/tickets"
    run "filtered" -H "Cookie: $cookie" "$base/admin/tickets?status=open&type=general&type=technical&manager_id=$manager"
    run "deep page" -H "Cookie: $cookie" "$base/admin/tickets?after=$middle&page=20000"
    run "text search" -H "Cookie: $cookie" "$base/admin/tickets?q=postback"
    kill "$server"; wait "$server" 2>/dev/null || true
  done
done
