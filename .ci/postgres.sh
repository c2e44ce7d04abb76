#!/usr/bin/env bash
# Start a throw-away PostgreSQL server on loopback for the tuner's multi-worker tests.
# Installs Debian's postgresql if missing. Prints the SQLAlchemy URL on stdout (last line).
# Usage: eval "$(.ci/postgres.sh)"   -> exports CZAR_GBDT_PG_URL
set -euo pipefail
PORT="${CZAR_GBDT_PG_PORT:-54329}"
DATA="${CZAR_GBDT_PG_DATA:-/tmp/czar-gbdt-pg}"
log() { echo "[postgres] $*" >&2; }

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  log "installing postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

run_pg() {  # the server refuses to run as root
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if ! run_pg "$bindir/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  rm -rf "$DATA"
  mkdir -p "$DATA"
  [ "$(id -u)" = 0 ] && chown postgres "$DATA"
  run_pg "$bindir/initdb" -D "$DATA" -A trust -U postgres >/dev/null
  run_pg "$bindir/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$DATA -c max_connections=200" start >&2
fi
run_pg "$bindir/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='czar_test'" \
  | grep -q 1 || run_pg "$bindir/createdb" -h 127.0.0.1 -p "$PORT" -U postgres czar_test
log "running on 127.0.0.1:$PORT"
echo "export CZAR_GBDT_PG_URL=postgresql+psycopg2://postgres@127.0.0.1:$PORT/czar_test"
