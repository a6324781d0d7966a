#!/usr/bin/env bash
# Prints a Temporal version this project runs, from the one place it is pinned: the image tag
# defaults in docker-compose.yml. `make cluster` builds the same versions from Go modules.
#   temporal-version.sh         the server (and admin tools): TEMPORAL_VERSION
#   temporal-version.sh ui      the Web UI: TEMPORAL_UI_VERSION
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-server}" in
  server) image=temporalio/server variable=TEMPORAL_VERSION ;;
  ui) image=temporalio/ui variable=TEMPORAL_UI_VERSION ;;
  *) echo "usage: temporal-version.sh [server|ui]" >&2; exit 2 ;;
esac
version=$(sed -n "s|.*image: $image:\${$variable:-\([0-9][0-9.]*\)}.*|\1|p" docker-compose.yml | head -1)
[ -n "$version" ] || { echo "temporal-version: no $image:\${$variable:-x.y.z} in docker-compose.yml" >&2; exit 1; }
echo "$version"
