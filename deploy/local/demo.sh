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
# the workload is three simulated months: time moves as fast as the ticks come
export ARREARS_PROCESSOR_TIME=simulated

log "resetting the demo topics and ClickHouse database"
"$BIN" topics delete -yes >/dev/null
"$BIN" topics create >/dev/null
clickhouse-client --port "${ARREARS_CLICKHOUSE_PORT:-9000}" -q 'DROP DATABASE IF EXISTS arrears'
"$BIN" migrate >/dev/null

start_bg() { # name args...
  local name=$1; shift
  nohup "$BIN" "$@" >"$DEMO/$name.log" 2>&1 &
  echo $! >"$DEMO/$name.pid"
}
log "starting processor, sink and dashboard (logs in $DEMO)"
ARREARS_HTTP_LISTEN=127.0.0.1:9464 start_bg run run
ARREARS_HTTP_LISTEN=127.0.0.1:9465 start_bg sink sink
# the operator API's tokens (docs/api.md): a collector of the postpaid queues and a supervisor
export ARREARS_API_TOKENS_FILE=$DEMO/api-tokens.yaml
: >"$ARREARS_API_TOKENS_FILE" && chmod 600 "$ARREARS_API_TOKENS_FILE"
api_token() { "$BIN" api token --append "$@" | sed -n 's/^token: //p'; }
COLLECTOR_TOKEN=$(api_token --name demo-collector --role collector --queues collections,collections_senior)
SUPERVISOR_TOKEN=$(api_token --name demo-supervisor --role supervisor)
HAS_SERVE=0
if "$BIN" help 2>&1 | grep -q '^  serve'; then HAS_SERVE=1; start_bg serve serve -listen "$LISTEN"; fi
wait_ready "arrears run" "$DEMO/run.log" bash -c "exec 3<>/dev/tcp/127.0.0.1/9464 && printf 'GET /readyz HTTP/1.0\r\n\r\n' >&3 && grep -q ready <&3"

START=${DEMO_START:-2026-01-01}
log "generating $ACCOUNTS accounts over $MONTHS months from $START (seed $SEED)"
"$BIN" gen --seed "$SEED" --accounts "$ACCOUNTS" --months "$MONTHS" --start "$START"
ASOF=$(date -u -d "$START + $MONTHS months - 1 day" +%F)

log "waiting for the processor and the sink to catch up"
"$BIN" wait --group "$RUN_ID" --group "$RUN_ID-sink" --timeout 10m

echo
echo "== Aging as of $ASOF (open receivables by segment and days past due)"
"$BIN" report aging -as-of "$ASOF" -format table
echo
echo "== Dunning actions in the last month to $ASOF"
"$BIN" report actions -as-of "$ASOF" -days 30 -format table
echo
echo "== DSO and average days delinquent, last 90 days to $ASOF"
"$BIN" report dso -as-of "$ASOF" -format table
echo
echo "== Collection effectiveness index, last 30 days to $ASOF"
"$BIN" report cei -as-of "$ASOF" -format table
echo
[ "$HAS_SERVE" = 1 ] && echo "Dashboard: http://$LISTEN/"
if [ "$HAS_SERVE" = 1 ] && [ -n "$COLLECTOR_TOKEN" ]; then
  echo "Workspace: http://$LISTEN/workspace/  sign in with the collector token $COLLECTOR_TOKEN"
  echo "           or the supervisor token $SUPERVISOR_TOKEN (tokens file $ARREARS_API_TOKENS_FILE)"
  echo "Operator API: http://$LISTEN/api/v1/ (docs/api.md); time a write end to end:"
  echo "  ARREARS_API_TOKEN=$COLLECTOR_TOKEN $BIN api probe -n 200 -url http://$LISTEN/api/v1"
fi
echo "Metrics:   http://127.0.0.1:9464/metrics (processor), http://127.0.0.1:9465/metrics (sink)"
echo "Explain an account: $BIN explain ACC-0000042   (with ARREARS_REDIS_PREFIX=$RUN_ID)"
echo "Stop the demo services with: make demo-stop"
