#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (tests/browser/) when it is missing.
# Never downloads a browser build of its own: Playwright drives /usr/bin/chromium.
# It never fails the build: the browser tests themselves skip (or fail on CI) without it.
set -u

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "ensure-chromium: $CHROMIUM is missing and we are not root: cannot apt-get install chromium" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $CHROMIUM is missing and there is no apt-get on this machine" >&2
  exit 0
fi
echo "ensure-chromium: installing Debian's chromium for the browser tests"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }; then
  echo "ensure-chromium: apt-get install chromium failed" >&2
fi
exit 0
