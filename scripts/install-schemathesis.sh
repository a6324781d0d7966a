#!/usr/bin/env bash
# Finds or installs Schemathesis (PyPI, pinned) in .tools/schemathesis and prints the path of its
# `st` command on stdout. `make test` runs it; test/schemathesis.test.ts runs `st` against the
# test stack's api. Idempotent: a second run finds what the first installed.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
venv="$PWD/.tools/schemathesis"
say() { echo "install-schemathesis: $*" >&2; }
installed() { [ -x "$venv/bin/st" ] && [[ "$("$venv/bin/st" --version 2>/dev/null)" == *"version $SCHEMATHESIS_VERSION" ]]; }

if ! installed; then
  command -v python3 >/dev/null 2>&1 || { say "python3 is needed to install Schemathesis from PyPI"; exit 1; }
  say "installing PyPI schemathesis==$SCHEMATHESIS_VERSION into .tools/schemathesis"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2
  installed || { say "the install did not give a working st $SCHEMATHESIS_VERSION"; exit 1; }
fi
echo "$venv/bin/st"
