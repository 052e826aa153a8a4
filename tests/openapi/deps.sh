#!/bin/sh
# Installs tests/openapi's npm packages, pinned by its package-lock.json,
# when they are missing or the lockfile has changed since.
set -eu
cd "$(dirname "$0")"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "tests/openapi: node and npm are required (make deps)" >&2
	exit 1
fi
# Trust the system's certificate store too (a site CA, a proxy's CA).
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] &&
    [ -r /etc/ssl/certs/ca-certificates.crt ]; then
	NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
	export NODE_EXTRA_CA_CERTS
fi
if ! cmp -s package-lock.json node_modules/.payd-lock 2>/dev/null; then
	npm ci --no-audit --no-fund --loglevel=error
	cp package-lock.json node_modules/.payd-lock
fi
