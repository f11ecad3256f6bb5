#!/usr/bin/env bash
# Redis 7 from Debian's packages on 127.0.0.1:6379, no persistence (arrears
# restores state from Kafka). `cluster-start` runs a 3-master Redis Cluster on
# 127.0.0.1:7000-7002 for the cluster tests.
# Usage: redis.sh install|start|stop|status|cluster-start|cluster-stop|cluster-status
source "$(dirname "$0")/common.sh"

RDIR=$STATE_DIR/redis
PORT=${ARREARS_REDIS_PORT:-6379}
CPORTS=(${ARREARS_REDIS_CLUSTER_PORTS:-7000 7001 7002})

install() {
  apt_install redis-server redis-tools
  local v; v=$(redis-server --version | sed -E 's/.*v=([0-9]+).*/\1/')
  [ "$v" -ge 7 ] || die "redis-server $v found; Redis 7+ required"
}

# run_redis PORT DIR EXTRA...: one redis-server daemon with its own dir, log and pid.
run_redis() {
  local port=$1 dir=$2; shift 2
  mkdir -p "$dir"
  redis-server --port "$port" --bind 127.0.0.1 --protected-mode yes --daemonize yes \
    --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    --save '' --appendonly no --maxmemory-policy noeviction "$@" \
    || die "redis-server on port $port failed to start; see $dir/redis.log"
  wait_ready "redis:$port" "$dir/redis.log" redis-cli -p "$port" ping
}

start() {
  install
  if redis-cli -p "$PORT" ping >/dev/null 2>&1; then log "redis already running on $PORT"; return 0; fi
  run_redis "$PORT" "$RDIR"
}

cluster_start() {
  install
  local addrs=()
  for p in "${CPORTS[@]}"; do
    addrs+=("127.0.0.1:$p")
    redis-cli -p "$p" ping >/dev/null 2>&1 && continue
    run_redis "$p" "$RDIR/cluster-$p" --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000
  done
  if ! redis-cli -p "${CPORTS[0]}" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; then
    log "creating Redis Cluster ${addrs[*]}"
    redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >"$RDIR/cluster-create.log" 2>&1 \
      || die "redis-cli --cluster create failed; see $RDIR/cluster-create.log"
    wait_ready redis-cluster "$RDIR/cluster-create.log" bash -c "redis-cli -p ${CPORTS[0]} cluster info | grep -q cluster_state:ok"
  fi
}

cluster_stop() {
  for p in "${CPORTS[@]}"; do stop_pid "redis:$p" "$RDIR/cluster-$p/redis.pid"; rm -rf "$RDIR/cluster-$p"; done
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop_pid redis "$RDIR/redis.pid" ;;
  status) if redis-cli -p "$PORT" ping >/dev/null 2>&1; then echo "redis      up    127.0.0.1:$PORT"; else echo "redis      down"; exit 1; fi ;;
  cluster-start) cluster_start ;;
  cluster-stop) cluster_stop ;;
  cluster-status) redis-cli -p "${CPORTS[0]}" cluster info 2>/dev/null | grep -q cluster_state:ok && echo "redis-cluster up 127.0.0.1:${CPORTS[*]}" || { echo "redis-cluster down"; exit 1; } ;;
  *) die "usage: $0 install|start|stop|status|cluster-start|cluster-stop|cluster-status" ;;
esac
