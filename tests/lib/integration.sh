#!/bin/sh
# Starts a private stack (MariaDB, payd, nginx) in a temporary directory on
# a free port, runs the integration suites against it through nginx, and
# tears everything down, also when a test fails. Every response the tests
# get is recorded and then validated against docs/openapi.yaml
# (tests/openapi/check.mjs); one that breaks it fails the run.
# Usage: tests/lib/integration.sh BUILD_DIR
#   BROWSER=1   the web page in headless Chromium too (tests/e2e/browser)
#   CLIENT=1    the client generated from docs/openapi.yaml too
#   SUITES=0    not the integration suites (make test-openapi)
set -u
build=${1:-build}
. "$(dirname "$0")/stack.sh"
dir=$(mktemp -d /tmp/payd-test.XXXXXX)
chmod 755 "$dir"
cleanup() {
	stack_stop "$dir"
	if [ "${KEEP:-0}" = 1 ]; then
		echo "kept $dir"
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
STACK_BIN=$build/payd
export STACK_BIN
sh "$(dirname "$0")/../openapi/deps.sh" || exit 1
# A route of app/router.c that docs/openapi.yaml lacks, or the reverse,
# fails at once (make test-openapi lints the document as well).
node "$(dirname "$0")/../openapi/check.mjs" routes || exit 1
PAYD_RECORD=$dir/responses.jsonl
export PAYD_RECORD
stack_db_start "$dir" || exit 1
# Two app instances behind nginx, as in production: the fault tests stop
# one under load and nginx must send everything to the other.
stack_app_config "$dir" "workers = 2"
stack_app_start "$dir" "$build/payd" || exit 1
STACK_NAME=payd2 stack_app_config "$dir" "workers = 2"
STACK_NAME=payd2 stack_app_start "$dir" "$build/payd" || exit 1
ups="server unix:$dir/payd.sock max_fails=3 fail_timeout=5s;"
ups="$ups server unix:$dir/payd2.sock max_fails=3 fail_timeout=5s;"
# A low login/register limit, so the rate-limit test can reach it.
AUTH_RATE=${AUTH_RATE:-50} AUTH_BURST=${AUTH_BURST:-200} \
    stack_nginx_start "$dir" auto "" "" "$ups" || exit 1
export STACK_URL STACK_DIR="$dir" STACK_ROOT PAYD_BIN="$build/payd"
export CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-120}
rc=0
if [ "${SUITES:-1}" = 1 ]; then
	"$build/check_integration"
	rc=$?
fi
# The web page in a real browser, against the same stack (issue 6).
if [ "$rc" -eq 0 ] && [ "${BROWSER:-0}" = 1 ]; then
	bash "$STACK_ROOT/tests/e2e/browser/run.sh" "$STACK_URL" \
	    "$STACK_ROOT/tests/out/browser" || rc=1
fi
# A client generated from docs/openapi.yaml, used for a short scenario.
if [ "$rc" -eq 0 ] && [ "${CLIENT:-0}" = 1 ]; then
	sh "$STACK_ROOT/tests/openapi/client.sh" "$STACK_URL" || rc=1
fi
# Every recorded response against the document, whatever passed above.
if [ ! -s "$PAYD_RECORD" ]; then
	echo "openapi: no response was recorded in $PAYD_RECORD" >&2
	rc=1
elif ! node "$STACK_ROOT/tests/openapi/check.mjs" validate "$PAYD_RECORD"
then
	rc=1
fi
# A sanitizer report anywhere in the app's log fails the run.
if cat "$dir"/payd*.log | grep -E \
    "ERROR: AddressSanitizer|runtime error:|LeakSanitizer" >/dev/null; then
	echo "sanitizer reports in the app log:" >&2
	cat "$dir"/payd*.log | grep -E -A20 \
	    "ERROR: AddressSanitizer|runtime error:" | head -60 >&2
	rc=1
fi
if [ "$rc" -ne 0 ]; then
	echo "--- last lines of the app log ($dir/payd.log) ---" >&2
	tail -40 "$dir/payd.log" >&2
fi
exit "$rc"
