#!/usr/bin/env bash
# Casting through the ballot page against the JSON ballot route (issue 19's target: the
# page within 10% of the route's ballots/s), through one real `kvarter serve` on
# PostgreSQL, in alternating rounds of one run. Each round is bench/budgeting/run.sh's
# load generator: fresh residents, verified and signed in before the clock starts,
# CYCLES cycles in the voting phase, one ballot per resident per cycle at CONNS
# connections; -via page posts the ballot page's form with the session cookie and
# expects its 303, -via api posts the JSON ballot with the bearer token and expects 201.
# The load generator checks the turnout afterwards either way.
#
#   bench/budgeting/pages.sh      # N=300 CYCLES=4 CONNS=32 WARMUP=96 ROUNDS=2 SETUP_CONNS=32 to change
#
# Registering answers no sooner than the node's 1 s floor (issue 17), so the residents
# are registered and signed in over SETUP_CONNS connections.
#
# The results page of Łódź 2022's size is a Go benchmark:
#   go test -run '^$' -bench ResultsLodz ./plugins/budgeting
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-300}
CYCLES=${CYCLES:-4}
CONNS=${CONNS:-32}
WARMUP=${WARMUP:-96}
SETUP_CONNS=${SETUP_CONNS:-32}
ROUNDS=${ROUNDS:-2}
ADDR=${ADDR:-127.0.0.1:18191}
. bench/lib.sh
bench_core bpages ./bench/budgeting/loadgen /api/v1/budgeting/cycles
for r in $(seq "$ROUNDS"); do
  for via in api page; do
    echo "== round $r, via $via; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
    "$work/loadgen" -base "http://$ADDR" -n "$N" -cycles "$CYCLES" -c "$CONNS" -warmup "$WARMUP" -setup-c "$SETUP_CONNS" -via "$via" -prefix "r${r}${via}" \
      | tee "$work/$via.$r.txt" | grep -E '^ballots|^turnout'
  done
done
rate() { sed -n 's/.* = \([0-9]*\) ballots\/s.*/\1/p' "$@" | awk '{s+=$1; n++} END {printf "%.0f", s/n}'; }
api=$(rate "$work"/api.*.txt)
page=$(rate "$work"/page.*.txt)
awk -v a="$api" -v p="$page" 'BEGIN {printf "== mean over the rounds: api %d ballots/s, page %d ballots/s, page/api %.2f\n", a, p, p/a}'
