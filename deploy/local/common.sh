#!/usr/bin/env bash
# Shared helpers for the local stack scripts: paths, readiness waits, pid files.
# Sourced by kafka.sh, redis.sh, clickhouse.sh and stack.sh; never run directly.
set -euo pipefail

LOCAL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$LOCAL_DIR/../.." && pwd)
# Everything the stack writes (binaries resolved by Maven, data, logs, pids)
# lives under STATE_DIR, never in system directories.
STATE_DIR=${ARREARS_STATE_DIR:-$REPO_DIR/.local}
# How long a service may take to become ready before `make up` fails.
READY_TIMEOUT=${ARREARS_READY_TIMEOUT:-90}
mkdir -p "$STATE_DIR"

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# apt_install PKG... installs Debian packages once (apt-get update first).
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "need root to apt-get install ${missing[*]}"
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update failed"
  # policy-rc.d stops Debian's postinst from starting system-wide services;
  # the stack runs its own instances under STATE_DIR.
  local prc=/usr/sbin/policy-rc.d created=0
  if [ ! -e $prc ]; then printf '#!/bin/sh\nexit 101\n' >$prc; chmod +x $prc; created=1; fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || { [ $created = 1 ] && rm -f $prc; die "apt-get install ${missing[*]} failed"; }
  [ $created = 1 ] && rm -f $prc
  return 0
}

# pid_alive FILE: the process in the pid file is running.
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }

# wait_ready NAME LOGFILE CMD...: polls CMD until it succeeds or READY_TIMEOUT
# passes; on timeout fails naming the service and its log file.
wait_ready() {
  local name=$1 logf=$2; shift 2
  local start=$SECONDS
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS - start >= READY_TIMEOUT )); then
      log "last lines of $logf:"; tail -n 20 "$logf" >&2 2>/dev/null || true
      die "$name not ready after ${READY_TIMEOUT}s; see $logf"
    fi
    sleep 0.5
  done
  log "$name ready in $((SECONDS - start))s"
}

# stop_pid NAME PIDFILE: SIGTERM, then SIGKILL after 30 s.
stop_pid() {
  local name=$1 pidf=$2
  pid_alive "$pidf" || { rm -f "$pidf"; return 0; }
  local pid; pid=$(cat "$pidf")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidf"
  log "$name stopped"
}
