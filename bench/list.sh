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

source bench/common.sh
seed
start_server
log_in

manager=$(curl -fs -b "$cookie" "$base/admin/tickets" | sed -n 's/.*<option value="\([0-9]*\)">Maria Keller.*/\1/p' | head -n 1)
# A cursor is a (time, id) position; the demo spans 180 days, so 90 days ago is
# the middle of the list, about 500,000 tickets deep.
middle="$(( ($(date +%s) - 90 * 86400) * 1000000 )).999999999"
deep_url="$base/admin/tickets?after=$middle&page=20000"

run "page 1" -H "Cookie: $cookie" "$base/admin/tickets"
run "filtered" -H "Cookie: $cookie" "$base/admin/tickets?status=open&type=general&type=technical&manager_id=$manager"
run "deep page" -H "Cookie: $cookie" "$deep_url"
run "text search" -H "Cookie: $cookie" "$base/admin/tickets?q=postback"
