#!/bin/sh
# make bench-cluster: POST /transfer through nginx on a single server and
# on the dev cluster (tests/cluster/cluster.sh), the same app (two
# instances, two workers each) and the same load (cluster-load -b:
# BENCH_CONNS clients, default 64, each its own payer, for BENCH_SECONDS,
# default 20). Prints transfers/s, p50, p99, and the retries per 1000
# transfers (the app's db_retry events: deadlocks, lock waits and, on the
# cluster, certification conflicts); RESULTS.md records runs by hand.
# On one machine all three nodes share its CPUs: the figures show the
# cluster's cost and its conflicts, not how it scales (docs/cluster.md).
# Usage: tests/cluster/bench.sh BUILD_DIR
set -u
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
. "$here/cluster.sh"
build=${1:-build}
case "$build" in /*) ;; *) build=$CL_ROOT/$build ;; esac
CL_BIN=$build/payd
STACK_BIN=$CL_BIN
conns=${BENCH_CONNS:-64}
secs=${BENCH_SECONDS:-20}
dir=$(mktemp -d /tmp/payd-cbench.XXXXXX)
chmod 755 "$dir"
single=$dir/single
cleanup() {
	stack_stop "$single" 2>/dev/null
	cl_down
	[ "${KEEP:-0}" = 1 ] || rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() {
	echo "bench-cluster: $*" >&2
	exit 1
}

# The db_retry events in the logs LOGS... (a glob, expanded here).
retries() { cat "$@" 2>/dev/null | grep -c 'event=db_retry ' || true; }

# One run: URL, a prefix for its users, the app logs' glob; prints
# "transfers_s p50 p99 retries_per_1000 ok other".
run() { # url prefix logs...
	url=$1 prefix=$2
	shift 2
	before=$(retries "$@")
	line=$("$build/cluster-load" -b "$url" "$prefix" "$conns" "$secs") ||
	    die "the load failed on $url"
	after=$(retries "$@")
	echo "$line" | awk -v r=$((after - before)) '{
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "%s %s %s %.1f %s %s\n", v["transfers_s"], v["p50_ms"],
		    v["p99_ms"], (v["ok"] > 0 ? r * 1000 / v["ok"] : 0), v["ok"],
		    v["other"] }'
}

# The single server: as make test-integration runs it.
mkdir -p "$single"
chmod 755 "$single"
stack_db_start "$single" || die "MariaDB"
for name in payd payd2; do
	STACK_NAME=$name stack_app_config "$single" "workers = 2"
	STACK_NAME=$name stack_app_start "$single" "$CL_BIN" || die "$name"
done
ups="server unix:$single/payd.sock max_fails=3 fail_timeout=5s;"
ups="$ups server unix:$single/payd2.sock max_fails=3 fail_timeout=5s;"
stack_nginx_start "$single" auto 100000 100000 "$ups" || die "nginx"
echo "bench-cluster: single server, $conns clients, $secs s" >&2
one=$(run "$STACK_URL" "bs$$" "$single"/payd*.log)
stack_stop "$single"

# The cluster: app1 on db1, app2 on db2, nginx over both.
cl_init "$dir/cluster"
cl_net_up && cl_db_bootstrap && cl_schema || die "cluster"
cl_app_start 1 && cl_app_start 2 || die "app hosts"
AUTH_RATE=100000 AUTH_BURST=100000 cl_nginx_start auto || die "nginx"
echo "bench-cluster: cluster, $conns clients, $secs s" >&2
three=$(run "$CL_URL" "bc$$" "$CL_DIR"/payd-app*.log)
"$CL_BIN" -c "$CL_DIR/audit-db3.conf" audit >"$dir/audit.log" 2>&1 ||
    { cat "$dir/audit.log" >&2; die "payd audit on db3"; }

commit=$(git -C "$CL_ROOT" rev-parse --short HEAD 2>/dev/null || echo -)
echo "$one" "$three" | awk -v c="$conns" -v s="$secs" -v k="$commit" \
    -v d="$(date -u '+%Y-%m-%d %H:%M UTC')" '{
	printf "\nmake bench-cluster, %s, %d clients, %d s, commit %s\n\n",
	    d, c, s, k
	print "| | transfers/s | p50 ms | p99 ms | retries / 1000 | 201 | other |"
	print "|---|---|---|---|---|---|---|"
	printf "| single server | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6
	printf "| 3-node cluster | %s | %s | %s | %s | %s | %s |\n", $7, $8, $9, $10, $11, $12
	printf "\ncluster / single: %.2fx transfers/s, %.2fx p99\n", $7 / $1, $9 / $3
}'
