#!/usr/bin/env bash
# Before/after benchmarks of the volunteers plugin, back to back on one machine.
#
#   plugins/volunteers/bench/compare.sh BASE            # from anywhere in the repository
#   ROUNDS=5 BENCH='Routes' plugins/volunteers/bench/compare.sh main
#
# Builds the test binaries of ./bench, ./match and ./roster for BASE (a git revision,
# exported into a temporary directory) and for the working tree, then runs them in
# alternating rounds — before, after, before, after — so that both meet the same load
# on a shared machine. BenchmarkRoutes (bench/routes_test.go) speaks only the plugin's
# HTTP API, so when BASE predates it the working tree's copy is run against BASE's
# code. Prints both result sets and, when benchstat is on PATH, its comparison.
set -euo pipefail
BASE=${1:?usage: compare.sh BASE}
ROUNDS=${ROUNDS:-3}
BENCH=${BENCH:-.}
TIME=${TIME:-1s}
ROOT=$(git rev-parse --show-toplevel)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

mkdir -p "$OUT/before"
git -C "$ROOT" archive "$BASE" | tar -x -C "$OUT/before"
if [ ! -f "$OUT/before/plugins/volunteers/bench/routes_test.go" ]; then
  cp "$ROOT/plugins/volunteers/bench/routes_test.go" "$OUT/before/plugins/volunteers/bench/"
fi

build() { # build TREE NAME: test binaries of the three packages into $OUT/NAME-*
  for pkg in bench match roster; do
    (cd "$1/plugins/volunteers" && go test -c -o "$OUT/$2-$pkg.test" "./$pkg")
  done
}
build "$OUT/before" before
build "$ROOT" after

run() { # run NAME TREE
  for pkg in bench match roster; do
    # Each binary runs in its package directory, as go test would.
    (cd "$2/plugins/volunteers/$pkg" && "$OUT/$1-$pkg.test" -test.run '^$' -test.bench "$BENCH" \
      -test.benchtime "$TIME" -test.count 1) | { grep -E '^(Benchmark|goos|goarch|pkg|cpu)' || true; } >>"$OUT/$1.txt"
  done
}
for r in $(seq "$ROUNDS"); do
  echo "round $r/$ROUNDS" >&2
  run before "$OUT/before"
  run after "$ROOT"
done
echo "== before ($BASE)"; cat "$OUT/before.txt"
echo "== after (working tree)"; cat "$OUT/after.txt"
if command -v benchstat >/dev/null; then
  echo "== benchstat"; benchstat "$OUT/before.txt" "$OUT/after.txt"
fi
