# Shell functions that start and stop a development cluster on one machine:
# three MariaDB Galera nodes and two payd app hosts, each in its own network
# namespace, and nginx on the host's 127.0.0.1 balancing over the app hosts
# by TCP FastCGI. Sourced by run.sh (make cluster), test.sh and bench.sh;
# POSIX sh. Only root can create network namespaces.
#
# The namespaces are named $CL_NS-<role>; everything else lives under one
# directory. Addresses are assigned only inside the namespaces, on two
# bridges of a switch namespace:
#   10.199.1.0/24  Galera replication: db1-db3 at .1-.3
#   10.199.2.0/24  clients of the nodes: db1-db3 at .1-.3, app1 and app2
#                  at .11 and .12 (payd on port 9000), nginx at .100
# nginx binds 127.0.0.1:PORT on the host, then runs in the lb namespace
# with that socket (listen.pl), so no address is added on the host and no
# packet leaves these namespaces except to the host's 127.0.0.1.
#
#   cl_init DIR                  names and the directory (call first);
#                                deletes the namespaces of dead clusters
#   cl_attach DIR                the same for a cluster already running
#   cl_net_up                    namespaces, bridges and links
#   cl_db_bootstrap              db1 new cluster, db2 and db3 join (SST)
#   cl_db_start I [OPTIONS]      node I on its data (add --wsrep-new-cluster)
#   cl_db_wait I [SIZE]          until node I is Primary, Synced, in a
#                                cluster of SIZE (default 3) nodes
#   cl_db_kill I / cl_db_stop I  SIGKILL / clean shutdown of node I
#   cl_db_rejoin I               after a kill: --wsrep-recover, then start
#                                at the recovered position (IST)
#   cl_db_sql I SQL              root over node I's socket
#   cl_schema                    the payd database, accounts, migrations
#   cl_app_start J / cl_app_kill J / cl_app_stop J   payd on app host J
#   cl_nginx_start PORT|auto [direct]  nginx; "direct" adds one port per
#                                app host (CL_DIRECT1, CL_DIRECT2)
#   cl_cut I / cl_heal I         node I's replication link down / up
#   cl_down                      stops everything, deletes the namespaces
#
# After cl_nginx_start, CL_URL is http://127.0.0.1:PORT.

CL_ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/../.." 2>/dev/null && pwd)
[ -f "$CL_ROOT/nginx.conf" ] || CL_ROOT=$(pwd)
STACK_ROOT=$CL_ROOT
. "$CL_ROOT/tests/lib/stack.sh"

CL_NODES="1 2 3"
CL_APPS="1 2"
CL_GALERA=/usr/lib/galera/libgalera_smm.so

cl_log() { printf 'cluster: %s\n' "$*" >&2; }

# True while process PID runs: a killed child that its shell has not
# reaped yet (the shell is waiting on a test) is a zombie, and dead.
cl_alive() { # pid
	st=$(ps -o stat= -p "$1" 2>/dev/null)
	[ -n "$st" ] && [ "${st#Z}" = "$st" ]
}

# The namespaces of a cluster whose shell is gone without its cleanup
# (killed with SIGKILL): what still runs in them, then them. A cluster's
# namespaces carry its shell's pid (payd-c-PID-ROLE); a live shell's are
# left alone.
cl_reap() {
	for ns in $(ip netns list 2>/dev/null | sed -n 's/^\(payd-c-[0-9]*-[a-z0-9]*\).*/\1/p'); do
		pid=${ns#payd-c-}
		pid=${pid%%-*}
		kill -0 "$pid" 2>/dev/null && continue
		cl_log "deleting $ns, left by a cluster that is gone"
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$p" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
}

cl_init() { # dir
	CL_DIR=$1
	CL_NS=${CL_NS:-payd-c-$$}
	cl_reap
	CL_BIN=${CL_BIN:-$CL_ROOT/build/payd}
	mkdir -p "$CL_DIR"
	# The nodes run as mysql, which must reach their directories.
	chmod 755 "$CL_DIR"
	echo "$CL_NS" >"$CL_DIR/netns-prefix"
}

# Another process's handle on a running cluster (tests/cluster/ctl.sh).
cl_attach() { # dir
	CL_DIR=$1
	CL_NS=$(cat "$CL_DIR/netns-prefix")
	CL_BIN=${CL_BIN:-$CL_ROOT/build/payd}
}

cl_ns() { echo "$CL_NS-$1"; }

# Runs a command in namespace NS. nsenter enters its network alone: `ip
# netns exec` and `ip -n` also make / a slave mount, which fails where /
# is no mount point (a chroot, as in a fresh-Debian CI run). A command
# started in the background whose pid is kept runs nsenter itself, with
# cl_ns_path: nsenter then execs it, and $! is the command's own pid.
cl_in() { # ns command ...
	_ns=$1
	shift
	nsenter --net="/run/netns/$_ns" -- "$@"
}
cl_ns_path() { echo "/run/netns/$(cl_ns "$1")"; }

# A veth pair from namespace NS (interface IF, address ADDR) to bridge BR
# of the switch namespace (port PORT).
cl_link() { # ns if addr br port
	sw=$(cl_ns sw)
	cl_in "$sw" ip link add "$5" type veth peer name "$2" netns "$1" &&
	    cl_in "$sw" ip link set "$5" master "$4" up &&
	    cl_in "$1" ip addr add "$3/24" dev "$2" &&
	    cl_in "$1" ip link set "$2" up
}

cl_net_up() {
	# ip netns add makes /run/netns a mount of its own the first time;
	# cl_cleanup undoes that when this cluster made it (a chroot cannot be
	# removed with it left there).
	mountpoint -q /run/netns 2>/dev/null || : >"$CL_DIR/netns-mount"
	for role in sw lb $(for i in $CL_NODES; do echo "db$i"; done) \
	    $(for j in $CL_APPS; do echo "app$j"; done); do
		ip netns add "$(cl_ns "$role")" || return 1
		echo "$(cl_ns "$role")" >>"$CL_DIR/netns"
		cl_in "$(cl_ns "$role")" ip link set lo up || return 1
	done
	sw=$(cl_ns sw)
	for br in brg bra; do
		cl_in "$sw" ip link add "$br" type bridge &&
		    cl_in "$sw" ip link set "$br" up || return 1
	done
	for i in $CL_NODES; do
		cl_link "$(cl_ns "db$i")" eth-g "10.199.1.$i" brg "g$i" &&
		    cl_link "$(cl_ns "db$i")" eth-a "10.199.2.$i" bra "a$i" ||
		    return 1
	done
	for j in $CL_APPS; do
		cl_link "$(cl_ns "app$j")" eth-a "10.199.2.1$j" bra "p$j" ||
		    return 1
	done
	cl_link "$(cl_ns lb)" eth-a 10.199.2.100 bra lb
}

cl_db_sql() { # node sql
	mariadb --no-defaults -S "$CL_DIR/db$1/mysql.sock" -uroot -N -B \
	    -e "$2"
}

# The options of node I, from nothing: every one is here (--no-defaults),
# as deploy/galera.cnf.example explains for a real host.
cl_db_opts() { # node
	d=$CL_DIR/db$1
	echo "--no-defaults --datadir=$d/data --socket=$d/mysql.sock
	    --pid-file=$d/mysqld.pid --log-error=$d/mysqld.err --user=mysql
	    --tmpdir=$d/tmp
	    --port=3306 --bind-address=10.199.2.$1 --skip-name-resolve
	    --innodb-buffer-pool-size=${CL_DB_POOL:-192M}
	    --innodb-log-file-size=64M --innodb-flush-log-at-trx-commit=1
	    --max-connections=500 --character-set-server=utf8mb4
	    --collation-server=utf8mb4_general_ci --binlog-format=ROW
	    --innodb-autoinc-lock-mode=2 --default-storage-engine=InnoDB
	    --wsrep-on=ON --wsrep-provider=$CL_GALERA
	    --wsrep-cluster-name=payd-dev
	    --wsrep-cluster-address=gcomm://10.199.1.1,10.199.1.2,10.199.1.3
	    --wsrep-node-address=10.199.1.$1 --wsrep-node-name=db$1
	    --wsrep-sst-method=rsync --wsrep-sst-receive-address=10.199.1.$1"
}

cl_db_start() { # node [extra options]
	n=$1
	shift
	d=$CL_DIR/db$n
	mkdir -p "$d/data" "$d/tmp"
	chown -R mysql:mysql "$d"
	# shellcheck disable=SC2046 # the options are words
	nsenter --net="$(cl_ns_path "db$n")" -- mariadbd $(cl_db_opts "$n") \
	    "$@" >>"$d/mysqld.out" 2>&1 &
	echo $! >"$d/pid"
}

# Waits (up to 120 s) until node I is Primary and Synced with SIZE nodes.
cl_db_wait() { # node [size]
	size=${2:-3}
	i=0
	while :; do
		st=$(cl_db_sql "$1" "SHOW STATUS WHERE Variable_name IN
		    ('wsrep_cluster_status', 'wsrep_local_state',
		    'wsrep_cluster_size', 'wsrep_ready')" 2>/dev/null |
		    sort | awk '{printf "%s ", $2}')
		# cluster_size, cluster_status, local_state, ready
		[ "$st" = "$size Primary 4 ON " ] && return 0
		i=$((i + 1))
		if [ "$i" -ge 1200 ]; then
			cl_log "db$1 not synced ($st):"
			tail -20 "$CL_DIR/db$1/mysqld.err" >&2
			return 1
		fi
		sleep 0.1
	done
}

cl_db_bootstrap() {
	d=$CL_DIR/db1
	mkdir -p "$d/tmp"
	chown -R mysql:mysql "$d"
	# Its own temporary directory: nothing another test does in /tmp
	# reaches it.
	mariadb-install-db --no-defaults --datadir="$d/data" --user=mysql \
	    --tmpdir="$d/tmp" \
	    --auth-root-authentication-method=normal --skip-test-db \
	    --skip-name-resolve --force >"$d/install-db.log" 2>&1 ||
	    { cat "$d/install-db.log" >&2; return 1; }
	cl_db_start 1 --wsrep-new-cluster
	cl_db_wait 1 1 || return 1
	# One at a time: each joiner copies db1 by rsync (SST).
	cl_db_start 2 && cl_db_wait 2 2 || return 1
	cl_db_start 3 && cl_db_wait 3 3
}

cl_db_pid() { cat "$CL_DIR/db$1/pid" 2>/dev/null; }

cl_db_kill() { # node
	pid=$(cl_db_pid "$1")
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	while [ -n "$pid" ] && cl_alive "$pid"; do sleep 0.1; done
	rm -f "$CL_DIR/db$1/pid"
}

cl_db_stop() { # node
	pid=$(cl_db_pid "$1")
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	i=0
	while cl_alive "$pid"; do
		i=$((i + 1))
		[ "$i" -ge 600 ] && { kill -9 "$pid" 2>/dev/null; break; }
		sleep 0.1
	done
	rm -f "$CL_DIR/db$1/pid"
}

# A node that was killed has "seqno: -1" in grastate.dat: a plain start
# would copy everything again (SST). --wsrep-recover reads the last
# committed position from InnoDB; starting there, the node asks the others
# only for what it missed (IST, from their gcache).
cl_db_rejoin() { # node
	d=$CL_DIR/db$1
	: >"$d/recover.err"
	chown mysql:mysql "$d/recover.err"
	# shellcheck disable=SC2046 # the options are words
	cl_in "$(cl_ns "db$1")" mariadbd $(cl_db_opts "$1") \
	    --wsrep-recover --log-error="$d/recover.err" >/dev/null 2>&1 ||
	    { tail -20 "$d/recover.err" >&2; return 1; }
	pos=$(sed -n 's/.*WSREP: Recovered position: *//p' "$d/recover.err" |
	    tail -1)
	case "$pos" in
	*:-1 | "")
		cl_log "db$1: no recovered position ($pos)"
		return 1
		;;
	esac
	cl_log "db$1 rejoins at $pos"
	cl_db_start "$1" --wsrep-start-position="$pos"
}

cl_cut() { cl_in "$(cl_ns "db$1")" ip link set eth-g down; }
cl_heal() { cl_in "$(cl_ns "db$1")" ip link set eth-g up; }

# The database, the app's accounts (from the app hosts' network, and over
# the socket for payd audit) with the rights of deploy/grants.sql, and the
# migrations, through db1: DDL and accounts replicate to every node.
cl_schema() {
	if [ ! -f "$CL_DIR/db-password" ]; then
		head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' \
		    >"$CL_DIR/db-password"
		chmod 600 "$CL_DIR/db-password"
	fi
	pw=$(cat "$CL_DIR/db-password")
	# payd audit, the suites' SQL and stack.sh's helpers use db1's socket.
	ln -sf "$CL_DIR/db1/mysql.sock" "$CL_DIR/mysql.sock"
	cl_db_sql 1 "CREATE DATABASE IF NOT EXISTS payd
	    CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
	    CREATE USER IF NOT EXISTS 'payd'@'10.199.2.%' IDENTIFIED BY '$pw';
	    CREATE USER IF NOT EXISTS 'payd'@'localhost' IDENTIFIED BY '$pw';" ||
	    return 1
	stack_grants_dir=$CL_DIR
	STACK_BIN=$CL_BIN grants_apply stack_root_sql payd \
	    "'payd'@'10.199.2.%'" stack_migrate "$CL_DIR" >/dev/null &&
	    grants_apply stack_root_sql payd "'payd'@'localhost'" true \
	    >/dev/null || { cat "$CL_DIR/migrate.log" >&2; return 1; }
	for i in $CL_NODES; do
		cl_conf "$CL_DIR/audit-db$i.conf" \
		    "db_socket = $CL_DIR/db$i/mysql.sock"
	done
	cp "$CL_DIR/audit-db1.conf" "$CL_DIR/payd.conf"
	if [ ! -s "$CL_DIR/jwt-secret" ]; then
		head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' \
		    >"$CL_DIR/jwt-secret"
		chmod 600 "$CL_DIR/jwt-secret"
	fi
}

cl_conf() { # path line...
	path=$1
	shift
	{
		echo "db_user = payd"
		echo "db_password = $(cat "$CL_DIR/db-password")"
		echo "jwt_secret = @$CL_DIR/jwt-secret"
		echo "sql_dir = $CL_ROOT/sql"
		for line in "$@"; do echo "$line"; done
	} >"$path"
	chmod 600 "$path"
}

# App host J: payd on 10.199.2.1J:9000, on node J (app2 on db2) with the
# other nodes as fallbacks, with causal reads (docs/cluster.md).
cl_app_start() { # host
	j=$1
	nodes=10.199.2.$j
	for i in $CL_NODES; do
		[ "$i" = "$j" ] || nodes="$nodes, 10.199.2.$i"
	done
	cl_conf "$CL_DIR/app$j.conf" "listen = 10.199.2.1$j:9000" \
	    "db_host = $nodes" "db_port = 3306" \
	    "workers = ${CL_WORKERS:-2}" "db_sync_wait = 1" \
	    ${CL_APP_OPTS:+"$CL_APP_OPTS"}
	nsenter --net="$(cl_ns_path "app$j")" -- "$CL_BIN" \
	    -c "$CL_DIR/app$j.conf" serve >>"$CL_DIR/payd-app$j.log" 2>&1 &
	echo $! >"$CL_DIR/payd-app$j.pid"
	i=0
	until cl_app_listening "$j"; do
		i=$((i + 1))
		if [ "$i" -ge 100 ] || ! cl_alive "$(cat "$CL_DIR/payd-app$j.pid")"; then
			cl_log "app$j did not start:"
			tail -20 "$CL_DIR/payd-app$j.log" >&2
			return 1
		fi
		sleep 0.1
	done
}

cl_app_listening() { # host: payd's socket is listening in its namespace
	cl_in "$(cl_ns "app$1")" ss -Hltn "sport = :9000" |
	    grep -q LISTEN
}

cl_app_kill() { # host
	pid=$(cat "$CL_DIR/payd-app$1.pid" 2>/dev/null)
	[ -n "$pid" ] || return 0
	# The master and its workers: every payd of that namespace.
	for p in $(ip netns pids "$(cl_ns "app$1")"); do
		kill -9 "$p" 2>/dev/null
	done
	while cl_alive "$pid"; do sleep 0.1; done
	rm -f "$CL_DIR/payd-app$1.pid"
}

cl_app_stop() { # host
	pid=$(cat "$CL_DIR/payd-app$1.pid" 2>/dev/null)
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	i=0
	while cl_alive "$pid"; do
		i=$((i + 1))
		[ "$i" -ge 200 ] && { kill -9 "$pid" 2>/dev/null; break; }
		sleep 0.1
	done
	rm -f "$CL_DIR/payd-app$1.pid"
}

# nginx.conf as the single-node stack writes it, with the app hosts as
# its upstream; "direct" adds a server per app host on its own port, which
# the tests use to ask one host.
cl_nginx_conf() { # port [d1 d2]
	ups=""
	for j in $CL_APPS; do
		ups="$ups server 10.199.2.1$j:9000 max_fails=1 fail_timeout=2s;"
	done
	stack_nginx_conf "$CL_DIR" "$1" "${AUTH_RATE:-200}" \
	    "${AUTH_BURST:-1000}" "$ups"
	conf=$CL_DIR/nginx/nginx.conf
	[ -n "${CL_NGINX_EVENTS:-}" ] && sed -i \
	    "s/^\tworker_connections 4096;/&\n\tuse $CL_NGINX_EVENTS;/" "$conf"
	[ $# -ge 3 ] || return 0
	# Before the last line, the closing brace of http {}.
	sed -i '$d' "$conf"
	k=0
	for j in $CL_APPS; do
		k=$((k + 1))
		eval "port=\$$((k + 1))"
		cat >>"$conf" <<EOF
	upstream host$j { server 10.199.2.1$j:9000; }
	server {
		listen 127.0.0.1:$port;
		location / {
			include $CL_DIR/nginx/fastcgi-direct.conf;
			fastcgi_pass host$j;
		}
	}
EOF
	done
	echo "}" >>"$conf"
	# The direct servers pass straight to their host: fastcgi.conf
	# without its fastcgi_pass to the balanced upstream.
	sed '/^fastcgi_pass payd;$/d' "$CL_DIR/nginx/fastcgi.conf" \
	    >"$CL_DIR/nginx/fastcgi-direct.conf"
}

cl_free_port() { echo $(( ($(od -An -N2 -tu2 /dev/urandom) % 30000) + 20000 )); }

cl_nginx_start() { # port|auto [direct]
	tries=0
	while :; do
		p=$1
		[ "$1" = auto ] && p=$(cl_free_port)
		set -- "$1" "${2:-}"
		addrs="127.0.0.1:$p"
		if [ "$2" = direct ]; then
			d1=$(cl_free_port)
			d2=$(cl_free_port)
			cl_nginx_conf "$p" "$d1" "$d2"
			addrs="$addrs 127.0.0.1:$d1 127.0.0.1:$d2"
		else
			cl_nginx_conf "$p"
		fi
		# shellcheck disable=SC2086 # the addresses are words
		perl "$CL_ROOT/tests/cluster/listen.pl" $addrs -- \
		    nsenter --net="$(cl_ns_path lb)" -- nginx \
		    -c "$CL_DIR/nginx/nginx.conf" -e "$CL_DIR/nginx-error.log" \
		    >>"$CL_DIR/nginx-start.log" 2>&1 &
		echo $! >"$CL_DIR/nginx.pid"
		sleep 0.3
		if cl_alive "$(cat "$CL_DIR/nginx.pid")" &&
		    curl -s -o /dev/null "http://127.0.0.1:$p/"; then
			break
		fi
		tries=$((tries + 1))
		if [ "$1" != auto ] || [ "$tries" -ge 20 ]; then
			cl_log "nginx did not start:"
			cat "$CL_DIR/nginx-start.log" "$CL_DIR/nginx-error.log" \
			    >&2 2>/dev/null
			return 1
		fi
	done
	CL_URL="http://127.0.0.1:$p"
	CL_PORT=$p
	if [ "$2" = direct ]; then
		CL_DIRECT1="http://127.0.0.1:$d1"
		CL_DIRECT2="http://127.0.0.1:$d2"
	fi
	echo "$CL_URL" >"$CL_DIR/url"
}

# Everything this cluster started, then its namespaces: first the
# processes by their pid files, then whatever still runs in one of its
# namespaces (rsync of an SST, a payd worker), which is ours by
# construction.
cl_down() {
	[ -n "${CL_DIR:-}" ] || return 0
	pid=$(cat "$CL_DIR/nginx.pid" 2>/dev/null)
	[ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null
	for j in $CL_APPS; do cl_app_stop "$j"; done
	for i in $CL_NODES; do
		pid=$(cl_db_pid "$i")
		[ -n "$pid" ] && kill "$pid" 2>/dev/null
	done
	i=0
	while [ "$i" -lt 300 ]; do
		alive=0
		for n in $CL_NODES; do
			pid=$(cl_db_pid "$n")
			[ -n "$pid" ] && cl_alive "$pid" && alive=1
		done
		[ "$alive" = 0 ] && break
		i=$((i + 1))
		sleep 0.1
	done
	if [ -f "$CL_DIR/netns" ]; then
		for ns in $(cat "$CL_DIR/netns"); do
			for p in $(ip netns pids "$ns" 2>/dev/null); do
				kill -9 "$p" 2>/dev/null
			done
		done
		sleep 0.2
		for ns in $(cat "$CL_DIR/netns"); do
			ip netns del "$ns" 2>/dev/null
		done
		rm -f "$CL_DIR/netns"
	fi
	if [ -f "$CL_DIR/netns-mount" ] && [ -z "$(ip netns list 2>/dev/null)" ]; then
		umount /run/netns 2>/dev/null
	fi
	rm -f "$CL_DIR/netns-mount"
	pid=$(cat "$CL_DIR/nginx.pid" 2>/dev/null)
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	rm -f "$CL_DIR/nginx.pid"
	return 0
}
