#!/usr/bin/env bash
# Ballot benchmark for the budgeting plugin (issue 7), on PostgreSQL, through the core's
# HTTP path: bearer authentication, manifest routing, casbin route check, go-plugin gRPC
# to the budgeting plugin, its eligibility checks and the voters + ballots transaction.
# Target: >= 1,000 ballots/s at 32 connections, p99 < 50 ms.
#
#   bench/budgeting/run.sh            # from anywhere; N=1000 CYCLES=3 CONNS=32 WARMUP=320 to change
#                                     # TIMELINE=1 adds latency per quarter second
#
# Everything goes through the public API (loadgen/main.go): a city admin (created with
# `kvarter admin create-user`), a neighbourhood, N residents registered and verified by
# one membership import, each signed in before the clock starts (argon2id costs ~25 ms a
# login, more on a busy machine), CYCLES cycles with feasible proposals in the voting
# phase. WARMUP further residents first vote in one more cycle, so that the connection
# pools are open as on a server in use (their ballots are not measured); then one
# ballot per measured resident per cycle (N x CYCLES, interleaved) at CONNS
# connections. Afterwards the turnout route and the plugin's tables must both hold
# exactly N voters and N ballots per measured cycle. A throwaway database is dropped at exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-1000}
CYCLES=${CYCLES:-3}
CONNS=${CONNS:-32}
WARMUP=${WARMUP:-320}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
ADDR=${ADDR:-127.0.0.1:18190}

work=$(mktemp -d)
db="kvarter_bbench_$$"
kv=""
cleanup() {
  [ -n "$kv" ] && { kill "$kv" 2>/dev/null || true; wait "$kv" 2>/dev/null || true; }
  psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/kvarter" ./cmd/kvarter
go build -o "$work/loadgen" ./bench/budgeting/loadgen
psql "$PGURL/postgres" -qc "CREATE DATABASE $db"
export KVARTER_DATABASE_URL="$PGURL/$db?sslmode=disable" KVARTER_ADDR=$ADDR KVARTER_LOG_LEVEL=warn KVARTER_DATA_DIR="$work/data"

echo 'bench admin passphrase' | "$work/kvarter" admin create-user --email admin@bench.invalid --password-stdin --role city_admin >/dev/null
"$work/kvarter" serve 2>"$work/serve.log" & kv=$!
for _ in $(seq 1 100); do curl -sf "http://$ADDR/readyz" >/dev/null && break; sleep 0.2; done
for _ in $(seq 1 100); do curl -sf "http://$ADDR/api/v1/budgeting/cycles" >/dev/null && break; sleep 0.2; done

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(go version | cut -d' ' -f3), $(psql "$PGURL/postgres" -Atc 'SHOW server_version' | cut -d' ' -f1) on the same machine"
echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$work/loadgen" -base "http://$ADDR" -n "$N" -cycles "$CYCLES" -c "$CONNS" -warmup "$WARMUP" ${TIMELINE:+-timeline} | tee "$work/out.txt"
warm=$(sed -n 's/^WARMUP_CYCLE_ID=//p' "$work/out.txt")
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
counts=$(psql "$PGURL/$db" -Atc "SELECT string_agg(v || '/' || b, ' ') FROM (SELECT cycle_id, count(*) AS v FROM plugin_budgeting.voters GROUP BY cycle_id) vv FULL JOIN (SELECT cycle_id, count(*) AS b FROM plugin_budgeting.ballots GROUP BY cycle_id) bb USING (cycle_id) WHERE cycle_id <> '$warm'")
want=$(for _ in $(seq "$CYCLES"); do printf '%s/%s ' "$N" "$N"; done | sed 's/ $//')
echo "== in the database, voters/ballots per cycle: $counts (want $want)"
[ "$counts" = "$want" ]
