#!/bin/sh
# Creates the `temporal` and `temporal_visibility` databases and brings their schemas to the
# version of this Temporal release; creates the apis' `sessionflow` database too. The one copy
# of these commands: docker-compose.yml's temporal-admin-tools job mounts and runs this file,
# and `make cluster` runs it with the sql tool built from the same release
# (scripts/install-temporal-server.sh).
#
#   temporal-schema.sh [SQL_TOOL [SCHEMA_DIR]]
#     SQL_TOOL    default temporal-sql-tool (its name in the temporalio/admin-tools image)
#     SCHEMA_DIR  default /etc/temporal/schema/postgresql/v12 (where that image keeps them)
#   Connection: SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD (read by the tool itself).
#
# Safe to rerun, so starting after raising TEMPORAL_VERSION migrates first: `create` accepts an
# existing database, `setup-schema -v 0.0` keeps a newer version, `update-schema` applies only
# the missing versions. POSIX sh: the admin-tools image has no bash.
set -eu
tool=${1:-temporal-sql-tool}
schema_dir=${2:-/etc/temporal/schema/postgresql/v12}
setup() {
  "$tool" --plugin postgres12 --db "$1" create
  "$tool" --plugin postgres12 --db "$1" setup-schema -v 0.0
  "$tool" --plugin postgres12 --db "$1" update-schema -d "$2"
}
setup temporal "$schema_dir/temporal/versioned"
setup temporal_visibility "$schema_dir/visibility/versioned"
# The apis' own database, where replicas count per-client limits together (LIMITS_DATABASE_URL).
"$tool" --plugin postgres12 --db sessionflow create
echo "temporal schemas are up to date"
