#!/usr/bin/env bash
# Ballots before and after in one run: bench/assemblies/run.sh's vote, on two cities at
# once — kvarter built at REV and at the working tree, each on its own PostgreSQL
# database with every built-in plugin, each driven by its own loadgen — with the two
# loadgens casting in step (a barrier before each vote: -barrier). Both cities share
# whatever else the machine does, so the ratio of their ballots per second holds where
# single runs swing. Prints each vote's ratio after/before per round and the medians.
#
#   bench/compare-ballots.sh REV     # ROUNDS=5 N=1000 CONNS=16 PGURL=postgres://... to change
#
# The first round registers N residents per city (argon2id: a minute or two); later
# rounds reuse them (loadgen -state) with a fresh motion each.
set -euo pipefail
cd "$(dirname "$0")/.."
REV=${1:?usage: bench/compare-ballots.sh REV}
ROUNDS=${ROUNDS:-5}
N=${N:-1000}
CONNS=${CONNS:-16}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}

work=$(mktemp -d)
pids=()
prefix="cb$$"
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for side in before after; do
    psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS kvarter_cb_${side}_$$ WITH (FORCE)" >/dev/null 2>&1 || true
  done
  # The plugins' login roles live outside the databases.
  for role in $(psql "$PGURL/postgres" -Atc "SELECT rolname FROM pg_roles WHERE rolname LIKE '${prefix}%'" 2>/dev/null); do
    psql "$PGURL/postgres" -qc "DROP ROLE IF EXISTS $role" >/dev/null 2>&1 || true
  done
  git worktree remove --force "$work/src" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

git worktree add --detach -q "$work/src" "$REV"
(cd "$work/src" && go build -o "$work/kvarter-before" ./cmd/kvarter)
go build -o "$work/kvarter-after" ./cmd/kvarter
go build -o "$work/loadgen" ./bench/assemblies/loadgen

declare -A URL
port=18290
for side in before after; do
  port=$((port + 1))
  dir="$work/$side" db="kvarter_cb_${side}_$$"
  mkdir -p "$dir"
  psql "$PGURL/postgres" -qc "CREATE DATABASE $db"
  cat > "$dir/city.json" <<JSON
{"city":{"name":"Bench","time_zone":"UTC","languages":["en"]},
 "listen":"127.0.0.1:$port","data_dir":"$dir/data","log_level":"warn",
 "database_url":"$PGURL/$db?sslmode=disable","plugin_store_prefix":"${prefix}${side}_"}
JSON
  echo 'bench admin passphrase' | "$work/kvarter-$side" admin create-user --config "$dir/city.json" \
    --email admin@bench.invalid --password-stdin --role city_admin >/dev/null
  "$work/kvarter-$side" serve --config "$dir/city.json" 2>"$dir/serve.log" & pids+=($!)
  URL[$side]="http://127.0.0.1:$port"
  for _ in $(seq 1 150); do curl -sf "${URL[$side]}/api/v1/assemblies" >/dev/null && break; sleep 0.2; done
done
echo "== $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(go version | cut -d' ' -f3); before = $REV ($(git rev-parse --short "$REV")), after = working tree of $(git rev-parse --short HEAD); N=$N members voting at $CONNS connections per city, in step"

votes="secret named"
for r in $(seq 1 "$ROUNDS"); do
  bar="$work/barrier$r"
  mkdir -p "$bar"
  lg=()
  for side in before after; do
    "$work/loadgen" -base "${URL[$side]}" -n "$N" -c "$CONNS" -secrecy secret,named -warmup 200 -me=false \
      -state "$work/$side/state.json" -barrier "$bar" -tag "$side" >"$work/$side/round$r.txt" 2>"$work/$side/round$r.log" & lg+=($!)
  done
  k=0
  for _ in $votes; do
    until [ -e "$bar/before.ready$k" ] && [ -e "$bar/after.ready$k" ]; do
      for p in "${lg[@]}"; do kill -0 "$p" 2>/dev/null || { echo "a loadgen stopped; see $work/*/round$r.log"; cat "$work"/*/round$r.log; exit 1; }; done
      sleep 0.05
    done
    touch "$bar/go$k"
    k=$((k + 1))
  done
  wait "${lg[@]}"
  for v in $votes; do
    b=$(sed -nE "s/^$v vote: .* = ([0-9]+) ballots\/s.*/\1/p" "$work/before/round$r.txt")
    a=$(sed -nE "s/^$v vote: .* = ([0-9]+) ballots\/s.*/\1/p" "$work/after/round$r.txt")
    printf '%-6s round %d (load %s): before %5d ballots/s, after %5d ballots/s, after/before %.3f\n' \
      "$v" "$r" "$(cut -d' ' -f1 /proc/loadavg)" "$b" "$a" "$(awk -v a="$a" -v b="$b" 'BEGIN{print a/b}')"
    awk -v a="$a" -v b="$b" 'BEGIN{print a/b}' >>"$work/$v.ratios"
  done
done
for v in $votes; do
  printf '%-6s median after/before over %d rounds: %s\n' "$v" "$ROUNDS" \
    "$(sort -n "$work/$v.ratios" | awk '{v[NR]=$1} END {printf "%.3f", (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}')"
done
