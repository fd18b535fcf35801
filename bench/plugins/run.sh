#!/usr/bin/env bash
# Plugin host benchmarks (issue 3). Needs wrk (apt-get install -y wrk) and curl.
#
#   bench/plugins/run.sh            # from the repository root
#
# 1. Throughput and latency at 32 connections of a plugin route through the core
#    (authenticated by bearer token, permission checked in a neighbourhood, trivial
#    handler) against a bare Fiber handler forwarding to the same plugin over go-plugin
#    gRPC with no auth or routing (bench/plugins/baseline), in the same run.
# 2. Cold start of the core plus four plugins to ready on SQLite (the test plugin,
#    launched four times under different names), and idle RSS of core and one plugin.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$OUT"' EXIT
DUR=${DUR:-10s}

go build -o "$OUT/kvarter" ./cmd/kvarter
(cd core && go build -o "$OUT/probe" ./pluginhost/internal/probe)
go build -o "$OUT/baseline" ./bench/plugins/baseline
SUM=$(sha256sum "$OUT/probe" | cut -d' ' -f1)

cat > "$OUT/city.json" <<JSON
{"listen":"127.0.0.1:0","data_dir":"$OUT/data","log_level":"warn",
 "plugins":[{"name":"probe","path":"$OUT/probe","sha256":"$SUM"}]}
JSON
echo "sdktest admin passphrase" | "$OUT/kvarter" admin create-user --config "$OUT/city.json" --email admin@bench.invalid --password-stdin --role city_admin >/dev/null
"$OUT/kvarter" serve --config "$OUT/city.json" --addr-file "$OUT/addr" 2>"$OUT/serve.log" &
KV=$!
for _ in $(seq 200); do [ -s "$OUT/addr" ] && break; sleep 0.05; done
BASE="http://$(cat "$OUT/addr")"
json() { python3 -c "import sys,json; print(json.load(sys.stdin)$1)"; }
ADMIN=$(curl -s -XPOST "$BASE/api/v1/auth/login" -d '{"email":"admin@bench.invalid","password":"sdktest admin passphrase"}' -H 'Content-Type: application/json' | json "['token']")
NBH=$(curl -s -XPOST "$BASE/api/v1/neighbourhoods" -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' -d '{"name":"Bench"}' | json "['id']")
curl -s -XPOST "$BASE/api/v1/auth/register" -H 'Content-Type: application/json' -d '{"email":"res@bench.invalid","password":"a long bench passphrase","display_name":"Res","language":"en"}' >/dev/null
RES=$(curl -s -XPOST "$BASE/api/v1/auth/login" -d '{"email":"res@bench.invalid","password":"a long bench passphrase"}' -H 'Content-Type: application/json')
TOKEN=$(echo "$RES" | json "['token']"); UID_=$(echo "$RES" | json "['user']['id']")
curl -s -XPOST "$BASE/api/v1/neighbourhoods/$NBH/memberships" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{}' >/dev/null
curl -s -XPOST "$BASE/api/v1/neighbourhoods/$NBH/memberships/$UID_/approve" -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' -d '{}' >/dev/null
ROUTE="/api/v1/probe/nbh/$NBH/secret"
test "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE$ROUTE")" = 200

"$OUT/baseline" -plugin "$OUT/probe" -name probe -addr 127.0.0.1:18081 2>/dev/null &
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:18081$ROUTE" && break; sleep 0.05; done

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== baseline: bare Fiber -> go-plugin gRPC, no auth/routing (32 connections, $DUR)"
wrk -t4 -c32 -d"$DUR" --latency "http://127.0.0.1:18081$ROUTE" | grep -E 'Requests/sec|50%|99%|Non-2xx'
echo "== kvarter: bearer auth + casbin check in nbh + manifest routing (32 connections, $DUR)"
wrk -t4 -c32 -d"$DUR" --latency -H "Authorization: Bearer $TOKEN" "$BASE$ROUTE" | grep -E 'Requests/sec|50%|99%|Non-2xx'

echo "== for scale: core-only authenticated route GET /api/v1/me (32 connections, $DUR)"
wrk -t4 -c32 -d"$DUR" --latency -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/me" | grep -E "Requests/sec|50%|99%"
echo "== kvarter public plugin route, no auth (32 connections, $DUR)"
wrk -t4 -c32 -d"$DUR" --latency "$BASE/api/v1/probe/ping" | grep -E "Requests/sec|50%|99%"
sleep 2
PLUG=$(pgrep -P $KV | head -1)
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
