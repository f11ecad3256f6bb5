#!/usr/bin/env bash
# ClickHouse from Debian's packages (18.16.1 today; current releases work the
# same) on 127.0.0.1:9000 (native) and :8123 (HTTP), data under STATE_DIR.
# Usage: clickhouse.sh install|start|stop|status
source "$(dirname "$0")/common.sh"

CDIR=$STATE_DIR/clickhouse
TCP_PORT=${ARREARS_CLICKHOUSE_PORT:-9000}
HTTP_PORT=${ARREARS_CLICKHOUSE_HTTP_PORT:-8123}
PIDF=$CDIR/clickhouse.pid
LOGF=$CDIR/clickhouse-server.log
OUTF=$CDIR/stdout.log

install() { apt_install clickhouse-server clickhouse-client; }

bin() {
  if command -v clickhouse-server >/dev/null; then command -v clickhouse-server
  elif [ -x /usr/sbin/clickhouse-server ]; then echo /usr/sbin/clickhouse-server
  else command -v clickhouse >/dev/null && echo "$(command -v clickhouse) server"; fi
}

ready() { clickhouse-client --host 127.0.0.1 --port "$TCP_PORT" -q 'SELECT 1'; }

start() {
  install
  if pid_alive "$PIDF" && ready >/dev/null 2>&1; then log "clickhouse already running (pid $(cat "$PIDF"))"; return 0; fi
  mkdir -p "$CDIR/data" "$CDIR/tmp" "$CDIR/user_files" "$CDIR/format_schemas"
  sed -e "s#@DIR@#$CDIR#g; s#@LOCAL@#$LOCAL_DIR#g; s#@TCP_PORT@#$TCP_PORT#; s#@HTTP_PORT@#$HTTP_PORT#" \
    "$LOCAL_DIR/clickhouse/config.xml.in" >"$CDIR/config.xml"
  log "starting clickhouse on 127.0.0.1:$TCP_PORT (log $LOGF)"
  # shellcheck disable=SC2046
  nohup $(bin) --config-file="$CDIR/config.xml" >>"$OUTF" 2>&1 &
  echo $! >"$PIDF"
  wait_ready clickhouse "$CDIR/clickhouse-server.err.log" ready
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop_pid clickhouse "$PIDF" ;;
  status) if ready >/dev/null 2>&1; then echo "clickhouse up    127.0.0.1:$TCP_PORT $(ready 2>/dev/null >/dev/null; clickhouse-client --port "$TCP_PORT" -q 'SELECT version()')"; else echo "clickhouse down"; exit 1; fi ;;
  *) die "usage: $0 install|start|stop|status" ;;
esac
