#!/usr/bin/env bash
# Refreshes the vendored front-end files (`make assets`). npm installs the pinned
# versions below into a temporary prefix; only the files a page needs, and each
# package's licence, are copied into the repository, with a VERSIONS file that names
# each package's version, npm integrity hash and licence and each file's sha256.
# The files are committed: building Kvarter never needs npm, and tests fail when a
# vendored file no longer matches its VERSIONS line (a hand edit shows).
#
#   core/web/static/vendor/   htmx and Designsystemet, embedded in the binary and served
#   e2e/testdata/vendor/      axe-core, injected into pages by the browser tests only
#
# To upgrade: change a version here, run `make assets`, run the core/web/static and
# e2e tests, and read the packages' changelogs for changes a page must follow.
set -euo pipefail
cd "$(dirname "$0")/.."

HTMX_VERSION=4.0.1
DS_CSS_VERSION=1.22.0
DS_THEME_VERSION=1.11.0
AXE_VERSION=4.14.1

if ! command -v npm >/dev/null; then
  echo "assets: npm is needed to refresh the vendored files (apt-get install -y nodejs npm)" >&2
  exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# --ignore-scripts: nothing from these packages runs on this machine; we only copy files.
npm install --prefix "$tmp" --no-audit --no-fund --ignore-scripts --loglevel=error \
  "htmx.org@$HTMX_VERSION" \
  "@digdir/designsystemet-css@$DS_CSS_VERSION" \
  "@digdir/designsystemet-theme@$DS_THEME_VERSION" \
  "axe-core@$AXE_VERSION" >/dev/null

# field PACKAGE EXPRESSION: a value from the package's installed package.json or from
# the lock file npm just wrote (where the integrity hash is).
field() {
  node -e '
    const [prefix, pkg, what] = process.argv.slice(1);
    const lock = require(prefix + "/package-lock.json").packages["node_modules/" + pkg];
    const meta = require(prefix + "/node_modules/" + pkg + "/package.json");
    const v = what === "integrity" ? lock.integrity : meta[what];
    if (typeof v !== "string" || v === "") { console.error(pkg + ": no " + what); process.exit(1); }
    console.log(v);
  ' "$tmp" "$1" "$2"
}

# vendor DEST PACKAGE VERSION DIR SRC:NAME... copies SRC (relative to the installed
# package) to DEST/DIR/NAME, the package's LICENSE beside it, and records both.
vendor() {
  local dest="$1" pkg="$2" want="$3" dir="$4"
  shift 4
  local src="$tmp/node_modules/$pkg" got
  got="$(field "$pkg" version)"
  if [ "$got" != "$want" ]; then
    echo "assets: $pkg: npm installed $got, not the pinned $want" >&2
    exit 1
  fi
  mkdir -p "$dest/$dir"
  printf 'package %s %s %s %s %s\n' "$pkg" "$got" "$(field "$pkg" integrity)" "$(field "$pkg" license)" "$dir" >>"$dest/VERSIONS.new"
  local licence
  licence="$(ls "$src" | grep -iE '^licen[cs]e(\.md|\.txt)?$' | head -n1 || true)"
  if [ -z "$licence" ]; then
    echo "assets: $pkg ships no LICENSE file; vendoring it without one is not allowed" >&2
    exit 1
  fi
  for pair in "$@" "$licence:LICENSE"; do
    local from="${pair%%:*}" to="${pair#*:}"
    cp "$src/$from" "$dest/$dir/$to"
    printf 'file %s/%s %s\n' "$dir" "$to" "$(sha256sum "$dest/$dir/$to" | cut -d' ' -f1)" >>"$dest/VERSIONS.new"
  done
}

# begin DEST: a fresh vendor folder (nothing stale survives an upgrade) with a header.
begin() {
  rm -rf "$1"
  mkdir -p "$1"
  {
    echo "# Written by scripts/assets.sh (make assets); do not edit by hand."
    echo "# package NPM-NAME VERSION NPM-INTEGRITY LICENCE FOLDER"
    echo "# file FOLDER/NAME SHA256"
  } >"$1/VERSIONS.new"
}

static=core/web/static/vendor
begin "$static"
vendor "$static" htmx.org "$HTMX_VERSION" htmx.org dist/htmx.min.js:htmx.min.js
vendor "$static" @digdir/designsystemet-css "$DS_CSS_VERSION" designsystemet-css dist/src/index.css:index.css
vendor "$static" @digdir/designsystemet-theme "$DS_THEME_VERSION" designsystemet-theme src/themes/designsystemet.css:designsystemet.css
mv "$static/VERSIONS.new" "$static/VERSIONS"

axe=e2e/testdata/vendor
begin "$axe"
vendor "$axe" axe-core "$AXE_VERSION" axe-core axe.min.js:axe.min.js
mv "$axe/VERSIONS.new" "$axe/VERSIONS"

# A stylesheet that reaches another host breaks under the CSP (default-src 'self')
# and tells a third party who visits a city's pages: refuse it here, loudly.
if grep -nE '@import|url\((["'"'"']?)(https?:)?//' "$static"/*/*.css; then
  echo "assets: a vendored stylesheet loads something from another host (above); vendor that too or drop the rule" >&2
  exit 1
fi

cat "$static/VERSIONS" "$axe/VERSIONS" | grep '^package'
