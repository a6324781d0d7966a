#!/usr/bin/env bash
# Builds the Temporal server, its SQL schema tool and the Temporal Web UI server from the Go
# module proxy into .tools/ when missing (nothing is downloaded from anywhere else), and prints
# KEY=VALUE lines on stdout for `make cluster`:
#   TEMPORAL_SERVER   the server binary (go.temporal.io/server/cmd/server)
#   TEMPORAL_SQL_TOOL the schema tool (go.temporal.io/server/cmd/tools/sql)
#   TEMPORAL_MODULE   the server module in the Go module cache: its schema/ and config/ files
#   TEMPORAL_UI       the Web UI server (github.com/temporalio/ui-server/v2/cmd/server)
#   TEMPORAL_UI_MODULE the UI module: its config/ files
# The versions are the ones docker-compose.yml runs (scripts/temporal-version.sh): one place.
# A cold build takes several minutes of every core; later runs only check that the files exist.
#   install-temporal-server.sh [--no-ui]
set -euo pipefail
cd "$(dirname "$0")/.."

server_version=$(bash scripts/temporal-version.sh server)
ui_version=$(bash scripts/temporal-version.sh ui)
# These go.mod files ask for a newer Go than Debian's; the go command fetches this toolchain
# from the Go module proxy like any module.
export GOTOOLCHAIN=${TEMPORAL_GOTOOLCHAIN:-go1.27.3} GOFLAGS=-buildvcs=false
tools="$PWD/.tools/temporal-server"
say() { echo "install-temporal-server: $*" >&2; }
command -v go >/dev/null 2>&1 || { say "need the go command (e.g. Debian's golang-go) to build the Temporal server"; exit 1; }

# build PACKAGE VERSION BIN_DIR NAME: go install PACKAGE@vVERSION into BIN_DIR unless NAME is there.
build() {
  if [ ! -x "$3/$4" ]; then
    say "building $1@v$2 with $GOTOOLCHAIN (a cold build takes minutes)"
    mkdir -p "$3"
    GOBIN="$3" go install "$1@v$2" >&2
  fi
}
# module_dir MODULE VERSION: where the module's files are, downloading it when missing.
module_dir() {
  local dir
  dir="$(go env GOMODCACHE)/$1@v$2"
  [ -d "$dir" ] || go mod download "$1@v$2" >&2
  echo "$dir"
}

server_bin="$tools/$server_version/bin"
build go.temporal.io/server/cmd/server "$server_version" "$server_bin" server
build go.temporal.io/server/cmd/tools/sql "$server_version" "$server_bin" sql
server_module=$(module_dir go.temporal.io/server "$server_version")
[ -d "$server_module/schema/postgresql/v12/temporal/versioned" ] || { say "no PostgreSQL schema in the server module"; exit 1; }
echo "TEMPORAL_SERVER=$server_bin/server"
echo "TEMPORAL_SQL_TOOL=$server_bin/sql"
echo "TEMPORAL_MODULE=$server_module"

if [ "${1:-}" != "--no-ui" ]; then
  ui_bin="$tools/ui-$ui_version/bin"
  build github.com/temporalio/ui-server/v2/cmd/server "$ui_version" "$ui_bin" server
  echo "TEMPORAL_UI=$ui_bin/server"
  echo "TEMPORAL_UI_MODULE=$(module_dir github.com/temporalio/ui-server/v2 "$ui_version")"
fi
