#!/usr/bin/env bash
# Before and after in one run: is a revision slower than another on the routes of
# bench/? Builds kvarter at REV and at the working tree, runs both at once on
# PostgreSQL (each its own database, the parks plugin built in), and loads the same
# route on both at the same moment — two wrk processes side by side — round after
# round, the order of starting swapped each round. Both cities share whatever else the
# machine does, so their ratio holds on a shared 2-core VM where single runs swing by
# ±15%. Prints per route each round's after/before ratio of requests per second and
# their median.
#
#   bench/compare.sh REV          # ROUNDS=5 DUR=8s CONNS=16 SEED=400 PGURL=postgres://... to change
#
# Routes: GET /api/v1/me (the core alone); GET a park area's availability over 90 days
# (core, plugin, ETag), measured first, on SEED bookings made the same way in both;
# POST a booking (core, plugin, a write with its event) — bench/parks/request.lua.
set -euo pipefail
cd "$(dirname "$0")/.."
REV=${1:?usage: bench/compare.sh REV}
ROUNDS=${ROUNDS:-5}
DUR=${DUR:-8s}
CONNS=${CONNS:-16}
SEED=${SEED:-400}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install -y wrk)"; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for side in before after; do
    psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS kvarter_cmp_${side}_$$ WITH (FORCE)" >/dev/null 2>&1 || true
    psql "$PGURL/postgres" -qc "DROP ROLE IF EXISTS cmp${$}${side}_parks" >/dev/null 2>&1 || true
  done
  git worktree remove --force "$work/src" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

git worktree add --detach -q "$work/src" "$REV"
(cd "$work/src" && go build -o "$work/kvarter-before" ./cmd/kvarter)
go build -o "$work/kvarter-after" ./cmd/kvarter

json() { python3 -c "import sys,json; print(json.load(sys.stdin)$1)"; }
declare -A URL TOKEN PARK AREA ORG
BASE=$(( ($(date +%s) / 3600 + 48) * 3600 ))

# start SIDE: a city on its own database, its admin, a neighbourhood, a verified club
# whose representative books, a park with one area.
start() {
  local side=$1 db="kvarter_cmp_${1}_$$" dir="$work/$1"
  mkdir -p "$dir"
  psql "$PGURL/postgres" -qc "CREATE DATABASE $db"
  cat > "$dir/city.json" <<JSON
{"city":{"name":"Bench","time_zone":"UTC","languages":["en"]},
 "listen":"127.0.0.1:0","data_dir":"$dir/data","log_level":"warn",
 "database_url":"$PGURL/$db?sslmode=disable","plugin_store_prefix":"cmp${$}${side}_",
 "plugins":[{"name":"parks","settings":{"default_support":"chairs=1000000"}}]}
JSON
  echo 'bench admin passphrase' | "$work/kvarter-$side" admin create-user --config "$dir/city.json" \
    --email admin@bench.invalid --password-stdin --role city_admin >/dev/null
  "$work/kvarter-$side" serve --config "$dir/city.json" --addr-file "$dir/addr" 2>"$dir/serve.log" & pids+=($!)
  for _ in $(seq 200); do [ -s "$dir/addr" ] && break; sleep 0.05; done
  local url="http://$(cat "$dir/addr")"
  for _ in $(seq 100); do curl -sf "$url/readyz" >/dev/null && break; sleep 0.1; done
  api() { curl -sf -X "$1" "$url$2" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' ${4:+-d "$4"}; }
  login() { curl -sf "$url/api/v1/auth/login" -H 'Content-Type: application/json' -d "{\"email\":\"$1\",\"password\":\"$2\"}" | json "['token']"; }
  local admin nbh rep org park area
  admin=$(login admin@bench.invalid 'bench admin passphrase')
  nbh=$(api POST /api/v1/neighbourhoods "$admin" '{"name":"Bench"}' | json "['id']")
  curl -sf "$url/api/v1/auth/register" -H 'Content-Type: application/json' \
    -d '{"email":"rep@bench.invalid","password":"a long bench passphrase","display_name":"Rep","language":"en"}' >/dev/null
  rep=$(login rep@bench.invalid 'a long bench passphrase')
  org=$(api POST /api/v1/organisations "$rep" "{\"name\":\"Bench Club\",\"kind\":\"association\",\"neighbourhood_ids\":[\"$nbh\"]}" | json "['id']")
  api POST "/api/v1/organisations/$org/verify" "$admin" '{}' >/dev/null
  park=$(api POST /api/v1/parks "$admin" "{\"name\":\"Bench Park\",\"neighbourhood_id\":\"$nbh\"}" | json "['id']")
  area=$(api POST "/api/v1/parks/$park/areas" "$admin" '{"name":"Meadow","capacity":1000,"rules":{"slot_granularity_minutes":30,"min_duration_minutes":30,"max_duration_minutes":480,"booking_horizon_days":365}}' | json "['id']")
  URL[$side]=$url TOKEN[$side]=$rep PARK[$side]=$park AREA[$side]=$area ORG[$side]=$org
}

# seed SIDE: the same SEED bookings in both cities, one hour each, 90 minutes apart.
seed() {
  local side=$1
  for i in $(seq 0 $((SEED - 1))); do
    local s=$((BASE + i * 5400))
    printf '{"area_id":"%s","organisation_id":"%s","start":"%s","end":"%s","title":"Seed %d","category":"art","expected_attendance":5,"public":true}\n' \
      "${AREA[$side]}" "${ORG[$side]}" "$(date -u -d @$s +%FT%TZ)" "$(date -u -d @$((s + 3600)) +%FT%TZ)" "$i"
  done | xargs -d '\n' -P 8 -I{} curl -sf -o /dev/null -X POST "${URL[$side]}/api/v1/parks/${PARK[$side]}/bookings" \
    -H "Authorization: Bearer ${TOKEN[$side]}" -H 'Content-Type: application/json' -d '{}'
}

rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
errors() { grep -E 'Non-2xx|Socket errors' "$1" || true; }

# measure NAME ROUND: the route on both sides at once; prints and records the ratio.
measure() {
  local name=$1 round=$2 first=before second=after wp=()
  [ $((round % 2)) = 0 ] && first=after second=before
  for side in $first $second; do
    case $name in
      me) wrk -t1 -c"$CONNS" -d"$DUR" -H "Authorization: Bearer ${TOKEN[$side]}" "${URL[$side]}/api/v1/me" >"$work/$side.out" & wp+=($!) ;;
      availability)
        wrk -t1 -c"$CONNS" -d"$DUR" -H "Authorization: Bearer ${TOKEN[$side]}" \
          "${URL[$side]}/api/v1/parks/${PARK[$side]}/areas/${AREA[$side]}/availability?from=$(date -u -d @$BASE +%FT%TZ)&to=$(date -u -d @$((BASE + 90 * 86400)) +%FT%TZ)" >"$work/$side.out" & wp+=($!) ;;
      booking)
        TOKEN=${TOKEN[$side]} PARK=${PARK[$side]} AREA=${AREA[$side]} ORG=${ORG[$side]} BASE=$BASE \
          wrk -t1 -c"$CONNS" -d"$DUR" -s bench/parks/request.lua "${URL[$side]}" >"$work/$side.out" & wp+=($!) ;;
    esac
  done
  wait "${wp[@]}"
  local b a
  b=$(rps "$work/before.out"); a=$(rps "$work/after.out")
  errors "$work/before.out"; errors "$work/after.out"
  printf '%-13s round %d (load %s): before %9.1f req/s, after %9.1f req/s, after/before %.3f\n' \
    "$name" "$round" "$(cut -d' ' -f1 /proc/loadavg)" "$b" "$a" "$(awk -v a="$a" -v b="$b" 'BEGIN{print a/b}')"
  awk -v a="$a" -v b="$b" 'BEGIN{print a/b}' >>"$work/$name.ratios"
}

start before
start after
# The two seeds run one after the other so that neither city is loaded while the other is seeded.
seed before
seed after
for side in before after; do
  n=$(psql "$PGURL/kvarter_cmp_${side}_$$" -Atc "SELECT COUNT(*) FROM cmp${$}${side}_parks.bookings")
  size=$(curl -sf -H "Authorization: Bearer ${TOKEN[$side]}" "${URL[$side]}/api/v1/parks/${PARK[$side]}/areas/${AREA[$side]}/availability?from=$(date -u -d @$BASE +%FT%TZ)&to=$(date -u -d @$((BASE + 90 * 86400)) +%FT%TZ)" | wc -c)
  echo "== $side: $n bookings seeded (want $SEED); the availability answer is $size bytes"
  [ "$n" = "$SEED" ] || { echo "seeding failed; see $work/$side/serve.log"; exit 1; }
done
echo "== $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(go version | cut -d' ' -f3); before = $REV ($(git rev-parse --short "$REV")), after = working tree of $(git rev-parse --short HEAD); $CONNS connections per side, $DUR per measurement"
for name in me availability booking; do
  # A warm-up on both, not recorded.
  DUR=2s measure "$name" 0 >/dev/null
  rm -f "$work/$name.ratios"
  for r in $(seq 1 "$ROUNDS"); do measure "$name" "$r"; done
  printf '%-13s median after/before over %d rounds: %s\n' "$name" "$ROUNDS" \
    "$(sort -n "$work/$name.ratios" | awk '{v[NR]=$1} END {printf "%.3f", (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}')"
done
