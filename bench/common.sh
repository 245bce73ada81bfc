# What bench/list.sh and bench/pages.sh share: the backend from the arguments, a
# release build, a seeded database, the server on 127.0.0.1:18181, a logged-in
# admin's cookie, and one wrk run printed as a table row. Sourced, not run.

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

# A script that brings its own binaries (bench/compare.sh) sets `bin` first.
if [ -z "${bin:-}" ]; then
  cargo build --release --quiet
  bin=target/release/affdesk
fi
mkdir -p "$data_dir"

# Seeds `demo --tickets $TICKETS` (a million by default) unless the database has it.
seed() {
  "$bin" --data-dir "$data_dir" demo --tickets "${TICKETS:-1000000}" | tail -n "${1:-4}"
}

# Starts the server with the extra flags given; `server` is its process id.
start_server() {
  RUST_LOG=warn "$bin" --data-dir "$data_dir" serve --bind "127.0.0.1:$port" \
    --secret "benchmark-secret-benchmark-secret-0123" "$@" >/dev/null 2>"$data_dir/server.log" &
  server=$!
  # Waits for the server to exit, so a run right after finds the port free.
  trap 'kill $server 2>/dev/null && wait $server 2>/dev/null; true' EXIT
  for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.2; done
  kill -0 "$server" 2>/dev/null || { echo "the server did not start: $(cat "$data_dir/server.log")" >&2; exit 1; }
}

# Logs in as the demo admin: sets `cookie` (for wrk's Cookie header).
log_in() {
  local jar token
  jar=$(mktemp)
  token=$(curl -fs -c "$jar" -b "$jar" "$base/admin/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1)
  curl -fs -c "$jar" -b "$jar" -o /dev/null --data-urlencode "csrf_token=$token" \
    --data-urlencode "email=admin@affdesk.test" --data-urlencode "password=demo-password" "$base/admin/login"
  cookie=$(awk '$6 == "affdesk_session" { print $6 "=" $7 }' "$jar")
}

# One wrk run (4 connections, 2 threads): `run NAME WRK-ARGS... URL` prints a row.
run() {
  local name=$1; shift
  local out rps p50 p99 non2xx
  out=$(wrk -t2 -c4 -d"$duration" --latency "$@")
  rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
  p50=$(echo "$out" | awk '$1 == "50%" { print $2 }')
  p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
  non2xx=$(echo "$out" | awk '/Non-2xx/ { print $NF }')
  printf '%-10s %-28s %10s req/s   p50 %8s   p99 %8s   %s\n' "$backend" "$name" "$rps" "$p50" "$p99" "${non2xx:+non-2xx: $non2xx}"
}
