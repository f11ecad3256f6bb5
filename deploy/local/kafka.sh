#!/usr/bin/env bash
# Apache Kafka 4.x, KRaft combined mode (broker+controller), one node on
# 127.0.0.1:9092, run from the official jars on Maven Central resolved by
# Maven through kafka/pom.xml. Usage: kafka.sh install|start|stop|status
source "$(dirname "$0")/common.sh"

KDIR=$STATE_DIR/kafka
LIBS=$KDIR/libs
DATA=$KDIR/data
CONF=$KDIR/server.properties
LOGF=$KDIR/kafka.log
PIDF=$KDIR/kafka.pid
PORT=${ARREARS_KAFKA_PORT:-9092}
CPORT=${ARREARS_KAFKA_CONTROLLER_PORT:-9093}
# Heap for a 2-core, 24 GB box shared with Redis, ClickHouse and arrears.
HEAP=${ARREARS_KAFKA_HEAP:-1g}

install() {
  command -v java >/dev/null || die "java not found (Java 17+ required)"
  command -v mvn >/dev/null || die "mvn not found (Maven required to fetch Kafka's jars)"
  apt_install kcat
  local stamp=$LIBS/.pom.sha
  local want; want=$(sha256sum "$LOCAL_DIR/kafka/pom.xml" | cut -c1-64)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  log "resolving Kafka jars from Maven Central into $LIBS"
  rm -rf "$LIBS"; mkdir -p "$LIBS"
  mvn -q -B -f "$LOCAL_DIR/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$LIBS" -DincludeScope=runtime >"$KDIR/maven.log" 2>&1 \
    || { tail -n 30 "$KDIR/maven.log" >&2; die "maven could not resolve Kafka; see $KDIR/maven.log"; }
  echo "$want" >"$stamp"
}

JAVA_OPTS=(-Xms256m -Xmx"$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
  -Dlog4j2.configurationFile="$LOCAL_DIR/kafka/log4j2.properties" -Dkafka.logs.dir="$KDIR" -cp "$LIBS/*")
java_cmd() { java "${JAVA_OPTS[@]}" "$@"; }

configure() {
  mkdir -p "$DATA"
  sed -e "s#@DATA@#$DATA#; s#@PORT@#$PORT#g; s#@CPORT@#$CPORT#g" \
    "$LOCAL_DIR/kafka/server.properties.in" >"$CONF"
  if [ ! -f "$DATA/meta.properties" ]; then
    local id; id=$(java_cmd kafka.tools.StorageTool random-uuid)
    log "formatting Kafka storage (cluster $id)"
    java_cmd kafka.tools.StorageTool format --standalone -t "$id" -c "$CONF" >>"$LOGF" 2>&1 \
      || die "kafka storage format failed; see $LOGF"
  fi
}

ready() { port_open "$PORT" && kcat -b "127.0.0.1:$PORT" -L -m 3 >/dev/null 2>&1; }

start() {
  if pid_alive "$PIDF"; then log "kafka already running (pid $(cat "$PIDF"))"; return 0; fi
  install
  configure
  log "starting kafka on 127.0.0.1:$PORT (log $LOGF)"
  nohup java "${JAVA_OPTS[@]}" kafka.Kafka "$CONF" >>"$LOGF" 2>&1 &
  echo $! >"$PIDF"
  wait_ready kafka "$LOGF" ready
}

status() {
  if pid_alive "$PIDF" && ready; then echo "kafka      up    127.0.0.1:$PORT pid $(cat "$PIDF")"; else echo "kafka      down"; return 1; fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop_pid kafka "$PIDF" ;;
  status) status ;;
  *) die "usage: $0 install|start|stop|status" ;;
esac
