#!/usr/bin/env bash
# Runs a PostgreSQL server for the project from Debian's packages, under a data directory in
# the repo's ignored .data/ folder. Used by the key-store tests, `make cluster` and anything
# else that needs PostgreSQL; nothing here is installed by hand.
#
#   scripts/postgres.sh start DIR PORT   initdb when DIR is new, start on 127.0.0.1:PORT, create
#                                        the database `sessionflow`; prints its URL on stdout
#   scripts/postgres.sh stop DIR         fast shutdown (no-op when not running)
#   scripts/postgres.sh bin              prints the folder of the server binaries
#
# initdb refuses to run as root, so when run as root the server runs as the `postgres` user
# that the Debian package creates. Local connections on loopback are trusted: the server
# listens on 127.0.0.1 only, for this machine's own processes.
set -euo pipefail
say() { echo "postgres: $*" >&2; }

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    say "installing Debian's postgresql package"
    if [ "$(id -u)" -eq 0 ]; then
      apt-get install -y -qq postgresql >&2 || { apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2; }
    else
      say "not root: install the postgresql package first"; exit 1
    fi
    dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  echo "$dir"
}

# Runs a command as the server's owner: root hands it to `postgres`, anyone else runs it as is.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cmd=${1:-}
case "$cmd" in
  bin) pg_bin ;;
  start)
    dir=${2:?usage: postgres.sh start DIR PORT}; port=${3:?usage: postgres.sh start DIR PORT}
    bin=$(pg_bin)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; chmod 700 "$dir"; fi
    if [ ! -f "$dir/PG_VERSION" ]; then
      say "initdb in $(basename "$dir")"
      as_owner "$bin/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 --no-instructions >/dev/null
    fi
    if as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      say "already running"
    else
      # The socket goes in the data directory: /var/run/postgresql may not exist or be writable.
      as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200" start >/dev/null
    fi
    url="postgres://postgres@127.0.0.1:$port/postgres"
    if ! "$bin/psql" "$url" -tAc "SELECT 1 FROM pg_database WHERE datname='sessionflow'" | grep -q 1; then
      "$bin/psql" "$url" -qc "CREATE DATABASE sessionflow" >/dev/null
    fi
    echo "postgres://postgres@127.0.0.1:$port/sessionflow"
    ;;
  stop)
    dir=${2:?usage: postgres.sh stop DIR}
    [ -f "$dir/PG_VERSION" ] || exit 0
    bin=$(pg_bin)
    as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: postgres.sh start DIR PORT | stop DIR | bin" >&2; exit 2 ;;
esac
