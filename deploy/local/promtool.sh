#!/usr/bin/env bash
# promtool.sh: installs promtool (Prometheus' rule checker, from Debian's
# prometheus package, bookworm: 2.42) under the stack's state directory and
# prints its path. Only the promtool binary is extracted from the .deb
# (apt-get download + dpkg-deb -x): no Prometheus service is installed or
# started. Idempotent: a second run only prints. deploy/alerts_test.go and
# `make promtool` use it.
#   bash deploy/local/promtool.sh      install if needed, print the promtool path
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DIR=$STATE_DIR/promtool
BIN=$DIR/usr/bin/promtool

# One install at a time: go test may run several packages at once.
mkdir -p "$DIR"
exec 9>"$DIR.lock"
flock 9
if ! "$BIN" --version >/dev/null 2>&1; then
  command -v apt-get >/dev/null || die "promtool: apt-get (Debian) is needed to fetch the prometheus package"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  log "downloading Debian's prometheus package for promtool"
  if ! (cd "$tmp" && apt-get download -qq prometheus >/dev/null 2>&1); then
    [ "$(id -u)" = 0 ] || die "promtool: apt-get download prometheus failed (apt-get update needs root)"
    apt-get update -qq >/dev/null || die "apt-get update failed"
    (cd "$tmp" && apt-get download -qq prometheus >/dev/null) || die "apt-get download prometheus failed"
  fi
  dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x" || die "dpkg-deb -x prometheus failed"
  mkdir -p "$DIR/usr/bin"
  install -m 0755 "$tmp/x/usr/bin/promtool" "$BIN"
  "$BIN" --version >/dev/null 2>&1 || die "promtool from the prometheus package does not run"
fi
echo "$BIN"
