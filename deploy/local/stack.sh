#!/usr/bin/env bash
# The whole local stack: Kafka, Redis, ClickHouse. Idempotent.
# Usage: stack.sh up|down|status|install
source "$(dirname "$0")/common.sh"
D=$LOCAL_DIR
case "${1:-}" in
  install) bash "$D/redis.sh" install; bash "$D/clickhouse.sh" install; bash "$D/kafka.sh" install ;;
  up)
    t0=$SECONDS
    for s in redis clickhouse kafka; do
      t=$SECONDS; bash "$D/$s.sh" start; log "$s start took $((SECONDS - t))s"
    done
    log "stack up in $((SECONDS - t0))s" ;;
  down)
    for s in kafka clickhouse redis; do bash "$D/$s.sh" stop; done
    bash "$D/redis.sh" cluster-stop
    # The secured servers of make test and the security tests, if started.
    for s in kafka-secure redis-secure clickhouse-secure; do bash "$D/$s.sh" stop; done
    bash "$D/redis-secure.sh" cluster-stop ;;
  status) rc=0; for s in kafka redis clickhouse; do bash "$D/$s.sh" status || rc=1; done; exit $rc ;;
  *) die "usage: $0 up|down|status|install" ;;
esac
