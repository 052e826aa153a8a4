#!/bin/sh
# Goal: make run survives the death of its payd master (issue 16): the
# master SIGKILLed is started again after a back-off that grows, logged,
# while MariaDB and nginx stay up with their data; Ctrl-C (SIGINT to the
# whole process group, as a terminal sends it) still stops everything.
# Runs tests/lib/run.sh on a free port with its state in a temporary
# directory (RUN_VAR), never in the checkout's var/.
#
# Usage: sh tests/deploy/test_run.sh (make test-deploy). KEEP=1 keeps the
# temporary directory. Last line: "run: N passed, M failed".
set -u
test_name=run
# shellcheck source=tests/deploy/lib.sh
. "$(dirname -- "$0")/lib.sh"

[ -x build/payd ] || { echo "test_run.sh: make first" >&2; exit 1; }
T=$(mktemp -d /tmp/payd-run.XXXXXX)
chmod 755 "$T"
V=$T/var
run_pid=""
cleanup() {
	[ -n "$run_pid" ] && kill -TERM "$run_pid" 2>/dev/null
	stack_stop "$V" 2>/dev/null
	if [ "$fail" -ne 0 ]; then
		echo "--- make run's output"
		tail -30 "$T/run.log"
	fi
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# In its own process group, with SIGINT as a terminal leaves it (a shell
# starts a background command with SIGINT ignored).
RUN_VAR=$V PORT=auto WORKERS=2 setsid env --default-signal=INT \
    sh tests/lib/run.sh >"$T/run.log" 2>&1 &
run_pid=$!

url() { cat "$V/url" 2>/dev/null; }
healthz_ok() {
	[ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$(url)/healthz")" = 200 ]
}
check "make run serves /healthz" eventually 1200 healthz_ok || exit 1

user=run$$
post() { # path body: the status
	curl -s -m 5 -o "$T/post.out" -w '%{http_code}' \
	    -H 'Content-Type: application/json' -d "$2" "$(url)$1"
}
creds="{\"username\":\"$user\",\"password\":\"password123\"}"
check "a user registers" test "$(post /register "$creds")" = 201

db_pid=$(cat "$V/mysqld.pid")
nginx_pid=$(cat "$V/nginx/nginx.pid")
master1=$(cat "$V/payd.pid")
alive() { kill -0 "$1" 2>/dev/null; }
new_master() { # old pid: a master with another pid serves
	[ "$(cat "$V/payd.pid" 2>/dev/null)" != "$1" ] &&
	    alive "$(cat "$V/payd.pid")" && healthz_ok
}

kill -9 "$master1"
check "SIGKILLed master: another one is started and serves" \
    eventually 600 new_master "$master1"
check "... logged with the signal and the back-off" \
    grep -q "payd (pid $master1) died, signal 9; restart 1 in 1s" \
    "$T/run.log"
check "... MariaDB stayed up (same pid)" \
    test "$(cat "$V/mysqld.pid")" = "$db_pid" -a -n "$db_pid"
check "... nginx stayed up (same pid)" alive "$nginx_pid"
check "... and the data is still there: the user logs in" \
    test "$(post /login "$creds")" = 200

# Dying again soon after its start: the back-off doubles.
master2=$(cat "$V/payd.pid")
kill -9 "$master2"
check "killed again at once: restarted after a longer back-off" \
    eventually 600 new_master "$master2"
check "... logged as restart 2 in 2s" \
    grep -q "payd (pid $master2) died, signal 9; restart 2 in 2s" \
    "$T/run.log"

# Ctrl-C: SIGINT to the process group stops all three.
master3=$(cat "$V/payd.pid")
kill -INT "-$run_pid"
gone() { ! alive "$run_pid"; }
check "Ctrl-C: make run ends" eventually 600 gone
run_pid=""
check "Ctrl-C: the master is stopped" eventually 100 sh -c \
    "! kill -0 $master3 2>/dev/null"
check "Ctrl-C: MariaDB is stopped" eventually 100 sh -c \
    "! kill -0 $db_pid 2>/dev/null"
check "Ctrl-C: nginx is stopped" eventually 100 sh -c \
    "! kill -0 $nginx_pid 2>/dev/null"

finish
