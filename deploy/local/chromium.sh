#!/usr/bin/env bash
# Debian's Chromium for the dashboard's browser test (make browser).
source "$(dirname "$0")/common.sh"
apt_install chromium
command -v chromium >/dev/null || die "chromium not on PATH after install"
log "chromium: $(chromium --version 2>/dev/null | head -1)"
