#!/bin/sh
# make valgrind: one payd worker (workers = 1) under valgrind's memcheck,
# serving VG_REQUESTS (default 10 000) mixed requests through nginx on a
# private stack (MariaDB, payd, nginx in a temporary directory), after a
# warm-up. The master runs under memcheck too; the worker is its fork.
# Checks, each counted:
#   load        the client got an answer to everything (tests/valgrind/load.c)
#   respawn     the worker served it all without dying
#   worker      memcheck: no error in the worker (invalid read or write,
#               uninitialised value, bad free, definite leak)
#   master      the same for the master
#   exit        both exited on SIGTERM and memcheck wrote their leak check
#   rss         then the same requests to a native worker: its VmRSS after
#               them is at most VG_RSS_GROWTH_MAX_KB (default 2048) above
#               what it was after the warm-up
# The worker's VmRSS before and after is printed for both runs (memcheck
# keeps 20 MB of freed blocks in quarantine, so its numbers grow by
# design; the native run's are the ones to watch). Last line: "valgrind:
# N passed, M failed". KEEP=1 keeps the directory with the logs.
# Usage: tests/valgrind/run.sh BUILD_DIR
set -u
build=${1:-build}
count=${VG_REQUESTS:-10000}
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
. "$here/../lib/stack.sh"
dir=$(mktemp -d /tmp/payd-vg.XXXXXX)
chmod 755 "$dir"
cleanup() {
	stack_stop "$dir"
	if [ "${KEEP:-0}" = 1 ]; then
		echo "valgrind: kept $dir"
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
passed=0
failed=0
check() { # name ok(0|1) detail
	if [ "$2" = 1 ]; then
		passed=$((passed + 1))
		echo "ok   $1: $3"
	else
		failed=$((failed + 1))
		echo "FAIL $1: $3"
	fi
}
# One number out of a memcheck log: the errors, the definite leaks.
vg_errors() { sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$1" |
    tail -1 | tr -d ,; }
vg_definite() { sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$1" |
    tail -1 | tr -d ,; }

start=$(date +%s)
STACK_BIN=$build/payd
stack_db_start "$dir" || exit 1
# Slow is normal under valgrind: no slow_request lines, a long drain.
stack_app_config "$dir" "workers = 1" "drain_timeout_s = 120" \
    "slow_request_ms = 3600000" "db_rw_timeout_s = 30"
STACK_WRAPPER="valgrind --tool=memcheck --trace-children=yes \
--track-fds=no --leak-check=full --show-leak-kinds=definite \
--errors-for-leak-kinds=definite --error-exitcode=99 --num-callers=30 \
--suppressions=$here/payd.supp --log-file=$dir/vg.%p.log" \
STACK_WAIT_TRIES=600 stack_app_start "$dir" "$build/payd" || exit 1
stack_nginx_start "$dir" auto || exit 1
master=$(cat "$dir/payd.pid")

# The worker is up once /healthz answers 200 (2 minutes at most).
i=0
until [ "$(curl -s -o /dev/null -w '%{http_code}' "$STACK_URL/healthz")" = 200 ]
do
	i=$((i + 1))
	if [ "$i" -ge 240 ]; then
		echo "valgrind: the worker never became healthy" >&2
		tail -30 "$dir/payd.log" >&2
		exit 1
	fi
	sleep 0.5
done
worker=$(ps -o pid= --ppid "$master" | tr -d ' ' | head -1)
echo "valgrind: master $master, worker $worker, ready after" \
    "$(( $(date +%s) - start ))s; $count requests after a warm-up"

"$build/vg_load" "$STACK_URL" "$worker" "$count" >"$dir/load.out" 2>&1
rc=$?
cat "$dir/load.out"
check load "$([ "$rc" -eq 0 ] && echo 1 || echo 0)" \
    "vg_load exit $rc after $(( $(date +%s) - start ))s"
now=$(ps -o pid= --ppid "$master" | tr -d ' ' | head -1)
check respawn "$([ "$now" = "$worker" ] && echo 1 || echo 0)" \
    "worker $worker, now ${now:-none}"
rss=$(sed -n 's/^rss_before_kb=\([0-9-]*\) rss_after_kb=\([0-9-]*\).*/\1 \2/p' \
    "$dir/load.out")
set -- $rss
[ $# -eq 2 ] && echo "valgrind: worker VmRSS under memcheck: ${1} kB" \
    "after the warm-up, ${2} kB after $count requests"

# SIGTERM: the worker drains and exits, then the master; memcheck writes
# each one's leak check as it exits.
STACK_NAME=payd stack_app_stop "$dir"
for who in worker master; do
	eval "pid=\$$who"
	log=$dir/vg.$pid.log
	if [ ! -f "$log" ]; then
		check "$who" 0 "no memcheck log $log"
		continue
	fi
	errs=$(vg_errors "$log")
	def=$(vg_definite "$log")
	ok=0
	[ "${errs:-x}" = 0 ] && ok=1
	check "$who" "$ok" "${errs:-?} memcheck errors, ${def:-0} bytes\
 definitely lost (log vg.$pid.log)"
	if [ "$ok" = 0 ]; then
		sed -n '/^==[0-9]*== \(Invalid\|Conditional\|Use of\|Syscall\|Mismatched\|[0-9,]* bytes in\)/,/^==[0-9]*== $/p' \
		    "$log" | head -80
	fi
	exited=0
	grep -Eq "LEAK SUMMARY|All heap blocks were freed" "$log" && exited=1
	check "$who-exit" "$exited" "memcheck leak check $([ "$exited" = 1 ] &&
	    echo written || echo missing: killed before exit?)"
done

# The same load on a native worker, for its resident memory.
stack_app_start "$dir" "$build/payd" "$dir/payd-native.log" || exit 1
i=0
until [ "$(curl -s -o /dev/null -w '%{http_code}' "$STACK_URL/healthz")" = 200 ]
do
	i=$((i + 1))
	[ "$i" -ge 100 ] && break
	sleep 0.1
done
master=$(cat "$dir/payd.pid")
worker=$(ps -o pid= --ppid "$master" | tr -d ' ' | head -1)
"$build/vg_load" "$STACK_URL" "$worker" "$count" >"$dir/load-native.out" 2>&1
rc=$?
rss=$(sed -n 's/^rss_before_kb=\([0-9-]*\) rss_after_kb=\([0-9-]*\).*/\1 \2/p' \
    "$dir/load-native.out")
set -- $rss 0 0
grow=$(( $2 - $1 ))
max=${VG_RSS_GROWTH_MAX_KB:-2048}
echo "valgrind: native worker VmRSS: ${1} kB after the warm-up, ${2} kB" \
    "after $count requests (growth $grow kB)"
check rss "$([ "$rc" -eq 0 ] && [ "$1" -gt 0 ] && [ "$grow" -le "$max" ] &&
    echo 1 || echo 0)" \
    "native run: vg_load exit $rc, growth $grow kB (at most $max)"
echo "valgrind: took $(( $(date +%s) - start ))s"
echo "valgrind: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
