#!/usr/bin/env bash
# Installs Debian's `chromium` package for the Temporal UI browser test (test/temporal-ui.test.ts)
# and prints the browser's path. Idempotent: with $CHROMIUM_PATH or /usr/bin/chromium present it
# changes nothing. Otherwise it needs root and apt-get: one `apt-get update`, then the install,
# its output kept in .tools/install-chromium.log and shown only when it fails.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "install-chromium: $*" >&2; }
browser="${CHROMIUM_PATH:-/usr/bin/chromium}"

if [ -x "$browser" ]; then echo "$browser"; exit 0; fi
if [ -n "${CHROMIUM_PATH:-}" ]; then
  say "CHROMIUM_PATH names $CHROMIUM_PATH, which is not an executable; unset it to install Debian's chromium"; exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  say "no Chromium at $browser and no apt-get to install it: install Chromium and set CHROMIUM_PATH to it"; exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  say "no Chromium at $browser; installing it needs root: run 'sudo apt-get install chromium' (or set CHROMIUM_PATH)"; exit 1
fi

mkdir -p .tools
log=.tools/install-chromium.log
say "installing Debian's chromium package (apt-get, log in $log)"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -q && apt-get install -y -q chromium; } >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  say "apt-get could not install chromium (see $log)"; exit 1
fi
if [ ! -x "$browser" ]; then say "apt-get installed chromium, but $browser is missing"; exit 1; fi
say "installed $("$browser" --version 2>/dev/null | head -1)"
echo "$browser"
