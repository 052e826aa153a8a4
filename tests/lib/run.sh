#!/bin/sh
# make run: MariaDB under var/ (kept across runs), payd and nginx on
# 127.0.0.1:$PORT (default 8080; "auto" picks a free one), in the
# foreground until Ctrl-C, which stops everything this script started.
# RUN_VAR= puts the state elsewhere than var/ (tests/deploy/test_run.sh).
#
# The payd master is supervised as systemd's Restart=on-failure would
# (deploy/payd.service): when it dies of a signal or exits non-zero, it is
# started again after a back-off (RUN_BACKOFF_MIN_S, doubled up to
# RUN_BACKOFF_MAX_S while it keeps dying within RUN_STABLE_S of its
# start), and MariaDB and nginx stay up. A clean exit (status 0) stops the
# rest, as Ctrl-C does.
set -u
. "$(dirname "$0")/stack.sh"
root=$STACK_ROOT
var=${RUN_VAR:-$root/var}
port=${PORT:-8080}
RUN_BACKOFF_MIN_S=1
RUN_BACKOFF_MAX_S=30
RUN_STABLE_S=30
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

# Starts the payd master; 0 once its socket is there.
run_app_start() {
	stack_app_start "$var" "$root/build/payd" /dev/stderr
}

# How the master ended, from wait's status.
run_exit_text() { # status
	if [ "$1" -gt 128 ]; then
		echo "signal $(($1 - 128))"
	else
		echo "status $1"
	fi
}

# Sleeps the back-off, then doubles it up to RUN_BACKOFF_MAX_S.
run_backoff() {
	sleep "$backoff"
	backoff=$((backoff * 2))
	[ "$backoff" -gt "$RUN_BACKOFF_MAX_S" ] && backoff=$RUN_BACKOFF_MAX_S
	return 0
}

# Waits on the master; restarts it on failure with a back-off.
run_supervise() {
	backoff=$RUN_BACKOFF_MIN_S
	restarts=0
	while :; do
		pid=$(cat "$var/payd.pid")
		started=$(date +%s)
		wait "$pid"
		rc=$?
		if [ "$rc" -eq 0 ]; then
			stack_log "payd (pid $pid) exited with status 0;" \
			    "stopping the rest"
			return 0
		fi
		[ $(($(date +%s) - started)) -ge "$RUN_STABLE_S" ] &&
		    backoff=$RUN_BACKOFF_MIN_S
		restarts=$((restarts + 1))
		stack_log "payd (pid $pid) died, $(run_exit_text "$rc");" \
		    "restart $restarts in ${backoff}s (MariaDB and nginx stay up)"
		run_backoff
		# A start that fails is a failure too: the next waits longer.
		until run_app_start; do
			stack_log "payd did not start; again in ${backoff}s"
			run_backoff
		done
		stack_log "payd restarted (pid $(cat "$var/payd.pid"))"
	done
}

stack_db_start "$var" || exit 1
# The JWT secret is generated once under var/ and kept; JWT_SECRET= wins.
if [ -n "${JWT_SECRET:-}" ]; then
	printf '%s' "$JWT_SECRET" >"$var/jwt-secret"
	chmod 600 "$var/jwt-secret"
fi
stack_app_config "$var" "workers = ${WORKERS:-0}"
run_app_start || exit 1
stack_nginx_start "$var" "$port" || exit 1
echo
echo "payd is running at $STACK_URL  (Ctrl-C stops it)"
echo "  curl $STACK_URL/healthz"
echo "  logs: app on this terminal; nginx in $var/nginx-access.log"
echo
run_supervise
