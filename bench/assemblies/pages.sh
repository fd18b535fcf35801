#!/usr/bin/env bash
# The assemblies' pages against their JSON routes (issue 18's speed targets), through a
# real `kvarter serve` on PostgreSQL (the core's frame, the host's filter of the
# plugin's HTML, go-plugin to the assemblies plugin), at CONNS connections, in
# alternating rounds of one run:
#
# 1. The public motion page (text, vote result, the city's answer, the timeline with
#    names) against GET /api/v1/assemblies/{id}/motions/{motionID} (the same motion
#    as JSON), both as the same signed-in member.
#    Target: the page at >= 70% of the route's requests per second. The same again
#    for an anonymous visitor (no session on either), as the public reads it.
# 2. The assembly page (charter, rules, members, meetings, motions) against
#    GET /api/v1/assemblies/{id}, the same way (target: >= 70%), and against the four
#    JSON routes that hold the page's data (the assembly, its members, meetings and
#    motions; one set of four counts once).
# 3. The voting booth's cast-and-confirm — the form's POST, which the booth answers
#    with its confirmation page — against the JSON ballot, POST .../vote/ballots, on a
#    secret vote whose ballots may be changed, spread over MEMBERS signed-in members.
#    Target: casts/s within 10% of ballots/s.
#
# Each pair takes turns in slices of SLICE (measure_pair); each side runs DUR in all.
#
#   bench/assemblies/pages.sh     # DUR=10s SLICE=1s CONNS=32 ROUNDS=3 MEMBERS=40 to change
#   HOLD=DIR bench/assemblies/pages.sh
#
# HOLD=DIR measures nothing: after the set-up it writes into DIR the server's address
# (url), its pid (pid), the database (db), the wrk scripts of the ballot and the booth
# (ballot.lua, booth.lua) and the pages' paths and headers (env, for `. DIR/env`), and
# waits until it is stopped (kill, Ctrl-C), so one side at a time can be profiled
# (bench/assemblies/cpu.py splits the booth and the ballot by process).
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR=${DUR:-10s}
SLICE=${SLICE:-1s}
CONNS=${CONNS:-32}
ROUNDS=${ROUNDS:-3}
MEMBERS=${MEMBERS:-40}
ADDR=${ADDR:-127.0.0.1:18193}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install -y wrk)"; exit 1; }
. bench/lib.sh
bench_core apages ./bench/assemblies/loadgen /api/v1/assemblies
URL="http://$ADDR"
json() { python3 -c "import sys,json; print(json.load(sys.stdin)$1)"; }
api() { # api TOKEN METHOD PATH [BODY]
  curl -sf -X "$2" "$URL$3" -H "Authorization: Bearer $1" -H 'Content-Type: application/json' ${4:+-d "$4"}
}
login() { curl -sf "$URL/api/v1/auth/login" -H 'Content-Type: application/json' -d "{\"email\":\"$1\",\"password\":\"$2\"}" | json "['token']"; }

admin=$(login admin@bench.invalid 'bench admin passphrase')
nbh=$(api "$admin" POST /api/v1/neighbourhoods '{"name":"Karşıyaka"}' | json "['id']")
asm=$(api "$admin" POST /api/v1/assemblies "{\"neighbourhood_id\":\"$nbh\",\"name\":\"Karşıyaka Mahalle Meclisi\",
  \"charter\":\"Advise the municipality on the shore, the streets and the market.\",\"quorum_percent\":50,\"majority\":\"simple\",
  \"secrecy\":\"secret\",\"membership\":\"open\",\"ballot_changeable\":true}" | json "['id']")
: >"$work/tokens"
ids=()
for i in $(seq 1 "$MEMBERS"); do
  email="member$i@bench.invalid"
  id=$(curl -sf "$URL/api/v1/auth/register" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"a long bench passphrase\",\"display_name\":\"Üye $i Yılmaz\",\"language\":\"tr\"}" | json "['id']")
  tok=$(login "$email" 'a long bench passphrase')
  api "$tok" POST "/api/v1/neighbourhoods/$nbh/memberships" '{"note":"bench"}' >/dev/null
  api "$admin" POST "/api/v1/neighbourhoods/$nbh/memberships/$id/approve" '{}' >/dev/null
  api "$tok" POST "/api/v1/assemblies/$asm/members" >/dev/null
  echo "$tok" >>"$work/tokens"
  ids+=("$id")
done
chair=$(head -1 "$work/tokens") member=$(sed -n 2p "$work/tokens")
api "$admin" POST "/api/v1/assemblies/$asm/members/${ids[0]}/position" '{"position":"chair"}' >/dev/null
for d in 3 10 17; do
  day=$(date -u -d "+$d days" +%Y-%m-%d)
  api "$chair" POST "/api/v1/assemblies/$asm/meetings" "{\"title\":\"Meeting in $d days\",\"starts_at\":\"${day}T15:00:00Z\",
    \"ends_at\":\"${day}T17:00:00Z\",\"place\":\"Community hall\",\"online_url\":\"https://meet.example.org/k\",
    \"agenda\":[{\"title\":\"Opening\"},{\"title\":\"Benches\"}]}" >/dev/null
done
motion() { # motion TITLE: drafted by the member, tabled, vote opened; prints its id
  local m
  m=$(api "$member" POST "/api/v1/assemblies/$asm/motions" "{\"title\":\"$1\",\"text\":\"Place six benches along the shore path, where people walk in the evening.\"}" | json "['id']")
  api "$member" POST "/api/v1/assemblies/$asm/motions/$m/table" >/dev/null
  api "$chair" POST "/api/v1/assemblies/$asm/motions/$m/vote/open" '{}' >/dev/null
  echo "$m"
}
decided=$(motion "Benches on the shore")
while read -r tok; do api "$tok" POST "/api/v1/assemblies/$asm/motions/$decided/vote/ballots" '{"choice":"yes"}' >/dev/null; done <"$work/tokens"
api "$chair" POST "/api/v1/assemblies/$asm/motions/$decided/vote/close" >/dev/null
api "$admin" POST "/api/v1/assemblies/$asm/motions/$decided/acknowledge" >/dev/null
api "$admin" POST "/api/v1/assemblies/$asm/motions/$decided/answer" '{"decision":"accepted","reasoning":"Six benches will be placed in May."}' >/dev/null
for t in "Lights on the path" "A market on Sundays" "Shade at the bus stop"; do motion "$t" >/dev/null; done
open=$(motion "Trees on the square")

cookie="Cookie: kvarter_session=$member" bearer="Authorization: Bearer $member"
grep -q 'Six benches will be placed in May.' <(curl -sf -H "$cookie" "$URL/assemblies/$asm/motions/$decided") || { echo "the motion page lacks the city's answer"; exit 1; }
grep -q 'Community hall' <(curl -sf -H "$cookie" "$URL/assemblies/$asm") || { echo "the assembly page lacks its meetings"; exit 1; }

# The ballot scripts spread the requests over the members, one token after another.
lua_tokens="tokens = {}; for line in io.lines('$work/tokens') do tokens[#tokens+1] = line end; n = 0"
cat >"$work/ballot.lua" <<LUA
$lua_tokens
request = function()
  n = n + 1
  return wrk.format("POST", "/api/v1/assemblies/$asm/motions/$open/vote/ballots",
    {["Authorization"] = "Bearer " .. tokens[n % #tokens + 1], ["Content-Type"] = "application/json"}, '{"choice":"yes"}')
end
LUA
cat >"$work/asmdata.lua" <<LUA
paths = {"/api/v1/assemblies/$asm", "/api/v1/assemblies/$asm/members", "/api/v1/assemblies/$asm/meetings", "/api/v1/assemblies/$asm/motions"}
n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[n % 4 + 1], {["Authorization"] = "Bearer $member"})
end
LUA
cat >"$work/booth.lua" <<LUA
$lua_tokens
request = function()
  n = n + 1
  return wrk.format("POST", "/assemblies/$asm/motions/$open/vote", {["Cookie"] = "kvarter_session=" .. tokens[n % #tokens + 1],
    ["Sec-Fetch-Site"] = "same-origin", ["Content-Type"] = "application/x-www-form-urlencoded"}, "choice=yes")
end
LUA
head=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Cookie: kvarter_session=$member" -H 'Sec-Fetch-Site: same-origin' \
  -H 'Content-Type: application/x-www-form-urlencoded' -d choice=no "$URL/assemblies/$asm/motions/$open/vote")
[ "$head" = 200 ] || { echo "the booth answered $head, want 200"; exit 1; }
grep -q 'role="status"' <(curl -sf -X POST -H "Cookie: kvarter_session=$member" -H 'Sec-Fetch-Site: same-origin' \
  -H 'Content-Type: application/x-www-form-urlencoded' -d choice=yes "$URL/assemblies/$asm/motions/$open/vote") ||
  { echo "the booth's answer lacks its confirmation"; exit 1; }

# run_wrk NAME DURATION PATH HEADER | run_wrk NAME DURATION - SCRIPT: one wrk run; adds
# its requests, seconds and p99 (ms) to $work/NAME.acc.
run_wrk() {
  if [ "$3" = - ]; then
    wrk -t2 -c"$CONNS" -d"$2" --latency -s "$4" "$URL/" >"$work/$1.txt"
  else
    wrk -t2 -c"$CONNS" -d"$2" --latency -H "$4" "$URL$3" >"$work/$1.txt"
  fi
  if grep -q 'Non-2xx' "$work/$1.txt"; then echo "errors in $1:"; cat "$work/$1.txt"; exit 1; fi
  awk '/ requests in / {n=$1; d=$4; sub(/,$/,"",d); if (d ~ /ms$/) {sub(/ms$/,"",d); d/=1000} else if (d ~ /m$/) {sub(/m$/,"",d); d*=60} else sub(/s$/,"",d)}
    $1=="99%" {p=$2; if (p ~ /us$/) {sub(/us$/,"",p); p/=1000} else if (p ~ /ms$/) sub(/ms$/,"",p); else if (p ~ /s$/) {sub(/s$/,"",p); p*=1000}}
    END {print n, d, p}' "$work/$1.txt" >>"$work/$1.acc"
}
# measure_pair A PATH_A ARG_A B PATH_B ARG_B (as run_wrk's): A and B take turns in
# slices of SLICE until each has run DUR, which goes first changing every slice. This
# machine is a shared VM whose speed drifts by more than the differences measured, from
# one second to the next: a drift lands on both sides of a ratio alike this way.
measure_pair() {
  rm -f "$work/$1.acc" "$work/$4.acc"
  local i
  for i in $(seq 1 $((${DUR%s} / ${SLICE%s}))); do
    if [ $((i % 2)) = 1 ]; then
      run_wrk "$1" "$SLICE" "$2" "$3"; run_wrk "$4" "$SLICE" "$5" "$6"
    else
      run_wrk "$4" "$SLICE" "$5" "$6"; run_wrk "$1" "$SLICE" "$2" "$3"
    fi
  done
}
rps() { awk '{n+=$1; d+=$2} END {printf "%.1f", n/d}' "$work/$1.acc"; }
p99() { awk '$3>m {m=$3} END {printf "%.2fms", m}' "$work/$1.acc"; } # the worst slice's
if [ -n "${HOLD:-}" ]; then
  mkdir -p "$HOLD"
  cp "$work/ballot.lua" "$work/booth.lua" "$HOLD/"
  echo "$URL" >"$HOLD/url"; echo "$kv" >"$HOLD/pid"; echo "$db" >"$HOLD/db"
  printf 'url=%q\nmotion=%q\nassembly=%q\ncookie=%q\nbearer=%q\n' "$URL" "/assemblies/$asm/motions/$decided" "/assemblies/$asm" \
    "$cookie" "$bearer" >"$HOLD/env"
  echo "== holding $URL (pid $kv, database $db); scripts and addresses in $HOLD; stop with kill $$"
  while sleep 1; do :; done
fi
echo "== $CONNS connections, $DUR each in slices of $SLICE, $MEMBERS members; motion page $(curl -sf -H "$cookie" "$URL/assemblies/$asm/motions/$decided" | wc -c) bytes, assembly page $(curl -sf -H "$cookie" "$URL/assemblies/$asm" | wc -c) bytes"
for path in "/api/v1/assemblies/$asm/motions/$decided" "/api/v1/assemblies/$asm"; do wrk -t2 -c"$CONNS" -d2s -H "$bearer" "$URL$path" >/dev/null; done
for path in "/assemblies/$asm/motions/$decided" "/assemblies/$asm"; do wrk -t2 -c"$CONNS" -d2s -H "$cookie" "$URL$path" >/dev/null; done
for r in $(seq 1 "$ROUNDS"); do
  measure_pair motion_route "/api/v1/assemblies/$asm/motions/$decided" "$bearer" motion_page "/assemblies/$asm/motions/$decided" "$cookie"
  measure_pair anon_route "/api/v1/assemblies/$asm/motions/$decided" "Accept-Language: tr" anon_page "/assemblies/$asm/motions/$decided" "Accept-Language: tr"
  measure_pair asm_route "/api/v1/assemblies/$asm" "$bearer" asm_page "/assemblies/$asm" "$cookie"
  rm -f "$work/asm_data.acc"; run_wrk asm_data "$DUR" - "$work/asmdata.lua"
  measure_pair ballot - "$work/ballot.lua" booth - "$work/booth.lua"
  printf 'round %d (load %s)\n' "$r" "$(cut -d' ' -f1 /proc/loadavg)"
  printf '  motion: route %8.1f req/s p99 %s; page %8.1f req/s p99 %s; page/route %s\n' "$(rps motion_route)" "$(p99 motion_route)" \
    "$(rps motion_page)" "$(p99 motion_page)" "$(awk -v a="$(rps motion_page)" -v b="$(rps motion_route)" 'BEGIN{printf "%.2f", a/b}')"
  printf '  motion, anonymous: route %8.1f req/s p99 %s; page %8.1f req/s p99 %s; page/route %s\n' "$(rps anon_route)" "$(p99 anon_route)" \
    "$(rps anon_page)" "$(p99 anon_page)" "$(awk -v a="$(rps anon_page)" -v b="$(rps anon_route)" 'BEGIN{printf "%.2f", a/b}')"
  printf '  assembly: route %8.1f req/s p99 %s; page %8.1f req/s p99 %s; page/route %s\n' "$(rps asm_route)" "$(p99 asm_route)" \
    "$(rps asm_page)" "$(p99 asm_page)" "$(awk -v a="$(rps asm_page)" -v b="$(rps asm_route)" 'BEGIN{printf "%.2f", a/b}')"
  printf '  assembly data: four routes %8.1f sets/s (%s req/s); page/sets %s\n' "$(awk -v a="$(rps asm_data)" 'BEGIN{printf "%.1f", a/4}')" \
    "$(rps asm_data)" "$(awk -v a="$(rps asm_page)" -v b="$(rps asm_data)" 'BEGIN{printf "%.2f", a/(b/4)}')"
  printf '  ballot: JSON %8.1f ballots/s p99 %s; booth %8.1f cast-and-confirm/s p99 %s; booth/JSON %s\n' "$(rps ballot)" "$(p99 ballot)" \
    "$(rps booth)" "$(p99 booth)" "$(awk -v a="$(rps booth)" -v b="$(rps ballot)" 'BEGIN{printf "%.2f", a/b}')"
  for side in motion_route motion_page anon_route anon_page asm_route asm_page ballot booth; do cat "$work/$side.acc" >>"$work/$side.run.acc"; done
done
# The run's ratios, every round's slices pooled: a round's ratio moves by a few points
# with the machine, the run's moves less; the rounds above show how far they spread.
ratio() { awk -v a="$(rps "$1.run")" -v b="$(rps "$2.run")" 'BEGIN{printf "%.3f", a/b}'; }
printf 'run (%d rounds pooled): motion page/route %s; anonymous %s; assembly page/route %s; booth/JSON %s\n' "$ROUNDS" \
  "$(ratio motion_page motion_route)" "$(ratio anon_page anon_route)" "$(ratio asm_page asm_route)" "$(ratio booth ballot)"
