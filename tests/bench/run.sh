#!/bin/sh
# make bench: the service against the limits of the machine, in one run.
#
# Starts a private stack in a temporary directory (MariaDB with the durable
# settings of make run, payd with its workers as shipped, nginx as shipped
# with a high auth rate limit), creates the accounts, logs the senders in
# once, then for each concurrency runs wrk against POST /transfer and
# GET /balance, and beside them the limits: bench-dblimit (the app's own
# transfer transaction straight on the database socket, as many
# connections) and nginx in front of payd-hello (HTTP + FastCGI, no SQL);
# and, for information, bench-dblimit -b 8 with one connection a worker
# (the database running the app's batches of transfers).
# Contention shapes at 64 connections: 10 hot accounts, and every sender
# into one merchant, each beside its database limit. CPU split
# (/proc/<pid>/stat around each run) and the workers' RSS. `payd audit`
# runs after every run and stops the bench when it fails.
# Prints a table and writes it to tests/bench/RESULTS.md (between the
# markers; the rest of that file, "What we tried", is kept).
#
# Usage: tests/bench/run.sh BUILD_DIR. Knobs (environment):
#   BENCH_SECONDS=8          each run's length
#   BENCH_CONNS="1 16 64 256"
#   BENCH_SHAPE_CONNS=64     the contention shapes' concurrency
#   BENCH_ACCOUNTS=10000     accounts; BENCH_SENDERS (all) of them log in
#                            (bench accounts get a cost-4 bcrypt hash: fast logins)
#   BENCH_WORKERS=0          payd and payd-hello workers (0: two per CPU, as shipped)
#   BENCH_LOG_LEVEL=info     payd's log level (as shipped)
#   BENCH_FCGI_KEEPALIVE=0   N > 0: nginx keeps N idle FastCGI connections
#                            per worker (keepalive N; fastcgi_keep_conn on)
#   BENCH_PARTS="transfer dblimit balance hello shapes batch history holds"
#   BENCH_BATCH_CONNS=8      POST /transfers/batch's concurrency
#   BENCH_HISTORY_CONNS=4    GET /statement's and /balance?at='s
#   BENCH_OUT=tests/bench/RESULTS.md ("" writes no file)
#   KEEP=1                   keep the temporary directory
#   BENCH_HOLD=1             set up, then hold the stack up (no runs) until
#                            stopped: for perf, strace and manual wrk runs
set -u
build=${1:-build}
. "$(dirname "$0")/../lib/stack.sh"
root=$STACK_ROOT
case $build in /*) ;; *) build=$root/$build ;; esac
secs=${BENCH_SECONDS:-8}
conns_list=${BENCH_CONNS:-"1 16 64 256"}
shape_conns=${BENCH_SHAPE_CONNS:-64}
accounts=${BENCH_ACCOUNTS:-10000}
senders=${BENCH_SENDERS:-$accounts}
workers=${BENCH_WORKERS:-0}
log_level=${BENCH_LOG_LEVEL:-info}
fcgi_keepalive=${BENCH_FCGI_KEEPALIVE:-0}
parts=${BENCH_PARTS:-"transfer dblimit balance hello shapes batch history holds"}
batch_conns=${BENCH_BATCH_CONNS:-8}
history_conns=${BENCH_HISTORY_CONNS:-4}
out=${BENCH_OUT-$root/tests/bench/RESULTS.md}
password="bench-password-1"
start_minor=100000000 # 1 000 000.00 each: no run drains an account
hz=$(getconf CLK_TCK)
ncpu=$(nproc)

[ "$senders" -le "$accounts" ] || { echo "bench: BENCH_SENDERS > BENCH_ACCOUNTS" >&2; exit 2; }
[ "$senders" -ge 10 ] || { echo "bench: BENCH_SENDERS must be >= 10" >&2; exit 2; }
for b in payd payd-hello bench-dblimit; do
	[ -x "$build/$b" ] || { echo "bench: $build/$b is missing (make bench builds it)" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "bench: wrk is missing (make deps installs it)" >&2; exit 2; }

bdir=$(mktemp -d /tmp/payd-bench.XXXXXX)
chmod 755 "$bdir"
res=$bdir/results
: >"$res"
cleanup() {
	trap - EXIT INT TERM
	[ -n "${hold_pid:-}" ] && kill "$hold_pid" 2>/dev/null
	stack_nginx_stop "$bdir/hello"
	STACK_NAME=hello stack_app_stop "$bdir"
	stack_stop "$bdir"
	if [ "${KEEP:-0}" = 1 ]; then echo "bench: kept $bdir" >&2; else rm -rf "$bdir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

has_part() { case " $parts " in *" $1 "*) return 0 ;; esac; return 1; }
die() { echo "bench: FAILED: $*" >&2; exit 1; }
note() { printf '%s\n' "bench: $*" >&2; }

# --- the stack --------------------------------------------------------
STACK_BIN=$build/payd
export STACK_BIN
note "starting MariaDB, payd (workers=$workers) and nginx in $bdir"
stack_db_start "$bdir" || die "MariaDB did not start"
stack_app_config "$bdir" "workers = $workers" "log_level = $log_level" \
    "token_ttl_s = 3600"
stack_app_start "$bdir" "$build/payd" || die "payd did not start"
ups="server unix:$bdir/payd.sock max_fails=1 fail_timeout=2s;"
[ "$fcgi_keepalive" -gt 0 ] && ups="$ups keepalive $fcgi_keepalive;"
stack_nginx_start "$bdir" auto 100000 100000 "$ups" || die "nginx did not start"
url=$STACK_URL
if [ "$fcgi_keepalive" -gt 0 ]; then
	echo "fastcgi_keep_conn on;" >>"$bdir/nginx/fastcgi.conf"
	nginx -c "$bdir/nginx/nginx.conf" -e "$bdir/nginx-error.log" -s reload ||
	    die "nginx reload"
	sleep 1
fi
# The HTTP + FastCGI limit: payd-hello behind its own nginx, same config.
STACK_NAME=hello stack_app_config "$bdir" "workers = $workers" \
    "log_level = $log_level"
STACK_NAME=hello stack_app_start "$bdir" "$build/payd-hello" ||
    die "payd-hello did not start"
mkdir -p "$bdir/hello"
stack_nginx_start "$bdir/hello" auto 100000 100000 \
    "server unix:$bdir/hello.sock max_fails=1 fail_timeout=2s;" ||
    die "nginx (hello) did not start"
hello_url=$STACK_URL
if [ "$fcgi_keepalive" -gt 0 ]; then
	sed -i "s|fail_timeout=2s;|fail_timeout=2s; keepalive $fcgi_keepalive;|" \
	    "$bdir/hello/nginx/nginx.conf"
	echo "fastcgi_keep_conn on;" >>"$bdir/hello/nginx/fastcgi.conf"
	nginx -c "$bdir/hello/nginx/nginx.conf" -e "$bdir/hello/nginx-error.log" \
	    -s reload || die "nginx (hello) reload"
	sleep 1
fi

# --- the accounts -----------------------------------------------------
note "creating $accounts accounts and a merchant"
code=$(curl -s -o "$bdir/register.out" -w '%{http_code}' -XPOST "$url/register" \
    -H 'Content-Type: application/json' \
    -d "{\"username\":\"bench_proto\",\"password\":\"$password\"}")
[ "$code" = 201 ] || die "register bench_proto: $code $(cat "$bdir/register.out")"
# The bench accounts get a cheap bcrypt hash (cost 4, about 1 ms) of the
# same password: 10 000 logins at yescrypt's 70 ms would take minutes.
# bench_proto keeps the yescrypt hash of POST /register.
salt=$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 22)
hash=$(perl -e 'print crypt($ARGV[0], "\$2b\$04\$" . $ARGV[1])' "$password" "$salt")
case $hash in '$2b$04$'*) ;; *) die "could not make a bcrypt hash" ;; esac
{
	echo "SET @n = $accounts, @start_minor = $start_minor, @hash = '$hash';"
	cat "$root/tests/bench/seed.sql"
} | mariadb --no-defaults -S "$bdir/mysql.sock" -uroot payd ||
    die "seed.sql"
first=$(stack_sql "$bdir" "SELECT id FROM payd.users WHERE username = 'bench_1'")
last=$(stack_sql "$bdir" "SELECT id FROM payd.users WHERE username = 'bench_$accounts'")
count=$(stack_sql "$bdir" "SELECT COUNT(*) FROM payd.users WHERE id BETWEEN
    '$first' AND '$last' AND username LIKE 'bench\\_%'")
merchant=$(stack_sql "$bdir" "SELECT id FROM payd.users WHERE username = 'bench_merchant'")
[ -n "$first" ] && [ $((last - first + 1)) -eq "$accounts" ] &&
    [ "$count" -eq "$accounts" ] && [ -n "$merchant" ] ||
    die "the bench accounts are not ids $first..$last ($count)"
"$build/payd" -c "$bdir/payd.conf" audit >"$bdir/audit.log" 2>&1 ||
    { cat "$bdir/audit.log" >&2; die "audit after the seed"; }

# One account with a year of history, 100 000 entries, for GET
# /statement and GET /balance?at= (tests/bench/history.sql); it logs in
# once. hist_t0 is the time of its first entry.
if has_part history; then
	note "seeding bench_history: 100 000 entries over a year"
	hist_t0=$({ echo "SET time_zone = '+00:00', @hash = '$hash';"
		cat "$root/tests/bench/history.sql"; } |
	    mariadb --no-defaults -S "$bdir/mysql.sock" -uroot -N payd) ||
	    die "history.sql"
	hist_token=$(curl -s -XPOST "$url/login" -H 'Content-Type: application/json' \
	    -d "{\"username\":\"bench_history\",\"password\":\"$password\"}" |
	    sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
	[ -n "$hist_token" ] || die "bench_history could not log in"
	"$build/payd" -c "$bdir/payd.conf" audit >"$bdir/audit.log" 2>&1 ||
	    { cat "$bdir/audit.log" >&2; die "audit after history.sql"; }
fi

# Each sender logs in once through nginx: "token user_id" per line, in id
# order, so that the first ten lines are the ten hot accounts. Four curl
# processes, each one kept-alive connection and one login after another.
note "logging $senders senders in"
t0=$(date +%s)
chunk=$(( (senders + 3) / 4 ))
for k in 0 1 2 3; do
	lo=$((k * chunk + 1))
	hi=$(( (k + 1) * chunk ))
	[ "$hi" -gt "$senders" ] && hi=$senders
	[ "$lo" -gt "$hi" ] && continue
	seq "$lo" "$hi" | awk -v u="$url/login" -v pw="$password" '{
		if (NR > 1) print "next"
		printf "url = \"%s\"\nheader = \"Content-Type: application/json\"\n", u
		printf "data = \"{\\\"username\\\":\\\"bench_%d\\\",\\\"password\\\":\\\"%s\\\"}\"\n", $1, pw
		printf "write-out = \"\\n\"\n" }' >"$bdir/login.$k.curl"
	(curl -s -K "$bdir/login.$k.curl" |
	    sed -n 's/.*"token":"\([^"]*\)".*/\1/p' |
	    awk -v id=$((first + lo - 1)) '{ print $1, id++ }' >"$bdir/tokens.$k") &
	login_pids="${login_pids:-} $!"
done
# Only these: a bare wait would wait for MariaDB and payd too.
for p in $login_pids; do wait "$p"; done
cat "$bdir"/tokens.? >"$bdir/tokens"
n=$(wc -l <"$bdir/tokens")
[ "$n" -eq "$senders" ] || die "only $n of $senders senders logged in"
note "logged in $n senders in $(( $(date +%s) - t0 )) s"
BENCH_TOKENS=$bdir/tokens
export BENCH_TOKENS
if [ "${BENCH_HOLD:-0}" = 1 ]; then
	# For investigation: the stack stays up until this script is stopped.
	note "holding: url=$url hello=$hello_url dir=$bdir first=$first last=$last merchant=$merchant"
	echo "url=$url hello=$hello_url dir=$bdir first=$first last=$last merchant=$merchant" >"$bdir/hold"
	# A wait is interrupted by a signal, so the cleanup runs at once.
	while :; do
		sleep 3600 &
		hold_pid=$!
		wait "$hold_pid"
	done
fi

# --- measuring --------------------------------------------------------
# CPU ticks (utime + stime) of a process and its children.
proc_ticks() { # pid...
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] && sed 's/^.*) //' "/proc/$p/stat"
	done | awk '{ t += $12 + $13 } END { print t + 0 }'
}
tree() { # pidfile: the process and its children
	[ -f "$1" ] || return 0
	p=$(cat "$1")
	echo "$p" $(ps -o pid= --ppid "$p" 2>/dev/null)
}
machine_ticks() { # busy and total, all CPUs
	awk '/^cpu /{ b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6 }' /proc/stat
}
# nginx payd mariadb busy total, for the stack a run talks to.
# The window's wall time is the divisor: for bench-dblimit it includes its
# processes connecting and preparing, a fraction of a second.
cpu_snapshot() { # nginx-pidfile app-pidfile
	echo "$(proc_ticks $(tree "$1")) $(proc_ticks $(tree "$2"))" \
	    "$(proc_ticks "$(cat "$bdir/mysqld.pid")") $(machine_ticks)" \
	    "$(date +%s%N)"
}
# InnoDB's row-lock waits so far, and the milliseconds spent in them: every
# row (users, fee sub-accounts, keys), whoever waited.
lock_snapshot() {
	stack_sql "$bdir" "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS
	    WHERE VARIABLE_NAME IN ('INNODB_ROW_LOCK_WAITS', 'INNODB_ROW_LOCK_TIME')
	    ORDER BY VARIABLE_NAME DESC" | tr '\n' ' '
}
lock_delta() { # before after: "lock_waits=N lock_ms=M" of the window
	echo "$1 $2" | awk '{ printf "lock_waits=%d lock_ms=%d", $3 - $1, $4 - $2 }'
}
audit() { # after-what
	if ! "$build/payd" -c "$bdir/payd.conf" audit >"$bdir/audit.log" 2>&1; then
		cat "$bdir/audit.log" >&2
		die "payd audit failed after $1"
	fi
}
# Records one run: label conns and the RESULT line, with the CPU split.
record() { # label conns before after result-line
	echo "label=$1 conns=$2 $5" | tr -d '\r' |
	    awk -v b="$3" -v a="$4" -v hz="$hz" '{
		split(b, x, " "); split(a, y, " ")
		for (i = 1; i <= 6; i++) d[i] = y[i] - x[i]
		dur = d[6] / 1e9
		if (dur <= 0) dur = 1
		rest = d[4] - d[1] - d[2] - d[3]
		if (rest < 0) rest = 0
		printf "%s cpu_nginx=%.0f cpu_app=%.0f cpu_db=%.0f cpu_rest=%.0f cpu_idle=%.0f\n",
		    $0, 100 * d[1] / hz / dur, 100 * d[2] / hz / dur,
		    100 * d[3] / hz / dur, 100 * rest / hz / dur,
		    100 * (d[5] - d[4]) / hz / dur
	}' >>"$res"
	tail -1 "$res" | sed 's/^/  /' >&2
}
wrk_run() { # label conns script url [env...]
	label=$1 c=$2 script=$3 u=$4
	shift 4
	th=2
	[ "$c" -lt 2 ] && th=1
	locks=$(lock_snapshot)
	if [ "$label" = hello ] || [ "$label" = hello_warm ]; then
		before=$(cpu_snapshot "$bdir/hello/nginx/nginx.pid" "$bdir/hello.pid")
	else
		before=$(cpu_snapshot "$bdir/nginx/nginx.pid" "$bdir/payd.pid")
	fi
	line=$(env BENCH_LUA_DIR="$root/tests/bench" "$@" wrk -t"$th" -c"$c" -d"${secs}s" --timeout 10s \
	    -s "$root/tests/bench/$script" "$u" 2>"$bdir/wrk.err" | grep '^RESULT') ||
	    { cat "$bdir/wrk.err" >&2; die "wrk $label c=$c printed no result"; }
	if [ "$label" = hello ] || [ "$label" = hello_warm ]; then
		after=$(cpu_snapshot "$bdir/hello/nginx/nginx.pid" "$bdir/hello.pid")
	else
		after=$(cpu_snapshot "$bdir/nginx/nginx.pid" "$bdir/payd.pid")
	fi
	record "$label" "$c" "$before" "$after" \
	    "${line#RESULT } $(lock_delta "$locks" "$(lock_snapshot)")"
}
db_run() { # label conns dblimit-args...
	label=$1 c=$2
	shift 2
	locks=$(lock_snapshot)
	before=$(cpu_snapshot /nonexistent /nonexistent)
	line=$("$build/bench-dblimit" -c "$bdir/payd.conf" -n "$c" -t "$secs" "$@" \
	    2>"$bdir/dblimit.err" | grep '^RESULT') ||
	    { tail "$bdir/dblimit.err" >&2; die "dblimit $label c=$c failed"; }
	after=$(cpu_snapshot /nonexistent /nonexistent)
	record "$label" "$c" "$before" "$after" \
	    "${line#RESULT } $(lock_delta "$locks" "$(lock_snapshot)")"
}
rss_kib() { # pidfile: "pid:rss_kib" of each child
	for p in $(ps -o pid= --ppid "$(cat "$1")"); do
		printf '%s:%s ' "$p" "$(awk '/^VmRSS/{ print $2 }' "/proc/$p/status")"
	done
}

all=$first-$last
to_all="BENCH_TO_MIN=$first BENCH_TO_MAX=$last"
hot_last=$((first + 9))
snd_last=$((first + senders - 1))

note "warming up (3 s, not recorded)"
secs_saved=$secs
secs=3
wrk_run warm 16 transfer.lua "$url" $to_all >/dev/null 2>&1
wrk_run warm 16 balance.lua "$url" >/dev/null 2>&1
secs=$secs_saved
audit "the warm-up"
rss_first=$(rss_kib "$bdir/payd.pid")

for c in $conns_list; do
	if has_part transfer; then
		note "POST /transfer, $c connections"
		wrk_run transfer "$c" transfer.lua "$url" $to_all
		audit "POST /transfer c=$c"
	fi
	if has_part dblimit; then
		note "database limit, $c connections"
		db_run dblimit "$c" -s "$first" -S "$snd_last" -r "$first" -R "$last"
		audit "the database limit c=$c"
	fi
done
if has_part dblimit; then
	# The database with batches as the workers make them: one connection a
	# worker, 8 transfers a transaction (informative; no target).
	nw=$(ps -o pid= --ppid "$(cat "$bdir/payd.pid")" | wc -l)
	note "database with batches of 8, $nw connections"
	db_run dblimit_batch "$nw" -b 8 -s "$first" -S "$snd_last" -r "$first" -R "$last"
	audit "the database with batches"
fi
for c in $conns_list; do
	if has_part balance; then
		note "GET /balance, $c connections"
		wrk_run balance "$c" balance.lua "$url"
		audit "GET /balance c=$c"
	fi
	if has_part hello; then
		note "HTTP + FastCGI limit, $c connections"
		wrk_run hello "$c" balance.lua "$hello_url"
	fi
done
if has_part holds; then
	# Holds and refunds beside POST /transfer at the shapes' concurrency:
	# each pair (a hold and its capture, a transfer and its refund) is two
	# requests of one script.
	c=$shape_conns
	note "POST /holds then its capture, $c connections"
	wrk_run hold_capture "$c" hold_capture.lua "$url"
	audit "hold_capture c=$c"
	note "POST /transfer then its refund, $c connections"
	wrk_run refund "$c" refund.lua "$url"
	audit "refund c=$c"
fi
if has_part shapes; then
	c=$shape_conns
	note "hot rows: 10 accounts, $c connections"
	wrk_run hot10 "$c" transfer.lua "$url" BENCH_SENDERS=10 \
	    BENCH_TO_MIN="$first" BENCH_TO_MAX="$hot_last"
	audit "hot10"
	db_run hot10_db "$c" -s "$first" -S "$hot_last" -r "$first" -R "$hot_last"
	audit "hot10_db"
	note "hot account: $senders senders into one merchant, $c connections"
	wrk_run merchant "$c" transfer.lua "$url" BENCH_TO_FIXED="$merchant"
	audit "merchant"
	db_run merchant_db "$c" -s "$first" -S "$snd_last" -r "$merchant" -R "$merchant"
	audit "merchant_db"
fi
if has_part batch; then
	# Transfers/s through POST /transfers/batch: its rps times the items.
	for n in 100 1000; do
		# The database limit: the same batches (atomic) through
		# ledger_batch_run() on as many direct connections, no HTTP.
		note "database limit: payd_payout of $n, $batch_conns connections"
		db_run "payoutdb$n" "$batch_conns" -P "$n" -s "$first" \
		    -S "$snd_last" -r "$first" -R "$last"
		audit "the database limit of batches of $n"
		for a in true false; do
			note "POST /transfers/batch of $n, atomic $a, $batch_conns connections"
			wrk_run "batch${n}_$a" "$batch_conns" batch.lua "$url" $to_all \
			    BENCH_BATCH_N="$n" BENCH_BATCH_ATOMIC="$a"
			audit "batch of $n atomic $a"
		done
	done
fi
if has_part history; then
	# bench_history's ranges, 200 days after its first entry: 30 days
	# (8228 entries) and 36 days (9874, near a statement's 10000).
	f=$(date -u -d "@$((hist_t0 + 200 * 86400))" +%Y-%m-%dT%H:%M:%SZ)
	t30=$(date -u -d "@$((hist_t0 + 230 * 86400))" +%Y-%m-%dT%H:%M:%SZ)
	t36=$(date -u -d "@$((hist_t0 + 236 * 86400))" +%Y-%m-%dT%H:%M:%SZ)
	note "GET /statement of 30 days, $history_conns connections"
	wrk_run statement30 "$history_conns" history.lua "$url" \
	    BENCH_HISTORY_TOKEN="$hist_token" BENCH_HISTORY_PATH="/statement?from=$f&to=$t30"
	note "GET /statement of 36 days (9874 entries), $history_conns connections"
	wrk_run statement36 "$history_conns" history.lua "$url" \
	    BENCH_HISTORY_TOKEN="$hist_token" BENCH_HISTORY_PATH="/statement?from=$f&to=$t36"
	note "GET /balance?at= over the year, $history_conns connections"
	wrk_run balance_at "$history_conns" history.lua "$url" \
	    BENCH_HISTORY_TOKEN="$hist_token" BENCH_HISTORY_PATH= \
	    BENCH_AT_MIN="$hist_t0" BENCH_AT_MAX="$((hist_t0 + 364 * 86400))"
	audit "the history reads"
fi
rss_last=$(rss_kib "$bdir/payd.pid")
retries=$(grep -c 'event=db_retry ' "$bdir/payd.log" || true)
slow=$(grep -c 'event=slow_request' "$bdir/payd.log" || true)
app_workers=$(ps -o pid= --ppid "$(cat "$bdir/payd.pid")" | wc -l)

# --- the report -------------------------------------------------------
export ncpu secs accounts senders workers app_workers log_level \
    fcgi_keepalive rss_first rss_last retries slow shape_conns
date_utc=$(date -u +%Y-%m-%dT%H:%MZ)
kernel=$(uname -r)
cpu_model=$(awk -F': ' '/^model name/{ print $2; exit }' /proc/cpuinfo)
mariadb_v=$(mariadbd --version | awk '{ print $3 }')
nginx_v=$(nginx -v 2>&1 | sed 's|.*/||')
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "?")
dirty=$(git -C "$root" status --porcelain -- app include nginx.conf deploy 2>/dev/null | wc -l)
[ "$dirty" -gt 0 ] && commit="$commit+changes"
export date_utc kernel cpu_model mariadb_v nginx_v commit
awk -f "$root/tests/bench/report.awk" "$res" >"$bdir/report.md" ||
    die "report"
cat "$bdir/report.md"
if [ -n "$out" ]; then
	begin='<!-- bench:begin -->'
	end='<!-- bench:end -->'
	if [ -f "$out" ] && grep -q "$begin" "$out"; then
		awk -v b="$begin" -v e="$end" -v f="$bdir/report.md" '
		    $0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
		    $0 == e { skip = 0 }
		    !skip' "$out" >"$bdir/out.md" && cp "$bdir/out.md" "$out"
	else
		{ echo "# make bench"; echo; echo "$begin"; cat "$bdir/report.md"; echo "$end"; } >"$out"
	fi
	note "written to $out"
fi
grep -q '^FAIL' "$bdir/report.md" && note "some targets were missed (see above)"
exit 0
