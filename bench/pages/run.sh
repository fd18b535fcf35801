#!/usr/bin/env bash
# A core page through the frame against the API (issue 16's first speed target): a
# signed-in resident's home page (frame, navigation, neighbourhood cards, in Finnish)
# and GET /api/v1/me with the same session, at 32 connections on PostgreSQL, in
# alternating rounds. Target: the page at >= 50% of /me's requests per second, p99
# under 20 ms.
#
#   bench/pages/run.sh        # DUR=10s CONNS=32 ROUNDS=3 PGURL=postgres://... to change
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR=${DUR:-10s}
CONNS=${CONNS:-32}
ROUNDS=${ROUNDS:-3}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install -y wrk)"; exit 1; }

work=$(mktemp -d)
db="kvarter_pagesbench_$$"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/kvarter" ./cmd/kvarter
psql "$PGURL/postgres" -qc "CREATE DATABASE $db"
cat > "$work/city.json" <<JSON
{"city":{"name":"İzmir","time_zone":"Europe/Istanbul","languages":["fi","sv","da","tr","en"]},
 "listen":"127.0.0.1:0","data_dir":"$work/data","log_level":"warn",
 "database_url":"$PGURL/$db?sslmode=disable","plugins":[]}
JSON
echo 'bench admin passphrase' | "$work/kvarter" admin create-user --config "$work/city.json" \
  --email admin@bench.invalid --password-stdin --role city_admin >/dev/null
"$work/kvarter" serve --config "$work/city.json" --addr-file "$work/addr" 2>"$work/serve.log" & pids+=($!)
for _ in $(seq 200); do [ -s "$work/addr" ] && break; sleep 0.05; done
url="http://$(cat "$work/addr")"
for _ in $(seq 100); do curl -sf "$url/readyz" >/dev/null && break; sleep 0.1; done

json() { python3 -c "import sys,json; print(json.load(sys.stdin)$1)"; }
admin=$(curl -sf "$url/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d '{"email":"admin@bench.invalid","password":"bench admin passphrase"}' | json "['token']")
for n in Karşıyaka Bornova Alsancak Buca Konak Bayraklı; do
  curl -sf "$url/api/v1/neighbourhoods" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' -d "{\"name\":\"$n\"}" >/dev/null
done
curl -sf "$url/api/v1/auth/register" -H 'Content-Type: application/json' \
  -d '{"email":"aino@bench.invalid","password":"a long bench passphrase","display_name":"Aino","language":"fi"}' >/dev/null
token=$(curl -sf "$url/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d '{"email":"aino@bench.invalid","password":"a long bench passphrase"}' | json "['token']")
size=$(curl -sf -H "Cookie: kvarter_session=$token" "$url/" | wc -c)
grep -q 'lang="fi"' <(curl -sf -H "Cookie: kvarter_session=$token" "$url/") || { echo "the home page is not the signed-in Finnish one"; exit 1; }

rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
p99() { awk '$1=="99%" {print $2}' "$1"; }
echo "== $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(go version | cut -d' ' -f3), PostgreSQL $(psql "$PGURL/postgres" -Atc 'SHOW server_version' | cut -d' ' -f1); home page $size bytes; $CONNS connections, $DUR each"
wrk -t2 -c"$CONNS" -d2s -H "Authorization: Bearer $token" "$url/api/v1/me" >/dev/null
wrk -t2 -c"$CONNS" -d2s -H "Cookie: kvarter_session=$token" "$url/" >/dev/null
for r in $(seq 1 "$ROUNDS"); do
  wrk -t2 -c"$CONNS" -d"$DUR" --latency -H "Authorization: Bearer $token" "$url/api/v1/me" >"$work/me.txt"
  wrk -t2 -c"$CONNS" -d"$DUR" --latency -H "Cookie: kvarter_session=$token" "$url/" >"$work/page.txt"
  grep -q 'Non-2xx' "$work/page.txt" "$work/me.txt" && { echo "errors:"; cat "$work/page.txt" "$work/me.txt"; exit 1; }
  printf 'round %d (load %s): /api/v1/me %9.1f req/s p99 %s; home page %9.1f req/s p99 %s; page/me %.2f\n' "$r" \
    "$(cut -d' ' -f1 /proc/loadavg)" "$(rps "$work/me.txt")" "$(p99 "$work/me.txt")" "$(rps "$work/page.txt")" "$(p99 "$work/page.txt")" \
    "$(awk -v a="$(rps "$work/page.txt")" -v b="$(rps "$work/me.txt")" 'BEGIN{print a/b}')"
done
