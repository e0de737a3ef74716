#!/bin/sh
# Installs the system tools some tests need, where they are missing:
# Java (EPUBCheck, the W3C HTML validator) and Chromium (the HTML layout test).
# Uses apt-get when run as root (as CI does); elsewhere it only says what is missing,
# and those tests skip with the reason (in CI they fail instead).
set -eu
missing=""
command -v java >/dev/null 2>&1 || missing="$missing default-jre-headless"
[ -x /usr/bin/chromium ] || missing="$missing chromium"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "make test: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  echo "make test: not installed:$missing (the tests that need them will skip)"
fi
