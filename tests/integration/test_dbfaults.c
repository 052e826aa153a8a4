/*
 * Goal: a database fault in the middle of a request never costs money or
 * a worker (API.md Faults: a 5xx never moves money afterwards). The
 * connection of the worker serving a transfer is killed (KILL, KILL
 * QUERY) at each point of its life; a lock is held past nginx's timeout
 * while more transfers wait than a worker takes at once; a table's
 * metadata lock is held; a procedure answers a result of another shape.
 * Every answer a client gets matches the ledger exactly, and every worker
 * is still the one that was there.
 *
 * The points in a request are reached without a hook in the app: the test
 * holds a row lock, a metadata lock or a named lock (GET_LOCK) on its own
 * connection, and a trigger or a wrapping procedure that it creates as
 * root (and drops again) waits on that lock where the app must pause.
 */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"

Suite *dbfaults_suite(void);

/* What the root client is, and the database it opens. */
#define DBF_SQL                                                                \
	"mariadb --no-defaults -S \"$STACK_DIR/mysql.sock\" -uroot -N -B "     \
	"payd"
/* Polls of 0.1 s before a wait gives up: generous, bounded. */
#define DBF_POLLS 600
/* More transfers than a worker takes at once (WORKER_BATCH_MAX is 8). */
#define DBF_CLIENTS 32
#define DBF_PAYERS 8

static void routines_restore(void);

/* Each test starts with the routines of sql/ and no trigger of ours. */
static void
setup(void)
{
	resp_setup();
	routines_restore();
}

/*
 * Runs sql as root; the first line of its output (tab-separated) into out
 * (may be NULL). Returns the client's exit status.
 */
static int
sql_line(char *out, size_t size, const char *fmt, ...)
{
	char sql[8192], line[1024] = "";
	va_list ap;
	FILE *fp;
	int st;

	va_start(ap, fmt);
	(void)vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	setenv("DBF_QUERY", sql, 1);
	/* One text for the server: a routine's body has ";" inside. */
	fp = popen(DBF_SQL " --delimiter='$$' -e \"$DBF_QUERY\"", "r");
	ck_assert_ptr_nonnull(fp);
	if (fgets(line, sizeof(line), fp) == NULL)
		line[0] = '\0';
	while (fgetc(fp) != EOF)
		;
	st = pclose(fp);
	line[strcspn(line, "\n")] = '\0';
	if (out != NULL)
		(void)snprintf(out, size, "%s", line);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The first line of sql's output as a number, or -1. */
static long long
sql_num(const char *sql)
{
	char out[64];

	if (sql_line(out, sizeof(out), "%s", sql) != 0 || out[0] == '\0')
		return -1;
	return atoll(out);
}

/* A root session that holds a lock until holder_release(). */
struct holder {
	FILE *fp;
	long long id;
};

/*
 * Opens a root session that runs lock_sql (which must answer one row whose
 * first field is 1 once the lock is held), then sleeps holding it.
 */
static void
holder_start(struct holder *h, const char *lock_sql)
{
	char line[256];
	char sql[2048];

	(void)snprintf(sql, sizeof(sql),
	    "SELECT CONNECTION_ID(); %s; DO SLEEP(3600)", lock_sql);
	setenv("DBF_HOLD", sql, 1);
	h->fp = popen(DBF_SQL " -n -e \"$DBF_HOLD\" 2>/dev/null", "r");
	ck_assert_ptr_nonnull(h->fp);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), h->fp));
	h->id = atoll(line);
	ck_assert_int_gt(h->id, 0);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), h->fp));
	ck_assert_msg(atoll(line) == 1, "lock not taken: %s", line);
}

/* Ends the session: its transaction rolls back, its locks go. */
static void
holder_release(struct holder *h)
{
	ck_assert_int_eq(sql_line(NULL, 0, "KILL %lld", h->id), 0);
	(void)pclose(h->fp);
	h->fp = NULL;
}

/* Waits until sql answers a row; returns its first field as a number. */
static long long
wait_row(const char *sql)
{
	for (int i = 0; i < DBF_POLLS; i++) {
		long long v = sql_num(sql);

		if (v >= 0)
			return v;
		usleep(100000);
	}
	ck_abort_msg("never: %s", sql);
	return -1;
}

/* The app's statement that waits where the test holds it. */
static long long
wait_app_stmt(const char *state_like)
{
	char sql[512];

	/* A trigger or routine runs as its definer: its USER is root. */
	(void)snprintf(sql, sizeof(sql),
	    "SELECT ID FROM information_schema.PROCESSLIST WHERE "
	    "COMMAND = 'Execute' AND STATE LIKE '%s' LIMIT 1",
	    state_like);
	return wait_row(sql);
}

/* Waits until no statement of the app runs any more. */
static void
wait_app_idle(void)
{
	ck_assert_int_eq(
	    wait_row("SELECT 1 FROM DUAL WHERE (SELECT COUNT(*) FROM "
	             "information_schema.PROCESSLIST WHERE "
	             "COMMAND = 'Execute') = 0"),
	    1);
}

/* The workers of both app instances, sorted, space-separated. */
static void
app_workers(char *out, size_t size)
{
	FILE *fp =
	    popen("for m in \"$STACK_DIR\"/payd*.pid; do "
	          "pgrep -P \"$(cat \"$m\")\"; done | sort | tr '\\n' ' '",
	        "r");

	ck_assert_ptr_nonnull(fp);
	if (fgets(out, (int)size, fp) == NULL)
		out[0] = '\0';
	(void)pclose(fp);
	ck_assert_int_gt(strlen(out), 0);
}

/* Puts the routines of sql/ back as migrate applies them. */
static void
routines_restore(void)
{
	ck_assert_int_eq(sql_line(NULL, 0,
	                     "DROP TRIGGER IF EXISTS payd_test_pause; "
	                     "DROP PROCEDURE IF EXISTS payd_test_real; "
	                     "DELETE FROM schema_routines"),
	    0);
	ck_assert_int_eq(
	    stack_cmd(
	        "PAYD_DB_SOCKET=\"$STACK_DIR/mysql.sock\" "
	        "PAYD_DB_USER=root PAYD_DB_PASSWORD= "
	        "PAYD_SQL_DIR=\"$STACK_ROOT/sql\" PAYD_DEV_MODE=1 "
	        "\"$PAYD_BIN\" migrate >>\"$STACK_DIR/migrate.log\" 2>&1"),
	    0);
}

/* A request sent by a child process; its status in shared memory. */
static long *
send_start(pid_t *pid, const char *token, const char *body, const char *key)
{
	long *status = mmap(NULL, sizeof(*status), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(status, MAP_FAILED);
	*status = -1;
	*pid = fork();
	ck_assert_int_ge(*pid, 0);
	if (*pid == 0) {
		struct resp *r = malloc(sizeof(*r));
		char hdr[300];
		const char *extra[] = {hdr, NULL};

		(void)snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s",
		    key != NULL ? key : "");
		if (r != NULL && api("POST", "/transfer", token, body,
		                     key != NULL ? extra : NULL, r) == 0)
			*status = r->status;
		_exit(0);
	}
	return status;
}

static long
send_wait(pid_t pid, long *status)
{
	long st;

	(void)waitpid(pid, NULL, 0);
	st = *status;
	munmap(status, sizeof(*status));
	return st;
}

/* Two users: a payer with 100.00 and a payee; their names and tokens. */
struct pair {
	char payer[40], payee[40];
	char tok[1024], tok_payee[1024];
	long long payer_id, payee_id;
	char body[128];
};

static void
pair_new(struct pair *p)
{
	unique_name("dbf", p->payer, sizeof(p->payer));
	unique_name("dbg", p->payee, sizeof(p->payee));
	p->payer_id = register_login(p->payer, p->tok);
	p->payee_id = register_login(p->payee, p->tok_payee);
	ck_assert_int_gt(p->payer_id, 0);
	ck_assert_int_gt(p->payee_id, 0);
	ck_assert_int_eq(top_up(p->tok, "100.00"), 200);
	(void)snprintf(p->body, sizeof(p->body),
	    "{\"to\":\"%s\",\"amount\":\"1.00\"}", p->payee);
}

/* The payee's balance and the number of movements it received. */
static void
pair_check(const struct pair *p, const char *payee_balance, long long moves)
{
	char bal[32];

	ck_assert_str_eq(
	    balance_of(p->tok_payee, bal, sizeof(bal)), payee_balance);
	{
		char sql[256];

		(void)snprintf(sql, sizeof(sql),
		    "SELECT COUNT(*) FROM entries WHERE account_kind = "
		    "'user' AND account_id = %lld",
		    p->payee_id);
		ck_assert_int_eq(sql_num(sql), moves);
	}
	ck_assert_int_eq(run_audit(), 0);
}

/*
 * The transfer again with the same key once the fault is gone: 201, the
 * money moved once, and the workers are those of before.
 */
static void
pair_again(const struct pair *p, const char *key, const char *before)
{
	char hdr[128], after[256];

	(void)snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key);
	ck_assert_int_eq(api("POST", "/transfer", p->tok, p->body,
	                     (const char *[]){hdr, NULL}, R),
	    0);
	ck_assert_msg(R->status == 201, "%ld %s", R->status, R->body);
	pair_check(p, "1.00", 1);
	app_workers(after, sizeof(after));
	ck_assert_str_eq(after, before);
}

/*
 * KILL (or KILL QUERY) of the connection while its keyed CALL waits on the
 * payee's row, the key already claimed in the CALL's transaction: 503,
 * nothing moved, the key not left held, the worker alive.
 */
static void
kill_during_call(const char *kill)
{
	struct pair p;
	struct holder h;
	char before[256], hold[128];
	long *st;
	pid_t pid;
	long long conn;

	pair_new(&p);
	app_workers(before, sizeof(before));
	(void)snprintf(hold, sizeof(hold),
	    "START TRANSACTION; SELECT COUNT(*) FROM users WHERE id = %lld "
	    "FOR UPDATE",
	    p.payee_id);
	holder_start(&h, hold);
	st = send_start(&pid, p.tok, p.body, "dbf-during");
	conn = wait_row("SELECT ID FROM information_schema.PROCESSLIST "
	                "WHERE USER IN ('payd', 'payd_owner') AND "
	                "COMMAND = 'Execute' "
	                /* Not the hold sweeper's tick (app/sweeper.c). */
	                "AND COALESCE(INFO, '') NOT LIKE '%leases%' "
	                "AND COALESCE(INFO, '') NOT LIKE '%holds%' LIMIT 1");
	ck_assert_int_eq(sql_line(NULL, 0, "%s %lld", kill, conn), 0);
	ck_assert_int_eq(send_wait(pid, st), 503);
	holder_release(&h);
	/* The same key again: no transaction of the first holds it. */
	pair_again(&p, "dbf-during", before);
}

START_TEST(test_kill_during_keyed_call__503_nothing_held_worker_alive)
{
	kill_during_call("KILL");
	kill_during_call("KILL QUERY");
}
END_TEST

/*
 * KILL (or KILL QUERY) after the keyed CALL moved the money and before
 * its answer is stored under the key (the store waits on a trigger): the
 * transaction rolls back, 503, the worker alive; the same key then moves
 * the money once.
 */
static void
kill_before_store(const char *kill)
{
	struct pair p;
	struct holder h;
	char before[256];
	long *st;
	pid_t pid;
	long long conn;

	pair_new(&p);
	app_workers(before, sizeof(before));
	holder_start(&h, "SELECT GET_LOCK('payd_test_pause', 0)");
	ck_assert_int_eq(
	    sql_line(NULL, 0,
	        "CREATE OR REPLACE TRIGGER payd_test_pause BEFORE UPDATE ON "
	        "idempotency_keys FOR EACH ROW SET @payd_test_pause = "
	        "GET_LOCK('payd_test_pause', 30)"),
	    0);
	st = send_start(&pid, p.tok, p.body, "dbf-store");
	conn = wait_app_stmt("User lock");
	ck_assert_int_eq(sql_line(NULL, 0, "%s %lld", kill, conn), 0);
	ck_assert_int_eq(send_wait(pid, st), 503);
	ck_assert_int_eq(sql_line(NULL, 0, "DROP TRIGGER payd_test_pause"), 0);
	holder_release(&h);
	pair_check(&p, "0.00", 0);
	pair_again(&p, "dbf-store", before);
}

START_TEST(test_kill_between_call_and_key_store__503_rolled_back_alive)
{
	kill_before_store("KILL");
	kill_before_store("KILL QUERY");
}
END_TEST

/*
 * KILL after the CALL committed and sent its row, before the CALL's end
 * (a wrapping procedure waits there): the row is the answer, 201, and the
 * money moved once.
 */
START_TEST(test_kill_after_commit_before_call_end__answered_from_row)
{
	struct pair p;
	struct holder h;
	char before[256], after[256];
	long *st;
	pid_t pid;
	long long conn;

	pair_new(&p);
	app_workers(before, sizeof(before));
	ck_assert_int_eq(
	    stack_cmd("sed 's/PROCEDURE payd_transfer(/PROCEDURE "
	              "payd_test_real(/' sql/R__payd_transfer.sql | " DBF_SQL
	              " --delimiter='$$'"),
	    0);
	ck_assert_int_eq(
	    sql_line(NULL, 0,
	        "CREATE OR REPLACE PROCEDURE payd_transfer(IN a BIGINT, "
	        "IN b VARCHAR(32), IN gen BIGINT, IN c BIGINT, "
	        "IN d VARCHAR(32), IN e BIGINT, IN f BIGINT, IN g BIGINT, "
	        "IN h INT, IN i DATETIME, IN j VARBINARY(255), "
	        "IN k VARBINARY(96)) "
	        "BEGIN CALL payd_test_real(a, b, gen, c, d, e, f, g, h, i, j, "
	        "k); DO GET_LOCK('payd_test_pause', 30); END"),
	    0);
	holder_start(&h, "SELECT GET_LOCK('payd_test_pause', 0)");
	st = send_start(&pid, p.tok, p.body, NULL);
	conn = wait_app_stmt("User lock");
	ck_assert_int_eq(sql_line(NULL, 0, "KILL %lld", conn), 0);
	ck_assert_int_eq(send_wait(pid, st), 201);
	holder_release(&h);
	routines_restore();
	pair_check(&p, "1.00", 1);
	app_workers(after, sizeof(after));
	ck_assert_str_eq(after, before);
}
END_TEST

/*
 * A procedure that answers a result of another shape (an upgrade half
 * done): 500, logged, and the worker serves on.
 */
START_TEST(test_call_result_of_wrong_shape__500_worker_alive)
{
	struct pair p;
	char before[256], after[256];

	pair_new(&p);
	app_workers(before, sizeof(before));
	ck_assert_int_eq(
	    sql_line(NULL, 0,
	        "CREATE OR REPLACE PROCEDURE payd_deposit(IN a BIGINT, "
	        "IN b VARCHAR(32), IN gen BIGINT, IN c BIGINT, IN d BIGINT, "
	        "IN e DATETIME, IN f VARBINARY(255), IN g VARBINARY(96)) "
	        "BEGIN SELECT 0, 1; END"),
	    0);
	for (int i = 0; i < 8; i++) {
		ck_assert_int_eq(api("POST", "/balance", p.tok,
		                     "{\"amount\":\"1.00\"}", NULL, R),
		    0);
		ck_assert_msg(R->status == 500, "%ld %s", R->status, R->body);
		ck_assert_str_eq(resp_err(R), "internal_error");
		resp_free(R);
	}
	routines_restore();
	ck_assert_int_eq(top_up(p.tok, "1.00"), 200);
	app_workers(after, sizeof(after));
	ck_assert_str_eq(after, before);
	ck_assert_int_eq(
	    stack_cmd("grep -q 'msg=shape' \"$STACK_DIR\"/payd*.log"), 0);
}
END_TEST

/*
 * A table's metadata lock held (an ALTER TABLE would hold it): the app's
 * CALL gives up after lock_wait_timeout and answers 503; once the lock is
 * gone, nothing of it commits.
 */
START_TEST(test_metadata_lock_held__503_and_nothing_commits_later)
{
	struct pair p;
	struct holder h;
	long *st;
	pid_t pid;

	pair_new(&p);
	holder_start(&h, "LOCK TABLES fee_accounts WRITE; SELECT 1");
	st = send_start(&pid, p.tok, p.body, NULL);
	ck_assert_int_eq(send_wait(pid, st), 503);
	holder_release(&h);
	wait_app_idle();
	pair_check(&p, "0.00", 0);
}
END_TEST

/* What each client of the deadline test sent and got, shared. */
struct dl_client {
	long status;
	long long cents; /* its amount, distinct per client */
};

/*
 * The payee's row held past nginx's timeout while DBF_CLIENTS transfers
 * (some with a key, some without; more than a worker takes at once) wait
 * on it. Once every client has its answer and the lock is gone, every
 * transfer that moved money is one whose client got 201, and every 201
 * moved money: no 503 whose transfer committed later.
 */
START_TEST(test_row_locked_past_nginx_timeout__answers_match_ledger)
{
	char payers[DBF_PAYERS][40], toks[DBF_PAYERS][1024];
	char payee[40], tok_payee[1024], hold[128];
	struct dl_client *c;
	struct holder h;
	pid_t pids[DBF_CLIENTS];
	long long payee_id, moved = 0, answered = 0, unavailable = 0;

	unique_name("dlr", payee, sizeof(payee));
	payee_id = register_login(payee, tok_payee);
	for (int i = 0; i < DBF_PAYERS; i++) {
		unique_name("dlp", payers[i], sizeof(payers[i]));
		ck_assert_int_gt(register_login(payers[i], toks[i]), 0);
		ck_assert_int_eq(top_up(toks[i], "1000.00"), 200);
	}
	c = mmap(NULL, sizeof(*c) * DBF_CLIENTS, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(c, MAP_FAILED);
	(void)snprintf(hold, sizeof(hold),
	    "START TRANSACTION; SELECT COUNT(*) FROM users WHERE id = %lld "
	    "FOR UPDATE",
	    payee_id);
	holder_start(&h, hold);
	for (int i = 0; i < DBF_CLIENTS; i++) {
		c[i].status = -1;
		c[i].cents = 101 + i;
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] != 0)
			continue;
		struct resp *r = malloc(sizeof(*r));
		char body[128], key[96];
		const char *extra[] = {key, NULL};

		(void)snprintf(body, sizeof(body),
		    "{\"to\":\"%s\",\"amount\":\"%lld.%02lld\"}", payee,
		    c[i].cents / 100, c[i].cents % 100);
		(void)snprintf(
		    key, sizeof(key), "Idempotency-Key: %s-%d", payee, i);
		if (r != NULL && api("POST", "/transfer", toks[i % DBF_PAYERS],
		                     body, i % 2 == 0 ? extra : NULL, r) == 0)
			c[i].status = r->status;
		_exit(0);
	}
	for (int i = 0; i < DBF_CLIENTS; i++)
		(void)waitpid(pids[i], NULL, 0);
	holder_release(&h);
	/* Every request of the payers' has ended in the app. */
	ck_assert_int_eq(
	    stack_cmd("n=0; while [ \"$(cat \"$STACK_DIR\"/payd*.log | grep -c "
	              "'event=request .*route=transfer .*user=dlp')\" -lt %d ] "
	              "&& "
	              "[ $n -lt %d ]; do sleep 0.1; n=$((n + 1)); done; "
	              "[ $n -lt %d ]",
	        DBF_CLIENTS, DBF_POLLS, DBF_POLLS),
	    0);
	wait_app_idle();
	for (int i = 0; i < DBF_CLIENTS; i++) {
		char sql[512];
		long long got;

		ck_assert_msg(c[i].status == 201 || c[i].status == 503,
		    "client %d: %ld", i, c[i].status);
		(void)snprintf(sql, sizeof(sql),
		    "SELECT COUNT(*) FROM entries e JOIN movements m ON m.id "
		    "= e.movement_id WHERE e.account_kind = 'user' AND "
		    "e.account_id = %lld AND m.amount = %lld",
		    payee_id, c[i].cents);
		got = sql_num(sql);
		ck_assert_msg(got == (c[i].status == 201 ? 1 : 0),
		    "client %d answered %ld, moved %lld", i, c[i].status, got);
		moved += got;
		answered += c[i].status == 201;
		unavailable += c[i].status == 503;
	}
	ck_assert_int_eq(moved, answered);
	/* The lock outlived every request: none of them could move. */
	ck_assert_int_eq(unavailable, DBF_CLIENTS);
	munmap(c, sizeof(*c) * DBF_CLIENTS);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

/* payd2, the second app instance, restarted with extra config lines. */
static void
payd2_restart(const char *extra)
{
	ck_assert_int_eq(
	    stack_cmd("STACK_NAME=payd2 stack_app_stop \"$STACK_DIR\" && "
	              "STACK_NAME=payd2 stack_app_config \"$STACK_DIR\" "
	              "%s && STACK_NAME=payd2 "
	              "stack_app_start \"$STACK_DIR\" \"$PAYD_BIN\"",
	        extra),
	    0);
}

/* The lines of payd2's log that grep -E pattern matches. */
static long long
payd2_count(const char *pattern)
{
	char cmd[512], out[32] = "";
	FILE *fp;

	setenv("DBF_PATTERN", pattern, 1);
	(void)snprintf(cmd, sizeof(cmd),
	    "grep -cE -e \"$DBF_PATTERN\" \"$STACK_DIR/payd2.log\"");
	fp = popen(cmd, "r");
	ck_assert_ptr_nonnull(fp);
	if (fgets(out, sizeof(out), fp) == NULL)
		out[0] = '\0';
	(void)pclose(fp);
	return atoll(out);
}

/* The requests payd2 has answered with status, from its log. */
static long long
payd2_answered(int status)
{
	char pattern[64];

	(void)snprintf(
	    pattern, sizeof(pattern), "event=request .* status=%d ", status);
	return payd2_count(pattern);
}

/*
 * A database that takes connections but never answers them (a host that
 * is unreachable, a hung server): after one connect fails, a worker tries
 * no other for a while (DB_CONNECT_PAUSE_MS), and the requests meanwhile
 * fail at once, instead of each waiting for its own connect timeout.
 * Counted by the connections the silent database received against the
 * requests answered.
 */
START_TEST(test_db_unreachable_over_tcp__one_connect_for_many_requests)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), conns = 0, cfd;
	long long before;
	char extra[128];

	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	/* Connections queue up, completed by the kernel, never served. */
	ck_assert_int_eq(listen(fd, 1024), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	(void)snprintf(extra, sizeof(extra),
	    "\"workers = 1\" \"db_socket =\" \"db_host = 127.0.0.1\" "
	    "\"db_port = %d\"",
	    ntohs(sa.sin_port));
	payd2_restart(extra);
	before = payd2_answered(503);
	for (int i = 0; i < 400 && payd2_answered(503) - before < 20; i++) {
		ck_assert_int_eq(
		    api("GET", "/healthz", NULL, NULL, NULL, R), 0);
		ck_assert_msg(
		    R->status == 200 || R->status == 503, "%ld", R->status);
		resp_free(R);
	}
	ck_assert_int_ge(payd2_answered(503) - before, 20);
	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	while ((cfd = accept(fd, NULL, NULL)) >= 0) {
		conns++;
		(void)close(cfd);
	}
	(void)close(fd);
	payd2_restart("\"workers = 2\"");
	/* Without the pause, one connect (or two) per request: 20 or more. */
	ck_assert_msg(conns <= 10, "%d connects for 20 requests", conns);
	ck_assert_int_ge(conns, 1);
}
END_TEST

/* A loopback TCP port that nothing listens on (bound, then let go). */
static int
dead_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	(void)close(fd);
	return ntohs(sa.sin_port);
}

/*
 * db_host's preferred node is down (nothing listens on its port), the
 * fallback after it is the real database: payd2 connects there, logs
 * db_fallback naming it, and serves every request it gets, transfers
 * included, with the ledger exact.
 */
START_TEST(test_preferred_db_host_down__served_through_fallback)
{
	char extra[256], pat[128], payer[64], payee[64], body[128], key[96];
	char tok[1024], tok2[1024], want[32], got[64];
	long long ok0 = payd2_answered(201), bad0 = payd2_answered(503);
	long long fb0 = payd2_count("event=db_fallback host=[^ ]*/mysql.sock ");
	int port = dead_port(), n = 0;

	(void)snprintf(extra, sizeof(extra),
	    "\"workers = 1\" \"db_socket =\" "
	    "\"db_host = 127.0.0.1:%d, $STACK_DIR/mysql.sock\"",
	    port);
	payd2_restart(extra);
	unique_name("fbp", payer, sizeof(payer));
	unique_name("fbq", payee, sizeof(payee));
	ck_assert_int_gt(register_login(payer, tok), 0);
	ck_assert_int_gt(register_login(payee, tok2), 0);
	ck_assert_int_eq(top_up(tok, "500.00"), 200);
	(void)snprintf(
	    body, sizeof(body), "{\"to\":\"%s\",\"amount\":\"1.00\"}", payee);
	/* nginx shares the requests between payd and payd2: until payd2
	 * has made 5 transfers (200 at most, funded for all). */
	while (n < 200 && payd2_answered(201) - ok0 < 5) {
		(void)snprintf(
		    key, sizeof(key), "Idempotency-Key: %s-%d", payer, n);
		ck_assert_int_eq(api("POST", "/transfer", tok, body,
		                     (const char *[]){key, NULL}, R),
		    0);
		ck_assert_msg(R->status == 201, "%ld %s", R->status, R->body);
		resp_free(R);
		n++;
	}
	ck_assert_int_ge(payd2_answered(201) - ok0, 5);
	ck_assert_int_eq(payd2_answered(503), bad0);
	ck_assert_int_gt(
	    payd2_count("event=db_fallback host=[^ ]*/mysql.sock "), fb0);
	(void)snprintf(pat, sizeof(pat),
	    "event=db_lost stage=connect host=127.0.0.1 port=%d ", port);
	ck_assert_int_ge(payd2_count(pat), 1);
	/* Every transfer, whichever instance made it, credited once. */
	(void)snprintf(want, sizeof(want), "%d.00", n);
	ck_assert_str_eq(balance_of(tok2, got, sizeof(got)), want);
	payd2_restart("\"workers = 2\"");
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

Suite *
dbfaults_suite(void)
{
	Suite *s = suite_create("dbfaults");
	TCase *tc = tcase_create("dbfaults");

	tcase_add_checked_fixture(tc, setup, resp_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(
	    tc, test_kill_during_keyed_call__503_nothing_held_worker_alive);
	tcase_add_test(
	    tc, test_kill_between_call_and_key_store__503_rolled_back_alive);
	tcase_add_test(
	    tc, test_kill_after_commit_before_call_end__answered_from_row);
	tcase_add_test(tc, test_call_result_of_wrong_shape__500_worker_alive);
	tcase_add_test(
	    tc, test_metadata_lock_held__503_and_nothing_commits_later);
	tcase_add_test(
	    tc, test_row_locked_past_nginx_timeout__answers_match_ledger);
	tcase_add_test(
	    tc, test_db_unreachable_over_tcp__one_connect_for_many_requests);
	tcase_add_test(
	    tc, test_preferred_db_host_down__served_through_fallback);
	suite_add_tcase(s, tc);
	return s;
}
