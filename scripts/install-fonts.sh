#!/usr/bin/env bash
# Installs the fonts the hosted page's screenshots need: Debian's `fonts-noto-core`, whose Noto
# Sans Devanagari renders the Hindi page (without it Chromium draws boxes). Idempotent: with a
# Devanagari font known to fontconfig it changes nothing. Otherwise it needs root and apt-get:
# one `apt-get update`, then the install, its output kept in .tools/install-fonts.log and
# shown only when it fails.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "install-fonts: $*" >&2; }
has_devanagari() { command -v fc-list >/dev/null 2>&1 && fc-list ':lang=hi' family | grep -q .; }

if has_devanagari; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  say "no Devanagari font and no apt-get to install one: install Noto Sans Devanagari (or any font covering Hindi)"; exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  say "no Devanagari font; installing one needs root: run 'sudo apt-get install fonts-noto-core'"; exit 1
fi

mkdir -p .tools
log=.tools/install-fonts.log
say "installing Debian's fonts-noto-core package (apt-get, log in $log)"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -q && apt-get install -y -q --no-install-recommends fonts-noto-core fontconfig && fc-cache -f; } >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  say "apt-get could not install fonts-noto-core (see $log)"; exit 1
fi
if ! has_devanagari; then say "fonts-noto-core installed, but fontconfig knows no Devanagari font"; exit 1; fi
say "installed fonts-noto-core"
