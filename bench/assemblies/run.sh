#!/usr/bin/env bash
# Ballot benchmark for the assemblies plugin (issue 4), on PostgreSQL, through the core's
# HTTP path: bearer authentication, manifest routing, casbin route check, go-plugin gRPC
# to the assemblies plugin, and its ballot (motion row share-locked, electorate lookup,
# voters row, sealed or named ballot).
# Target: 2,000 members voting concurrently on one motion, every ballot recorded exactly
# once, >= 1,000 ballots/s, p99 < 50 ms.
#
#   bench/assemblies/run.sh      # from anywhere; N=2000 CONNS=32 SECRECY=secret,named WARMUP=320 to change
#                                # TIMELINE=1 adds latency per quarter second
#
# Everything goes through the public API (loadgen/main.go): a city admin (created with
# `kvarter admin create-user`), a neighbourhood, N residents registered and verified by
# one membership import, each signed in before the clock starts (argon2id costs ~25 ms a
# login, more on a busy machine), an open assembly all N join, its first member as
# chair. WARMUP further residents, members of a second assembly, first vote there, so
# that the connection pools are open as on a server in use (not measured). Then per
# secrecy a motion is tabled, its vote opened, one ballot per member cast at CONNS
# connections, a second ballot refused, and the vote closed with counts that
# must add up to N. For comparison, GET /api/v1/me once per member (core only) shows
# what the host itself costs per request of a member whose principal is not cached;
# CPU seconds per process are reported for each phase. Afterwards the plugin's tables
# must hold exactly N voters per motion and, for the secret vote, N opened ballots and
# no sealed one left. A throwaway database is dropped at exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-2000}
CONNS=${CONNS:-32}
WARMUP=${WARMUP:-320}
SECRECY=${SECRECY:-secret,named}
ADDR=${ADDR:-127.0.0.1:18191}
. bench/lib.sh
bench_core abench ./bench/assemblies/loadgen /api/v1/assemblies
echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg)"
plugin=$(pgrep -f -P "$kv" 'plugin assemblies' | head -1)
"$work/loadgen" -base "http://$ADDR" -n "$N" -c "$CONNS" -secrecy "$SECRECY" -warmup "$WARMUP" ${TIMELINE:+-timeline} -procs "core=$kv,plugin=$plugin" | tee "$work/out.txt"
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"

ok=1
schema=$(psql "$PGURL/$db" -Atc "SELECT nspname FROM pg_namespace WHERE nspname LIKE '%assemblies' LIMIT 1")
while read -r line; do
  motion=$(echo "$line" | sed -n 's/.*MOTION_ID=\([^ ]*\).*/\1/p')
  secrecy=$(echo "$line" | sed -n 's/.*SECRECY=\([^ ]*\).*/\1/p')
  voters=$(psql "$PGURL/$db" -Atc "SELECT count(*) FROM $schema.voters WHERE motion_id = '$motion'")
  if [ "$secrecy" = secret ]; then
    ballots=$(psql "$PGURL/$db" -Atc "SELECT (SELECT count(*) FROM $schema.secret_ballots WHERE motion_id = '$motion') + (SELECT coalesce(sum(n), 0) FROM $schema.secret_tally WHERE motion_id = '$motion')")
    sealed=$(psql "$PGURL/$db" -Atc "SELECT count(*) FROM $schema.sealed_ballots WHERE motion_id = '$motion'")
    [ "$sealed" = 0 ] || { echo "== $sealed sealed ballots left after the close"; ok=0; }
  else
    ballots=$(psql "$PGURL/$db" -Atc "SELECT count(*) FROM $schema.named_ballots WHERE motion_id = '$motion'")
  fi
  echo "== in the database, $secrecy vote: $voters voters, $ballots ballots counted (want $N each)"
  [ "$voters" = "$N" ] && [ "$ballots" = "$N" ] || ok=0
done < <(grep '^MOTION_ID=' "$work/out.txt")
[ "$ok" = 1 ]
