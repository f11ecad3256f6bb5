#!/usr/bin/env bash
# A private single-node Kafka 4 (KRaft, broker+controller) for tests that kill
# or restart a broker: same jars and server.properties template as kafka.sh,
# but its own ports, data directory, log and pid file, so SIGKILLing it never
# touches the shared broker on 9092. The fault suite (processor/faults) uses it.
#
# Usage: kafka-private.sh start|kill|stop|status DIR
#   ARREARS_PK_PORT             client listener (required), advertised as itself
#   ARREARS_PK_CONTROLLER_PORT  controller listener (required)
#   ARREARS_PK_PROXY_PORT       optional second listener, PROXY://127.0.0.1:PORT ...
#   ARREARS_PK_PROXY_ADVERTISE  ... advertised as this host:port (a TCP fault
#                               proxy in front of it), so clients that bootstrap
#                               through the proxy keep talking through it
#   ARREARS_PK_HEAP             JVM heap (default 512m)
# kill is SIGKILL (no shutdown, no flush); start again on the same DIR keeps
# the data, as a crashed broker's restart would.
source "$(dirname "$0")/common.sh"

op=${1:-}
DIR=${2:-}
[ -n "$op" ] && [ -n "$DIR" ] || die "usage: $0 start|kill|stop|status DIR"
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
LIBS=${ARREARS_KAFKA_LIBS:-$REPO_DIR/.local/kafka/libs}
DATA=$DIR/data
CONF=$DIR/server.properties
LOGF=$DIR/kafka.log
PIDF=$DIR/kafka.pid
PORT=${ARREARS_PK_PORT:-}
CPORT=${ARREARS_PK_CONTROLLER_PORT:-}
HEAP=${ARREARS_PK_HEAP:-512m}

JAVA_OPTS=(-Xms128m -Xmx"$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
  -Dlog4j2.configurationFile="$LOCAL_DIR/kafka/log4j2.properties" -Dkafka.logs.dir="$DIR" -cp "$LIBS/*")

configure() {
  [ -n "$PORT" ] && [ -n "$CPORT" ] || die "ARREARS_PK_PORT and ARREARS_PK_CONTROLLER_PORT are required"
  ls "$LIBS"/kafka_*.jar >/dev/null 2>&1 || die "no Kafka jars in $LIBS (run \`make install\` first)"
  mkdir -p "$DATA"
  # The shared template, then overrides (java.util.Properties keeps the last).
  sed -e "s#@DATA@#$DATA#; s#@PORT@#$PORT#g; s#@CPORT@#$CPORT#g" "$LOCAL_DIR/kafka/server.properties.in" >"$CONF"
  if [ -n "${ARREARS_PK_PROXY_PORT:-}" ]; then
    : "${ARREARS_PK_PROXY_ADVERTISE:?ARREARS_PK_PROXY_ADVERTISE is required with ARREARS_PK_PROXY_PORT}"
    cat >>"$CONF" <<EOF
listeners=PLAINTEXT://127.0.0.1:$PORT,PROXY://127.0.0.1:$ARREARS_PK_PROXY_PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT,PROXY://$ARREARS_PK_PROXY_ADVERTISE
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,PROXY:PLAINTEXT
EOF
  fi
  if [ ! -f "$DATA/meta.properties" ]; then
    local id; id=$(java "${JAVA_OPTS[@]}" kafka.tools.StorageTool random-uuid)
    java "${JAVA_OPTS[@]}" kafka.tools.StorageTool format --standalone -t "$id" -c "$CONF" >>"$LOGF" 2>&1 \
      || die "kafka storage format failed; see $LOGF"
  fi
}

ready() { port_open "$PORT" && kcat -b "127.0.0.1:$PORT" -L -m 3 >/dev/null 2>&1; }

start() {
  if pid_alive "$PIDF"; then log "private kafka already running (pid $(cat "$PIDF"))"; return 0; fi
  configure
  log "starting private kafka on 127.0.0.1:$PORT (dir $DIR)"
  nohup java "${JAVA_OPTS[@]}" kafka.Kafka "$CONF" >>"$LOGF" 2>&1 &
  echo $! >"$PIDF"
  wait_ready "private kafka" "$LOGF" ready
}

kill9() {
  pid_alive "$PIDF" || { rm -f "$PIDF"; return 0; }
  local pid; pid=$(cat "$PIDF")
  kill -9 "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$PIDF"
  log "private kafka SIGKILLed (pid $pid)"
}

case "$op" in
  start) start ;;
  kill) kill9 ;;
  stop) stop_pid "private kafka" "$PIDF" ;;
  status) if pid_alive "$PIDF" && ready; then echo "private kafka up 127.0.0.1:$PORT pid $(cat "$PIDF")"; else echo "private kafka down"; exit 1; fi ;;
  *) die "usage: $0 start|kill|stop|status DIR" ;;
esac
