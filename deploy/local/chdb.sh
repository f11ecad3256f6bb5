#!/usr/bin/env bash
# chdb.sh: installs chDB (ClickHouse embedded in Python, from PyPI, pinned) in
# a private virtualenv under the stack's state directory and prints the path
# of its python3. The chDB comparison test (analytics/chdb_test.go) runs its
# queries through that interpreter. Idempotent: a second run only prints.
#   bash deploy/local/chdb.sh          install if needed, print the python path
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# CHDB_VERSION is the pinned chDB release; its ClickHouse version is the one
# docker-compose.yaml ships (see the comment there).
CHDB_VERSION=4.4.0
VENV=$STATE_DIR/chdb-$CHDB_VERSION
PY=$VENV/bin/python3

# One install at a time: go test runs the analytics and deploy packages at once.
exec 9>"$VENV.lock"
flock 9
if ! "$PY" -c "import chdb, sys; sys.exit(chdb.__version__ != '$CHDB_VERSION')" 2>/dev/null; then
  log "installing chdb==$CHDB_VERSION into $VENV"
  python3 -m venv "$VENV" || die "python3 -m venv $VENV failed"
  "$PY" -m pip install -q --disable-pip-version-check "chdb==$CHDB_VERSION" >&2 || die "pip install chdb==$CHDB_VERSION failed"
fi
echo "$PY"
