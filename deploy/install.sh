#!/bin/sh
# Installs payd on a Debian host, or into a staging root. Idempotent: a
# second run updates the program files and keeps the configuration, its
# JWT secret and its database password.
#
#   make && sudo sh deploy/install.sh
#   DESTDIR=/tmp/stage sh deploy/install.sh     (staging, see below)
#
# What it does, in order:
#   1. the system user and group payd (and www-data in the group payd, so
#      nginx may reach /run/payd/payd.sock);
#   2. build/payd -> /usr/local/bin/payd; sql/ and web/ ->
#      /usr/local/share/payd/{sql,web}, docs/openapi.yaml ->
#      /usr/local/share/payd/docs; payd.conf.example and README.md
#      beside them;
#   3. payd.service and payd-nginx.service -> /etc/systemd/system;
#      logrotate.payd -> /etc/logrotate.d/payd;
#   4. /etc/payd/nginx/: nginx.conf derived from the repository's nginx.conf,
#      with fastcgi.conf and static_headers.conf (payd-nginx.service runs
#      "nginx -c /etc/payd/nginx/nginx.conf"; the host's /etc/nginx is
#      never touched);
#   5. /etc/payd/payd.conf, 0600 payd:payd, with a fresh 48-byte JWT secret
#      and a fresh database password, only when it does not exist yet;
#   6. the database; the routines' owner payd_owner, who cannot log in;
#      the migrations, run with the administrator's account; the app's
#      account with EXECUTE and the few table rights of deploy/grants.sql
#      and nothing else (narrowed again if someone widened it).
# It starts nothing; it prints the commands that do.
#
# Settings, from the environment:
#   DESTDIR              staging root; every file goes under it. The user
#                        is created in DESTDIR/etc/passwd and group (with
#                        useradd --prefix) when those files exist there, and
#                        skipped otherwise; files are chowned to the uid and
#                        gid found there. Paths inside the files written are
#                        the final ones, without DESTDIR.
#   PAYD_BIN             the binary (default: build/payd of this checkout)
#   PAYD_ADMIN_SOCKET    MariaDB's unix socket (default
#                        /run/mysqld/mysqld.sock); also written as db_socket
#                        into a new payd.conf
#   PAYD_ADMIN_USER      privileged MariaDB account (default root, which on
#                        Debian authenticates root over the socket)
#   PAYD_ADMIN_PASSWORD  its password (default none; ~/.my.cnf also works
#                        for the mariadb client, not for payd migrate)
#   PAYD_APP_DB_HOST     host part of the app's account (default localhost)
#   PAYD_SKIP_DB=1       skip step 6 (e.g. building a package)
#   PAYD_HTTP_LISTEN     nginx's listen address (default 80)
#   PAYD_AUTH_RATE       /login and /register requests per second and
#   PAYD_AUTH_BURST      address, and the burst above it (default 5 and 20)
#   PAYD_WEB_USER        nginx's worker user (default www-data)
#
# Secrets are never printed, never on a command line (SQL goes to the
# mariadb client on its standard input). Do not run this under "sh -x".
set -eu

me=install
root=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
GRANTS_SQL=$root/deploy/grants.sql
. "$root/deploy/grants.sh"
dest=${DESTDIR:-}
dest=${dest%/}
bin_src=${PAYD_BIN:-$root/build/payd}
admin_socket=${PAYD_ADMIN_SOCKET:-/run/mysqld/mysqld.sock}
admin_user=${PAYD_ADMIN_USER:-root}
admin_password=${PAYD_ADMIN_PASSWORD:-}
app_db_host=${PAYD_APP_DB_HOST:-localhost}
skip_db=${PAYD_SKIP_DB:-0}
http_listen=${PAYD_HTTP_LISTEN:-80}
auth_rate=${PAYD_AUTH_RATE:-5}
auth_burst=${PAYD_AUTH_BURST:-20}
web_user=${PAYD_WEB_USER:-www-data}

svc_user=payd
bin_dir=/usr/local/bin
share_dir=/usr/local/share/payd
conf_dir=/etc/payd
unit_dir=/etc/systemd/system
nginx_run=/run/payd-nginx
nginx_logs=/var/log/payd-nginx
app_socket=/run/payd/payd.sock

log() { printf '%s: %s\n' "$me" "$*"; }
die() { printf '%s: error: %s\n' "$me" "$*" >&2; exit 1; }

usage() {
	sed -n '2,/^set -eu$/{/^set -eu$/d;s/^# \{0,1\}//;p;}' "$0"
	exit "$1"
}

case "${1:-}" in
-h | --help) usage 0 ;;
"") ;;
*) usage 2 >&2 ;;
esac

is_root=0
[ "$(id -u)" -eq 0 ] && is_root=1
[ -n "$dest" ] || [ "$is_root" -eq 1 ] ||
    die "run as root (or set DESTDIR= for a staging root)"
[ -x "$bin_src" ] || die "$bin_src: not built (run make)"
for f in nginx.conf deploy/payd.service deploy/payd-nginx.service \
    deploy/logrotate.payd deploy/payd.conf.example deploy/fastcgi.conf \
    deploy/static_headers.conf; do
	[ -f "$root/$f" ] || die "$root/$f: missing"
done

# 48 random bytes (or $1) from the kernel, as lowercase hex.
rand_hex() {
	od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

# Field $3 of the entry $2 of passwd or group ($1), in the target root.
pw_field() {
	if [ -n "$dest" ]; then
		[ -f "$dest/etc/$1" ] || return 0
		awk -F: -v n="$2" -v f="$3" '$1 == n { print $f; exit }' \
		    "$dest/etc/$1"
	else
		getent "$1" "$2" | cut -d: -f"$3"
	fi
}

ensure_user() {
	prefix=""
	if [ -n "$dest" ]; then
		if [ ! -f "$dest/etc/passwd" ] || [ ! -f "$dest/etc/group" ] ||
		    [ "$is_root" -ne 1 ]; then
			log "user: skipped (no $dest/etc/passwd, or not root)"
			return 0
		fi
		prefix="--prefix $dest"
	fi
	if [ -z "$(pw_field passwd "$svc_user" 1)" ]; then
		if [ -n "$(pw_field group "$svc_user" 1)" ]; then
			gopt="--gid $svc_user"
		else
			gopt="--user-group"
		fi
		# shellcheck disable=SC2086 # $prefix and $gopt are option lists
		useradd $prefix --system $gopt --no-create-home \
		    --home-dir /nonexistent --shell /usr/sbin/nologin \
		    --comment "payd payment API" "$svc_user" ||
		    die "useradd $svc_user failed"
		log "user: created $svc_user"
	else
		log "user: $svc_user exists"
	fi
	if [ -n "$(pw_field passwd "$web_user" 1)" ]; then
		members=$(pw_field group "$svc_user" 4)
		case ",$members," in
		*",$web_user,"*) ;;
		*)
			# shellcheck disable=SC2086
			usermod $prefix -a -G "$svc_user" "$web_user" ||
			    die "usermod -a -G $svc_user $web_user failed"
			log "user: added $web_user to the group $svc_user" \
			    "(restart nginx to pick it up)"
			;;
		esac
	else
		log "user: no $web_user user; give nginx's user access to" \
		    "/run/payd (group $svc_user)"
	fi
}

# The owner of the files that payd itself must read: uid:gid, or "".
svc_owner() {
	[ "$is_root" -eq 1 ] || return 0
	uid=$(pw_field passwd "$svc_user" 3)
	gid=$(pw_field group "$svc_user" 3)
	[ -n "$uid" ] && [ -n "$gid" ] && printf '%s:%s' "$uid" "$gid"
	return 0
}

# chown when we can: root, and (when staging) a passwd file in the root.
set_owner() { # owner path
	[ -n "$1" ] && chown "$1" "$2"
	return 0
}

# Installs a file atomically (a running binary is replaced, not written
# into), and only when it changed.
install_file() { # mode src dst
	if [ -f "$3" ] && cmp -s "$2" "$3"; then
		chmod "$1" "$3"
		return 0
	fi
	tmp="$3.new.$$"
	cp "$2" "$tmp"
	chmod "$1" "$tmp"
	mv -f "$tmp" "$3"
	log "installed ${3#"$dest"}"
}

install_dir() { # mode path
	mkdir -p "$2"
	chmod "$1" "$2"
}

install_files() {
	install_dir 0755 "$dest$bin_dir"
	install_dir 0755 "$dest$share_dir"
	install_dir 0755 "$dest$share_dir/sql"
	install_dir 0755 "$dest$share_dir/web"
	install_dir 0755 "$dest$share_dir/docs"
	install_dir 0755 "$dest$unit_dir"
	install_dir 0755 "$dest/etc/logrotate.d"
	install_file 0755 "$bin_src" "$dest$bin_dir/payd"
	for f in "$root"/sql/*.sql; do
		[ -f "$f" ] || continue
		install_file 0644 "$f" "$dest$share_dir/sql/${f##*/}"
	done
	# Only what nginx serves: no notes or sources from web/.
	for f in "$root"/web/*.html "$root"/web/*.js "$root"/web/*.css \
	    "$root"/web/*.svg; do
		[ -f "$f" ] || continue
		install_file 0644 "$f" "$dest$share_dir/web/${f##*/}"
	done
	# The API's contract, which nginx serves at /openapi.yaml.
	install_file 0644 "$root/docs/openapi.yaml" \
	    "$dest$share_dir/docs/openapi.yaml"
	install_file 0644 "$root/deploy/payd.conf.example" \
	    "$dest$share_dir/payd.conf.example"
	# The unit's Documentation=.
	if [ -f "$root/README.md" ]; then
		install_file 0644 "$root/README.md" "$dest$share_dir/README.md"
	fi
	install_file 0644 "$root/deploy/payd.service" \
	    "$dest$unit_dir/payd.service"
	install_file 0644 "$root/deploy/payd-nginx.service" \
	    "$dest$unit_dir/payd-nginx.service"
	install_file 0644 "$root/deploy/logrotate.payd" \
	    "$dest/etc/logrotate.d/payd"
}

# The production nginx configuration, from the one nginx.conf. Its
# includes live in /etc/payd/nginx; pid and temporary files in
# /run/payd-nginx (the unit's RuntimeDirectory).
install_nginx() {
	dir=$dest$conf_dir/nginx
	install_dir 0755 "$dir"
	tmp=$dir/nginx.conf.gen.$$
	sed -e "s|@@USER_LINE@@|user $web_user;|" \
	    -e "s|include @@RUN_DIR@@/|include $conf_dir/nginx/|g" \
	    -e "s|@@RUN_DIR@@|$nginx_run|g" \
	    -e "s|@@LOG_DIR@@|$nginx_logs|g" \
	    -e "s|@@LISTEN@@|$http_listen|" \
	    -e "s|@@UPSTREAMS@@|server unix:$app_socket max_fails=3 fail_timeout=5s;|" \
	    -e "s|@@WEB_ROOT@@|$share_dir/web|g" \
	    -e "s|@@DOCS_ROOT@@|$share_dir/docs|g" \
	    -e "s|@@AUTH_RATE@@|$auth_rate|" \
	    -e "s|@@AUTH_BURST@@|$auth_burst|" \
	    "$root/nginx.conf" >"$tmp.body"
	{
		echo "# Generated by payd's deploy/install.sh from its nginx.conf:"
		echo "# change that file and re-run the installer, not this copy."
		cat "$tmp.body"
	} >"$tmp"
	rm -f "$tmp.body"
	if grep -n '^[^#]*@@' "$tmp" >&2; then
		rm -f "$tmp"
		die "nginx.conf: a placeholder was left unreplaced"
	fi
	install_file 0644 "$tmp" "$dir/nginx.conf"
	rm -f "$tmp"
	install_file 0644 "$root/deploy/fastcgi.conf" "$dir/fastcgi.conf"
	install_file 0644 "$root/deploy/static_headers.conf" \
	    "$dir/static_headers.conf"
}

# /etc/payd/payd.conf: written once; kept, with its secrets, afterwards.
install_config() {
	owner=$(svc_owner)
	conf=$dest$conf_dir/payd.conf
	install_dir 0750 "$dest$conf_dir"
	# root:payd 0750: payd reads its configuration, no one else lists it.
	if [ -n "$owner" ]; then
		chown "0:${owner#*:}" "$dest$conf_dir"
	fi
	if [ -f "$conf" ]; then
		log "config: kept ${conf#"$dest"} and its secrets"
	else
		old_umask=$(umask)
		umask 077
		tmp=$conf.new.$$
		secret=$(rand_hex 48)
		db_pw=$(rand_hex 24)
		{
			printf '# payd configuration, written by install.sh.\n'
			printf '# Every key, its default and its meaning: '
			printf '%s/payd.conf.example\n' "$share_dir"
			printf '# Holds two secrets: keep it 0600 %s:%s.\n' \
			    "$svc_user" "$svc_user"
			printf '# Apply changes with: systemctl reload payd\n\n'
			printf 'listen = %s\n' "$app_socket"
			printf 'workers = 0\n'
			printf 'db_socket = %s\n' "$admin_socket"
			printf 'db_name = payd\n'
			printf 'db_user = %s\n' "$svc_user"
			printf 'db_password = %s\n' "$db_pw"
			printf 'jwt_secret = %s\n' "$secret"
			printf 'sql_dir = %s/sql\n' "$share_dir"
			printf 'log_level = info\n'
		} >"$tmp"
		secret=""
		db_pw=""
		mv -f "$tmp" "$conf"
		umask "$old_umask"
		log "config: wrote ${conf#"$dest"} with a new JWT secret" \
		    "and database password"
	fi
	chmod 0600 "$conf"
	set_owner "$owner" "$conf"
}

# The last value of a key in payd.conf (payd applies lines in order).
conf_get() { # key
	sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" \
	    "$dest$conf_dir/payd.conf" | tail -n 1 | sed 's/[[:space:]]*$//'
}

admin_sql() { # SQL on standard input
	if [ -n "$admin_password" ]; then
		MYSQL_PWD=$admin_password mariadb -S "$admin_socket" \
		    -u "$admin_user" -N -B
	else
		mariadb -S "$admin_socket" -u "$admin_user" -N -B
	fi
}

install_db() {
	db_name=$(conf_get db_name)
	db_user=$(conf_get db_user)
	db_pw=$(conf_get db_password)
	db_name=${db_name:-payd}
	db_user=${db_user:-payd}
	for v in "$db_name" "$db_user" "$app_db_host"; do
		case "$v" in
		"" | *[!A-Za-z0-9_.%-]*) die "db: unexpected name: $v" ;;
		esac
	done
	# The password goes into a quoted SQL literal: no quote, no backslash.
	case "$db_pw" in
	"") die "db: payd.conf has no db_password" ;;
	*[!A-Za-z0-9_.,:@%+=/~-]*)
		die "db: db_password has characters this installer does not" \
		    "quote; set the account up by hand, then PAYD_SKIP_DB=1" ;;
	esac
	command -v mariadb >/dev/null 2>&1 || die "db: no mariadb client"
	echo "SELECT 1" | admin_sql >/dev/null ||
	    die "db: cannot connect as $admin_user on $admin_socket"
	acct="'$db_user'@'$app_db_host'"
	printf '%s\n' \
	    "CREATE DATABASE IF NOT EXISTS \`$db_name\`" \
	    "  CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;" \
	    "CREATE USER IF NOT EXISTS $acct IDENTIFIED BY '$db_pw';" \
	    "ALTER USER $acct IDENTIFIED BY '$db_pw';" | admin_sql ||
	    die "db: creating the database or the account failed"
	db_pw=""
	# The rights of deploy/grants.sql: the routines' owner payd_owner
	# (who cannot log in), the migrations with the administrator's
	# account, then the app's EXECUTE and its few table rights; anything
	# wider (an older release's DML, a hand widening) is revoked.
	narrowed=$(grants_apply admin_sql "$db_name" "$acct" install_migrate) ||
	    die "db: the grants or the migrations failed"
	log "db: migrations applied"
	[ "$narrowed" = narrowed ] &&
	    log "db: narrowed $acct back to the rights of deploy/grants.sql"
	log "db: database $db_name, account $acct with EXECUTE and the" \
	    "table rights of deploy/grants.sql only"
}

install_migrate() {
	PAYD_DB_SOCKET=$admin_socket PAYD_DB_USER=$admin_user \
	    PAYD_DB_PASSWORD=$admin_password \
	    PAYD_SQL_DIR=$dest$share_dir/sql PAYD_LOG_FILE='' \
	    "$dest$bin_dir/payd" -c "$dest$conf_dir/payd.conf" migrate >&2
}

log "installing into ${dest:-/}"
ensure_user
install_files
install_nginx
install_config
if [ "$skip_db" = 1 ]; then
	log "db: skipped (PAYD_SKIP_DB=1)"
else
	install_db
fi
if [ -z "$dest" ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload
	log "systemd: daemon-reload done"
fi
log "done. Next:"
log "  systemctl enable --now payd.service payd-nginx.service"
log "  (a new binary needs: systemctl restart payd; a new payd.conf:" \
    "systemctl reload payd)"
