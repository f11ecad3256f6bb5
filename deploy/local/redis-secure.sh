#!/usr/bin/env bash
# A secured Redis 7 beside the plain one: TLS only (port 0, tls-port
# 6390) with certificates from secure-common.sh, ACL users from an ACL file,
# the default user off. `cluster-start` runs a 3-master TLS-only Redis
# Cluster the same way on 7100-7102 (cluster bus over TLS too).
#
# Users: `arrears` may touch only keys under ~PREFIX:* (the store's keys are
# PREFIX:{pN}:meta|acct|timers; PREFIX from ARREARS_REDIS_SECURE_PREFIX,
# default arrears) with exactly the commands the store sends (ARREARS_ACL
# below; docs/security.md); `arrears_serve`, the operator API of `arrears
# serve` (api.redis_username), may only read those keys (with read-only
# scripts) and write only the API's own under PREFIX:api: (SERVE_ACL);
# `admin` (+@all) is for this script and tests' cleanup. Passwords:
# $SECURE_DIR/redis/{arrears,arrears_serve,admin}.password.
# Usage: redis-secure.sh start|stop|status|cluster-start|cluster-stop|cluster-status|env
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/secure-common.sh"

SDIR=$STATE_DIR/redis-secure
PORT=${ARREARS_REDIS_SECURE_PORT:-6390}
CPORTS=(${ARREARS_REDIS_SECURE_CLUSTER_PORTS:-7100 7101 7102})
PREFIX=${ARREARS_REDIS_SECURE_PREFIX:-arrears}

# ARREARS_ACL is the arrears user's command set: the store's Lua scripts
# (EVALSHA, EVAL when the script is not cached, and the commands inside them:
# Redis 7 checks those against the caller's ACL too), its direct reads,
# the tooling's (MEMORY USAGE, HLEN, DEL), the connection handshake and
# what the cluster client needs (CLUSTER SLOTS, COMMAND). On Redis 7.2+
# add +client|setinfo (go-redis names itself; 7.0 has no such command and
# go-redis ignores its failure). The operator API of `arrears serve` keeps
# its idempotency keys and approvals under PREFIX:api: (GET, SET, and
# WATCH/MULTI/EXEC for an approval's decision).
ARREARS_ACL='-@all +ping +hello +auth +evalsha +eval +exists +hget +hset +hdel +hgetall +hlen +zscore +zrange +zrangebyscore +zadd +zrem +del +memory|usage +cluster|slots +command +get +set +watch +unwatch +multi +exec'

# SERVE_ACL is arrears_serve's: the store's load script as EVALSHA_RO /
# EVAL_RO (Redis refuses EVALSHA on keys a user may only read) with the
# reads inside it and the partition meta (HGETALL), and the API's
# idempotency keys (SET NX, GET, SET, DEL) and approvals (SET, GET,
# ZADD/ZRANGE/ZREM of the pending index, WATCH/MULTI/EXEC). Its keys:
# %R~PREFIX:* (read only) and ~PREFIX:api:* (tests put their prefix
# between: ~PREFIX:*:api:*).
SERVE_ACL='-@all +ping +hello +auth +evalsha_ro +eval_ro +hget +hgetall +zscore +get +set +del +zadd +zrange +zrem +cluster|slots +command +watch +unwatch +multi +exec'

# write_acl FILE: the ACL file (re-written at each start: passwords as SHA-256).
write_acl() {
  local f=$1 apw spw adm
  apw=$(secure_password redis arrears | tr -d '\n' | sha256sum | cut -d' ' -f1)
  spw=$(secure_password redis arrears_serve | tr -d '\n' | sha256sum | cut -d' ' -f1)
  adm=$(secure_password redis admin | tr -d '\n' | sha256sum | cut -d' ' -f1)
  (umask 077; cat >"$f" <<ACL
user default off resetkeys -@all
user admin on #$adm ~* &* +@all
user arrears on #$apw resetkeys ~$PREFIX:* resetchannels $ARREARS_ACL
user arrears_serve on #$spw resetkeys %R~$PREFIX:* ~$PREFIX:api:* ~$PREFIX:*:api:* resetchannels $SERVE_ACL
ACL
  )
}

cli() { local port=$1; shift
  REDISCLI_AUTH=$(secure_password redis admin) redis-cli --tls --cacert "$SECURE_DIR/ca.pem" --user admin -p "$port" "$@"; }

run_secure() {
  local port=$1 dir=$2; shift 2
  mkdir -p "$dir"; chmod 700 "$dir"
  write_acl "$dir/users.acl"
  redis-server --port 0 --tls-port "$port" --bind 127.0.0.1 --protected-mode yes --daemonize yes \
    --tls-cert-file "$SECURE_DIR/server.pem" --tls-key-file "$SECURE_DIR/server.key" \
    --tls-ca-cert-file "$SECURE_DIR/ca.pem" --tls-auth-clients optional \
    --aclfile "$dir/users.acl" \
    --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    --save '' --appendonly no --maxmemory-policy noeviction "$@" 7>&- 8>&- \
    || die "secured redis-server on tls port $port failed to start; see $dir/redis.log"
  wait_ready "redis-secure:$port" "$dir/redis.log" up_or_die "$port" "$dir"
}

# up_or_die PORT DIR: the server answers; dies at once if it exited.
up_or_die() {
  cli "$1" ping >/dev/null 2>&1 && return 0
  sleep 0.2
  if ! pid_alive "$2/redis.pid" && ! cli "$1" ping >/dev/null 2>&1; then
    tail -n 3 "$2/redis.log" >&2; die "secured redis on tls port $1 exited; see $2/redis.log"
  fi
  return 1
}

start() {
  bash "$LOCAL_DIR/redis.sh" install
  secure_lock redis-secure
  secure_certs
  if cli "$PORT" ping >/dev/null 2>&1; then
    # a server started by an older checkout gets the current users
    write_acl "$SDIR/users.acl" && cli "$PORT" acl load >/dev/null 2>&1 || true
    log "secured redis already running on tls port $PORT"; return 0
  fi
  run_secure "$PORT" "$SDIR"
}

cluster_start() {
  bash "$LOCAL_DIR/redis.sh" install
  secure_lock redis-secure
  secure_certs
  local addrs=()
  for p in "${CPORTS[@]}"; do
    addrs+=("127.0.0.1:$p")
    if cli "$p" ping >/dev/null 2>&1; then
      write_acl "$SDIR/cluster-$p/users.acl" && cli "$p" acl load >/dev/null 2>&1 || true
      continue
    fi
    run_secure "$p" "$SDIR/cluster-$p" --tls-cluster yes --tls-replication yes \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000
  done
  if ! cli "${CPORTS[0]}" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; then
    log "creating secured Redis Cluster ${addrs[*]}"
    REDISCLI_AUTH=$(secure_password redis admin) timeout 60 redis-cli --tls --cacert "$SECURE_DIR/ca.pem" --user admin \
      --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >"$SDIR/cluster-create.log" 2>&1 \
      || die "redis-cli --cluster create failed; see $SDIR/cluster-create.log"
    wait_ready redis-secure-cluster "$SDIR/cluster-create.log" bash -c "$(declare -f cli secure_password); SECURE_DIR=$SECURE_DIR; cli ${CPORTS[0]} cluster info | grep -q cluster_state:ok"
  fi
}

cluster_stop() {
  for p in "${CPORTS[@]}"; do stop_pid "redis-secure:$p" "$SDIR/cluster-$p/redis.pid"; rm -rf "$SDIR/cluster-$p"; done
}

# env: the ARREARS_* settings of a client of the secured standalone server.
print_env() {
  secure_certs >/dev/null
  cat <<ENV
ARREARS_REDIS_ADDRS=127.0.0.1:$PORT
ARREARS_REDIS_USERNAME=arrears
ARREARS_REDIS_PASSWORD_FILE=$SECURE_DIR/redis/arrears.password
ARREARS_REDIS_PREFIX=$PREFIX
ARREARS_REDIS_TLS_ENABLED=true
ARREARS_REDIS_TLS_CA_FILE=$SECURE_DIR/ca.pem
ARREARS_API_REDIS_USERNAME=arrears_serve
ARREARS_API_REDIS_PASSWORD_FILE=$SECURE_DIR/redis/arrears_serve.password
ENV
  secure_password redis arrears >/dev/null
  secure_password redis arrears_serve >/dev/null
}

case "${1:-}" in
  start) start ;;
  stop) stop_pid redis-secure "$SDIR/redis.pid" ;;
  status) if cli "$PORT" ping >/dev/null 2>&1; then echo "redis-secure up  127.0.0.1:$PORT (TLS, ACL)"; else echo "redis-secure down"; exit 1; fi ;;
  cluster-start) cluster_start ;;
  cluster-stop) cluster_stop ;;
  cluster-status) cli "${CPORTS[0]}" cluster info 2>/dev/null | grep -q cluster_state:ok && echo "redis-secure-cluster up 127.0.0.1:${CPORTS[*]} (TLS, ACL)" || { echo "redis-secure-cluster down"; exit 1; } ;;
  env) print_env ;;
  *) die "usage: $0 start|stop|status|cluster-start|cluster-stop|cluster-status|env" ;;
esac
