#!/bin/sh
# Goal: deploy/install.sh gives a working, least-privilege installation,
# and running it again changes nothing that matters. Against a private
# MariaDB in a temporary directory, it installs twice (and once more after
# widening the app's grants) into a staging root, then checks the files and
# their modes, the secret (long enough, never printed, kept), the app's
# database account (DML and EXECUTE, no DDL), the migrations, the systemd units
# (systemd-analyze verify and security), the derived nginx configuration
# (nginx -t, then a real request through it), and the unit's protocol with
# systemd: READY=1, RELOADING=1 after SIGHUP and STOPPING=1 after SIGTERM
# from a real "payd serve" run with the unit's user, no capabilities and
# its umask, on a fake NOTIFY_SOCKET.
#
# Usage: sh tests/deploy/test_install.sh (as root; make test-deploy).
# KEEP=1 keeps the temporary directory. Last line: "deploy: N passed, M
# failed"; the exit status is non-zero when any check failed.
set -u
test_name=deploy
# shellcheck source=tests/deploy/lib.sh
. "$(dirname -- "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "test_install.sh: run as root" >&2; exit 1; }
for c in mariadbd mariadb nginx socat setpriv curl; do
	command -v "$c" >/dev/null 2>&1 ||
	    { echo "test_install.sh: $c missing (make deps)" >&2; exit 1; }
done
[ -x build/payd ] || { echo "test_install.sh: make first" >&2; exit 1; }

T=$(mktemp -d /tmp/payd-deploy.XXXXXX)
chmod 755 "$T"
D=$T/stage
db=$T/db
serve_pid=""
socat_pid=""
# payd's workers do not die with their master (under systemd, the unit's
# cgroup takes care of that): stop the master by TERM, then kill whatever
# of its children is left.
stop_serve() {
	[ -n "$serve_pid" ] || return 0
	kids=$(pgrep -P "$serve_pid")
	kill -TERM "$serve_pid" 2>/dev/null
	i=0
	while kill -0 "$serve_pid" 2>/dev/null && [ "$i" -lt 30 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	# shellcheck disable=SC2086 # a list of pids
	kill -9 "$serve_pid" $kids $(pgrep -P "$serve_pid") 2>/dev/null
	serve_pid=""
}
cleanup() {
	stop_serve
	[ -n "$socat_pid" ] && kill "$socat_pid" 2>/dev/null
	stack_nginx_stop "$T"
	stack_db_stop "$db"
	[ -n "$socat_pid" ] && wait "$socat_pid" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then
		echo "kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

host_had_payd=0
getent passwd payd >/dev/null 2>&1 && host_had_payd=1

stack_db_boot "$db" || { nok "private MariaDB starts"; finish; exit 1; }
ok "private MariaDB starts"

# A staging root with minimal account files, for useradd --prefix.
mkdir -p "$D/etc"
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
    'www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin' >"$D/etc/passwd"
printf '%s\n' 'root:x:0:' 'www-data:x:33:' >"$D/etc/group"
printf '%s\n' 'root:*:19000:0:99999:7:::' \
    'www-data:*:19000:0:99999:7:::' >"$D/etc/shadow"
printf '%s\n' 'root:*::' 'www-data:*::' >"$D/etc/gshadow"
chmod 640 "$D/etc/shadow" "$D/etc/gshadow"

run_install() { # n
	DESTDIR=$D PAYD_ADMIN_SOCKET=$db/mysql.sock PAYD_ADMIN_USER=root \
	    sh deploy/install.sh >"$T/install$1.log" 2>&1
}
conf=$D/etc/payd/payd.conf
conf_val() { sed -n "s/^$1 = //p" "$conf" | tail -n 1; }
mode() { stat -c %a "$1" 2>/dev/null; }
sql() { stack_sql "$db" "$1"; }
app_sql() { # sql: as the app's account, with the installed password
	MYSQL_PWD=$(conf_val db_password) mariadb --no-defaults \
	    -S "$db/mysql.sock" -u payd -N -B payd -e "$1" 2>>"$T/app-sql.err"
}

# First run.
check "install.sh runs (1st)" run_install 1 ||
    { cat "$T/install1.log"; finish; exit 1; }
secret1=$(conf_val jwt_secret)
dbpw1=$(conf_val db_password)
payd_uid=$(awk -F: '$1 == "payd" { print $3 }' "$D/etc/passwd")
payd_gid=$(awk -F: '$1 == "payd" { print $3 }' "$D/etc/group")

check "user payd created in the staging root" test -n "$payd_uid"
check "user payd is a system account without a shell" \
    grep -q '^payd:x:[0-9]*:[0-9]*:.*:/nonexistent:/usr/sbin/nologin$' \
    "$D/etc/passwd"
check "www-data is in the group payd" \
    grep -q '^payd:x:[0-9]*:www-data$' "$D/etc/group"
if [ "$host_had_payd" -eq 0 ]; then
	check "the host's own accounts are untouched" \
	    sh -c '! getent passwd payd >/dev/null'
fi
check "binary installed 0755" test "$(mode "$D/usr/local/bin/payd")" = 755
check "binary is the build" cmp -s build/payd "$D/usr/local/bin/payd"
check "migrations installed" \
    test -f "$D/usr/local/share/payd/sql/001_schema.sql"
check "web page installed" test -f "$D/usr/local/share/payd/web/index.html" \
    -a -f "$D/usr/local/share/payd/web/app.js"
check "no notes from web/ installed" \
    sh -c "! ls '$D/usr/local/share/payd/web/' | grep -qv -e '\\.html\$' \
    -e '\\.js\$' -e '\\.css\$' -e '\\.svg\$'"
check "units installed" test -f "$D/etc/systemd/system/payd.service" \
    -a -f "$D/etc/systemd/system/payd-nginx.service"
check "logrotate snippet installed" test -f "$D/etc/logrotate.d/payd"
check "config example installed" \
    test -f "$D/usr/local/share/payd/payd.conf.example"
check "config is 0600" test "$(mode "$conf")" = 600
check "config is owned by payd:payd" \
    test "$(stat -c %u:%g "$conf")" = "$payd_uid:$payd_gid"
check "/etc/payd is 0750 root:payd" \
    test "$(stat -c %a:%u:%g "$D/etc/payd")" = "750:0:$payd_gid"
check "JWT secret is at least 32 bytes" test "${#secret1}" -ge 32
check "JWT secret is hex from the generator" \
    sh -c "printf '%s' '$secret1' | grep -Eqx '[0-9a-f]{96}'"
check "database password generated" test "${#dbpw1}" -ge 32
check "installer printed neither secret" \
    sh -c "! grep -qF -e '$secret1' -e '$dbpw1' '$T/install1.log'"
check "installed config passes check-config" logged "$T/check-config.log" \
    "$D/usr/local/bin/payd" -c "$conf" check-config
n_sql=$(find sql -name '[0-9][0-9][0-9]_*.sql' | wc -l)
check "migrations applied ($n_sql files in schema_migrations)" \
    test "$(sql 'SELECT COUNT(*) FROM payd.schema_migrations')" = "$n_sql"
n_routines=$(find sql -name 'R__*.sql' | wc -l)
check "routines applied ($n_routines files in schema_routines)" \
    test "$(sql 'SELECT COUNT(*) FROM payd.schema_routines')" = "$n_routines"
for r in $(cd sql && ls R__*.sql); do
	check "1st run logged $r applied" \
	    grep -q "file=$r applied=1" "$T/install1.log"
done

# Second run: nothing that matters changes.
check "install.sh runs (2nd)" run_install 2
check "2nd run keeps the JWT secret" test "$(conf_val jwt_secret)" = "$secret1"
check "2nd run keeps the database password" \
    test "$(conf_val db_password)" = "$dbpw1"
check "2nd run says it kept the config" grep -q 'config: kept' \
    "$T/install2.log"
check "2nd run keeps the config 0600" test "$(mode "$conf")" = 600
check "2nd run: one payd user" \
    test "$(grep -c '^payd:' "$D/etc/passwd")" = 1
check "2nd run printed neither secret" \
    sh -c "! grep -qF -e '$secret1' -e '$dbpw1' '$T/install2.log'"
check "2nd run applies no migration again" \
    test "$(sql 'SELECT COUNT(*) FROM payd.schema_migrations')" = "$n_sql"
check "2nd run applies no unchanged routine again" \
    sh -c "! grep -q 'applied=1' '$T/install2.log'"

# A routine whose text changed is applied again: a stale procedure (as an
# older release left it, with the same parameters) is replaced by the next
# migrate.
migrate_again() { # sql_dir log
	PAYD_DB_SOCKET=$db/mysql.sock PAYD_DB_USER=root PAYD_DB_PASSWORD='' \
	    PAYD_SQL_DIR=$1 PAYD_LOG_FILE='' \
	    "$D/usr/local/bin/payd" -c "$conf" migrate >"$2" 2>&1
}
sql "ALTER PROCEDURE payd.payd_transfer COMMENT 'stale';
    UPDATE payd.schema_routines
    SET sha256 = UNHEX(SHA2('stale', 256)) WHERE name = 'R__payd_transfer.sql'"
check "a changed routine is applied again" \
    migrate_again "$D/usr/local/share/payd/sql" "$T/migrate3.log"
check "... and logged" \
    grep -q 'file=R__payd_transfer.sql applied=1' "$T/migrate3.log"
check "... its new text replaced the stale one" test "$(sql "SELECT
    ROUTINE_COMMENT <> 'stale' FROM information_schema.ROUTINES
    WHERE ROUTINE_SCHEMA = 'payd' AND ROUTINE_NAME = 'payd_transfer'")" = 1

# A routine's parameters changed under its name: the running version
# still calls it with the old ones while migrate runs, so migrate refuses
# it and changes nothing (docs/operations.md, Upgrades).
mkdir -p "$T/sql-bad"
cp sql/*.sql "$T/sql-bad/"
sed -i 's/IN p_user_name VARCHAR(32),/IN p_user_name VARCHAR(64),/' \
    "$T/sql-bad/R__payd_deposit.sql"
if migrate_again "$T/sql-bad" "$T/migrate-bad.log"; then
	nok "a routine's parameters changed under its name: migrate refuses"
else
	ok "a routine's parameters changed under its name: migrate refuses"
fi
check "... naming the routine" grep -q \
    'routine=payd_deposit .*parameters would change' "$T/migrate-bad.log"
check "... and the routine is still the one of before" test "$(sql "SELECT
    param_list LIKE '%p_user_name VARCHAR(32)%' FROM mysql.proc
    WHERE db = 'payd' AND name = 'payd_deposit'")" = 1

# Two migrate at once: while another migrator holds the lease (a row of
# schema_lease, which a Galera cluster certifies like any write: no
# GET_LOCK), migrate waits migrate_lock_wait_s, then fails and applies
# nothing.
sql "INSERT INTO payd.schema_lease (name, holder, expires_at)
    VALUES ('migrate', 'another', UTC_TIMESTAMP() + INTERVAL 600 SECOND)"
check "another migrate holds the lease" test "$(sql "SELECT COUNT(*)
    FROM payd.schema_lease WHERE holder = 'another'")" = 1
sql "UPDATE payd.schema_routines SET sha256 = UNHEX(SHA2('stale', 256))
    WHERE name = 'R__payd_transfer.sql'"
if PAYD_MIGRATE_LOCK_WAIT_S=1 migrate_again "$D/usr/local/share/payd/sql" \
    "$T/migrate-locked.log"; then
	nok "migrate while another holds the lease: it fails"
else
	ok "migrate while another holds the lease: it fails"
fi
check "... saying so, and applying nothing" sh -c "grep -q \
    'not granted within 1 s' '$T/migrate-locked.log' &&
    ! grep -q 'applied=1' '$T/migrate-locked.log'"
sql "DELETE FROM payd.schema_lease WHERE holder = 'another'"
check "once it is free, migrate runs" \
    migrate_again "$D/usr/local/share/payd/sql" "$T/migrate-free.log"

# A database of an older release still has payd_transfer_batch, replaced
# by payd_transfer_many, and the record of its file: migration 006 drops
# both (on the fresh database above it found nothing to drop).
sql "CREATE DEFINER = payd_owner PROCEDURE payd.payd_transfer_batch()
    SQL SECURITY DEFINER SELECT 1;
    INSERT INTO payd.schema_routines (name, sha256)
    VALUES ('R__payd_transfer_batch.sql', UNHEX(SHA2('old', 256)));
    DELETE FROM payd.schema_migrations WHERE version = 6"
check "migrate on a database with payd_transfer_batch" \
    migrate_again "$D/usr/local/share/payd/sql" "$T/migrate-006.log"
check "... applies 006 again" grep -q 'file=006_.*applied=1' "$T/migrate-006.log"
check "... drops payd_transfer_batch" test "$(sql "SELECT COUNT(*)
    FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'payd'
    AND ROUTINE_NAME = 'payd_transfer_batch'")" = 0
check "... and its record ($n_routines files in schema_routines)" \
    test "$(sql 'SELECT COUNT(*) FROM payd.schema_routines')" = "$n_routines"
check "... and 006 is recorded ($n_sql files in schema_migrations)" \
    test "$(sql 'SELECT COUNT(*) FROM payd.schema_migrations')" = "$n_sql"

# A database of the release before 008 has the trigger payd_entries_time
# and the procedure payd_payout_all, the records of their files, and an
# owner that may make triggers: 008 drops the two and their records; the
# grants, applied after the migrations, take the right back (3rd install
# below).
sql "GRANT TRIGGER ON payd.* TO payd_owner@'%';
    CREATE DEFINER = payd_owner PROCEDURE payd.payd_payout_all()
    SQL SECURITY DEFINER SELECT 1;
    CREATE DEFINER = payd_owner TRIGGER payd.payd_entries_time
    BEFORE INSERT ON payd.entries FOR EACH ROW
    SET NEW.created_at = NEW.created_at;
    INSERT INTO payd.schema_routines (name, sha256)
    VALUES ('R__payd_payout_all.sql', UNHEX(SHA2('old', 256))),
    ('R__payd_entries_time.sql', UNHEX(SHA2('old', 256)));
    DELETE FROM payd.schema_migrations WHERE version = 8"
check "migrate on a database with the entries trigger" \
    migrate_again "$D/usr/local/share/payd/sql" "$T/migrate-008.log"
check "... applies 008 again" grep -q 'file=008_.*applied=1' "$T/migrate-008.log"
check "... drops the trigger and payd_payout_all" test "$(sql "SELECT
    (SELECT COUNT(*) FROM information_schema.TRIGGERS
    WHERE TRIGGER_SCHEMA = 'payd') + (SELECT COUNT(*)
    FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'payd'
    AND ROUTINE_NAME = 'payd_payout_all')")" = 0
check "... and their records ($n_routines files in schema_routines)" \
    test "$(sql 'SELECT COUNT(*) FROM payd.schema_routines')" = "$n_routines"

# The app's account: EXECUTE (the CALLs of sql/R__*.sql) and the table
# rights of its own statements (deploy/grants.sql); no money write, no DDL.
check "app account can SELECT" logged "$T/select.out" \
    app_sql 'SELECT COUNT(*) FROM users'
check "app account can INSERT a user (POST /register)" app_sql \
    "INSERT INTO users (username, password_hash) VALUES ('deploy_t', 'x')"
app_cannot() { # sql: fails as the app's account, whatever the error
	! MYSQL_PWD=$dbpw1 mariadb --no-defaults -S "$db/mysql.sock" -u payd \
	    payd -e "$1" 2>/dev/null
}
app_denied() { # sql: refused for want of a right (ERROR 1142/1143)
	MYSQL_PWD=$(conf_val db_password) mariadb --no-defaults \
	    -S "$db/mysql.sock" -u payd -N -B payd -e "$1" 2>&1 |
	    grep -Eq 'ERROR 114[23]'
}
check "app account cannot UPDATE a balance" \
    app_denied "UPDATE users SET balance = balance + 100"
check "app account cannot DELETE FROM entries" \
    app_denied "DELETE FROM entries"
check "app account cannot INSERT a user with a balance" \
    app_denied "INSERT INTO users (username, password_hash, balance)
    VALUES ('deploy_r', 'x', 100)"
check "app account cannot UPDATE fee_accounts" \
    app_denied 'UPDATE fee_accounts SET balance = balance WHERE id = 0'
check "app account cannot DELETE a user" \
    app_denied "DELETE FROM users WHERE username = 'deploy_t'"
sql "DELETE FROM payd.users WHERE username = 'deploy_t'"
check "the routines' owner payd_owner cannot log in" \
    sh -c "! mariadb --no-defaults -S '$db/mysql.sock' -u payd_owner \
    -e 'SELECT 1' >/dev/null 2>&1"
check "every routine: DEFINER payd_owner, SQL SECURITY DEFINER" \
    test "$(sql "SELECT COUNT(*) FROM information_schema.ROUTINES
    WHERE ROUTINE_SCHEMA = 'payd' AND (DEFINER <> 'payd_owner@%'
    OR SECURITY_TYPE <> 'DEFINER')")" = 0
check "app account can CALL payd_transfer (no such caller: state 1)" \
    test "$(app_sql "CALL payd_transfer(0, '', 0, 0, '', 1, 0, 0, 0,
    UTC_TIMESTAMP(), NULL, '')" | cut -f1)" = 1
check "app account can CALL payd_deposit (no such caller: state 1)" \
    test "$(app_sql "CALL payd_deposit(0, '', 0, 1, 0, UTC_TIMESTAMP(),
    NULL, '')" | cut -f1)" = 1
check "app account cannot CREATE PROCEDURE" \
    app_cannot 'CREATE PROCEDURE deploy_t() SELECT 1'
check "app account cannot CREATE" \
    app_cannot 'CREATE TABLE deploy_t (i INT)'
check "app account cannot ALTER" \
    app_cannot 'ALTER TABLE users ADD COLUMN x INT'
check "app account cannot DROP" \
    app_cannot 'DROP TABLE fee_accounts'
check "app account sees no other database" \
    test "$(app_sql 'SHOW DATABASES' | grep -cv -e '^payd$' \
    -e '^information_schema$')" = 0

# Widened by hand, narrowed back by a re-run.
sql "GRANT ALL PRIVILEGES ON *.* TO 'payd'@'localhost' WITH GRANT OPTION"
check "install.sh runs (3rd, after widening the grants)" run_install 3
check "3rd run narrows the grants back" grep -q 'narrowed' "$T/install3.log"
check "3rd run takes the owner's TRIGGER right back (008)" \
    test "$(sql "SHOW GRANTS FOR payd_owner@'%'" | grep -c TRIGGER)" = 0
check "after narrowing, the app account cannot CREATE" \
    app_cannot 'CREATE TABLE deploy_t (i INT)'
check "after narrowing, the app account cannot UPDATE a balance" \
    app_denied "UPDATE users SET balance = balance + 100"
check "after narrowing: no global right, no GRANT OPTION" \
    test "$(sql "SHOW GRANTS FOR 'payd'@'localhost'" |
    grep -v '^GRANT USAGE ON \*\.\* TO ' |
    grep -c -e 'ON \*\.\* TO' -e 'GRANT OPTION')" = 0

# make bench's tools (what tests/bench/run.sh requires) come from packages
# that make deps installs, as make run's and make test's do.
bench_tools_installed() {
	sh deploy/deps.sh --list >"$T/pkgs"
	tools=$(sed -n 's/.*command -v \([a-z0-9_-]*\) .*/\1/p' \
	    tests/bench/run.sh)
	[ -n "$tools" ] || return 1
	for t in $tools; do
		p=$(command -v "$t") || { echo "$t: not installed" >&2; return 1; }
		pkg=$(dpkg -S "$(readlink -f "$p")" 2>/dev/null | head -n 1 |
		    cut -d: -f1)
		grep -qx "$pkg" "$T/pkgs" ||
		    { echo "$t ($pkg) is not in deploy/deps.sh" >&2; return 1; }
	done
}
check "deploy/deps.sh installs the tools of make bench" bench_tools_installed

# The example configuration documents every key of app/config.c.
sed -n '/config_keys\[\] = {/,/^};/p' app/config.c |
    grep -o '{"[a-z_]*"\|("[a-z_]*"' | tr -d '{("' | sort >"$T/keys.src"
sed -n 's/^#\([a-z_][a-z_]*\) =.*/\1/p' deploy/payd.conf.example | sort \
    >"$T/keys.example"
check "payd.conf.example lists every key of config.c" \
    cmp -s "$T/keys.src" "$T/keys.example"
sed -e '/jwt_secret/d' -e 's/^#\([a-z_][a-z_]* =\)/\1/' \
    deploy/payd.conf.example >"$T/example.conf"
check "payd.conf.example's defaults all load" logged "$T/example.log" \
    env PAYD_DEV_MODE=1 build/payd -c "$T/example.conf" check-config

# systemd: the units as systemd would load them, in a root holding the
# distribution's units and the binaries the units name.
if command -v systemd-analyze >/dev/null 2>&1; then
	v=$T/vroot
	mkdir -p "$v/etc/systemd/system" "$v/usr/lib/systemd" "$v/usr/bin" \
	    "$v/usr/sbin" "$v/usr/local/bin"
	ln -s usr/bin "$v/bin"
	cp -R /usr/lib/systemd/system "$v/usr/lib/systemd/"
	cp "$D/etc/systemd/system/payd.service" \
	    "$D/etc/systemd/system/payd-nginx.service" "$v/etc/systemd/system/"
	cp "$D/usr/local/bin/payd" "$v/usr/local/bin/"
	cp "$(command -v nginx)" "$v/usr/sbin/nginx"
	cp /bin/kill "$v/usr/bin/kill"
	systemd-analyze verify --root="$v" payd.service payd-nginx.service \
	    >"$T/verify.log" 2>&1
	rc=$?
	check "systemd-analyze verify: no error, no warning" \
	    test "$rc" -eq 0 -a ! -s "$T/verify.log"
	[ -s "$T/verify.log" ] && sed 's/^/#   /' "$T/verify.log"
	for u in payd payd-nginx; do
		systemd-analyze security --offline=yes --root="$v" \
		    "$u.service" >"$T/security-$u.log" 2>&1
		lvl=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' \
		    "$T/security-$u.log")
		echo "# systemd-analyze security $u.service: ${lvl:-?}"
	done
	lvl=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' \
	    "$T/security-payd.log")
	check "payd.service exposure level ${lvl:-?} is at most 1.5" \
	    awk -v l="${lvl:-99}" 'BEGIN { exit !(l <= 1.5) }'
else
	# deploy/deps.sh installs systemd: its absence is a failure.
	check "systemd-analyze present (package systemd)" false
fi

# The derived nginx configuration: production paths, then the same file
# with the staging root in front of its paths, checked by nginx -t.
nconf=$D/etc/payd/nginx/nginx.conf
check "nginx.conf derived with no placeholder left" \
    sh -c "test -f '$nconf' && ! grep -q '^[^#]*@@' '$nconf'"
check "nginx.conf runs workers as www-data" grep -q '^user www-data;' "$nconf"
check "nginx.conf points at /run/payd/payd.sock" \
    grep -q 'server unix:/run/payd/payd.sock max_fails=3 fail_timeout=5s;' "$nconf"
check "nginx.conf includes from /etc/payd/nginx" \
    grep -q 'include /etc/payd/nginx/fastcgi.conf;' "$nconf"
# The docs state the upstream settings the installer writes, and no other.
docs_upstream() {
	want=$(grep -o 'max_fails=[0-9]* fail_timeout=[0-9]*s' "$nconf" | sort -u)
	got=$(cat README.md docs/*.md |
	    grep -o 'max_fails=[0-9]* fail_timeout=[0-9]*s' | sort -u)
	if [ -z "$want" ] || [ "$got" != "$want" ]; then
		echo "docs: '$got', nginx.conf: '$want'" >&2
		return 1
	fi
}
check "the docs state nginx's max_fails and fail_timeout as installed" \
    docs_upstream
mkdir -p "$D/run/payd-nginx" "$D/var/log/payd-nginx" "$D/run/payd" \
    "$D/var/log/payd"
stage_nginx_conf() { # port [user]
	sed -e "s|^user www-data;|user ${2:-root};|" \
	    -e "s|/run/payd-nginx|$D/run/payd-nginx|g" \
	    -e "s|/var/log/payd-nginx|$D/var/log/payd-nginx|g" \
	    -e "s|/etc/payd/nginx/|$D/etc/payd/nginx/|g" \
	    -e "s|/usr/local/share/payd/web|$D/usr/local/share/payd/web|g" \
	    -e "s|/usr/local/share/payd/docs|$D/usr/local/share/payd/docs|g" \
	    -e "s|unix:/run/payd/payd.sock|unix:$D/run/payd/payd.sock|" \
	    -e "s|listen 80;|listen 127.0.0.1:$1;|" "$nconf" \
	    >"$T/nginx-stage.conf"
}
stage_nginx_conf 80
check "staged nginx.conf: nginx -t" nginx -q -t -c "$T/nginx-stage.conf" \
    -e "$T/nginx-t.log"
if command -v logrotate >/dev/null 2>&1; then
	sed "s|/var/log/|$D/var/log/|" "$D/etc/logrotate.d/payd" \
	    >"$T/logrotate.conf"
	check "logrotate snippet parses (logrotate -d)" \
	    logged "$T/logrotate.log" logrotate -d \
	    -s "$T/logrotate.state" "$T/logrotate.conf"
else
	check "logrotate present (package logrotate)" false
fi

# The socket's directory, as systemd makes it (RuntimeDirectory, payd:payd
# 0750): nginx's www-data gets in only through its group payd.
chown "$payd_uid:$payd_gid" "$D/run/payd" "$D/var/log/payd"
chmod 750 "$D/run/payd" "$D/var/log/payd"
check "www-data with the group payd can reach /run/payd" \
    setpriv --reuid=33 --regid=33 --groups="$payd_gid" test -x "$D/run/payd"
check "www-data without the group payd cannot" \
    sh -c "! setpriv --reuid=33 --regid=33 --clear-groups \
    test -x '$D/run/payd'"

# payd serve as the unit runs it: user payd, no capabilities, no new
# privileges, UMask=0077, and a notify socket where systemd's would be.
nsock=$T/notify.sock
socat -u UNIX-RECV:"$nsock" - >"$T/notify.out" 2>"$T/socat.err" &
socat_pid=$!
stack_wait_file "$nsock" 50
chmod 666 "$nsock"
notified() { # message count tries(0.1 s)
	i=0
	while [ "$(grep -o "$1" "$T/notify.out" | wc -l)" -lt "$2" ]; do
		i=$((i + 1))
		[ "$i" -ge "$3" ] && return 1
		sleep 0.1
	done
	return 0
}
plog=$D/var/log/payd/payd.log
# shellcheck disable=SC2016 # $0 and $1 belong to the inner shell
NOTIFY_SOCKET=$nsock PAYD_LISTEN=$D/run/payd/payd.sock PAYD_WORKERS=2 \
    PAYD_LOG_FILE=$plog \
    setpriv --reuid="$payd_uid" --regid="$payd_gid" --clear-groups \
    --no-new-privs --inh-caps=-all --bounding-set=-all \
    sh -c 'umask 077; exec "$0" -c "$1" serve' \
    "$D/usr/local/bin/payd" "$conf" 2>"$T/serve.err" &
serve_pid=$!
check "payd serve sends READY=1" notified 'READY=1' 1 100
check "payd serve sends MAINPID" grep -q "MAINPID=$serve_pid" "$T/notify.out"
check "socket created in /run/payd" test -S "$D/run/payd/payd.sock"
check "socket is 0660 payd:payd (nginx's user is in the group)" \
    test "$(stat -c %a:%u:%g "$D/run/payd/payd.sock")" = \
    "660:$payd_uid:$payd_gid"
check "log file created 0600 (UMask=0077)" test "$(mode "$plog")" = 600

# A request through the installed nginx configuration to the installed app
# with the installer's database account.
nginx_up() { # user [command prefix...]: on a free port, sets $port
	nu=$1
	shift
	tries=0
	while :; do
		# Below the ephemeral range (32768-60999), where the clients
		# of other stacks on this machine hold their local ports.
		port=$(($(od -An -N2 -tu2 /dev/urandom) % 12000 + 20000))
		stage_nginx_conf "$port" "$nu"
		"$@" nginx -c "$T/nginx-stage.conf" -e "$T/nginx-error.log" \
		    2>>"$T/nginx-start.log" && return 0
		tries=$((tries + 1))
		[ "$tries" -ge 10 ] && return 1
	done
}
# stack_nginx_stop (in cleanup) reads DIR/nginx/nginx.pid.
mkdir -p "$T/nginx"
ln -sf "$D/run/payd-nginx/nginx.pid" "$T/nginx/nginx.pid"
nginx_up root
url=http://127.0.0.1:$port
health() {
	curl -s -m 5 -o "$T/health.out" -w '%{http_code}' "$url/healthz"
}
check "GET /healthz through the installed nginx.conf: 200 db ok" \
    sh -c "test \"\$(curl -s -m 5 -o '$T/health.out' -w '%{http_code}' \
    '$url/healthz')\" = 200 && grep -q '\"ok\"' '$T/health.out'"

# An upgrade under load: the next release (this one, with a routine
# changed in place and a routine of a new name) installed by install.sh
# while the running binary serves transfers: not one fails, and the new
# routine is created before the changed one is replaced (migrate).
api_call() { # path token body: prints the status; the body in $T/api.out
	curl -s -m 30 -o "$T/api.out" -w '%{http_code}' \
	    -H 'Content-Type: application/json' \
	    -H "Authorization: Bearer $2" -d "$3" "$url$1"
}
up_user() { # name: registers, logs in, funds it; prints its token
	cred="{\"username\":\"$1\",\"password\":\"password123\"}"
	[ "$(api_call /register x "$cred")" = 201 ] || return 1
	[ "$(api_call /login x "$cred")" = 200 ] || return 1
	tok=$(sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p' "$T/api.out")
	[ "$(api_call /balance "$tok" '{"amount":"6000.00"}')" = 200 ] ||
	    return 1
	printf '%s' "$tok"
}
# One payer: transfers of 1.00 until told to stop, at most 3000 (the
# 6000.00 each is funded with cover 3000 x 1.75 with nothing received).
up_client() { # token payee statuses
	n=0
	while [ ! -f "$T/up.stop" ] && [ "$n" -lt 3000 ]; do
		curl -s -m 30 -o /dev/null -w '%{http_code}\n' \
		    -H 'Content-Type: application/json' \
		    -H "Authorization: Bearer $1" \
		    -d "{\"to\":\"$2\",\"amount\":\"1.00\"}" "$url/transfer" \
		    >>"$3"
		n=$((n + 1))
	done
}
up_answers() { cat "$T/up1" "$T/up2" 2>/dev/null | wc -l; }
up_more() { # n: waits until n more answers than now
	want=$(($(up_answers) + $1))
	eventually 600 sh -c "[ \$(cat '$T/up1' '$T/up2' 2>/dev/null |
	    wc -l) -ge $want ]"
}
tok1=$(up_user upgrade1) && tok2=$(up_user upgrade2)
check "upgrade: two payers registered and funded" test -n "${tok2:-}"
up_client "$tok1" upgrade2 "$T/up1" &
up1_pid=$!
up_client "$tok2" upgrade1 "$T/up2" &
up2_pid=$!
up_more 40
mkdir -p "$T/next"
cp -R deploy sql web docs nginx.conf README.md "$T/next/"
printf '\n-- The next release: the same interface, another text.\n' \
    >>"$T/next/sql/R__payd_transfer.sql"
cat >"$T/next/sql/R__payd_zz_next.sql" <<'EOF'
-- The next release's new routine (test_install.sh).
CREATE OR REPLACE DEFINER = payd_owner FUNCTION payd_zz_next()
    RETURNS INT
    DETERMINISTIC
    SQL SECURITY DEFINER
    RETURN 1
EOF
check "upgrade: install.sh of the next release while serving" \
    logged "$T/install-next.log" env DESTDIR="$D" \
    PAYD_ADMIN_SOCKET="$db/mysql.sock" PAYD_ADMIN_USER=root \
    PAYD_BIN="$root/build/payd" sh "$T/next/deploy/install.sh"
check "upgrade: the load went on after it" up_more 40
touch "$T/up.stop"
wait "$up1_pid" "$up2_pid"
check "upgrade: every transfer of the load answered 201 ($(up_answers))" \
    sh -c "! cat '$T/up1' '$T/up2' | grep -qvx 201"
check "upgrade: the changed routine was applied again" \
    grep -q 'file=R__payd_transfer.sql applied=1' "$T/install-next.log"
check "upgrade: the new routine was created before it" \
    sh -c "grep -n 'applied=1' '$T/install-next.log' | grep -m1 -q \
    'file=R__payd_zz_next.sql'"
check "upgrade: the ledger is sound after it" logged "$T/audit-up.log" \
    env PAYD_LOG_FILE='' "$D/usr/local/bin/payd" -c "$conf" audit

# Log rotation: the file is renamed, then SIGUSR1 makes the master reopen.
mv "$plog" "$plog.1"
kill -USR1 "$serve_pid"
i=0
while ! grep -q 'event=log_reopen' "$plog" 2>/dev/null && [ "$i" -lt 50 ]; do
	i=$((i + 1))
	sleep 0.1
done
check "SIGUSR1: the master reopens log_file" \
    grep -q 'event=log_reopen' "$plog"
# A request is logged just after its answer is written: wait for its line.
check "SIGUSR1: the workers write their request lines to the new file" \
    sh -c "curl -s -m 5 -o /dev/null '$url/healthz'" &&
    check "... its line is in the new file" \
    eventually 100 grep -q 'event=request' "$plog"

# SIGHUP: RELOADING=1, workers replaced, READY=1 again; the new workers
# write to the new file.
kill -HUP "$serve_pid"
check "SIGHUP: RELOADING=1" notified 'RELOADING=1' 1 100
check "SIGHUP: READY=1 again after the reload" notified 'READY=1' 2 100
reqs=$(grep -c 'event=request' "$plog")
check "after the reload, a request is answered" \
    sh -c "curl -s -m 5 -o /dev/null '$url/healthz'" &&
    check "... and logged in the new file" eventually 100 \
    sh -c "[ \$(grep -c 'event=request' '$plog') -gt $reqs ]"

# SIGTERM: STOPPING=1, a drain, a clean exit, the socket removed.
kill -TERM "$serve_pid"
check "SIGTERM: STOPPING=1" notified 'STOPPING=1' 1 100
i=0
while kill -0 "$serve_pid" 2>/dev/null && [ "$i" -lt 150 ]; do
	i=$((i + 1))
	sleep 0.1
done
if kill -0 "$serve_pid" 2>/dev/null; then
	rc=124
	stop_serve
else
	wait "$serve_pid"
	rc=$?
	serve_pid=""
fi
check "SIGTERM: payd exits 0 within the drain timeout" test "$rc" -eq 0
check "SIGTERM: socket removed" test ! -e "$D/run/payd/payd.sock"
check "SIGTERM: drain logged" grep -q 'event=stop msg=drained' "$plog"
check "serve ran without an error line" \
    sh -c "! grep -h 'level=error' '$plog' '$plog.1' '$T/serve.err'"

# nginx as payd-nginx.service runs it: a root master holding only the
# unit's CapabilityBoundingSet, no new privileges, workers as www-data.
# With payd stopped, the API answers nginx's own JSON 503.
# (The host's www-data is not in the staging group payd: open the socket's
# directory, so that the 503 comes from the missing socket.)
stack_nginx_stop "$T"
chmod 755 "$D/run/payd"
check "nginx starts with the unit's capabilities only" \
    nginx_up www-data setpriv --no-new-privs --inh-caps=-all \
    --bounding-set=-all,+net_bind_service,+setuid,+setgid,+chown,+kill
url=http://127.0.0.1:$port
npid=$(cat "$D/run/payd-nginx/nginx.pid" 2>/dev/null)
workers_www() {
	all=$(pgrep -P "$npid" | wc -l)
	www=$(pgrep -P "$npid" -u www-data | wc -l)
	[ "$all" -gt 0 ] && [ "$all" -eq "$www" ]
}
# A worker just forked is root until it switches: wait for the switch.
check "its workers run as www-data" eventually 100 workers_www
check "GET / serves the installed page with its headers" \
    sh -c "curl -s -m 5 -D '$T/page.h' -o '$T/page.out' '$url/' &&
    grep -q '^HTTP/1.1 200' '$T/page.h' &&
    grep -qi '^content-security-policy:' '$T/page.h' &&
    cmp -s '$T/page.out' '$D/usr/local/share/payd/web/index.html'"
check "GET /openapi.yaml serves the installed document like the page" \
    sh -c "curl -s -m 5 -D '$T/oa.h' -o '$T/oa.out' '$url/openapi.yaml' &&
    grep -q '^HTTP/1.1 200' '$T/oa.h' &&
    grep -qi '^content-type: application/yaml; charset=utf-8' '$T/oa.h' &&
    grep -qi '^content-security-policy:' '$T/oa.h' &&
    grep -qi '^cache-control: no-cache' '$T/oa.h' &&
    cmp -s '$T/oa.out' '$D/usr/local/share/payd/docs/openapi.yaml'"
check "with payd stopped: 503 unavailable, in JSON" \
    sh -c "test \"\$(curl -s -m 5 -o '$T/h503.out' -w '%{http_code}' \
    '$url/healthz')\" = 503 && grep -q '\"unavailable\"' '$T/h503.out'"
old_workers=$(pgrep -P "$npid" | sort)
kill -HUP "$npid"
i=0
while [ "$(pgrep -P "$npid" | sort)" = "$old_workers" ] &&
    [ "$i" -lt 50 ]; do
	i=$((i + 1))
	sleep 0.1
done
check "nginx reload (SIGHUP) replaces its workers" \
    test "$(pgrep -P "$npid" | sort)" != "$old_workers"
check "after the reload: still serving" \
    sh -c "curl -s -m 5 -o /dev/null -w '%{http_code}' '$url/' | grep -qx 200"
check "nginx logged no permission problem" \
    sh -c "! grep -E 'alert|not permitted|Permission denied' \
    '$T/nginx-error.log' '$D/var/log/payd-nginx/nginx-error.log' \
    2>/dev/null"

# Shell scripts stay portable and clean (shellcheck: deploy/deps.sh),
# tests/deploy's with the frame they source (-x: tests/deploy/lib.sh).
check "shellcheck deploy/*.sh tests/deploy/*.sh" \
    shellcheck -x -s sh -e SC1091 deploy/install.sh deploy/deps.sh \
    deploy/grants.sh tests/deploy/test_install.sh tests/deploy/test_run.sh \
    tests/deploy/lib.sh

if [ "$fail" -ne 0 ]; then
	for f in "$T"/install*.log "$T/serve.err" "$plog" \
	    "$T/nginx-error.log" "$T/app-sql.err"; do
		[ -s "$f" ] || continue
		echo "--- $f"
		tail -20 "$f"
	done
fi
finish
