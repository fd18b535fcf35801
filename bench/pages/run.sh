#!/usr/bin/env bash
# Pages against the API through a real `kvarter serve` (issue 16's speed targets), at
# 32 connections on PostgreSQL, in alternating rounds of one run:
#
# 1. A core page in the frame: a signed-in resident's home page (frame, navigation,
#    six neighbourhood cards, in Finnish) and the accessibility statement against
#    GET /api/v1/me with the same session, on a node without plugins.
#    Target: the home page at >= 50% of /me's requests per second, p99 under 20 ms.
# 2. A plugin's page in the frame against the same plugin's JSON route, on a node
#    running the SDK's hello plugin: GET /hello/greet (the greeting form, drawn by the
#    plugin, framed by the core) against GET /api/v1/hello/calls (a JSON answer of the
#    plugin), both as the same resident. Target: the page at >= 70% of the route.
#
#   bench/pages/run.sh        # DUR=10s CONNS=32 ROUNDS=3 PGURL=postgres://... to change
#                             # ONLY=core or ONLY=plugin runs one part
#
# The third target (three cards, one hanging) is a Go benchmark:
#   go test -run '^$' -bench HangingCard ./cmd/kvarter
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR=${DUR:-10s}
CONNS=${CONNS:-32}
ROUNDS=${ROUNDS:-3}
ONLY=${ONLY:-}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install -y wrk)"; exit 1; }

work=$(mktemp -d)
dbs=()
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for db in "${dbs[@]}"; do
    psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/kvarter" ./cmd/kvarter
go build -o "$work/hello" ./sdk/examples/hello/cmd/hello
json() { python3 -c "import sys,json; print(json.load(sys.stdin)$1)"; }

# city NAME PLUGINS: starts a node on a database of its own with PLUGINS (the config's
# JSON list), six neighbourhoods and a Finnish resident; sets URL and TOKEN.
city() {
  local name=$1 plugins=$2 dir="$work/$1" db="kvarter_pagesbench_${1}_$$"
  mkdir -p "$dir"
  psql "$PGURL/postgres" -qc "CREATE DATABASE $db"
  dbs+=("$db")
  cat > "$dir/city.json" <<JSON
{"city":{"name":"İzmir","time_zone":"Europe/Istanbul","languages":["fi","sv","da","tr","en"]},
 "listen":"127.0.0.1:0","data_dir":"$dir/data","log_level":"warn",
 "database_url":"$PGURL/$db?sslmode=disable","plugins":$plugins}
JSON
  echo 'bench admin passphrase' | "$work/kvarter" admin create-user --config "$dir/city.json" \
    --email admin@bench.invalid --password-stdin --role city_admin >/dev/null
  "$work/kvarter" serve --config "$dir/city.json" --addr-file "$dir/addr" 2>"$dir/serve.log" & pids+=($!)
  for _ in $(seq 200); do [ -s "$dir/addr" ] && break; sleep 0.05; done
  URL="http://$(cat "$dir/addr")"
  for _ in $(seq 100); do curl -sf "$URL/readyz" >/dev/null && break; sleep 0.1; done
  local admin
  admin=$(curl -sf "$URL/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d '{"email":"admin@bench.invalid","password":"bench admin passphrase"}' | json "['token']")
  for n in Karşıyaka Bornova Alsancak Buca Konak Bayraklı; do
    curl -sf "$URL/api/v1/neighbourhoods" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' -d "{\"name\":\"$n\"}" >/dev/null
  done
  curl -sf "$URL/api/v1/auth/register" -H 'Content-Type: application/json' \
    -d '{"email":"aino@bench.invalid","password":"a long bench passphrase","display_name":"Aino","language":"fi"}' >/dev/null
  TOKEN=$(curl -sf "$URL/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d '{"email":"aino@bench.invalid","password":"a long bench passphrase"}' | json "['token']")
}

rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
p99() { awk '$1=="99%" {print $2}' "$1"; }
ratio() { awk -v a="$(rps "$work/$1")" -v b="$(rps "$work/$2")" 'BEGIN{printf "%.2f", a/b}'; }
# cpu_us PID...: the CPU time the processes used so far, in microseconds.
cpu_us() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo $((t * 1000000 / $(getconf CLK_TCK))); }
# measure NAME PATH HEADER: one wrk round into $work/NAME.txt, failing on any non-2xx,
# and the CPU time per request of the node and of its plugins into $work/NAME.cpu.
measure() {
  local kv=${pids[-1]} plug before_kv before_plug
  plug=$(pgrep -P "$kv" | xargs || true)
  before_kv=$(cpu_us "$kv"); before_plug=$(cpu_us $plug)
  wrk -t2 -c"$CONNS" -d"$DUR" --latency -H "$3" "$URL$2" >"$work/$1.txt"
  if grep -q 'Non-2xx' "$work/$1.txt"; then echo "errors on $2:"; cat "$work/$1.txt"; exit 1; fi
  local n
  n=$(awk '/requests in/ {print $1}' "$work/$1.txt")
  echo "$(( ($(cpu_us "$kv") - before_kv) / n )) $(( ($(cpu_us $plug) - before_plug) / n ))" >"$work/$1.cpu"
}
line() {
  local cpu
  read -r -a cpu <"$work/$2.cpu"
  printf '%s %9.1f req/s p99 %s, CPU/req %s µs node' "$1" "$(rps "$work/$2.txt")" "$(p99 "$work/$2.txt")" "${cpu[0]}"
  [ "${cpu[1]}" = 0 ] || printf ' + %s µs plugin' "${cpu[1]}"
}

echo "== $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(go version | cut -d' ' -f3), PostgreSQL $(psql "$PGURL/postgres" -Atc 'SHOW server_version' | cut -d' ' -f1); $CONNS connections, $DUR each"

if [ "$ONLY" != plugin ]; then
  city core '[]'
  cookie="Cookie: kvarter_session=$TOKEN" bearer="Authorization: Bearer $TOKEN"
  size=$(curl -sf -H "$cookie" "$URL/" | wc -c)
  grep -q 'lang="fi"' <(curl -sf -H "$cookie" "$URL/") || { echo "the home page is not the signed-in Finnish one"; exit 1; }
  grep -q '>Bayraklı</a>' <(curl -sf -H "$cookie" "$URL/") || { echo "the home page lacks the neighbourhoods"; exit 1; }
  echo "-- 1. core pages against /api/v1/me (home page $size bytes)"
  wrk -t2 -c"$CONNS" -d2s -H "$bearer" "$URL/api/v1/me" >/dev/null
  wrk -t2 -c"$CONNS" -d2s -H "$cookie" "$URL/" >/dev/null
  for r in $(seq 1 "$ROUNDS"); do
    measure me /api/v1/me "$bearer"
    measure home / "$cookie"
    measure a11y /accessibility "$cookie"
    printf 'round %d (load %s): %s; %s; %s; home/me %s, accessibility/me %s\n' "$r" "$(cut -d' ' -f1 /proc/loadavg)" \
      "$(line /api/v1/me me)" "$(line home home)" "$(line accessibility a11y)" "$(ratio home.txt me.txt)" "$(ratio a11y.txt me.txt)"
  done
  kill "${pids[-1]}"
fi

if [ "$ONLY" != core ]; then
  city plugin "[{\"name\":\"hello\",\"path\":\"$work/hello\",\"sha256\":\"$(sha256sum "$work/hello" | cut -d' ' -f1)\"}]"
  cookie="Cookie: kvarter_session=$TOKEN" bearer="Authorization: Bearer $TOKEN"
  for _ in $(seq 100); do curl -sf -H "$bearer" "$URL/api/v1/hello/calls" >/dev/null && break; sleep 0.1; done
  size=$(curl -sf -H "$cookie" "$URL/hello/greet" | wc -c)
  grep -q '<h1 class="ds-heading">Lähetä tervehdys</h1>' <(curl -sf -H "$cookie" "$URL/hello/greet") || { echo "the greeting page is not hello's in Finnish"; exit 1; }
  echo "-- 2. hello's page against hello's JSON route (page $size bytes)"
  wrk -t2 -c"$CONNS" -d2s -H "$bearer" "$URL/api/v1/hello/calls" >/dev/null
  wrk -t2 -c"$CONNS" -d2s -H "$cookie" "$URL/hello/greet" >/dev/null
  for r in $(seq 1 "$ROUNDS"); do
    measure route /api/v1/hello/calls "$bearer"
    measure page /hello/greet "$cookie"
    printf 'round %d (load %s): %s; %s; page/route %s\n' "$r" "$(cut -d' ' -f1 /proc/loadavg)" \
      "$(line /api/v1/hello/calls route)" "$(line /hello/greet page)" "$(ratio page.txt route.txt)"
  done
fi
