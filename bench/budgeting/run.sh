#!/usr/bin/env bash
# Ballot benchmark for the budgeting plugin (issue 7), on PostgreSQL, through the core's
# HTTP path: bearer authentication, manifest routing, casbin route check, go-plugin gRPC
# to the budgeting plugin, its eligibility checks, sealing, and the voters + sealed
# ballot statement.
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
# exactly N voters and N ballots (sealed: the cycles are still voting) per measured
# cycle. A throwaway database is dropped at exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-1000}
CYCLES=${CYCLES:-3}
CONNS=${CONNS:-32}
WARMUP=${WARMUP:-320}
ADDR=${ADDR:-127.0.0.1:18190}
. bench/lib.sh
bench_core bbench ./bench/budgeting/loadgen /api/v1/budgeting/cycles
echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$work/loadgen" -base "http://$ADDR" -n "$N" -cycles "$CYCLES" -c "$CONNS" -warmup "$WARMUP" ${TIMELINE:+-timeline} | tee "$work/out.txt"
warm=$(sed -n 's/^WARMUP_CYCLE_ID=//p' "$work/out.txt")
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
counts=$(psql "$PGURL/$db" -Atc "SELECT string_agg(v || '/' || b, ' ') FROM (SELECT cycle_id, count(*) AS v FROM plugin_budgeting.voters GROUP BY cycle_id) vv FULL JOIN (SELECT cycle_id, count(*) AS b FROM (SELECT cycle_id FROM plugin_budgeting.ballots UNION ALL SELECT cycle_id FROM plugin_budgeting.sealed_ballots) x GROUP BY cycle_id) bb USING (cycle_id) WHERE cycle_id <> '$warm'")
want=$(for _ in $(seq "$CYCLES"); do printf '%s/%s ' "$N" "$N"; done | sed 's/ $//')
echo "== in the database, voters/ballots per cycle: $counts (want $want)"
[ "$counts" = "$want" ]
