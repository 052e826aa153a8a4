#!/bin/sh
# A client generated from docs/openapi.yaml at test time (openapi-typescript
# and openapi-fetch, pinned in package-lock.json), type-checked by tsc and
# run through a short scenario against the stack at URL. Called by
# tests/lib/integration.sh with CLIENT=1 (make test-openapi), which records
# and validates its responses like the suites'.
# Usage: tests/openapi/client.sh URL
set -eu
url=$1
cd "$(dirname "$0")"
sh ./deps.sh
rm -rf gen
./node_modules/.bin/openapi-typescript ../../docs/openapi.yaml \
    -o gen/payd.d.ts --silent
./node_modules/.bin/tsc -p tsconfig.json
PAYD_URL=$url timeout --kill-after=10 120 node gen/out/scenario.js
