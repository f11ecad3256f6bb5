#!/usr/bin/env bash
# openapi-lint.sh: installs Redocly CLI (the OpenAPI linter, pinned in
# deploy/openapi-lint/package-lock.json) from npm into a cache directory outside
# the work tree and prints the path of its `redocly` binary. Idempotent (a stamp
# per lock file: a second run only prints) and one install at a time (flock).
# Node and npm come from Debian when missing. The lint itself runs offline:
#   $(bash deploy/local/openapi-lint.sh) lint --config deploy/openapi-lint/redocly.yaml cmd/arrears/api/openapi.yaml
# (TestOpenAPILint in cmd/arrears/api does this; telemetry and update checks off.)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../openapi-lint" && pwd)
KEY=$(sha256sum "$SRC/package-lock.json" | cut -c1-12)
if [ -n "${XDG_CACHE_HOME:-}" ]; then CACHE=$XDG_CACHE_HOME/arrears/openapi-lint
elif [ -n "${HOME:-}" ]; then CACHE=$HOME/.cache/arrears/openapi-lint
else CACHE=/var/cache/arrears/openapi-lint; fi
DIR=$CACHE/$KEY
BIN=$DIR/node_modules/.bin/redocly

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
if [ ! -f "$DIR/installed" ]; then
  need=()
  command -v node >/dev/null || need+=(nodejs)
  command -v npm >/dev/null || need+=(npm)
  [ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"
  rm -rf "$DIR"
  mkdir -p "$DIR"
  cp "$SRC/package.json" "$SRC/package-lock.json" "$DIR/"
  log "openapi lint: npm ci (@redocly/cli) into $DIR"
  (cd "$DIR" && npm ci --ignore-scripts --no-audit --no-fund >&2) || die "npm ci in $DIR failed"
  REDOCLY_TELEMETRY=off "$BIN" --version >/dev/null 2>&1 || die "redocly does not run (node 20.19+ is needed)"
  find "$CACHE" -mindepth 1 -maxdepth 1 -type d ! -name "$KEY" -exec rm -rf {} +
  date -u +%FT%TZ >"$DIR/installed"
fi
echo "$BIN"
