#!/usr/bin/env bash
# A second, secured single-node Kafka 4 (KRaft) configured the way production
# runs it, beside the plain one on 9092: a SASL_SSL client listener (PLAIN,
# SCRAM-SHA-256, SCRAM-SHA-512) with certificates made here by openssl, SCRAM
# users for the arrears roles created at format time, and the
# StandardAuthorizer with ACLs on (super users: admin and the broker itself).
# The ACLs of each role are the ones `arrears topics acls` prints
# (docs/security.md), created once with kafka-acls (AclCommand).
#
# Usage: kafka-secure.sh start|stop|status|env ROLE
#   ARREARS_KS_DIR   certificates, passwords, data, log (default
#                    ${TMPDIR:-/tmp}/arrears-kafka-secure, outside the repo)
#   ARREARS_KS_PORT  SASL_SSL listener (default 9192)
#   ARREARS_KS_CONTROLLER_PORT  controller listener, SSL with mTLS (default 9193)
#   ARREARS_BIN      the arrears binary (default bin/arrears; `make build`)
# Files under DIR: certs/ca.pem (the CA clients trust), certs/other-ca.pem (a
# CA that signed nothing here), certs/client.pem + client-key.pem (mTLS),
# secrets/<user> (mode 0600) for broker, admin, processor, sink, serve and
# nobody (a user without any ACL), <role>.env (ARREARS_KAFKA_* for a role,
# the password by ARREARS_KAFKA_SASL_PASSWORD_FILE), admin.properties.
# `env ROLE` prints ROLE's variables. start on an existing DIR keeps
# everything (certificates, users, ACLs, topics) and only starts the broker.
source "$(dirname "$0")/common.sh"

op=${1:-}
DIR=${ARREARS_KS_DIR:-${TMPDIR:-/tmp}/arrears-kafka-secure}
PORT=${ARREARS_KS_PORT:-9192}
CPORT=${ARREARS_KS_CONTROLLER_PORT:-9193}
LIBS=${ARREARS_KAFKA_LIBS:-$REPO_DIR/.local/kafka/libs}
BIN=${ARREARS_BIN:-$REPO_DIR/bin/arrears}
KAFKA_VERSION=4.1.1
TOOLS_JAR=$DIR/tools/kafka-tools-$KAFKA_VERSION.jar
CERTS=$DIR/certs
SECRETS=$DIR/secrets
DATA=$DIR/data
CONF=$DIR/server.properties
LOGF=$DIR/kafka.log
PIDF=$DIR/kafka.pid
USERS=(broker admin processor sink serve nobody)
ROLES=(admin processor sink serve nobody)

JAVA_OPTS=(-Xms128m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
  -Dlog4j2.configurationFile="$LOCAL_DIR/kafka/log4j2.properties" -Dkafka.logs.dir="$DIR" -cp "$LIBS/*")

# certs: a CA, the broker's certificate (CN=broker, for 127.0.0.1 and
# localhost; also its controller mTLS identity), a client certificate and a
# second CA that signed nothing the broker presents.
certs() {
  [ -f "$CERTS/ca.pem" ] && return 0
  mkdir -p "$CERTS.tmp"; chmod 700 "$CERTS.tmp"
  local d=$CERTS.tmp
  ossl() { openssl "$@" >/dev/null 2>&1 || die "openssl $1 failed"; }
  for ca in ca other-ca; do
    ossl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=arrears local $ca" \
      -keyout "$d/$ca-key.pem" -out "$d/$ca.pem" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
  done
  leaf() { # name cn extensions
    ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$d/$1-key.pem"
    ossl req -new -key "$d/$1-key.pem" -subj "/CN=$2" -out "$d/$1.csr"
    printf '%s\n' "$3" >"$d/$1.ext"
    ossl x509 -req -in "$d/$1.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" -CAcreateserial -days 825 -extfile "$d/$1.ext" -out "$d/$1.pem"
  }
  leaf broker broker "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth,clientAuth"
  leaf client processor "extendedKeyUsage=clientAuth"
  cat "$d/broker-key.pem" "$d/broker.pem" >"$d/broker-keystore.pem"
  rm -f "$d"/*.csr "$d"/*.ext "$d"/*.srl
  chmod 600 "$d"/*-key.pem "$d/broker-keystore.pem"
  mv "$d" "$CERTS"
  log "certificates in $CERTS"
}

secret() { cat "$SECRETS/$1"; }

secrets() {
  mkdir -p "$SECRETS"; chmod 700 "$SECRETS"
  for u in "${USERS[@]}"; do
    [ -s "$SECRETS/$u" ] || (umask 077; openssl rand -hex 16 >"$SECRETS/$u")
  done
}

configure() {
  [ -n "$PORT" ] && [ -n "$CPORT" ] || die "ports required"
  ls "$LIBS"/kafka_*.jar >/dev/null 2>&1 || die "no Kafka jars in $LIBS (run \`make install\` first)"
  mkdir -p "$DATA"
  local plain_users="" u
  for u in "${USERS[@]}"; do plain_users+=" user_$u=\"$(secret "$u")\""; done
  (umask 077
  sed -e "s#@DATA@#$DATA#; s#@PORT@#$PORT#g; s#@CPORT@#$CPORT#g" "$LOCAL_DIR/kafka/server.properties.in"
  cat <<EOF
# --- secured: SASL_SSL for clients and the broker itself, SSL + mTLS to the controller
listeners=SASL_SSL://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=SASL_SSL://127.0.0.1:$PORT
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SSL
inter.broker.listener.name=SASL_SSL
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="$(secret broker)";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="$(secret broker)"$plain_users;
ssl.keystore.type=PEM
ssl.keystore.location=$CERTS/broker-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$CERTS/ca.pem
listener.name.sasl_ssl.ssl.client.auth=requested
listener.name.controller.ssl.client.auth=required
ssl.principal.mapping.rules=RULE:^CN=([a-zA-Z0-9.-]+).*\$/\$1/,DEFAULT
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin;User:broker
allow.everyone.if.no.acl.found=false
EOF
  ) >"$CONF"
  if [ ! -f "$DATA/meta.properties" ]; then
    local id args=()
    id=$(java "${JAVA_OPTS[@]}" kafka.tools.StorageTool random-uuid)
    for u in "${USERS[@]}"; do
      args+=(--add-scram "SCRAM-SHA-256=[name=$u,password=$(secret "$u")]" --add-scram "SCRAM-SHA-512=[name=$u,password=$(secret "$u")]")
    done
    java "${JAVA_OPTS[@]}" kafka.tools.StorageTool format --standalone -t "$id" -c "$CONF" "${args[@]}" >>"$LOGF" 2>&1 \
      || die "kafka storage format failed; see $LOGF"
    rm -f "$DIR/acls.done"
  fi
}

# envfile ROLE: the ARREARS_* variables ROLE runs arrears with.
envfile() {
  cat <<EOF
ARREARS_KAFKA_BROKERS=127.0.0.1:$PORT
ARREARS_KAFKA_TLS_ENABLED=true
ARREARS_KAFKA_TLS_CA_FILE=$CERTS/ca.pem
ARREARS_KAFKA_SASL_MECHANISM=SCRAM-SHA-512
ARREARS_KAFKA_SASL_USERNAME=$1
ARREARS_KAFKA_SASL_PASSWORD_FILE=$SECRETS/$1
EOF
}

clientfiles() {
  local r
  for r in "${ROLES[@]}"; do (umask 077; envfile "$r" >"$DIR/$r.env"); done
  (umask 077; cat >"$DIR/admin.properties" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(secret admin)";
ssl.truststore.type=PEM
ssl.truststore.location=$CERTS/ca.pem
EOF
  )
}

ready() {
  # PLAIN: Debian's kcat fails SCRAM against Kafka 4 where franz-go and
  # the Java client succeed.
  port_open "$PORT" && kcat -b "127.0.0.1:$PORT" -X security.protocol=SASL_SSL -X sasl.mechanisms=PLAIN \
    -X sasl.username=admin -X sasl.password="$(secret admin)" -X ssl.ca.location="$CERTS/ca.pem" -L -m 3 >/dev/null 2>&1
}

# acls: the roles' ACLs as `arrears topics acls` prints them for the
# default topic names and groups, run once through Kafka's AclCommand, and
# the default topics (as admin).
acls() {
  [ -f "$DIR/acls.done" ] && return 0
  [ -x "$BIN" ] || die "no arrears binary at $BIN (make build)"
  if [ ! -f "$TOOLS_JAR" ]; then
    local m2=$HOME/.m2/repository/org/apache/kafka/kafka-tools/$KAFKA_VERSION/kafka-tools-$KAFKA_VERSION.jar
    [ -f "$m2" ] || mvn -q -B dependency:get -Dartifact=org.apache.kafka:kafka-tools:$KAFKA_VERSION -Dtransitive=false >>"$LOGF" 2>&1 \
      || die "maven could not fetch kafka-tools $KAFKA_VERSION (AclCommand); see $LOGF"
    mkdir -p "$DIR/tools"; cp "$m2" "$TOOLS_JAR"
  fi
  local cmd n=0
  while IFS= read -r cmd; do
    case "$cmd" in kafka-acls.sh\ *) ;; *) continue ;; esac
    # shellcheck disable=SC2086 # the printed command is split into its words
    java -Xmx256m -Dlog4j2.configurationFile="$LOCAL_DIR/kafka/log4j2.properties" -cp "$LIBS/*:$TOOLS_JAR" \
      org.apache.kafka.tools.AclCommand ${cmd#kafka-acls.sh } >>"$LOGF" 2>&1 || die "kafka-acls failed: $cmd; see $LOGF"
    n=$((n + 1))
  done < <(env $(envfile admin | tr '\n' ' ') "$BIN" topics acls -command-config "$DIR/admin.properties")
  env $(envfile admin | tr '\n' ' ') "$BIN" topics create >>"$LOGF" 2>&1 || die "arrears topics create failed; see $LOGF"
  touch "$DIR/acls.done"
  log "secured kafka: $n ACL grants and the default topics created"
}

start() {
  mkdir -p "$DIR"; chmod 700 "$DIR"
  certs; secrets; clientfiles
  if pid_alive "$PIDF"; then
    ready || die "secured kafka pid $(cat "$PIDF") runs but is not ready; see $LOGF"
    acls; log "secured kafka already running (pid $(cat "$PIDF")) on 127.0.0.1:$PORT"; return 0
  fi
  configure
  log "starting secured kafka on 127.0.0.1:$PORT (SASL_SSL, dir $DIR)"
  nohup java "${JAVA_OPTS[@]}" kafka.Kafka "$CONF" >>"$LOGF" 2>&1 &
  echo $! >"$PIDF"
  wait_ready "secured kafka" "$LOGF" ready
  acls
}

case "$op" in
  start) start ;;
  stop) stop_pid "secured kafka" "$PIDF" ;;
  status) if pid_alive "$PIDF" && ready; then echo "secured kafka up 127.0.0.1:$PORT pid $(cat "$PIDF") dir $DIR"; else echo "secured kafka down"; exit 1; fi ;;
  env) [ -n "${2:-}" ] || die "usage: $0 env ROLE"; envfile "$2" ;;
  *) die "usage: $0 start|stop|status|env ROLE" ;;
esac
