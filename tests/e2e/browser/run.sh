#!/usr/bin/env bash
# Real-browser end-to-end test of the web front end.
#
#   tests/e2e/browser/run.sh BASE_URL OUTDIR
#
# BASE_URL: where nginx serves the page and proxies the API, e.g. http://127.0.0.1:8080
# OUTDIR:   where screenshots (login.png, dashboard.png, history.png, mobile.png) go.
#
# Needs Debian's chromium at /usr/bin/chromium (installed here when we are root)
# and node >= 18 with npm. Exits non-zero on any failure.
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: $0 BASE_URL OUTDIR" >&2
  exit 2
fi
BASE_URL="${1%/}"
OUTDIR="$2"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "run.sh: installing Debian's chromium" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y chromium >/dev/null; then
      apt-get update >/dev/null
      apt-get install -y chromium >/dev/null
    fi
  else
    echo "run.sh: /usr/bin/chromium is missing; install it with:" >&2
    echo "  sudo apt-get install -y chromium" >&2
    exit 1
  fi
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "run.sh: node and npm are required (node >= 18)" >&2
  exit 1
fi

cd "$HERE"
# Trust the system's certificate store too (a site CA, a proxy's CA), as
# apt does; Node.js otherwise only trusts its own bundled list.
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r /etc/ssl/certs/ca-certificates.crt ]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi
if [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

mkdir -p "$OUTDIR"
OUTDIR="$(cd "$OUTDIR" && pwd)"
export BASE_URL OUTDIR
# Hard bound on the whole run (every wait inside is bounded too).
exec timeout --kill-after=10 300 node run.mjs
