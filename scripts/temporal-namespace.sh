#!/bin/sh
# Registers the namespace and the search attributes operators filter sessions by (DESIGN.md
# section 5.6) on a Temporal server. The one copy: docker-compose.yml's temporal-setup job
# mounts and runs this file, and `make cluster` runs it with the project's Temporal CLI.
# Idempotent: existing ones are left as they are.
#
#   TEMPORAL_ADDRESS=host:port NAMESPACE=default [TEMPORAL_CLI=temporal] temporal-namespace.sh
#   mTLS (docs/security/mtls.md): TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH,
#   TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME, passed on as flags (which every
#   CLI version reads, unlike the variables).
#
# POSIX sh: the admin-tools image has no bash.
set -eu
cli=${TEMPORAL_CLI:-temporal}
address=${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS}
namespace=${NAMESPACE:-default}
retry() {
  n=0
  until "$@"; do
    n=$((n + 1))
    [ "$n" -lt 60 ] || return 1
    sleep 2
  done
}
quiet() { "$@" >/dev/null 2>&1; }
# The Temporal CLI against this server, with the client certificate when one is given.
temporal_cli() {
  if [ -n "${TEMPORAL_TLS_CLIENT_CERT_PATH:-}" ]; then
    set -- "$@" --tls-cert-path "$TEMPORAL_TLS_CLIENT_CERT_PATH" --tls-key-path "${TEMPORAL_TLS_CLIENT_KEY_PATH:?set TEMPORAL_TLS_CLIENT_KEY_PATH}"
  fi
  if [ -n "${TEMPORAL_TLS_SERVER_CA_CERT_PATH:-}" ]; then set -- "$@" --tls-ca-path "$TEMPORAL_TLS_SERVER_CA_CERT_PATH"; fi
  if [ -n "${TEMPORAL_TLS_SERVER_NAME:-}" ]; then set -- "$@" --tls-server-name "$TEMPORAL_TLS_SERVER_NAME"; fi
  "$cli" "$@" --address "$address"
}
retry quiet temporal_cli operator cluster health
if ! quiet temporal_cli operator namespace describe --namespace "$namespace"; then
  out=$(temporal_cli operator namespace create --namespace "$namespace" 2>&1) ||
    echo "$out" | grep -qi 'already exists' || { echo "$out" >&2; exit 1; }
fi
# A new namespace reaches the frontend's cache after a few seconds.
retry quiet temporal_cli operator search-attribute list --namespace "$namespace"
for entry in SessionStatus:Keyword SessionTag:Keyword FlowId:Keyword ClientId:Keyword SessionOutcome:Keyword SessionStage:Keyword SessionStageSince:Datetime SessionNumber:Keyword SessionArchivedAt:Datetime SessionReview:Keyword FlowVersion:Keyword; do
  name=${entry%%:*}; type=${entry##*:}
  if out=$(temporal_cli operator search-attribute create --namespace "$namespace" --name "$name" --type "$type" 2>&1); then
    echo "search attribute $name: registered"
  elif echo "$out" | grep -qi 'different type'; then
    echo "$out" >&2; exit 1
  elif echo "$out" | grep -qi 'already exists'; then
    echo "search attribute $name: already exists"
  else
    echo "$out" >&2; exit 1
  fi
done
