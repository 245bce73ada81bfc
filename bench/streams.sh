#!/usr/bin/env bash
# Drill: 20,000 idle event streams from one cookie (STREAMS to change), against a
# release build on SQLite with the demo data; /healthz and the list must answer.
# Results: docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 || true
cargo build --release --quiet
data=$(mktemp -d)
bin=target/release/affdesk
"$bin" --data-dir "$data" demo --tickets 20000 | tail -n 1
port=18282
base="http://127.0.0.1:$port"
RUST_LOG=warn "$bin" --data-dir "$data" serve --bind "127.0.0.1:$port" >/dev/null 2>"$data/server.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.2; done
jar=$(mktemp)
token=$(curl -fs -c "$jar" -b "$jar" "$base/admin/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1)
curl -fs -c "$jar" -b "$jar" -o /dev/null --data-urlencode "csrf_token=$token" \
  --data-urlencode "email=admin@affdesk.test" --data-urlencode "password=demo-password" "$base/admin/login"
cookie=$(awk '$6 == "affdesk_session" { print $6 "=" $7 }' "$jar")
python3 bench/streams.py "$base" "$cookie" "${STREAMS:-20000}"
echo "server memory after: $(awk '/VmRSS/ { print int($2 / 1024) " MB" }' "/proc/$server/status"), open files: $(ls "/proc/$server/fd" | wc -l)"
