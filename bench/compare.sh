#!/usr/bin/env bash
# Two builds of the managers' list on one SQLite database, alternating: the way a
# change is judged on a shared machine (docs/benchmarks.md, "Ratios, not absolute
# numbers").
#
#   bench/compare.sh BEFORE-BINARY AFTER-BINARY    # e.g. two copies of target/release/affdesk
#
# Uses bench/data-sqlite (seed it with bench/list.sh sqlite first). ROUNDS rounds
# (default 3), each starting the first build, then the second, on a fresh server;
# bench/list.sh's four views, DURATION each (default 10 s). One row per run, named
# by its round and build.
set -euo pipefail
cd "$(dirname "$0")/.."
before=${1:?give the binary before the change}
after=${2:?give the binary after the change}
bin=$before
DURATION=${DURATION:-10s}
set -- sqlite
source bench/common.sh
[ -f "$data_dir/affdesk.db" ] || { echo "seed bench/data-sqlite first: bench/list.sh sqlite" >&2; exit 1; }

for round in $(seq 1 "${ROUNDS:-3}"); do
  for build in before after; do
    bin=$before; [ "$build" = after ] && bin=$after
    backend="$round $build"
    start_server
    log_in
    manager=$(curl -fs -b "$cookie" "$base/admin/tickets" | sed -n 's/.*<option value="\([0-9]*\)">Maria Keller.*/\1/p' | head -n 1)
    middle="$(( ($(date +%s) - 90 * 86400) * 1000000 )).999999999"
    run "page 1" -H "Cookie: $cookie" "$base/admin/tickets"
    run "filtered" -H "Cookie: $cookie" "$base/admin/tickets?status=open&type=general&type=technical&manager_id=$manager"
    run "deep page" -H "Cookie: $cookie" "$base/admin/tickets?after=$middle&page=20000"
    run "text search" -H "Cookie: $cookie" "$base/admin/tickets?q=postback"
    kill "$server"; wait "$server" 2>/dev/null || true
  done
done
