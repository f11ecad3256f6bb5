#!/usr/bin/env bash
# Shared by the secured local servers (redis-secure.sh, clickhouse-secure.sh):
# where their certificates and passwords live, and how they are made.
# Sourced after common.sh; never run directly.
#
# SECURE_DIR is outside the repository (default /tmp/arrears-secure, mode
# 0700): a CA (ca.pem, ca.key), a server certificate for localhost and
# 127.0.0.1 signed by it (server.pem, server.key), a client certificate
# (client.pem, client.key) for mutual TLS, and one generated password per
# user (<service>/<user>.password, mode 0600). Tests and operators read them
# from there; nothing in the repository holds a secret.
SECURE_DIR=${ARREARS_SECURE_DIR:-/tmp/arrears-secure}

# secure_lock NAME: holds an exclusive lock until the script exits, so that
# two test binaries starting the same server (go test runs packages at
# once) do not both start it. Servers started under it must close fd 8
# (8>&-), or they would hold the lock for as long as they run.
secure_lock() {
  exec 8>"$STATE_DIR/$1.lock"
  flock 8
}

# secure_certs: makes the CA and the certificates once (openssl).
secure_certs() {
  command -v openssl >/dev/null || apt_install openssl
  mkdir -p "$SECURE_DIR"; chmod 700 "$SECURE_DIR"
  local d=$SECURE_DIR
  exec 7>"$STATE_DIR/secure-certs.lock"
  flock 7 # one writer of the certificates (closed by the caller's exit)
  [ -s "$d/ca.pem" ] && [ -s "$d/server.pem" ] && [ -s "$d/client.pem" ] && return 0
  log "generating a local CA and certificates in $d"
  (
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=arrears local CA" \
      -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >"$d/server.ext"
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 825 \
      -extfile "$d/server.ext" -out "$d/server.pem" 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' >"$d/client.ext"
    openssl req -newkey rsa:2048 -nodes -subj "/CN=arrears" -keyout "$d/client.key" -out "$d/client.csr" 2>/dev/null
    openssl x509 -req -in "$d/client.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 825 \
      -extfile "$d/client.ext" -out "$d/client.pem" 2>/dev/null
    rm -f "$d"/*.csr "$d"/*.ext
  ) || die "openssl failed to make the certificates in $d"
  chmod 644 "$d/ca.pem" "$d/server.pem" "$d/client.pem"
}

# secure_password SERVICE USER: prints USER's password, generating it once.
secure_password() {
  local f=$SECURE_DIR/$1/$2.password
  if [ ! -s "$f" ]; then
    mkdir -p "$SECURE_DIR/$1"; chmod 700 "$SECURE_DIR/$1"
    (umask 077; openssl rand -hex 24 >"$f")
  fi
  cat "$f"
}
