#!/bin/sh
# make cluster: three Galera nodes and two payd app hosts, each in its own
# network namespace, and nginx on 127.0.0.1:$PORT (default 8080) balancing
# over the app hosts; in the foreground until Ctrl-C, which stops it all
# and deletes the namespaces. The data is temporary (a fresh cluster each
# time). Needs root (network namespaces).
set -u
. "$(dirname "$0")/cluster.sh"
port=${PORT:-8080}
dir=$(mktemp -d /tmp/payd-cluster.XXXXXX)
cleanup() {
	trap - INT TERM EXIT
	echo
	cl_log "stopping"
	cl_down
	if [ "${KEEP:-0}" = 1 ]; then
		cl_log "kept $dir"
	else
		rm -rf "$dir"
	fi
	exit 0
}
trap cleanup INT TERM EXIT
if [ "$(id -u)" -ne 0 ]; then
	cl_log "make cluster needs root: it creates network namespaces"
	exit 1
fi
cl_init "$dir"
t0=$(date +%s)
cl_net_up || exit 1
cl_db_bootstrap || exit 1
cl_schema || exit 1
cl_app_start 1 && cl_app_start 2 || exit 1
cl_nginx_start "$port" || exit 1
t1=$(date +%s)
cat <<EOF

payd cluster is running at $CL_URL  (Ctrl-C stops it; up in $((t1 - t0)) s)
  nodes:     db1 db2 db3 (Galera), namespaces $CL_NS-db1..3, 10.199.1.1-3
  app hosts: app1 -> db1, app2 -> db2 (payd on 10.199.2.11:9000, .12:9000)
  curl $CL_URL/healthz
  a node:    mariadb -S $dir/db1/mysql.sock -uroot
  logs:      $dir/payd-app1.log, payd-app2.log, db1/mysqld.err, ...

EOF
while :; do
	sleep 1
done
