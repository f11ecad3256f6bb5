#!/usr/bin/env bash
# interop.sh: installs the Kafka and Avro clients nobody on arrears wrote, pinned,
# from their registries only, for the interoperability test (processor/interop):
#   python  confluent-kafka (librdkafka bundled in its wheel) and fastavro, PyPI, in a venv
#   node    kafkajs and avsc, npm, `npm ci` from deploy/interop/js/package-lock.json
#   java    Apache Avro for Java and its runtime dependencies, Maven Central, through
#           `mvn dependency:copy-dependencies` on deploy/interop/java/pom.xml
# into a cache directory outside the work tree, then prints, one per line:
#   PYTHON=<venv python3>  NODE_PATH=<node_modules>  JAVA_CP=<jar dir>/*
# Idempotent (a stamp per pinned set: a second run only prints) and one install at a
# time (flock). A registry that refuses fails the run loudly. A missing toolchain
# (Java 17, Maven, Node, python3-venv) is installed from Debian first.
#   bash deploy/local/interop.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../interop" && pwd)

# The pinned versions. Node's and Java's are pinned by their files in deploy/interop.
CONFLUENT_KAFKA_VERSION=2.16.1
FASTAVRO_VERSION=1.13.1
PINS="confluent-kafka==$CONFLUENT_KAFKA_VERSION fastavro==$FASTAVRO_VERSION"
# The cache is keyed by the pins and the lock files: changing one installs anew.
KEY=$( { echo "$PINS"; cat "$SRC/js/package-lock.json" "$SRC/java/pom.xml"; } | sha256sum | cut -c1-12)
if [ -n "${ARREARS_INTEROP_CACHE:-}" ]; then CACHE=$ARREARS_INTEROP_CACHE
elif [ -n "${XDG_CACHE_HOME:-}" ]; then CACHE=$XDG_CACHE_HOME/arrears/interop
elif [ -n "${HOME:-}" ]; then CACHE=$HOME/.cache/arrears/interop
else CACHE=/var/cache/arrears/interop; fi
DIR=$CACHE/$KEY
PY=$DIR/venv/bin/python3
STAMP=$DIR/installed

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
if [ ! -f "$STAMP" ]; then
  # The toolchains themselves come from Debian when the machine lacks them.
  need=()
  command -v java >/dev/null || need+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null || need+=(maven)
  command -v node >/dev/null || need+=(nodejs)
  command -v npm >/dev/null || need+=(npm)
  python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
  [ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"
  for tool in python3 node npm java mvn; do
    command -v "$tool" >/dev/null || die "$tool is not on PATH (python3, node 18+, npm, Java 17 and Maven are needed)"
  done
  rm -rf "$DIR"
  mkdir -p "$DIR"
  log "interop python: $PINS into $DIR/venv"
  python3 -m venv "$DIR/venv" || die "python3 -m venv $DIR/venv failed"
  "$PY" -m pip install -q --disable-pip-version-check $PINS >&2 || die "pip install $PINS failed"
  "$PY" -c "import confluent_kafka, fastavro; print('librdkafka', confluent_kafka.libversion()[0], 'fastavro', fastavro.__version__)" >&2 ||
    die "the python clients do not import"

  log "interop node: npm ci (kafkajs, avsc) into $DIR/js"
  mkdir -p "$DIR/js"
  cp "$SRC/js/package.json" "$SRC/js/package-lock.json" "$DIR/js/"
  (cd "$DIR/js" && npm ci --ignore-scripts --no-audit --no-fund >&2) || die "npm ci in $DIR/js failed"

  log "interop java: Apache Avro and its dependencies into $DIR/java/lib"
  mvn -q -B -Dstyle.color=never -f "$SRC/java/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$DIR/java/lib" -DincludeScope=runtime >&2 || die "mvn dependency:copy-dependencies failed"
  ls "$DIR"/java/lib/avro-1.12.*.jar >/dev/null 2>&1 || die "no avro-1.12 jar in $DIR/java/lib"

  # Installs of other pinned sets are left behind; drop them.
  find "$CACHE" -mindepth 1 -maxdepth 1 -type d ! -name "$KEY" -exec rm -rf {} +
  date -u +%FT%TZ >"$STAMP"
  log "interop clients installed in $DIR"
fi
echo "PYTHON=$PY"
echo "NODE_PATH=$DIR/js/node_modules"
echo "JAVA_CP=$DIR/java/lib/*"
