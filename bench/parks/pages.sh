#!/usr/bin/env bash
# The parks pages' speed targets (issue 20), in one run, on SQLite and on a throwaway
# PostgreSQL database (dropped after):
#
# 1. An area's page of free slots for 90 days with 5,000 approved bookings in the park:
#    p50/p95 and CPU time per page. Target: p95 under 50 ms.
# 2. The public calendar's week page against the JSON route listing the same events,
#    alternating request by request. Target: the page at >= 70% of the route.
#
#   bench/parks/pages.sh      # N=200 iterations; PGURL=postgres://... to change
#
# Both go through the plugin's own handler; the core's frame around a plugin page is
# measured by bench/pages/run.sh (issue 16). Results: docs/benchmarks.md, "Issue 20".
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-200}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
db="kvarter_parkspages_$$"
psql "$PGURL/postgres" -qc "CREATE DATABASE $db"
trap 'psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
echo "== $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(go version | cut -d' ' -f3), load $(cut -d' ' -f1-3 /proc/loadavg)"
cd plugins/parks
KVARTER_TEST_DATABASE_URL="$PGURL/$db?sslmode=disable" go test -run '^$' -bench 'Pages_' -benchtime "${N}x" . | grep -E '^Benchmark|^ok|FAIL'
echo "== load afterwards $(cut -d' ' -f1-3 /proc/loadavg)"
