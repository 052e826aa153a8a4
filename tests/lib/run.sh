#!/bin/sh
# make run: MariaDB under var/ (kept across runs), payd and nginx on
# 127.0.0.1:$PORT (default 8080), in the foreground until Ctrl-C, which
# stops everything this script started.
set -u
. "$(dirname "$0")/stack.sh"
root=$STACK_ROOT
var=$root/var
port=${PORT:-8080}
mkdir -p "$var"
chmod 700 "$var"
cleanup() {
	trap - INT TERM EXIT
	echo
	stack_log "stopping"
	stack_stop "$var"
	exit 0
}
trap cleanup INT TERM EXIT
stack_db_start "$var" || exit 1
# The JWT secret is generated once under var/ and kept; JWT_SECRET= wins.
if [ -n "${JWT_SECRET:-}" ]; then
	printf '%s' "$JWT_SECRET" >"$var/jwt-secret"
	chmod 600 "$var/jwt-secret"
fi
stack_app_config "$var" "workers = ${WORKERS:-0}"
stack_app_start "$var" "$root/build/payd" /dev/stderr || exit 1
stack_nginx_start "$var" "$port" || exit 1
echo
echo "payd is running at $STACK_URL  (Ctrl-C stops it)"
echo "  curl $STACK_URL/healthz"
echo "  logs: app on this terminal; nginx in var/nginx-access.log"
echo
wait "$(cat "$var/payd.pid")"
