#!/usr/bin/env bash
# The Reports page and its CSV at a million tickets: the last 30 days and a whole
# year, for an admin (every manager) and a manager (their own), and the list with
# its service-target column. Prints one table for the backend and the machine.
#
#   bench/reports.sh sqlite              # SQLite in bench/data-sqlite (seeded on first run)
#   bench/reports.sh postgres URL        # PostgreSQL at URL (seeded on first run)
#
# Needs wrk and curl. DURATION (default 15s) is each wrk run.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB; backend $backend"
seed 2
start_server
log_in
today=$(date -u +%F)
month=$(date -u -d '29 days ago' +%F)
year=$(date -u -d '365 days ago' +%F)
echo "tickets opened in the last 30 days: $(curl -fs -b "$cookie" "$base/admin/reports/export?from=$month&to=$today" | awk -F'","' '/^"total"/ { print $3 }')"
run "reports, 30 days"        -H "Cookie: $cookie" "$base/admin/reports?from=$month&to=$today"
run "reports, 366 days"       -H "Cookie: $cookie" "$base/admin/reports?from=$year&to=$today"
run "reports CSV, 30 days"    -H "Cookie: $cookie" "$base/admin/reports/export?from=$month&to=$today"
run "list, waiting first"     -H "Cookie: $cookie" "$base/admin/tickets?sort=waiting"
run "list (reference)"        -H "Cookie: $cookie" "$base/admin/tickets"
