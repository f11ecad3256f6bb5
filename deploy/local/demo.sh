#!/usr/bin/env bash
# The one-command demo (make demo): the local stack, topics and tables, the
# processor, the ClickHouse sink and the dashboard running in the background,
# a few simulated months of a telecom receivables book, then a summary.
# Services keep running afterwards; `make demo-stop` stops them.
source "$(dirname "$0")/common.sh"
BIN=$REPO_DIR/bin/arrears
DEMO=$STATE_DIR/demo
ACCOUNTS=${DEMO_ACCOUNTS:-20000}
MONTHS=${DEMO_MONTHS:-3}
SEED=${DEMO_SEED:-42}
LISTEN=${DEMO_LISTEN:-127.0.0.1:8080}
mkdir -p "$DEMO"
[ -x "$BIN" ] || die "build first: make build"

stop_demo() { for s in serve sink run; do stop_pid "arrears $s" "$DEMO/$s.pid"; done; }
if [ "${1:-}" = stop ]; then stop_demo; exit 0; fi
stop_demo

export ARREARS_KAFKA_TOPICS_EVENTS=ar.events
# a fresh demo: its own consumer groups and Redis prefix, so reruns start clean
RUN_ID=demo$(date +%s)
export ARREARS_REDIS_PREFIX=$RUN_ID ARREARS_PROCESSOR_GROUP_ID=$RUN_ID ARREARS_PROCESSOR_TRANSACTIONAL_ID=$RUN_ID-1
export ARREARS_SINK_GROUP_ID=$RUN_ID-sink ARREARS_LOG_LEVEL=${ARREARS_LOG_LEVEL:-warn}

log "creating topics and ClickHouse tables"
"$BIN" topics create >/dev/null
"$BIN" migrate >/dev/null

start_bg() { # name args...
  local name=$1; shift
  nohup "$BIN" "$@" >"$DEMO/$name.log" 2>&1 &
  echo $! >"$DEMO/$name.pid"
}
log "starting processor, sink and dashboard (logs in $DEMO)"
ARREARS_HTTP_LISTEN=127.0.0.1:9464 start_bg run run
ARREARS_HTTP_LISTEN=127.0.0.1:9465 start_bg sink sink
start_bg serve serve -listen "$LISTEN"
wait_ready "arrears run" "$DEMO/run.log" bash -c "curl -sf http://127.0.0.1:9464/readyz"

log "generating $ACCOUNTS accounts over $MONTHS months (seed $SEED)"
"$BIN" gen --seed "$SEED" --accounts "$ACCOUNTS" --months "$MONTHS"

log "waiting for the processor and the sink to catch up"
"$BIN" wait --group "$RUN_ID" --group "$RUN_ID-sink" --timeout 10m

echo
"$BIN" report summary --format table
echo
echo "Dashboard: http://$LISTEN/   (metrics: http://127.0.0.1:9464/metrics)"
echo "Stop the demo services with: make demo-stop"
