#!/usr/bin/env bash
# CSV imports at size: 10,000 and 100,000 affiliates, offers and access rows into an
# empty database, each checked (--dry-run) and then applied, with the time and the
# largest resident memory of each run. Memory that stays flat from 10,000 to 100,000
# lines is the proof that a file is streamed; the ratios come from one run.
#
#   bench/import.sh sqlite
#   bench/import.sh postgres 'postgres://postgres@127.0.0.1:5432/affdesk_import?sslmode=disable'   # an empty database
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
case "$backend" in
  sqlite) url() { echo "sqlite://$work/affdesk-$1.db"; } ;;
  postgres) base_url=${2:?give the URL of an empty PostgreSQL database}; url() { echo "$base_url"; } ;;
  *) echo "usage: $0 sqlite | postgres URL" >&2; exit 2 ;;
esac
cargo build --release --quiet
bin=target/release/affdesk

write_files() { # $1 = lines
  python3 - "$1" "$work" <<'PY'
import sys
n, out = int(sys.argv[1]), sys.argv[2]
with open(f"{out}/affiliates-{n}.csv", "w") as f:
    f.write("external_id,email,name,status\n")
    for i in range(n):
        f.write(f"p{i:023x},partner{i}@network.test,Partner {i},active\n")
with open(f"{out}/offers-{n}.csv", "w") as f:
    f.write("external_id,title,privacy,payout,currency\n")
    for i in range(n):
        f.write(f"o{i:023x},Offer {i},protected,{i % 50}.{i % 100:02d},USD\n")
with open(f"{out}/access-{n}.csv", "w") as f:
    f.write("affiliate_external_id,offer_external_id,access\n")
    for i in range(n):
        f.write(f"p{i:023x},o{(i * 7) % n:023x},enabled\n")
PY
}

run() { # $1 = label, rest = the command; prints its time and largest resident memory
  local label=$1 secs kb
  shift
  /usr/bin/time -o "$work/time" -f "%e %M" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  read -r secs kb <"$work/time"
  printf "| %-34s | %7s s | %6d MB |\n" "$label" "$secs" $((kb / 1024))
}

echo "| run | time | max RSS |"
echo "|---|---|---|"
for n in 10000 100000; do
  write_files "$n"
  db=$(url "$n")
  if [ "$backend" = postgres ]; then
    psql "${db%%\?*}" -qc 'DROP SCHEMA public CASCADE; CREATE SCHEMA public;' >/dev/null
  fi
  "$bin" --database-url "$db" migrate >/dev/null
  for kind in affiliates offers access; do
    run "$kind $n --dry-run" "$bin" --database-url "$db" import "$kind" "$work/$kind-$n.csv" --dry-run
    run "$kind $n" "$bin" --database-url "$db" import "$kind" "$work/$kind-$n.csv"
  done
  run "affiliates $n again (unchanged)" "$bin" --database-url "$db" import affiliates "$work/affiliates-$n.csv"
done
