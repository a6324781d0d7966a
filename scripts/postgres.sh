#!/usr/bin/env bash
# Runs a PostgreSQL server for the project from Debian's packages, under a data directory in
# the repo's ignored .data/ folder. Used by the key-store tests, `make cluster` and anything
# else that needs PostgreSQL; nothing here is installed by hand.
#
#   scripts/postgres.sh start DIR PORT   initdb when DIR is new, start on 127.0.0.1:PORT, create
#                                        the database `sessionflow`; prints its URL on stdout
#   scripts/postgres.sh stop DIR         fast shutdown (no-op when not running)
#   scripts/postgres.sh remove DIR       stop, then delete DIR and the data it names
#   scripts/postgres.sh bin              prints the folder of the server binaries
#
# initdb refuses to run as root, so when run as root the server runs as the `postgres` user
# that the Debian package creates. That user may not reach DIR (a clone under /root, or in a
# `mktemp -d` folder): then the data lives in a private folder under /tmp owned by `postgres`,
# and DIR becomes a symbolic link to it (root follows it; the server is only ever given the real
# path). Local connections on loopback are trusted: the server listens on 127.0.0.1 only, for
# this machine's own processes.
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
# From `/`: the caller's own folder may be one `postgres` cannot enter (initdb fails there).
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# The data folder the server gets for DIR, made when missing. As root, a DIR that `postgres`
# cannot reach is a link to a fresh private folder under /tmp (kept while it exists and is
# still postgres's own, with mode 700).
data_dir() {
  local dir=$1 real
  if [ "$(id -u)" -ne 0 ]; then mkdir -p "$dir"; (cd "$dir" && pwd); return; fi
  if [ -L "$dir" ]; then
    real=$(readlink "$dir")
    if [ -d "$real" ] && [ ! -L "$real" ] && [ "$(stat -c %U:%a "$real")" = "postgres:700" ]; then echo "$real"; return; fi
    rm -f "$dir"
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  chown postgres:postgres "$dir"; chmod 700 "$dir"
  if runuser -u postgres -- test -r "$dir" -a -w "$dir" -a -x "$dir" 2>/dev/null; then echo "$dir"; return; fi
  if [ -f "$dir/PG_VERSION" ]; then say "the postgres user cannot reach the data in $(basename "$dir"); move the checkout where it can"; exit 1; fi
  real=$(mktemp -d /tmp/sessionflow-postgres.XXXXXXXX)
  chown postgres:postgres "$real"; chmod 700 "$real"
  rmdir "$dir" && ln -s "$real" "$dir"
  echo "$real"
}

# Fast shutdown of the server on DIR (or the folder DIR links to); nothing when none runs there.
stop_server() {
  local dir=$1
  if [ -L "$dir" ]; then dir=$(readlink "$dir"); fi
  [ -f "$dir/PG_VERSION" ] || return 0
  dir=$(cd "$dir" && pwd)
  as_owner "$(pg_bin)/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
}

cmd=${1:-}
case "$cmd" in
  bin) pg_bin ;;
  start)
    dir=${2:?usage: postgres.sh start DIR PORT}; port=${3:?usage: postgres.sh start DIR PORT}
    bin=$(pg_bin)
    dir=$(data_dir "$dir")
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
    stop_server "${2:?usage: postgres.sh stop DIR}"
    ;;
  remove)
    dir=${2:?usage: postgres.sh remove DIR}
    stop_server "$dir"
    if [ -L "$dir" ]; then rm -rf "$(readlink "$dir")"; rm -f "$dir"; else rm -rf "$dir"; fi
    ;;
  *) echo "usage: postgres.sh start DIR PORT | stop DIR | remove DIR | bin" >&2; exit 2 ;;
esac
