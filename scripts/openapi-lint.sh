#!/usr/bin/env bash
# Validates the whole /api/v1/openapi.json — the core and the four built-in plugins, as a
# running kvarter serves it — with a third-party validator, Redocly CLI, pinned to one
# version. npm installs it once into a cache outside the repository; the lint itself
# runs offline (a local file, no remote references, telemetry off) and fails on any
# error (warnings are printed, not fatal). See .ci/redocly.yaml for the rules.
set -euo pipefail
cd "$(dirname "$0")/.."
GO="${GO:-go}"
REDOCLY_VERSION=1.34.5
cache="${KVARTER_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvarter-ci}/redocly-cli-$REDOCLY_VERSION"
redocly="$cache/node_modules/.bin/redocly"

if [ ! -x "$redocly" ]; then
  if ! command -v npm >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
  fi
  npm install --prefix "$cache" --no-audit --no-fund --loglevel=error "@redocly/cli@$REDOCLY_VERSION"
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
doc="$out/openapi.json"
# The end-to-end test starts kvarter with every built-in plugin and writes the document.
KVARTER_OPENAPI_OUT="$doc" "$GO" test -count=1 -run '^TestMain_API$/^sqlite$/^OpenAPI$' ./cmd/kvarter
if [ ! -s "$doc" ]; then
  echo "the OpenAPI document was not written to $doc" >&2
  exit 1
fi
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1 \
  "$redocly" lint --config .ci/redocly.yaml --format stylish "$doc"
