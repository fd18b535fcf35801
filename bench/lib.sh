# Shared setup of the ballot benchmarks (bench/assemblies/run.sh, bench/budgeting/run.sh),
# sourced from the repository root: a throwaway PostgreSQL database and a kvarter serving
# on it, stopped and dropped on exit.
#
#   bench_core NAME LOADGEN READY_PATH
#
# builds kvarter and the load generator (package LOADGEN) into $work, creates the
# database kvarter_NAME_<pid> on $PGURL, the first city admin (admin@bench.invalid), and
# starts `kvarter serve` on $ADDR until GET READY_PATH answers. Sets work, db and kv.
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
work=$(mktemp -d)
db=""
kv=""
bench_cleanup() {
  [ -n "$kv" ] && { kill "$kv" 2>/dev/null || true; wait "$kv" 2>/dev/null || true; }
  [ -n "$db" ] && { psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; }
  rm -rf "$work"
}
trap bench_cleanup EXIT

bench_core() {
  local name=$1 loadgen=$2 ready=$3
  go build -o "$work/kvarter" ./cmd/kvarter
  go build -o "$work/loadgen" "$loadgen"
  db="kvarter_${name}_$$"
  psql "$PGURL/postgres" -qc "CREATE DATABASE $db"
  export KVARTER_DATABASE_URL="$PGURL/$db?sslmode=disable" KVARTER_ADDR=$ADDR KVARTER_LOG_LEVEL=warn KVARTER_DATA_DIR="$work/data"
  echo 'bench admin passphrase' | "$work/kvarter" admin create-user --email admin@bench.invalid --password-stdin --role city_admin >/dev/null
  "$work/kvarter" serve 2>"$work/serve.log" & kv=$!
  for _ in $(seq 1 100); do curl -sf "http://$ADDR/readyz" >/dev/null && break; sleep 0.2; done
  for _ in $(seq 1 100); do curl -sf "http://$ADDR$ready" >/dev/null && break; sleep 0.2; done
  echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(go version | cut -d' ' -f3), PostgreSQL $(psql "$PGURL/postgres" -Atc 'SHOW server_version' | cut -d' ' -f1) on the same machine"
}
