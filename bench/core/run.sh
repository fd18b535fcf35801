#!/usr/bin/env bash
# Load benchmark for the core (issue 2), on PostgreSQL, with wrk on this machine:
#  1. GET /api/v1/me with a bearer token vs a bare Fiber handler returning fixed JSON,
#     measured in the same run (target: kvarter >= 40% of bare, p99 < 10 ms);
#  2. /me latency while a password-guessing flood hits /auth/login (throttling must keep
#     the flood from starving other requests);
#  3. the cost of one login's argon2id hash (Go benchmark).
# Usage: bench/core/run.sh   (DUR=10s CONNS=32 to change; needs PostgreSQL on 127.0.0.1)
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR=${DUR:-10s}
CONNS=${CONNS:-32}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

work=$(mktemp -d)
db="kvarter_bench_$$"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/kvarter" ./cmd/kvarter
go build -o "$work/barefiber" ./bench/core/barefiber
psql "$PGURL/postgres" -qc "CREATE DATABASE $db"
export KVARTER_DATABASE_URL="$PGURL/$db?sslmode=disable" KVARTER_ADDR=127.0.0.1:18180 KVARTER_LOG_LEVEL=warn

echo 'bench user passphrase' | "$work/kvarter" admin create-user --email bench@bench.example --password-stdin >/dev/null
echo 'victim user passphrase' | "$work/kvarter" admin create-user --email victim@bench.example --password-stdin >/dev/null
"$work/kvarter" serve 2>"$work/serve.log" & pids+=($!)
"$work/barefiber" -addr 127.0.0.1:18181 & pids+=($!)
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:18180/readyz >/dev/null && curl -sf http://127.0.0.1:18181/api/v1/me >/dev/null && break; sleep 0.2; done
token=$(curl -sf http://127.0.0.1:18180/api/v1/auth/login -H 'Content-Type: application/json' \
  -d '{"email":"bench@bench.example","password":"bench user passphrase"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')

rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
p99() { awk '$1=="99%" {print $2}' "$1"; }
threads=$(( CONNS < 2 ? 1 : 2 ))

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(go version | cut -d' ' -f3)"
echo "== 1. GET /api/v1/me, $CONNS connections, $DUR each (warm-up 2s first)"
wrk -t$threads -c$CONNS -d2s -H "Authorization: Bearer $token" http://127.0.0.1:18180/api/v1/me >/dev/null
wrk -t$threads -c$CONNS -d2s http://127.0.0.1:18181/api/v1/me >/dev/null
wrk -t$threads -c$CONNS -d$DUR --latency http://127.0.0.1:18181/api/v1/me >"$work/bare.txt"
wrk -t$threads -c$CONNS -d$DUR --latency -H "Authorization: Bearer $token" http://127.0.0.1:18180/api/v1/me >"$work/me.txt"
grep -q 'Non-2xx' "$work/me.txt" && { echo "kvarter answered errors:"; cat "$work/me.txt"; exit 1; }
bare=$(rps "$work/bare.txt"); me=$(rps "$work/me.txt")
printf 'bare fiber : %10s req/s  p99 %s\n' "$bare" "$(p99 "$work/bare.txt")"
printf 'kvarter /me: %10s req/s  p99 %s\n' "$me" "$(p99 "$work/me.txt")"
awk -v a="$me" -v b="$bare" 'BEGIN {printf "ratio      : %.0f%% of bare Fiber (target >= 40%%)\n", 100*a/b}'

echo "== 2. /me at 16 connections, alone and during a login flood (16 connections of wrong passwords)"
wrk -t1 -c16 -d$DUR --latency -H "Authorization: Bearer $token" http://127.0.0.1:18180/api/v1/me >"$work/alone.txt"
wrk -t1 -c16 -d$DUR -s bench/core/login-flood.lua http://127.0.0.1:18180/api/v1/auth/login >"$work/flood.txt" &
floodpid=$!
sleep 0.5
wrk -t1 -c16 -d$DUR --latency -H "Authorization: Bearer $token" http://127.0.0.1:18180/api/v1/me >"$work/during.txt"
wait $floodpid
printf '/me alone        : %10s req/s  p99 %s\n' "$(rps "$work/alone.txt")" "$(p99 "$work/alone.txt")"
printf '/me during flood : %10s req/s  p99 %s\n' "$(rps "$work/during.txt")" "$(p99 "$work/during.txt")"
printf 'flood            : %10s login attempts/s (all refused: 401 then 429)\n' "$(rps "$work/flood.txt")"
curl -s -o /dev/null -w 'victim right password during lockout: HTTP %{http_code}\n' http://127.0.0.1:18180/api/v1/auth/login \
  -H 'Content-Type: application/json' -d '{"email":"victim@bench.example","password":"victim user passphrase"}'

echo "== 3. one login's argon2id hash (19 MiB, t=2, p=1)"
go test -run '^$' -bench BenchmarkHasher_Hash -benchtime 20x ./core/password | grep Benchmark
