#!/bin/sh
# make test-cluster: a fresh cluster (tests/cluster/cluster.sh) on free
# ports; the money suites against it through nginx, reads across app hosts,
# one Idempotency-Key raced by 20 holds over both hosts, then three faults under transfer load (tests/cluster/load.c), each
# followed by payd audit on a survivor and an exact check of every balance
# against the clients' definite answers:
#   1. SIGKILL of Galera node db2 (app2's), which rejoins by IST; app2
#      meanwhile serves through a fallback node;
#   2. SIGKILL of app host app1's payd: nginx moves to app2, no transfer
#      is applied twice;
#   3. node db1 cut from the others: app1, on db1 alone, answers 503
#      (health, reads, writes), never stale data or a success; given its
#      fallbacks back (a reload), it serves through db2 or db3; db1
#      rejoins when its link returns.
# Everything is torn down at the end, also on failure or Ctrl-C.
# Usage: tests/cluster/test.sh BUILD_DIR
#        tests/cluster/test.sh --fault NAME DIR (the load's fault command)
set -u
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
. "$here/cluster.sh"

ct_log() { printf 'test-cluster: %s\n' "$*" >&2; }
ct_fail() {
	ct_log "FAIL: $*"
	ct_log "the app hosts' errors and 503s, last first:"
	cat "$CL_DIR"/payd-app*.log 2>/dev/null | grep -E \
	    'level=error|status=503|event=(db_retry_exhausted|deadline)' |
	    tail -20 >&2
	exit 1
}

# GET URL's status code (000: no answer).
ct_status() { # url [token]
	curl -s -o /dev/null -w '%{http_code}' -m 30 \
	    ${2:+-H "Authorization: Bearer $2"} "$1"
}

# Until URL answers STATUS (up to 60 s).
ct_wait_status() { # url status [token]
	i=0
	while [ "$(ct_status "$1" "${3:-}")" != "$2" ]; do
		i=$((i + 1))
		[ "$i" -ge 300 ] && return 1
		sleep 0.2
	done
}

ct_post() { # url token key body: prints "status body"
	curl -s -m 30 -w ' %{http_code}' -X POST \
	    -H 'Content-Type: application/json' \
	    ${2:+-H "Authorization: Bearer $2"} \
	    ${3:+-H "Idempotency-Key: $3"} -d "$4" "$1"
}

# The faults, run by the load (cluster-load's FAULT) while it goes on.
ct_fault() { # name
	case "$1" in
	kill-node)
		n=$(ct_fallbacks 2)
		cl_db_kill 2 || return 1
		# app2, asked directly, serves through db1 or db3.
		ct_wait_fallback 2 "$n" ||
		    { ct_log "app2 used no fallback"; return 1; }
		ct_wait_status "$(cat "$CL_DIR/direct2")/healthz" 200 ||
		    { ct_log "app2 not healthy without db2"; return 1; }
		cl_db_rejoin 2 && cl_db_wait 2
		;;
	kill-app)
		cl_app_kill 1
		;;
	cut-node)
		ct_cut_node
		;;
	*) return 1 ;;
	esac
}

# The db_fallback lines in app host J's log.
ct_fallbacks() { # host
	grep -c 'event=db_fallback ' "$CL_DIR/payd-app$1.log"
}

# Until app host J, asked directly, has logged more than N fallbacks.
ct_wait_fallback() { # host n
	i=0
	while [ "$(ct_fallbacks "$1")" -le "$2" ]; do
		i=$((i + 1))
		[ "$i" -ge 300 ] && return 1
		ct_status "$(cat "$CL_DIR/direct$1")/healthz" >/dev/null
		sleep 0.2
	done
}

# The processes of app host 1's namespace: payd's master and workers.
ct_app1_procs() { ip netns pids "$(cl_ns app1)" | wc -l; }

# app1's db_host set to LIST and applied by a reload (SIGHUP: the workers
# are replaced one at a time, no request dropped); returns once the new
# workers are ready and the old ones gone.
ct_app1_nodes() { # list
	log=$CL_DIR/payd-app1.log
	procs=$(ct_app1_procs)
	ready=$(grep -c 'event=worker_ready' "$log")
	sed -i "s/^db_host = .*/db_host = $1/" "$CL_DIR/app1.conf"
	kill -HUP "$(cat "$CL_DIR/payd-app1.pid")" || return 1
	i=0
	until [ "$(grep -c 'event=worker_ready' "$log")" -ge \
	    $((ready + ${CL_WORKERS:-2})) ] &&
	    [ "$(ct_app1_procs)" -le "$procs" ]; do
		i=$((i + 1))
		[ "$i" -ge 300 ] && return 1
		sleep 0.2
	done
}

# db1 cut from db2 and db3: the two stay Primary; db1 is not. First with
# db1 as its only node, app1, asked directly, answers 503 to its health
# check, to a read and to a write (whose key later resolves it: test.sh
# checks the balances), never stale data or a success. Then with its
# fallbacks back, it leaves db1 for db2 or db3 and serves.
ct_cut_node() {
	tok=$(cat "$CL_DIR/cut-token")
	d1=$(cat "$CL_DIR/direct1")
	d2=$(cat "$CL_DIR/direct2")
	nodes=$(sed -n 's/^db_host = //p' "$CL_DIR/app1.conf")
	ct_app1_nodes 10.199.2.1 || { ct_log "app1 on db1 alone"; return 1; }
	cl_cut 1
	ct_wait_status "$d1/healthz" 503 || { ct_log "app1 healthy"; return 1; }
	[ "$(ct_status "$d2/healthz")" = 200 ] ||
	    { ct_log "app2 not healthy while db1 is cut"; return 1; }
	st=$(ct_status "$d1/balance" "$tok")
	[ "$st" = 503 ] || { ct_log "a read on the cut node: $st"; return 1; }
	out=$(ct_post "$d1/transfer" "$tok" cut-t1 \
	    '{"to":"'"$(cat "$CL_DIR/cut-to")"'","amount":"1.00"}')
	case "$out" in
	*" 503") ;;
	*)
		ct_log "a write on the cut node answered: $out"
		return 1
		;;
	esac
	n=$(ct_fallbacks 1)
	ct_app1_nodes "$nodes" || { ct_log "app1's fallbacks back"; return 1; }
	ct_wait_fallback 1 "$n" || { ct_log "app1 used no fallback"; return 1; }
	ct_wait_status "$d1/healthz" 200 ||
	    { ct_log "app1 not healthy on its fallback"; return 1; }
	st=$(ct_status "$d1/balance" "$tok")
	[ "$st" = 200 ] || { ct_log "a read on the fallback: $st"; return 1; }
	cl_heal 1
	cl_db_wait 1 && ct_wait_status "$d1/healthz" 200
}

if [ "${1:-}" = --fault ]; then
	cl_attach "$3"
	ct_fault "$2"
	exit $?
fi

build=${1:-build}
case "$build" in /*) ;; *) build=$CL_ROOT/$build ;; esac
CL_BIN=$build/payd
if [ "$(id -u)" -ne 0 ]; then
	ct_log "needs root: it creates network namespaces"
	exit 1
fi
dir=$(mktemp -d /tmp/payd-ctest.XXXXXX)
cleanup() {
	cl_down
	if [ "${KEEP:-0}" = 1 ]; then
		ct_log "kept $dir"
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cl_init "$dir"
t0=$(date +%s)
cl_net_up || ct_fail "network namespaces"
cl_db_bootstrap || ct_fail "three Galera nodes"
cl_schema || ct_fail "schema"
cl_app_start 1 && cl_app_start 2 || ct_fail "app hosts"
AUTH_RATE=1000 AUTH_BURST=5000 cl_nginx_start auto direct || ct_fail "nginx"
echo "$CL_DIRECT1" >"$dir/direct1"
echo "$CL_DIRECT2" >"$dir/direct2"
ct_log "cluster up in $(($(date +%s) - t0)) s at $CL_URL"

# The money suites, through nginx over both app hosts: every write on one
# host is read back through either (read-your-writes across hosts). The
# suites that stop or break the single server (dbfaults, money_faults,
# faults) are replaced by the faults below; batching counts the requests
# queued on the single stack's unix sockets. SUITE:CASE runs one test case
# of a suite: transfer's fees_configured case reloads the single stack's
# instances with another configuration, which the app hosts are not.
export STACK_URL="$CL_URL" STACK_DIR="$dir" STACK_ROOT="$CL_ROOT"
export PAYD_BIN="$CL_BIN" CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-120}
for run in ${CT_SUITES-balance transfer:transfer idempotency history \
    concurrency}; do
	suite=${run%%:*}
	# An empty CK_RUN_CASE would match no case: set only when given.
	if [ "$run" = "$suite" ]; then
		CK_RUN_SUITE=$suite "$build/check_integration"
	else
		CK_RUN_SUITE=$suite CK_RUN_CASE=${run#*:} \
		    "$build/check_integration"
	fi || ct_fail "suite $run"
done

# Reads across hosts, asked of each host directly: what one host wrote,
# the other reads at once (wsrep_sync_wait, docs/cluster.md).
p=ct$$
body='{"username":"'$p'a","password":"password123"}'
case "$(ct_post "$CL_DIRECT1/register" "" "" "$body")" in
*" 201") ;; *) ct_fail "register on app1" ;; esac
tok=$(ct_post "$CL_DIRECT2/login" "" "" "$body" |
    sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
[ -n "$tok" ] || ct_fail "login on app2 right after register on app1"
case "$(ct_post "$CL_DIRECT1/balance" "$tok" "" '{"amount":"100.00"}')" in
*" 200") ;; *) ct_fail "top-up on app1" ;; esac
case "$(ct_post "$CL_DIRECT2/register" "" "" \
    '{"username":"'$p'b","password":"password123"}')" in
*" 201") ;; *) ct_fail "register on app2" ;; esac
out=$(ct_post "$CL_DIRECT1/transfer" "$tok" "" \
    '{"to":"'$p'b","amount":"10.00"}')
case "$out" in
*" 201") ;; *) ct_fail "transfer on app1 to a user just made on app2: $out" ;;
esac
out=$(curl -s -m 30 -H "Authorization: Bearer $tok" "$CL_DIRECT2/balance")
case "$out" in
*'"balance":"89.25"'*) ;; *) ct_fail "balance on app2: $out" ;; esac
out=$(curl -s -m 30 -H "Authorization: Bearer $tok" \
    "$CL_DIRECT2/transactions")
case "$out" in
*'"type":"transfer_out"'*) ;; *) ct_fail "history on app2: $out" ;; esac
ct_log "reads across hosts: ok"

# One Idempotency-Key, 20 holds at once through nginx over both hosts, 5
# times: the loser of the key on the other node fails certification at the
# COMMIT that stores its answer (1213), and must run again and replay the
# winner's hold (201, or 409 while it runs), never answer 503; one hold.
for r in 1 2 3 4 5; do
	u=$p$r
	for s in a b; do
		ct_post "$CL_URL/register" "" "" \
		    '{"username":"'$u$s'","password":"password123"}' >/dev/null
	done
	tok=$(ct_post "$CL_URL/login" "" "" \
	    '{"username":"'${u}a'","password":"password123"}' |
	    sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
	case "$(ct_post "$CL_URL/balance" "$tok" "" '{"amount":"100.00"}')" in
	*" 200") ;; *) ct_fail "top-up before the holds' race" ;; esac
	# Their pids: a bare wait would wait for the cluster's servers too.
	pids=""
	for i in $(seq 1 20); do
		ct_post "$CL_URL/holds" "$tok" "race-$u" \
		    '{"to":"'${u}b'","amount":"7.00","expires_in":3600}' \
		    >"$dir/hold.$i" &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086 # the pids are words
	wait $pids
	for i in $(seq 1 20); do
		case "$(cat "$dir/hold.$i")" in
		*" 201" | *" 409") ;;
		*) ct_fail "a hold of the key race: $(cat "$dir/hold.$i")" ;;
		esac
	done
	n=$(grep -ho '"id":[0-9]*' "$dir"/hold.* | sort -u | wc -l)
	[ "$n" = 1 ] || ct_fail "the key race made $n holds"
	out=$(curl -s -m 30 -H "Authorization: Bearer $tok" "$CL_URL/balance")
	case "$out" in
	*'"available":"92.25"'*) ;; *) ct_fail "after the key race: $out" ;;
	esac
	rm -f "$dir"/hold.*
done
ct_log "one key, 20 holds at once on both hosts: one hold, 5 times"

# The user whose write on the cut node must fail (fault 3), and its payee.
body='{"username":"'$p'c","password":"password123"}'
ct_post "$CL_URL/register" "" "" "$body" >/dev/null
ct_post "$CL_URL/register" "" "" \
    '{"username":"'$p'd","password":"password123"}' >/dev/null
ct_post "$CL_URL/login" "" "" "$body" |
    sed -n 's/.*"token":"\([^"]*\)".*/\1/p' >"$dir/cut-token"
echo "${p}d" >"$dir/cut-to"
case "$(ct_post "$CL_URL/balance" "$(cat "$dir/cut-token")" "" \
    '{"amount":"100.00"}')" in
*" 200") ;; *) ct_fail "top-up of the cut node's user" ;; esac

# payd audit on node I, and the count of transfers between the load's
# users (PREFIX...) against the ones their clients saw applied.
ct_after() { # fault node prefix applied
	"$CL_BIN" -c "$dir/audit-db$2.conf" audit >>"$dir/audit.log" 2>&1 ||
	    ct_fail "$1: payd audit on db$2 (see $dir/audit.log)"
	n=$(cl_db_sql "$2" "SELECT COUNT(*) FROM payd.movements m
	    JOIN payd.users u ON u.id = m.from_user
	    WHERE m.kind = 'transfer' AND u.username LIKE '$3%'")
	[ "$n" = "$4" ] ||
	    ct_fail "$1: $n transfers in the ledger, $4 answered applied"
}

clients=${CT_CLIENTS:-8}
transfers=${CT_TRANSFERS:-100}
at=$((clients * transfers / 4))
for fault in ${CT_FAULTS-kill-node kill-app cut-node}; do
	prefix=$(echo "${p}$fault" | tr -d -)
	out=$("$build/cluster-load" "$CL_URL" "$prefix" "$clients" \
	    "$transfers" "$at" "sh $here/test.sh --fault $fault $dir >&2") ||
	    ct_fail "$fault: the load's check ($out)"
	ct_log "$fault: $out"
	applied=$(echo "$out" | sed -n 's/^applied=\([0-9]*\) .*/\1/p')
	case $fault in
	kill-node)
		# Rejoined by IST (an incremental copy), not a full SST.
		grep -q 'IST received' "$dir/db2/mysqld.err" ||
		    ct_fail "db2 did not rejoin by IST"
		ct_after "$fault" 1 "$prefix" "$applied"
		;;
	kill-app)
		cl_app_start 1 || ct_fail "app1 restart"
		ct_after "$fault" 2 "$prefix" "$applied"
		;;
	cut-node)
		ct_after "$fault" 1 "$prefix" "$applied"
		;;
	esac
done

# The write refused on the cut node, resolved by its key: applied once.
out=$(ct_post "$CL_URL/transfer" "$(cat "$dir/cut-token")" cut-t1 \
    '{"to":"'$p'd","amount":"1.00"}')
case "$out" in *" 201") ;; *) ct_fail "the cut write's key: $out" ;; esac
out=$(curl -s -m 30 -H "Authorization: Bearer $(cat "$dir/cut-token")" \
    "$CL_DIRECT1/balance")
case "$out" in
*'"balance":"98.25"'*) ;; *) ct_fail "the cut node's user: $out" ;; esac
for i in $CL_NODES; do
	cl_db_wait "$i" || ct_fail "db$i not synced at the end"
done
ct_log "all checks passed in $(($(date +%s) - t0)) s"
