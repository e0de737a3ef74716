#!/bin/sh
# Installs system tools that some tests and `make screenshots` need, where missing:
#   java      Java runtime (EPUBCheck, the W3C HTML validator)
#   chromium  headless Chromium (the HTML layout test, HTML screenshots)
#   pdftoppm  poppler-utils (PDF page screenshots)
# Uses apt-get when run as root (as CI does); elsewhere it only says what is missing,
# and the tests that need it skip with the reason (in CI they fail instead).
set -eu
missing=""
for tool in "$@"; do
  case "$tool" in
    java) command -v java >/dev/null 2>&1 || missing="$missing default-jre-headless" ;;
    chromium) [ -x /usr/bin/chromium ] || missing="$missing chromium" ;;
    pdftoppm) command -v pdftoppm >/dev/null 2>&1 || missing="$missing poppler-utils" ;;
    *) echo "system-tools.sh: unknown tool '$tool'" >&2; exit 2 ;;
  esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/dev/null; }; then
    echo "could not install$missing with apt-get (what needs them will skip, or fail in CI)"
  fi
else
  echo "not installed:$missing (what needs them will skip)"
fi
