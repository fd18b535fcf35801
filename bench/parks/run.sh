#!/usr/bin/env bash
# Parks booking requests through the core's HTTP path on PostgreSQL (issue 6):
# POST /api/v1/parks/{id}/bookings as an organisation's representative — bearer auth,
# casbin check, manifest routing, go-plugin gRPC to the parks plugin, rule checks and
# the insert (with its event, in the SDK's outbox) in the plugin's own schema — at
# 32 connections with wrk (request.lua: distinct slots, neighbours overlapping).
# Target: p99 < 50 ms. Then the same for the area's availability over 90 days.
#
#   bench/parks/run.sh        # from anywhere; DUR=10s CONNS=32 PGURL=postgres://... to change
#
# Builds kvarter (parks is built in), runs it on a throwaway database (dropped after).
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR=${DUR:-10s}
CONNS=${CONNS:-32}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install -y wrk)"; exit 1; }

work=$(mktemp -d)
db="kvarter_parksbench_$$"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  # The plugin's login role lives outside the database.
  psql "$PGURL/postgres" -qc "DROP ROLE IF EXISTS pb${$}_parks" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/kvarter" ./cmd/kvarter
psql "$PGURL/postgres" -qc "CREATE DATABASE $db"
cat > "$work/city.json" <<JSON
{"city":{"name":"Bench","time_zone":"UTC","languages":["en"]},
 "listen":"127.0.0.1:0","data_dir":"$work/data","log_level":"warn",
 "database_url":"$PGURL/$db?sslmode=disable","plugin_store_prefix":"pb${$}_",
 "plugins":[{"name":"parks","settings":{"default_support":"chairs=1000000"}}]}
JSON
echo 'bench admin passphrase' | "$work/kvarter" admin create-user --config "$work/city.json" \
  --email admin@bench.invalid --password-stdin --role city_admin >/dev/null
"$work/kvarter" serve --config "$work/city.json" --addr-file "$work/addr" 2>"$work/serve.log" & pids+=($!)
for _ in $(seq 200); do [ -s "$work/addr" ] && break; sleep 0.05; done
BASE_URL="http://$(cat "$work/addr")"

json() { python3 -c "import sys,json; print(json.load(sys.stdin)$1)"; }
api() { # method path token [body]
  curl -sf -X "$1" "$BASE_URL$2" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' ${4:+-d "$4"}
}
login() { curl -sf "$BASE_URL/api/v1/auth/login" -H 'Content-Type: application/json' -d "{\"email\":\"$1\",\"password\":\"$2\"}"; }
ADMIN=$(login admin@bench.invalid 'bench admin passphrase' | json "['token']")
NBH=$(api POST /api/v1/neighbourhoods "$ADMIN" '{"name":"Bench"}' | json "['id']")
curl -sf "$BASE_URL/api/v1/auth/register" -H 'Content-Type: application/json' \
  -d '{"email":"rep@bench.invalid","password":"a long bench passphrase","display_name":"Rep","language":"en"}' >/dev/null
REP=$(login rep@bench.invalid 'a long bench passphrase' | json "['token']")
ORG=$(api POST /api/v1/organisations "$REP" "{\"name\":\"Bench Club\",\"kind\":\"association\",\"neighbourhood_ids\":[\"$NBH\"]}" | json "['id']")
api POST "/api/v1/organisations/$ORG/verify" "$ADMIN" '{}' >/dev/null
PARK=$(api POST /api/v1/parks "$ADMIN" "{\"name\":\"Bench Park\",\"neighbourhood_id\":\"$NBH\"}" | json "['id']")
# Open all day (the default hours), 30-minute grid, a year ahead, no notice or limit.
AREA=$(api POST "/api/v1/parks/$PARK/areas" "$ADMIN" '{"name":"Meadow","capacity":1000,"rules":{"slot_granularity_minutes":30,"min_duration_minutes":30,"max_duration_minutes":480,"booking_horizon_days":365}}' | json "['id']")
GUARD=park_row_lock
[ "$(psql "$PGURL/$db" -Atc "SELECT COUNT(*) FROM pg_constraint WHERE conname = 'booking_occupancy_no_overlap'")" = 1 ] && GUARD=exclusion_constraint
BASE=$(( ($(date +%s) / 3600 + 48) * 3600 ))
export TOKEN=$REP PARK AREA ORG BASE

# One by hand first, so a setup mistake fails here rather than as wrk's Non-2xx.
api POST "/api/v1/parks/$PARK/bookings" "$REP" "{\"area_id\":\"$AREA\",\"organisation_id\":\"$ORG\",\"start\":\"$(date -u -d @$BASE +%FT%TZ)\",\"end\":\"$(date -u -d @$((BASE+3600)) +%FT%TZ)\",\"title\":\"Check\",\"category\":\"art\",\"expected_attendance\":1,\"public\":true}" >/dev/null

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(psql "$PGURL/postgres" -Atc 'SHOW server_version') (local); parks guard: $GUARD; load average $(cut -d" " -f1-3 /proc/loadavg)"
echo "== POST /api/v1/parks/{id}/bookings through the core ($CONNS connections, $DUR)"
wrk -t4 -c"$CONNS" -d"$DUR" --latency -s bench/parks/request.lua "$BASE_URL" | grep -E 'Requests/sec|^ +(50|90|99)%|Non-2xx|requests in|Socket errors'
N=$(psql "$PGURL/$db" -Atc "SELECT COUNT(*) FROM pb${$}_parks.bookings")
Q=$(psql "$PGURL/$db" -Atc "SELECT COUNT(*) FROM pb${$}_parks.kvarter_outbox")
echo "   bookings in the plugin's store afterwards: $N; events still in its outbox (published in the background): $Q"

FROM=$(date -u -d @$BASE +%FT%TZ); TO=$(date -u -d @$((BASE + 90*86400)) +%FT%TZ)
echo "== GET availability of that area over 90 days, with those $N requests and none approved ($CONNS connections, $DUR)"
wrk -t4 -c"$CONNS" -d"$DUR" --latency -H "Authorization: Bearer $REP" \
  "$BASE_URL/api/v1/parks/$PARK/areas/$AREA/availability?from=$FROM&to=$TO" | grep -E 'Requests/sec|^ +(50|90|99)%|Non-2xx'
