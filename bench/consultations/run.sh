#!/usr/bin/env bash
# The consultations plugin's speed targets (issue 23), through a real `kvarter serve` on
# PostgreSQL: the core's frame and session, the casbin route check, go-plugin gRPC to
# the plugin, its eligibility checks, validation with the dependent question, and the
# answer's transaction.
#
# 1. Survey submissions: RESIDENTS verified residents (registered, verified by one
#    membership import and signed in by loadgen/, before the clock) post the survey's
#    page form — POST /consultations/{id}/answer, url-encoded, session cookie, as the
#    browser sends it without JavaScript — for DUR at CONNS connections with wrk
#    (submit.lua), one resident after another: a resident's first post stores the
#    answer, the next ones change it (the survey is editable), each answered 303.
#    That is the most the node takes (closed loop). Then the target's own rate, open
#    loop (loadgen -pace: each post sent on time whatever the ones before are doing,
#    as residents arrive): RATE a second for PACE. Target: 5,000 submissions in a
#    minute (83.4/s) with p99 < 100 ms. After each, the plugin's answers table must
#    hold exactly one answer per resident.
# 2. Results: ANSWERS more answers are written straight into the plugin's schema (no
#    HTTP: that is part 1's business), the survey is closed, and staff ask for the
#    results through the core: the preview (computed anew each time; median of 5),
#    then the publication (computed and stored once), then the published results page
#    in the frame. Target: results of 100,000 answers in under 1 s.
#
#   bench/consultations/run.sh     # RESIDENTS=400 DUR=60s CONNS=4 RATE=83.4 PACE=60s ANSWERS=100000 to change
#                                  # TIMELINE=1 adds the paced run's latency per 5 s
set -euo pipefail
cd "$(dirname "$0")/../.."
RESIDENTS=${RESIDENTS:-400}
DUR=${DUR:-60s}
CONNS=${CONNS:-4}
RATE=${RATE:-83.4}
PACE=${PACE:-60s}
ANSWERS=${ANSWERS:-100000}
ADDR=${ADDR:-127.0.0.1:18195}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install -y wrk)"; exit 1; }
. bench/lib.sh
bench_core cbench ./bench/consultations/loadgen /api/v1/consultations
URL="http://$ADDR"
start=$(date +%s)
"$work/loadgen" -base "$URL" -n "$RESIDENTS" -tokens "$work/tokens" -forms "$work/forms" >"$work/ids"
. "$work/ids"
echo "== setup (register, verify, sign in $RESIDENTS residents; the survey) took $(( $(date +%s) - start )) s"

cat >"$work/submit.lua" <<LUA
tokens = {}; for line in io.lines('$work/tokens') do tokens[#tokens+1] = line end
forms = {}; for line in io.lines('$work/forms') do forms[#forms+1] = line end
-- Each thread takes every other resident, so that no two requests of one resident
-- are in flight at once (two first posts at once: one is refused, rightly).
threads = 0
function setup(thread) thread:set("id", threads); threads = threads + 1 end
n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/consultations/$SURVEY/answer", {
    ["Cookie"] = "kvarter_session=" .. tokens[(n * 2 + id) % #tokens + 1], ["Sec-Fetch-Site"] = "same-origin",
    ["Content-Type"] = "application/x-www-form-urlencoded"}, forms[n % #forms + 1])
end
LUA
first=$(head -1 "$work/tokens")
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Cookie: kvarter_session=$first" -H 'Sec-Fetch-Site: same-origin' \
  -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "$(head -1 "$work/forms")" "$URL/consultations/$SURVEY/answer")
[ "$status" = 303 ] || { echo "the survey form answered $status, want 303"; exit 1; }

echo "== part 1: survey submissions, $CONNS connections, $DUR, $RESIDENTS residents (load before: $(cut -d' ' -f1 /proc/loadavg))"
wrk -t2 -c"$CONNS" -d"$DUR" --latency -s "$work/submit.lua" "$URL/" >"$work/submit.txt"
if grep -q 'Non-2xx' "$work/submit.txt"; then echo "errors:"; cat "$work/submit.txt"; exit 1; fi
total=$(awk '/requests in/ {print $1}' "$work/submit.txt")
rps=$(awk '/Requests\/sec/ {print $2}' "$work/submit.txt")
secs=$(echo "$DUR" | sed 's/s$//')
printf '  %s submissions in %s (%s/s, %s a minute); latency p50 %s p90 %s p99 %s (load after: %s)\n' "$total" "$DUR" "$rps" \
  "$(awk -v r="$rps" 'BEGIN{printf "%d", r*60}')" "$(awk '$1=="50%" {print $2}' "$work/submit.txt")" \
  "$(awk '$1=="90%" {print $2}' "$work/submit.txt")" "$(awk '$1=="99%" {print $2}' "$work/submit.txt")" "$(cut -d' ' -f1 /proc/loadavg)"
stored=$(psql "$PGURL/$db" -Atc "SELECT count(*) || '/' || count(DISTINCT user_id) FROM plugin_consultations.answers WHERE consultation_id = '$SURVEY'")
echo "  in the database, answers/residents: $stored (want $RESIDENTS/$RESIDENTS)"
[ "$stored" = "$RESIDENTS/$RESIDENTS" ]

echo "== part 1b: the target's rate, open loop: $RATE submissions a second for $PACE (load before: $(cut -d' ' -f1 /proc/loadavg))"
"$work/loadgen" -base "$URL" -pace -survey "$SURVEY" -tokens "$work/tokens" -forms "$work/forms" -rate "$RATE" -for "$PACE" ${TIMELINE:+-timeline}
stored=$(psql "$PGURL/$db" -Atc "SELECT count(*) || '/' || count(DISTINCT user_id) FROM plugin_consultations.answers WHERE consultation_id = '$SURVEY'")
[ "$stored" = "$RESIDENTS/$RESIDENTS" ] || { echo "after the paced run, answers/residents: $stored"; exit 1; }

echo "== part 2: results of $ANSWERS more answers"
t=$(date +%s%N)
psql "$PGURL/$db" -qc "INSERT INTO plugin_consultations.answers (consultation_id, id, user_id, content)
  SELECT '$SURVEY', gen_random_uuid()::text, NULL,
    CASE WHEN i % 3 = 0 THEN format('{\"%s\":{\"options\":[\"%s\"]},\"%s\":{\"options\":[\"%s\"]}}', '$Q0', '$Q0O1', '$Q2', CASE i % 4 WHEN 0 THEN '$Q2O0' WHEN 1 THEN '$Q2O1' WHEN 2 THEN '$Q2O2' ELSE '$Q2O3' END)
    ELSE format('{\"%s\":{\"options\":[\"%s\"]},\"%s\":{\"value\":%s},\"%s\":{\"options\":[\"%s\",\"%s\"]},\"%s\":{\"options\":[\"%s\",\"%s\",\"%s\"]}}',
      '$Q0', '$Q0O0', '$Q1', 1 + i % 5, '$Q2', '$Q2O0', CASE i % 3 WHEN 0 THEN '$Q2O1' WHEN 1 THEN '$Q2O2' ELSE '$Q2O3' END,
      '$Q3', CASE i % 3 WHEN 0 THEN '$Q3O0' WHEN 1 THEN '$Q3O1' ELSE '$Q3O2' END, CASE i % 3 WHEN 0 THEN '$Q3O1' WHEN 1 THEN '$Q3O2' ELSE '$Q3O0' END,
      CASE i % 3 WHEN 0 THEN '$Q3O2' WHEN 1 THEN '$Q3O0' ELSE '$Q3O1' END) END
  FROM generate_series(1, $ANSWERS) AS i; ANALYZE plugin_consultations.answers"
echo "  written in $(( ($(date +%s%N) - t) / 1000000 )) ms"
api() { curl -sf -X "$1" "$URL$2" -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' ${3:+-d "$3"}; }
api POST "/api/v1/consultations/$SURVEY/close" >/dev/null
timed() { curl -s -o "$work/body" -w '%{http_code} %{time_total}\n' -X "$1" "$URL$2" -H "Authorization: Bearer $ADMIN"; }
: >"$work/preview"
for _ in 1 2 3 4 5 6; do timed GET "/api/v1/consultations/$SURVEY/results/preview" >>"$work/preview"; done
grep -qv '^200 ' "$work/preview" && { echo "the preview failed:"; cat "$work/preview" "$work/body"; exit 1; }
total_answers=$(python3 -c "import json; print(json.load(open('$work/body'))['answers'])")
# The first preview opens the plugin's connections afresh after the load; the median of the next five counts.
median=$(tail -5 "$work/preview" | awk '{print $2}' | sort -n | sed -n 3p)
printf '  preview of %s answers (computed each time): median %.0f ms of 5 (all: %s)\n' "$total_answers" "$(awk -v s="$median" 'BEGIN{print s*1000}')" \
  "$(awk '{printf "%.0f ", $2*1000}' "$work/preview")"
# Publishing needs a decision on every free text: publish them all as written (bench text has no personal data).
python3 - "$URL" "$ADMIN" "$SURVEY" <<'PY'
import json, sys, urllib.request
url, tok, sid = sys.argv[1:]
def call(method, path, body=None):
    req = urllib.request.Request(url + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))
cursor = ""
while True:
    page = call("GET", f"/api/v1/consultations/{sid}/texts?limit=200" + (f"&cursor={cursor}" if cursor else ""))
    for t in page["items"]:
        call("PUT", f"/api/v1/consultations/{sid}/texts/{t['id']}", {"publish": True, "redacted": t["original"]})
    cursor = page.get("next_cursor") or ""
    if not cursor:
        break
PY
publish=$(timed POST "/api/v1/consultations/$SURVEY/results")
[ "${publish%% *}" = 200 ] || { echo "publishing failed: $publish"; cat "$work/body"; exit 1; }
printf '  publication (computed and stored once): %.0f ms\n' "$(awk -v s="${publish#* }" 'BEGIN{print s*1000}')"
: >"$work/page"
for _ in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "Cookie: kvarter_session=$first" "$URL/consultations/$SURVEY/results" >>"$work/page"; done
grep -qv '^200 ' "$work/page" && { echo "the results page failed:"; cat "$work/page"; exit 1; }
printf '  published results page in the frame: median %.0f ms of 5\n' "$(tail -5 "$work/page" | awk '{print $2}' | sort -n | sed -n 3p | awk '{print $1*1000}')"
