# Shell functions that start and stop a private stack: MariaDB, payd and
# nginx, all under one directory, on a free port. Sourced by run.sh,
# integration.sh and the benchmark; POSIX sh.
#
#   stack_db_boot DIR         MariaDB on DIR/mysql.sock (data in DIR/data),
#                             root over the socket without a password, no
#                             other account, no schema
#   stack_db_start DIR        stack_db_boot, then the database payd, the
#                             app's account payd (DIR/db-password) with the
#                             rights of deploy/grants.sql, and migrations
#   stack_app_start DIR BIN   payd on DIR/payd.sock (config DIR/payd.conf)
#   stack_nginx_start DIR PORT|auto   nginx on 127.0.0.1:PORT
#   stack_stop DIR            stops all three, whatever state they are in
#
# After stack_nginx_start, STACK_URL is http://127.0.0.1:PORT.

STACK_ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/../.." 2>/dev/null && pwd)
[ -f "$STACK_ROOT/nginx.conf" ] || STACK_ROOT=$(pwd)

GRANTS_SQL=$STACK_ROOT/deploy/grants.sql
. "$STACK_ROOT/deploy/grants.sh"

stack_log() { printf 'stack: %s\n' "$*" >&2; }

stack_wait_file() { # path tries(0.1 s each)
	i=0
	while [ ! -S "$1" ] && [ ! -f "$1" ]; do
		i=$((i + 1))
		[ "$i" -ge "$2" ] && return 1
		sleep 0.1
	done
	return 0
}

stack_sql() { # dir, sql (as the privileged root account)
	mariadb --no-defaults -S "$1/mysql.sock" -uroot -N -B -e "$2"
}

stack_db_boot() {
	dir=$1
	mkdir -p "$dir"
	user_opt=""
	[ "$(id -u)" -eq 0 ] && user_opt="--user=root"
	if [ ! -d "$dir/data/mysql" ]; then
		mariadb-install-db --no-defaults --datadir="$dir/data" \
		    --auth-root-authentication-method=normal --skip-test-db \
		    --skip-name-resolve --force \
		    $user_opt >"$dir/install-db.log" 2>&1 ||
		    { cat "$dir/install-db.log" >&2; return 1; }
	fi
	# Durable settings: every commit is on disk (make run, bench, tests).
	# Its own temporary directory: a sweep of /tmp by other work on the
	# machine deleted the server's on-disk temporary tables under a long
	# query (payd audit: "Error on delete of '/tmp/#sql-temptable-...'").
	# The buffer pool holds the bench's ledger of 10000 accounts: a new
	# entry goes to the end of its account's range in two indexes, so the
	# pages written are about two per account, whatever the history's
	# length (256M did not hold them: tests/bench/RESULTS.md).
	mkdir -p "$dir/tmp"
	mariadbd --no-defaults --datadir="$dir/data" --tmpdir="$dir/tmp" \
	    --socket="$dir/mysql.sock" --pid-file="$dir/mysqld.pid" \
	    --skip-networking --skip-name-resolve $user_opt \
	    --log-error="$dir/mysqld.err" \
	    --innodb-flush-log-at-trx-commit=1 --sync-binlog=1 \
	    --innodb-buffer-pool-size=1G --innodb-log-file-size=256M \
	    --innodb-spin-wait-delay=0 --max-connections=500 \
	    --character-set-server=utf8mb4 \
	    --collation-server=utf8mb4_general_ci ${STACK_DB_OPTS:-} \
	    >/dev/null 2>&1 &
	i=0
	until mariadb-admin --no-defaults -S "$dir/mysql.sock" -uroot \
	    ping >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -ge 300 ]; then
			stack_log "MariaDB did not start:"
			tail -20 "$dir/mysqld.err" >&2
			return 1
		fi
		sleep 0.1
	done
}

stack_db_start() {
	dir=$1
	stack_db_boot "$dir" || return 1
	if [ ! -f "$dir/db-password" ]; then
		head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' \
		    >"$dir/db-password"
		chmod 600 "$dir/db-password"
	fi
	pw=$(cat "$dir/db-password")
	stack_sql "$dir" "CREATE DATABASE IF NOT EXISTS payd
	    CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
	    CREATE USER IF NOT EXISTS 'payd'@'localhost' IDENTIFIED BY '$pw';
	    ALTER USER 'payd'@'localhost' IDENTIFIED BY '$pw';"
	# The rights of deploy/grants.sql, as install.sh gives them; the
	# migrations run with the privileged account.
	stack_grants_dir=$dir
	grants_apply stack_root_sql payd "'payd'@'localhost'" \
	    stack_migrate "$dir" >/dev/null ||
	    { cat "$dir/migrate.log" >&2; return 1; }
}

stack_root_sql() { # SQL on standard input, as root, on $stack_grants_dir
	mariadb --no-defaults -S "$stack_grants_dir/mysql.sock" -uroot -N -B
}

stack_migrate() { # dir
	PAYD_DB_SOCKET="$1/mysql.sock" PAYD_DB_USER=root PAYD_DB_PASSWORD= \
	    PAYD_SQL_DIR="$STACK_ROOT/sql" PAYD_DEV_MODE=1 \
	    "${STACK_BIN:-$STACK_ROOT/build/payd}" migrate 2>>"$1/migrate.log"
}

stack_db_stop() {
	dir=$1
	[ -f "$dir/mysqld.pid" ] || return 0
	pid=$(cat "$dir/mysqld.pid" 2>/dev/null)
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	i=0
	while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -ge 300 ] && { kill -9 "$pid" 2>/dev/null; break; }
		sleep 0.1
	done
	rm -f "$dir/mysqld.pid"
}

# Writes DIR/NAME.conf (NAME defaults to payd, the first app instance);
# extra "key = value" lines may follow as arguments. Use
# STACK_NAME=payd2 for a second instance on DIR/payd2.sock.
stack_app_config() {
	dir=$1
	shift
	name=${STACK_NAME:-payd}
	{
		echo "listen = $dir/$name.sock"
		echo "db_socket = $dir/mysql.sock"
		echo "db_user = payd"
		echo "db_password = $(cat "$dir/db-password")"
		echo "jwt_secret = @$dir/jwt-secret"
		echo "sql_dir = $STACK_ROOT/sql"
		for line in "$@"; do echo "$line"; done
	} >"$dir/$name.conf"
	chmod 600 "$dir/$name.conf"
	if [ ! -s "$dir/jwt-secret" ]; then
		if [ -n "${JWT_SECRET:-}" ]; then
			printf '%s' "$JWT_SECRET" >"$dir/jwt-secret"
		else
			head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' \
			    >"$dir/jwt-secret"
		fi
		chmod 600 "$dir/jwt-secret"
	fi
}

# STACK_WRAPPER, when set, is a command the app runs under, e.g.
# STACK_WRAPPER="valgrind --trace-children=yes" (make valgrind); its pid is
# the app's. STACK_WAIT_TRIES (0.1 s each, default 100) waits for the socket.
stack_app_start() { # dir bin [log]; STACK_NAME picks the instance
	dir=$1
	bin=$2
	name=${STACK_NAME:-payd}
	log=${3:-$dir/$name.log}
	[ -f "$dir/$name.conf" ] || stack_app_config "$dir"
	rm -f "$dir/$name.sock"
	# shellcheck disable=SC2086 # the wrapper is a command and its words
	${STACK_WRAPPER:-} "$bin" -c "$dir/$name.conf" serve >>"$log" 2>&1 &
	echo $! >"$dir/$name.pid"
	stack_wait_file "$dir/$name.sock" "${STACK_WAIT_TRIES:-100}" ||
	    { stack_log "$name did not start"; tail -20 "$log" >&2; return 1; }
}

stack_app_stop() { # dir; STACK_NAME picks the instance
	dir=$1
	name=${STACK_NAME:-payd}
	[ -f "$dir/$name.pid" ] || return 0
	pid=$(cat "$dir/$name.pid")
	kill "$pid" 2>/dev/null
	i=0
	while kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -ge 200 ] && { kill -9 "$pid" 2>/dev/null; break; }
		sleep 0.1
	done
	wait "$pid" 2>/dev/null
	rm -f "$dir/$name.pid"
}

stack_nginx_conf() { # dir port rate burst upstreams
	dir=$1
	mkdir -p "$dir/nginx"
	user_line=""
	# nginx started by root would run its workers as nobody, who may not
	# read a checkout under /root; the private copy keeps root.
	[ "$(id -u)" -eq 0 ] && user_line="user root;"
	sed -e "s|@@USER_LINE@@|$user_line|" \
	    -e "s|@@RUN_DIR@@|$dir/nginx|g" \
	    -e "s|@@LOG_DIR@@|$dir|g" \
	    -e "s|@@LISTEN@@|127.0.0.1:$2|" \
	    -e "s|@@UPSTREAMS@@|$5|" \
	    -e "s|@@WEB_ROOT@@|$STACK_ROOT/web|g" \
	    -e "s|@@DOCS_ROOT@@|$STACK_ROOT/docs|g" \
	    -e "s|@@AUTH_RATE@@|$3|" \
	    -e "s|@@AUTH_BURST@@|$4|" \
	    "$STACK_ROOT/nginx.conf" >"$dir/nginx/nginx.conf"
	cp "$STACK_ROOT/deploy/fastcgi.conf" \
	    "$STACK_ROOT/deploy/static_headers.conf" "$dir/nginx/"
}

stack_nginx_start() { # dir port|auto [rate] [burst] [upstreams]
	dir=$1
	port=$2
	rate=${3:-${AUTH_RATE:-200}}
	burst=${4:-${AUTH_BURST:-1000}}
	ups=${5:-"server unix:$dir/payd.sock max_fails=3 fail_timeout=5s;"}
	tries=0
	while :; do
		p=$port
		if [ "$port" = auto ]; then
			p=$(( ($(od -An -N2 -tu2 /dev/urandom) % 30000) + 20000 ))
		fi
		stack_nginx_conf "$dir" "$p" "$rate" "$burst" "$ups"
		if nginx -c "$dir/nginx/nginx.conf" -e "$dir/nginx-error.log" \
		    2>>"$dir/nginx-start.log"; then
			STACK_URL="http://127.0.0.1:$p"
			STACK_PORT=$p
			echo "$STACK_URL" >"$dir/url"
			return 0
		fi
		tries=$((tries + 1))
		if [ "$port" != auto ] || [ "$tries" -ge 20 ]; then
			stack_log "nginx did not start:"
			cat "$dir/nginx-start.log" >&2
			return 1
		fi
	done
}

stack_nginx_stop() {
	dir=$1
	[ -f "$dir/nginx/nginx.pid" ] || return 0
	pid=$(cat "$dir/nginx/nginx.pid" 2>/dev/null)
	[ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null
	i=0
	while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -ge 100 ] && { kill -9 "$pid" 2>/dev/null; break; }
		sleep 0.1
	done
}

stack_stop() {
	stack_nginx_stop "$1"
	for pidfile in "$1"/payd*.pid; do
		[ -f "$pidfile" ] || continue
		STACK_NAME=$(basename "$pidfile" .pid) stack_app_stop "$1"
	done
	stack_db_stop "$1"
}
