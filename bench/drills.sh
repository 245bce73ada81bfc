#!/usr/bin/env bash
# Fault drills against a release build on PostgreSQL: a database restart under
# writes, an exhausted pool, a full attachment folder, SIGKILL during a bulk action
# and an upload, a client trickling its body. Results: docs/reliability.md.
#
#   bench/drills.sh                  # every drill
#   bench/drills.sh restart kill     # some of them
#
# Needs root (it restarts the local PostgreSQL cluster and mounts a small tmpfs),
# psql, and python3. Uses the database affdesk_drill (dropped and made anew).
set -euo pipefail
cd "$(dirname "$0")/.."

export DRILL_PSQL="${DRILL_PSQL:-postgres://postgres@127.0.0.1:5432/affdesk_drill}"
export DRILL_DATABASE_URL="${DRILL_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/affdesk_drill}"
export DRILL_DATA="$PWD/bench/data-drill"
admin_url="${DRILL_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

cargo build --release --quiet
psql "$admin_url" -qc "DROP DATABASE IF EXISTS affdesk_drill WITH (FORCE)" -c "CREATE DATABASE affdesk_drill"
rm -rf "$DRILL_DATA"; mkdir -p "$DRILL_DATA"
DATABASE_URL="$DRILL_DATABASE_URL" target/release/affdesk --data-dir "$DRILL_DATA" demo --tickets 20000 | tail -n 1
python3 bench/drills.py "$@"
