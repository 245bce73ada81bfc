#!/usr/bin/env bash
# Every page at a million tickets: the list, a thread, deep pages, text search, the
# API list, CSV export, a bulk close of 10,000 tickets, uploads, and the server's
# memory after mixed load. Prints one table for the backend and the machine.
#
#   bench/pages.sh sqlite                 # SQLite in bench/data-sqlite (seeded on first run)
#   bench/pages.sh postgres URL           # PostgreSQL at URL (an empty database; seeded on first run)
#
# Needs wrk and curl (Debian: apt-get install wrk curl). Loopback only. The bulk
# close changes the data (about 20,000 tickets end closed): later runs see that.
# DURATION (default 15s) is each wrk run; MIXED (default 300) the seconds of mixed load.
set -euo pipefail
cd "$(dirname "$0")/.."

mixed=${MIXED:-300}
source bench/common.sh
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB, $(uname -sr); backend $backend"
if [ "$backend" = postgres ] && command -v psql >/dev/null; then
  echo "postgresql: $(psql "$DATABASE_URL" -Atc "SELECT split_part(version(), ' ', 2) || ', autovacuum ' || current_setting('autovacuum') || ', shared_buffers ' || current_setting('shared_buffers')" 2>/dev/null)"
fi
seed_start=$(date +%s.%N)
seed 2
printf 'demo (or nothing when seeded already): %.1f s\n' "$(echo "$(date +%s.%N) - $seed_start" | bc)"

start_server --api-rate-limit 100000000
rss() { awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$server/status"; }
hwm() { awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$server/status"; }
# Starts the peak (VmHWM) again from the memory held now (Linux: clear_refs 5).
reset_hwm() { echo 5 > "/proc/$server/clear_refs"; }
# RSS split: the server's own memory, and pages of the database file it maps
# (SQLite reads through a memory map: the kernel's page cache, shared, reclaimable).
rss_split() { awk '/RssAnon/ { a = int($2 / 1024) } /RssFile/ { f = int($2 / 1024) } END { printf "%d MB own + %d MB mapped files: the program and the database", a, f }' "/proc/$server/status"; }

log_in
csrf=$(curl -fs -b "$cookie" "$base/admin/profile" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1)
key=$("$bin" --data-dir "$data_dir" apikey --email admin@affdesk.test | tail -n 1)

manager=$(curl -fs -b "$cookie" "$base/admin/tickets" | sed -n 's/.*<option value="\([0-9]*\)">Maria Keller.*/\1/p' | head -n 1)
# The thread measured: an open ticket the API lists, given two attachments.
thread=$(curl -fs -H "API-Key: $key" "$base/3.0/admin/tickets?limit=1&status[]=open" | sed -n 's/.*"id":"\{0,1\}\([0-9]*\).*/\1/p' | head -n 1)
printf 'PK\005\006%018d' 0 | head -c 22 > /tmp/bench-a.zip
for n in 1 2; do
  curl -fs -o /dev/null -b "$cookie" -F "csrf_token=$csrf" -F "body=Bench file $n" -F "files=@/tmp/bench-a.zip;filename=b$n.zip" \
    "$base/admin/tickets/$thread/messages"
done

run "list page 1" -H "Cookie: $cookie" "$base/admin/tickets"
run "list filtered" -H "Cookie: $cookie" "$base/admin/tickets?status=open&type=general&type=technical&manager_id=$manager"
run "thread" -H "Cookie: $cookie" "$base/admin/tickets/$thread"
run "page=400 typed" -H "Cookie: $cookie" "$base/admin/tickets?page=400"
run "search postback" -H "Cookie: $cookie" "$base/admin/tickets?q=postback"
run "search payout postback" -H "Cookie: $cookie" "$base/admin/tickets?q=payout+postback"
run "API list, 100 a page" -H "API-Key: $key" "$base/3.0/admin/tickets?limit=100"

# CSV export of about 100,000 tickets (one manager's), with the server's memory before and after.
before=$(rss)
t0=$(date +%s.%N)
rows=$(curl -fs -b "$cookie" "$base/admin/tickets/export?manager_id=$manager" | wc -l)
t1=$(date +%s.%N)
printf '%-10s %-28s %10.0f rows/s   (%d rows; RSS %d -> %d MB: %s)\n' "$backend" "CSV export" \
  "$(echo "($rows - 1) / ($t1 - $t0)" | bc -l)" "$((rows - 1))" "$before" "$(rss)" "$(rss_split)"

# Bulk close of every ticket matching a filter of about 10,000 or more.
filter="status=open&type=financial&manager_id=$manager"
matching=$(curl -fs -b "$cookie" "$base/admin/tickets?$filter" | sed -n 's/.*<strong>\([0-9,]*\) tickets<\/strong>.*/\1/p' | head -n 1)
t0=$(date +%s.%N)
curl -fs -o /dev/null -b "$cookie" --data "csrf_token=$csrf&action=close&all_matching=1&confirm=1&$filter" "$base/admin/tickets/bulk"
t1=$(date +%s.%N)
printf '%-10s %-28s %10.2f s      (%s tickets: %.2f s for 10,000)\n' "$backend" "bulk close all matching" \
  "$(echo "$t1 - $t0" | bc -l)" "$matching" "$(echo "($t1 - $t0) * 10000 / (${matching//,/} + 0.001)" | bc -l)"
curl -fs -H "API-Key: $key" -o /dev/null "$base/healthz"
# The deep page again, right after the bulk close changed thousands of tickets: on
# PostgreSQL it reads the table for rows not yet vacuumed (see the machine line).
run "page=400 after bulk close" -H "Cookie: $cookie" "$base/admin/tickets?page=400"

# Uploads: 5 files of 5 MB, once, then ten such uploads at once: the peak memory.
for n in 1 2 3 4 5; do { printf 'PK\003\004'; head -c $((5 * 1000 * 1000 - 4)) /dev/urandom; } > "/tmp/bench-$n.zip"; done
upload() {
  curl -fs -o /dev/null -b "$cookie" -F "csrf_token=$csrf" -F "body=Five files" \
    -F "files=@/tmp/bench-1.zip" -F "files=@/tmp/bench-2.zip" -F "files=@/tmp/bench-3.zip" \
    -F "files=@/tmp/bench-4.zip" -F "files=@/tmp/bench-5.zip" "$base/admin/tickets/$thread/messages" || true
}
reset_hwm
base_hwm=$(hwm)
upload
one=$(hwm)
uploads=()
for _ in $(seq 1 10); do upload & uploads+=($!); done
wait "${uploads[@]}"
ten=$(hwm)
printf '%-10s %-28s peak +%d MB for one, +%d MB for ten at once (from %d MB)\n' "$backend" "upload 5 x 5 MB" \
  "$((one - base_hwm))" "$((ten - base_hwm))" "$base_hwm"

# Mixed load for MIXED seconds: list, filtered, thread, search, API; then the memory.
cat > /tmp/bench-mixed.lua <<LUA
local paths = {
  "/admin/tickets", "/admin/tickets?status=open&type=general&manager_id=$manager",
  "/admin/tickets/$thread", "/admin/tickets?q=postback", "/admin/tickets?page=400",
}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1], { ["Cookie"] = "$cookie" })
end
LUA
reset_hwm
wrk -t2 -c4 -d"${mixed}s" -s /tmp/bench-mixed.lua "$base" >/dev/null
printf '%-10s %-28s %d MB RSS after %d s of mixed load (peak during it %d MB; %s)\n' "$backend" "memory" "$(rss)" "$mixed" "$(hwm)" "$(rss_split)"
