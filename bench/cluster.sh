#!/usr/bin/env bash
# Two affdesk instances on one PostgreSQL, behind HAProxy on loopback, with
# attachments in a local S3-compatible server (moto). Output: docs/deploy.md.
#
#   bench/cluster.sh
#
# Needs psql, HAProxy (apt-get install haproxy) and python3 (moto goes into a
# virtual environment under target/). Uses the database affdesk_cluster (dropped
# and made anew) and the ports 18180-18182 and 18190.
set -euo pipefail
cd "$(dirname "$0")/.."

admin_url="${CLUSTER_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export CLUSTER_DATABASE_URL="${CLUSTER_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/affdesk_cluster}"
export DRILL_PSQL="$CLUSTER_DATABASE_URL"
export CLUSTER_DATA="$PWD/bench/data-cluster"
export AWS_ACCESS_KEY_ID=cluster AWS_SECRET_ACCESS_KEY=cluster-secret

command -v haproxy >/dev/null || { echo "install HAProxy first: apt-get install haproxy" >&2; exit 1; }
if [ ! -x target/ci-venv/bin/moto_server ]; then
  python3 -m venv target/ci-venv && target/ci-venv/bin/pip install -q 'moto[server]'
fi
cargo build --release --quiet

psql "$admin_url" -qc "DROP DATABASE IF EXISTS affdesk_cluster WITH (FORCE)" -c "CREATE DATABASE affdesk_cluster"
rm -rf "$CLUSTER_DATA"; mkdir -p "$CLUSTER_DATA"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

target/ci-venv/bin/moto_server -H 127.0.0.1 -p 18190 >"$CLUSTER_DATA/moto.log" 2>&1 & pids+=($!)
for _ in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:18190 && break; sleep 0.1; done
curl -s -X PUT http://127.0.0.1:18190/affdesk-cluster >/dev/null
export CLUSTER_STORAGE="s3://affdesk-cluster?endpoint=http://127.0.0.1:18190&region=us-east-1"

cat >"$CLUSTER_DATA/haproxy.cfg" <<CFG
global
    maxconn 1000
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    # A connection refused (a dead instance) is tried again on the other one: the
    # request never reached the dead one, so even a POST is safe to redispatch.
    retries 2
    option redispatch 1
    # No idle server connections kept: one to a dead instance would fail a request
    # that reached nobody, instead of being refused and redispatched.
    http-reuse never
frontend desk
    bind 127.0.0.1:18180
    default_backend affdesk
backend affdesk
    balance roundrobin
    option forwardfor
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 500ms fall 2 rise 2
    http-response set-header X-Served-By %s
    server A 127.0.0.1:18181 check
    server B 127.0.0.1:18182 check
CFG
haproxy -f "$CLUSTER_DATA/haproxy.cfg" -db >"$CLUSTER_DATA/haproxy.log" 2>&1 & pids+=($!)

python3 bench/cluster.py
