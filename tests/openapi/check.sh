#!/bin/sh
# The document's own checks (make test-openapi): @redocly/cli's lint with
# tests/openapi/redocly.yaml, then check.mjs: app/router.c's routes against
# the document's operations, an example for every body, no component
# unreferenced.
set -eu
cd "$(dirname "$0")"
sh ./deps.sh
# No usage data sent, no update check: the lockfile pins the version.
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
    ./node_modules/.bin/redocly lint --config redocly.yaml \
    --format stylish ../../docs/openapi.yaml
node check.mjs routes
