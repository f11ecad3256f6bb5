#!/usr/bin/env bash
# A second, secured ClickHouse beside the plain one (same Debian binary,
# 18.16 today): the native protocol over TLS only on tcp_port_secure 9440
# (no plaintext or HTTP port), certificates from secure-common.sh, its own
# config, users and data under STATE_DIR/clickhouse-secure, and
# least-privilege users (clickhouse-secure/users.xml.in, docs/security.md):
#   migrate  CREATE/ALTER (allow_ddl=1) on the arrears databases
#   sink     INSERT (readonly=0, allow_ddl=0: no CREATE/DROP/RENAME)
#   serve    SELECT only (readonly=2), for serve and report
#   admin    everything (this script, tests' cleanup); default is off
# every user but admin is limited to ARREARS_CLICKHOUSE_SECURE_DATABASES
# (default arrears and the test databases arrears_t0..7, and the connection
# database "default").
# Passwords: $SECURE_DIR/clickhouse/<user>.password.
# Usage: clickhouse-secure.sh start|stop|status|client [ARGS]|env USER
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/secure-common.sh"

CDIR=$STATE_DIR/clickhouse-secure
TLS_PORT=${ARREARS_CLICKHOUSE_SECURE_PORT:-9440}
# arrears_t0..7: the test databases (processor/testkit takes one per test)
DATABASES=(default ${ARREARS_CLICKHOUSE_SECURE_DATABASES:-arrears arrears_t0 arrears_t1 arrears_t2 arrears_t3 arrears_t4 arrears_t5 arrears_t6 arrears_t7})
PIDF=$CDIR/clickhouse.pid
OUTF=$CDIR/stdout.log
USERS=(admin migrate sink serve)

sha() { secure_password clickhouse "$1" | tr -d '\n' | sha256sum | cut -d' ' -f1; }

# client ARGS...: clickhouse-client as admin over TLS, trusting the local CA.
client() {
  clickhouse-client --config-file "$CDIR/client.xml" --secure --host 127.0.0.1 --port "$TLS_PORT" \
    --user admin --password "$(secure_password clickhouse admin)" "$@"
}
ready() { client -q 'SELECT 1'; }

configure() {
  mkdir -p "$CDIR/data" "$CDIR/tmp" "$CDIR/user_files" "$CDIR/format_schemas"; chmod 700 "$CDIR"
  local dbs="" u
  for d in "${DATABASES[@]}"; do dbs+="<database>$d</database>"; done
  local subst="s#@DIR@#$CDIR#g; s#@SECURE@#$SECURE_DIR#g; s#@TLS_PORT@#$TLS_PORT#; s#@DATABASES@#$dbs#"
  for u in "${USERS[@]}"; do subst+="; s#@${u^^}_SHA@#$(sha "$u")#g"; done
  sed -e "$subst" "$LOCAL_DIR/clickhouse-secure/config.xml.in" >"$CDIR/config.xml"
  (umask 077; sed -e "$subst" "$LOCAL_DIR/clickhouse-secure/users.xml.in" >"$CDIR/users.xml")
  # clickhouse-client's own TLS settings: verify the server against the CA
  cat >"$CDIR/client.xml" <<XML
<config><openSSL><client>
  <caConfig>$SECURE_DIR/ca.pem</caConfig><loadDefaultCAFile>false</loadDefaultCAFile>
  <verificationMode>strict</verificationMode>
  <invalidCertificateHandler><name>RejectCertificateHandler</name></invalidCertificateHandler>
</client></openSSL></config>
XML
}

# up_or_die: the server answers; dies at once if it exited.
up_or_die() {
  ready >/dev/null 2>&1 && return 0
  pid_alive "$PIDF" || { tail -n 5 "$CDIR/clickhouse-server.err.log" "$OUTF" >&2 2>/dev/null; die "secured clickhouse exited; see $CDIR/clickhouse-server.err.log"; }
  return 1
}

start() {
  bash "$LOCAL_DIR/clickhouse.sh" install
  secure_lock clickhouse-secure
  secure_certs
  configure # users.xml is re-read by a running server
  # Any server answering on the port counts, whichever checkout started it:
  # ClickHouse binds with SO_REUSEPORT, so a second server on the same port
  # would start and take every other connection to its own data.
  if ready >/dev/null 2>&1; then log "secured clickhouse already answers on 127.0.0.1:$TLS_PORT"; return 0; fi
  port_open "$TLS_PORT" && die "127.0.0.1:$TLS_PORT is taken by a server that does not answer as the secured clickhouse"
  log "starting secured clickhouse on 127.0.0.1:$TLS_PORT (TLS) (log $CDIR/clickhouse-server.log)"
  local bin
  if command -v clickhouse-server >/dev/null; then bin=(clickhouse-server)
  elif [ -x /usr/sbin/clickhouse-server ]; then bin=(/usr/sbin/clickhouse-server)
  else bin=(clickhouse server); fi
  nohup "${bin[@]}" --config-file="$CDIR/config.xml" >>"$OUTF" 2>&1 7>&- 8>&- &
  echo $! >"$PIDF"
  wait_ready clickhouse-secure "$CDIR/clickhouse-server.err.log" up_or_die
}

# env USER: the ARREARS_CLICKHOUSE_* settings of a client as USER.
print_env() {
  local u=${1:-sink}
  secure_certs >/dev/null; secure_password clickhouse "$u" >/dev/null
  cat <<ENV
ARREARS_CLICKHOUSE_ADDRS=127.0.0.1:$TLS_PORT
ARREARS_CLICKHOUSE_USERNAME=$u
ARREARS_CLICKHOUSE_PASSWORD_FILE=$SECURE_DIR/clickhouse/$u.password
ARREARS_CLICKHOUSE_TLS_ENABLED=true
ARREARS_CLICKHOUSE_TLS_CA_FILE=$SECURE_DIR/ca.pem
ENV
}

case "${1:-}" in
  start) start ;;
  stop) stop_pid clickhouse-secure "$PIDF" ;;
  status) if ready >/dev/null 2>&1; then echo "clickhouse-secure up 127.0.0.1:$TLS_PORT (TLS) $(client -q 'SELECT version()')"; else echo "clickhouse-secure down"; exit 1; fi ;;
  client) shift; client "$@" ;;
  env) print_env "${2:-}" ;;
  *) die "usage: $0 start|stop|status|client [ARGS]|env USER" ;;
esac
