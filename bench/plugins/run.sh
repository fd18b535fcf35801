#!/usr/bin/env bash
# Plugin host benchmarks (issue 3). Needs wrk (apt-get install -y wrk) and curl.
#
#   bench/plugins/run.sh            # from the repository root
#   DUR=5s ROUNDS=3 QUICK=1 bench/plugins/run.sh   # round length, rounds; QUICK: route rounds only
#   KVENV='env GOGC=100' bench/plugins/run.sh       # a prefix for the core's command (environment)
#   BEFORE=a645793 QUICK=1 bench/plugins/run.sh      # also that revision's kvarter, in the same rounds
#
# 1. Throughput and latency at 32 connections of a plugin route through the core
#    (authenticated by bearer token, permission checked in a neighbourhood, trivial
#    handler) against a bare Fiber handler forwarding to the same plugin over go-plugin
#    gRPC with no auth or routing (bench/plugins/baseline), in alternating rounds of
#    one run, with the CPU time per request of each process (from /proc/<pid>/stat).
# 2. Cold start of the core plus four plugins to ready on SQLite (the test plugin,
#    launched four times under different names), and idle RSS of core and one plugin.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$OUT"' EXIT
DUR=${DUR:-5s}

go build -o "$OUT/kvarter" ./cmd/kvarter
(cd core && go build -o "$OUT/probe" ./pluginhost/internal/probe)
go build -o "$OUT/baseline" ./bench/plugins/baseline
SUM=$(sha256sum "$OUT/probe" | cut -d' ' -f1)
json() { python3 -c "import sys,json; print(json.load(sys.stdin)$1)"; }

# city DIR KVARTER PROBE: starts KVARTER serving the probe plugin on SQLite under DIR
# with a city admin and a resident verified in one neighbourhood; sets CITY_BASE,
# CITY_TOKEN (the resident's), CITY_ROUTE (a plugin route checked in that
# neighbourhood), CITY_KV and CITY_PLUG (the core's and the plugin's pids).
city() {
  local dir=$1 kv=$2 probe=$3
  mkdir -p "$dir"
  cat > "$dir/city.json" <<JSON
{"listen":"127.0.0.1:0","data_dir":"$dir/data","log_level":"warn",
 "plugins":[{"name":"probe","path":"$probe","sha256":"$(sha256sum "$probe" | cut -d' ' -f1)"}]}
JSON
  echo "sdktest admin passphrase" | "$kv" admin create-user --config "$dir/city.json" --email admin@bench.invalid --password-stdin --role city_admin >/dev/null
  ${KVENV:-} "$kv" serve --config "$dir/city.json" --addr-file "$dir/addr" 2>"$dir/serve.log" &
  CITY_KV=$!
  for _ in $(seq 200); do [ -s "$dir/addr" ] && break; sleep 0.05; done
  CITY_BASE="http://$(cat "$dir/addr")"
  local admin nbh res uid
  admin=$(curl -s -XPOST "$CITY_BASE/api/v1/auth/login" -d '{"email":"admin@bench.invalid","password":"sdktest admin passphrase"}' -H 'Content-Type: application/json' | json "['token']")
  nbh=$(curl -s -XPOST "$CITY_BASE/api/v1/neighbourhoods" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' -d '{"name":"Bench"}' | json "['id']")
  curl -s -XPOST "$CITY_BASE/api/v1/auth/register" -H 'Content-Type: application/json' -d '{"email":"res@bench.invalid","password":"a long bench passphrase","display_name":"Res","language":"en"}' >/dev/null
  res=$(curl -s -XPOST "$CITY_BASE/api/v1/auth/login" -d '{"email":"res@bench.invalid","password":"a long bench passphrase"}' -H 'Content-Type: application/json')
  CITY_TOKEN=$(echo "$res" | json "['token']"); uid=$(echo "$res" | json "['user']['id']")
  curl -s -XPOST "$CITY_BASE/api/v1/neighbourhoods/$nbh/memberships" -H "Authorization: Bearer $CITY_TOKEN" -H 'Content-Type: application/json' -d '{}' >/dev/null
  curl -s -XPOST "$CITY_BASE/api/v1/neighbourhoods/$nbh/memberships/$uid/approve" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' -d '{}' >/dev/null
  CITY_ROUTE="/api/v1/probe/nbh/$nbh/secret"
  test "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $CITY_TOKEN" "$CITY_BASE$CITY_ROUTE")" = 200
  CITY_PLUG=$(pgrep -P "$CITY_KV" | head -1)
}
city "$OUT/now" "$OUT/kvarter" "$OUT/probe"
BASE=$CITY_BASE TOKEN=$CITY_TOKEN ROUTE=$CITY_ROUTE KV=$CITY_KV PLUG=$CITY_PLUG

# BEFORE=<git revision>: the same city on the kvarter (and probe) of that revision,
# measured in the same alternating rounds, to show what a change costs.
if [ -n "${BEFORE:-}" ]; then
  mkdir -p "$OUT/src"
  git archive "$BEFORE" | tar -x -C "$OUT/src"
  (cd "$OUT/src" && go build -o "$OUT/kvarter-before" ./cmd/kvarter && cd core && go build -o "$OUT/probe-before" ./pluginhost/internal/probe)
  city "$OUT/before" "$OUT/kvarter-before" "$OUT/probe-before"
  B_BASE=$CITY_BASE B_TOKEN=$CITY_TOKEN B_ROUTE=$CITY_ROUTE B_KV=$CITY_KV B_PLUG=$CITY_PLUG
fi

"$OUT/baseline" -plugin "$OUT/probe" -name probe -addr 127.0.0.1:18081 2>/dev/null &
BL=$!
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:18081$ROUTE" && break; sleep 0.05; done

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
BASE_PLUG=$(pgrep -P $BL | head -1)
# cpu_ms PID...: user+system CPU time of the processes so far, in milliseconds.
cpu_ms() { local t=0; for p in "$@"; do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo $((t * 1000 / $(getconf CLK_TCK))); }
# load NAME URL "PIDS" [wrk options]: one wrk round; prints req/s, p99 and the CPU µs
# per request of each process serving it, and leaves req/s in $RPS.
load() {
  local name=$1 url=$2 pids=$3; shift 3
  local c0; c0=$(for p in $pids; do cpu_ms "$p"; done | xargs)
  wrk -t4 -c32 -d"$DUR" --latency "$@" "$url" > "$OUT/wrk.txt"
  local c1; c1=$(for p in $pids; do cpu_ms "$p"; done | xargs)
  local n; n=$(awk '/requests in/ {print $1}' "$OUT/wrk.txt")
  RPS=$(awk '/Requests\/sec/ {print $2}' "$OUT/wrk.txt")
  local p99; p99=$(awk '$1=="99%" {print $2}' "$OUT/wrk.txt")
  local bad; bad=$(awk '/Non-2xx/ {print $NF}' "$OUT/wrk.txt")
  local us; us=$(python3 -c "import sys; a=sys.argv[1].split(); b=sys.argv[2].split(); n=int(sys.argv[3]); print(' + '.join('%.1f' % ((int(y)-int(x))*1000/n) for x,y in zip(a,b)))" "$c0" "$c1" "$n")
  printf '%-9s %9s req/s  p99 %-8s CPU µs/request (front + plugin): %s%s\n' "$name" "$RPS" "$p99" "$us" "${bad:+  NON-2xx $bad}"
}
# The machine is shared and noisy: alternate the two, ROUNDS times, and compare each
# Kvarter round with the baseline round just before it.
echo "== plugin route at 32 connections, $DUR per round: baseline = bare Fiber -> go-plugin gRPC, no auth/routing;"
echo "   kvarter = bearer auth + casbin check in a neighbourhood + manifest routing, same plugin"
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratios=() bratios=() changes=()
for round in $(seq "${ROUNDS:-3}"); do
  load baseline "http://127.0.0.1:18081$ROUTE" "$BL $BASE_PLUG"; b=$RPS
  # With BEFORE, the two cores take turns going first, so neither always follows
  # the baseline round.
  if [ -n "${BEFORE:-}" ] && [ $((round % 2)) = 1 ]; then
    load before "$B_BASE$B_ROUTE" "$B_KV $B_PLUG" -H "Authorization: Bearer $B_TOKEN"; kb=$RPS
  fi
  load kvarter "$BASE$ROUTE" "$KV $PLUG" -H "Authorization: Bearer $TOKEN"; k=$RPS
  if [ -n "${BEFORE:-}" ] && [ $((round % 2)) = 0 ]; then
    load before "$B_BASE$B_ROUTE" "$B_KV $B_PLUG" -H "Authorization: Bearer $B_TOKEN"; kb=$RPS
  fi
  [ -n "${BEFORE:-}" ] && bratios+=("$(python3 -c "print('%.1f' % (100*$kb/$b))")")
  ratios+=("$(python3 -c "print('%.1f' % (100*$k/$b))")")
  [ -n "${BEFORE:-}" ] && changes+=("$(python3 -c "print('%.1f' % (100*$k/$kb))")")
done
echo "kvarter / baseline per round: ${ratios[*]} %; median $(median "${ratios[@]}") %"
if [ -n "${BEFORE:-}" ]; then
  echo "before ($BEFORE) / baseline per round: ${bratios[*]} %; median $(median "${bratios[@]}") %"
  echo "kvarter / before per round: ${changes[*]} %; median $(median "${changes[@]}") %"
  kill "$B_KV"; wait "$B_KV" 2>/dev/null || true
fi

[ -n "${QUICK:-}" ] && exit 0
echo "== for scale: core-only authenticated route GET /api/v1/me (32 connections, $DUR)"
wrk -t4 -c32 -d"$DUR" --latency -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/me" | grep -E "Requests/sec|50%|99%"
echo "== kvarter public plugin route, no auth (32 connections, $DUR)"
wrk -t4 -c32 -d"$DUR" --latency "$BASE/api/v1/probe/ping" | grep -E "Requests/sec|50%|99%"
sleep 2
echo "== idle RSS after load: core $(ps -o rss= -p $KV) KiB, one plugin $(ps -o rss= -p "$PLUG") KiB"
kill $KV; wait $KV 2>/dev/null || true

echo "== cold start to ready on SQLite: core + 4 plugins (the probe test plugin as four external plugins a,b,c,d)"
cat > "$OUT/cold.json" <<JSON
{"listen":"127.0.0.1:0","data_dir":"$OUT/cold","log_level":"warn","plugins":[
 {"name":"a","path":"$OUT/probe","sha256":"$SUM"},{"name":"b","path":"$OUT/probe","sha256":"$SUM"},
 {"name":"c","path":"$OUT/probe","sha256":"$SUM"},{"name":"d","path":"$OUT/probe","sha256":"$SUM"}]}
JSON
for run in 1 2 3; do
  rm -rf "$OUT/cold" "$OUT/cold.addr"
  start=$(date +%s%N)
  "$OUT/kvarter" serve --config "$OUT/cold.json" --addr-file "$OUT/cold.addr" 2>"$OUT/cold.log" &
  KV=$!
  until [ -s "$OUT/cold.addr" ]; do sleep 0.005; done
  end=$(date +%s%N)
  CB="http://$(cat "$OUT/cold.addr")"
  ok=0; for n in a b c d; do [ "$(curl -s -o /dev/null -w '%{http_code}' "$CB/api/v1/$n/ping")" = 200 ] && ok=$((ok+1)); done
  echo "run $run: listening with $ok/4 plugins active after $(( (end-start)/1000000 )) ms (fresh data dir: migrations included)"
  kill $KV; wait $KV 2>/dev/null || true
done
