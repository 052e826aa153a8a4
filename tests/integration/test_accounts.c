/*
 * Goal: account security and operator commands keep API.md (POST
 * /password, POST /logout, the frozen-account rule, reversals in
 * /transactions) over HTTP through nginx against both app instances:
 * a token from before a logout or a password change is refused on each
 * instance from the moment the answer came; a password change re-hashes;
 * `payd admin` freezes, unfreezes, reverses (at most once, never past the
 * recipient's balance), shows and lists, records every action in
 * admin_actions and the log, without secrets, with its exit codes.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

Suite *accounts_suite(void);

/* Requests with one old token before both instances have answered one. */
#define ACC_BOTH_TRIES_MAX 60
/*
 * Parallel clients of the /password flood; each sends until its first
 * 429, at most ACC_FLOOD_MAX requests.
 */
#define ACC_FLOOD_CLIENTS 4
#define ACC_FLOOD_MAX 5000
/* Concurrent `payd admin reverse` of one transfer. */
#define ACC_REVERSERS 4

/* One request into R. */
static long
call(const char *method, const char *path, const char *token, const char *body)
{
	resp_free(R);
	ck_assert_int_eq(api(method, path, token, body, NULL, R), 0);
	return R->status;
}

static long
login(const char *name, const char *password, char token[1024])
{
	char body[512];

	(void)snprintf(body, sizeof(body),
	    "{\"username\":\"%s\",\"password\":\"%s\"}", name, password);
	call("POST", "/login", NULL, body);
	if (R->status == 200)
		(void)snprintf(token, 1024, "%s", resp_str(R, "token"));
	return R->status;
}

static long
change_password(const char *token, const char *current, const char *next)
{
	char body[1024];

	(void)snprintf(body, sizeof(body),
	    "{\"password\":\"%s\",\"new_password\":\"%s\"}", current, next);
	return call("POST", "/password", token, body);
}

/* The user's stored hash, through the privileged account. */
static void
stored_hash(long long id, char *out, size_t size)
{
	ck_assert_int_eq(
	    stack_output(out, size,
	        "mariadb --no-defaults -S \"$STACK_DIR/mysql.sock\" -uroot "
	        "-N -B -e 'SELECT password_hash FROM payd.users WHERE id = "
	        "%lld'",
	        id),
	    0);
	ck_assert_int_gt(strlen(out), 0);
}

/*
 * GET /balance with token, again and again, until each app instance has
 * answered one (its log names the request id): every answer must be 401.
 */
static void
assert_refused_on_both(const char *token)
{
	bool seen[2] = {false, false};
	char id[128];

	for (int i = 0; i < ACC_BOTH_TRIES_MAX && !(seen[0] && seen[1]); i++) {
		ck_assert_int_eq(call("GET", "/balance", token, NULL), 401);
		ck_assert_str_eq(resp_err(R), "unauthorized");
		ck_assert_ptr_nonnull(
		    resp_header(R, "X-Request-Id", id, sizeof(id)));
		if (stack_cmd("grep -q 'req_id=%s .*status=401' "
		              "\"$STACK_DIR/payd.log\"",
		        id) == 0)
			seen[0] = true;
		else if (stack_cmd("grep -q 'req_id=%s .*status=401' "
		                   "\"$STACK_DIR/payd2.log\"",
		             id) == 0)
			seen[1] = true;
	}
	ck_assert_msg(seen[0] && seen[1], "not answered by both instances");
}

START_TEST(test_password__change__old_tokens_refused_new_one_works)
{
	char name[40], t1[1024], t2[1024], t3[1024], before[256], after[256];
	long long id;

	unique_name("pw", name, sizeof(name));
	id = register_login(name, t1);
	ck_assert_int_gt(id, 0);
	ck_assert_int_eq(login(name, "password123", t2), 200);
	ck_assert_int_eq(top_up(t1, "5.00"), 200);
	stored_hash(id, before, sizeof(before));
	ck_assert_int_eq(
	    change_password(t1, "password123", "n3w pass phrase"), 200);
	ck_assert_str_eq(resp_str(R, "username"), name);
	/* RFC 3339 UTC: "2026-11-26T03:15:49Z". */
	ck_assert_uint_eq(strlen(resp_str(R, "password_changed_at")), 20);
	ck_assert_int_eq(resp_str(R, "password_changed_at")[19], 'Z');
	/* The token of the change and the other one: refused everywhere. */
	assert_refused_on_both(t1);
	assert_refused_on_both(t2);
	ck_assert_int_eq(
	    call("POST", "/balance", t2, "{\"amount\":\"1\"}"), 401);
	ck_assert_int_eq(
	    call("POST", "/transfer", t2, "{\"to\":\"nobody\",\"amount\":1}"),
	    401);
	/* Re-hashed: a new yescrypt hash; the old password is gone. */
	stored_hash(id, after, sizeof(after));
	ck_assert_str_ne(before, after);
	ck_assert_int_eq(strncmp(after, "$y$", 3), 0);
	ck_assert_int_eq(login(name, "password123", t3), 401);
	ck_assert_int_eq(login(name, "n3w pass phrase", t3), 200);
	ck_assert_int_eq(call("GET", "/balance", t3, NULL), 200);
	ck_assert_str_eq(resp_str(R, "balance"), "5.00");
	/* Logged, and no password in any log. */
	ck_assert_int_eq(stack_cmd("cat \"$STACK_DIR\"/payd*.log | grep -q "
	                           "'event=password_changed uid=%lld'",
	                     id),
	    0);
	ck_assert_int_eq(stack_cmd("cat \"$STACK_DIR\"/payd*.log | grep -q "
	                           "'n3w pass phrase'"),
	    1);
}
END_TEST

START_TEST(test_password__wrong_current__403_nothing_changes)
{
	char name[40], t1[1024], t2[1024], before[256], after[256];
	long long id;

	unique_name("pw", name, sizeof(name));
	id = register_login(name, t1);
	stored_hash(id, before, sizeof(before));
	ck_assert_int_eq(
	    change_password(t1, "password124", "another one1"), 403);
	ck_assert_str_eq(resp_err(R), "invalid_credentials");
	stored_hash(id, after, sizeof(after));
	ck_assert_str_eq(before, after);
	/* The token still works, and so does the old password. */
	ck_assert_int_eq(call("GET", "/balance", t1, NULL), 200);
	ck_assert_int_eq(login(name, "password123", t2), 200);
	/* No token: 401, as on every route. */
	ck_assert_int_eq(
	    change_password(NULL, "password123", "another one1"), 401);
}
END_TEST

START_TEST(test_password__new_password_rules__paired_400)
{
	char name[40], t[1024], longest[200], over[200];

	unique_name("pw", name, sizeof(name));
	register_login(name, t);
	/* 7 bytes refused, 129 refused; nothing changed by either. */
	ck_assert_int_eq(change_password(t, "password123", "1234567"), 400);
	ck_assert_str_eq(resp_err(R), "invalid_request");
	ck_assert_ptr_nonnull(strstr(R->body, "new_password"));
	memset(over, 'x', 129);
	over[129] = '\0';
	ck_assert_int_eq(change_password(t, "password123", over), 400);
	ck_assert_int_eq(
	    call("POST", "/password", t, "{\"password\":\"password123\"}"),
	    400);
	ck_assert_ptr_nonnull(strstr(R->body, "new_password"));
	ck_assert_int_eq(call("POST", "/password", t,
	                     "{\"password\":5,\"new_password\":\"abcdefgh\"}"),
	    400);
	ck_assert_int_eq(call("POST", "/password", t, "[]"), 400);
	ck_assert_int_eq(call("GET", "/password", t, NULL), 405);
	/* 128 bytes: the longest allowed. */
	memset(longest, 'y', 128);
	longest[128] = '\0';
	ck_assert_int_eq(change_password(t, "password123", longest), 200);
	ck_assert_int_eq(login(name, longest, t), 200);
}
END_TEST

START_TEST(test_logout__old_tokens_refused_on_both_instances)
{
	char name[40], t1[1024], t2[1024], t3[1024], to[40], tt[1024];
	char body[128];
	long long id;

	unique_name("lo", name, sizeof(name));
	unique_name("lt", to, sizeof(to));
	id = register_login(name, t1);
	register_login(to, tt);
	ck_assert_int_eq(login(name, "password123", t2), 200);
	ck_assert_int_eq(top_up(t1, "20.00"), 200);
	ck_assert_int_eq(call("POST", "/logout", t1, NULL), 200);
	ck_assert_str_eq(resp_str(R, "status"), "logged_out");
	assert_refused_on_both(t1);
	assert_refused_on_both(t2);
	/* The money routes check the caller in their own CALL: 401 too. */
	(void)snprintf(body, sizeof(body), "{\"to\":\"%s\",\"amount\":1}", to);
	ck_assert_int_eq(call("POST", "/transfer", t2, body), 401);
	ck_assert_int_eq(call("POST", "/balance", t2, "{\"amount\":1}"), 401);
	ck_assert_int_eq(call("GET", "/transactions", t2, NULL), 401);
	ck_assert_int_eq(call("POST", "/logout", t2, NULL), 401);
	/* A new login works, and its token moves money. */
	ck_assert_int_eq(login(name, "password123", t3), 200);
	ck_assert_int_eq(call("POST", "/transfer", t3, body), 201);
	ck_assert_str_eq(resp_str(R, "balance"), "18.25");
	ck_assert_int_eq(stack_cmd("cat \"$STACK_DIR\"/payd*.log | grep -q "
	                           "'event=logout uid=%lld'",
	                     id),
	    0);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_password_flood__429_rate_limited)
{
	int *seen = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pids[ACC_FLOOD_CLIENTS];

	ck_assert_ptr_ne(seen, MAP_FAILED);
	*seen = 0;
	/* Without a token the app answers 401 at once: nginx's limit. */
	for (int c = 0; c < ACC_FLOOD_CLIENTS; c++) {
		pids[c] = fork();
		ck_assert_int_ge(pids[c], 0);
		if (pids[c] == 0) {
			struct resp *r = malloc(sizeof(*r));
			bool limited = false;

			/* Until a 429, bounded by a count: a slow machine
			 * sends more before its first. */
			for (int i = 0;
			     r != NULL && !limited && i < ACC_FLOOD_MAX; i++) {
				if (api("POST", "/password", NULL, "{}", NULL,
				        r) == 0 &&
				    r->status == 429 &&
				    strcmp(resp_err(r), "rate_limited") == 0) {
					limited = true;
					__atomic_fetch_add(
					    seen, 1, __ATOMIC_RELAXED);
				}
				resp_free(r);
			}
			_exit(0);
		}
	}
	for (int c = 0; c < ACC_FLOOD_CLIENTS; c++)
		(void)waitpid(pids[c], NULL, 0);
	ck_assert_int_gt(*seen, 0);
	munmap(seen, sizeof(int));
	/* The bucket drains: later tests are not limited. */
	sleep(5);
}
END_TEST

/* Runs "payd admin ARGS", its stdout to admin.out, stderr to admin.log. */
static int
admin(const char *args)
{
	return stack_cmd(
	    "\"$PAYD_BIN\" -c \"$STACK_DIR/payd.conf\" admin %s "
	    ">\"$STACK_DIR/admin.out\" 2>>\"$STACK_DIR/admin.log\"",
	    args);
}

/* How many admin_actions rows match the SQL condition cond. */
static long long
actions_where(const char *cond)
{
	char line[64];

	ck_assert_int_eq(
	    stack_output(line, sizeof(line),
	        "mariadb --no-defaults -S \"$STACK_DIR/mysql.sock\" -uroot "
	        "-N -B -e \"SELECT COUNT(*) FROM payd.admin_actions WHERE %s\"",
	        cond),
	    0);
	return atoll(line);
}

/* POST /transfer of amount to name; returns the status, R the body. */
static long
pay(const char *token, const char *to, const char *amount)
{
	char body[256];

	(void)snprintf(body, sizeof(body), "{\"to\":\"%s\",\"amount\":\"%s\"}",
	    to, amount);
	return call("POST", "/transfer", token, body);
}

static const char *
balance(const char *token)
{
	static char out[64];

	return balance_of(token, out, sizeof(out));
}

START_TEST(test_admin_freeze__payer_refused_incoming_money_ok)
{
	char a[40], b[40], ta[1024], tb[1024], t2[1024], args[256], cond[256];
	long long ida;

	unique_name("fz", a, sizeof(a));
	unique_name("fy", b, sizeof(b));
	ida = register_login(a, ta);
	register_login(b, tb);
	ck_assert_int_eq(top_up(ta, "50.00"), 200);
	ck_assert_int_eq(top_up(tb, "50.00"), 200);
	(void)snprintf(args, sizeof(args),
	    "--operator tester freeze %s --reason 'case 7: card stolen'", a);
	ck_assert_int_eq(admin(args), 0);
	/* Every payment out of it: 403, nothing moves; the same with a key. */
	ck_assert_int_eq(pay(ta, b, "1.00"), 403);
	ck_assert_str_eq(resp_err(R), "account_frozen");
	ck_assert_str_eq(balance(ta), "50.00");
	ck_assert_str_eq(balance(tb), "50.00");
	/* Reads, login, top-ups and incoming transfers still work. */
	ck_assert_int_eq(login(a, "password123", t2), 200);
	ck_assert_int_eq(call("GET", "/transactions", t2, NULL), 200);
	ck_assert_int_eq(top_up(t2, "1.00"), 200);
	ck_assert_int_eq(pay(tb, a, "2.00"), 201);
	ck_assert_str_eq(balance(ta), "53.00");
	/* Freezing it again is refused (1); unfreezing lets it pay. */
	ck_assert_int_eq(admin(args), 1);
	(void)snprintf(args, sizeof(args),
	    "--operator tester unfreeze %s --reason 'case 7 closed'", a);
	ck_assert_int_eq(admin(args), 0);
	ck_assert_int_eq(admin(args), 1);
	ck_assert_int_eq(pay(ta, b, "1.00"), 201);
	ck_assert_str_eq(balance(ta), "51.25");
	/* Recorded and logged, outcome and reason, each time. */
	(void)snprintf(cond, sizeof(cond),
	    "operator = 'tester' AND target = 'user %lld %s' AND "
	    "((action = 'freeze' AND reason = 'case 7: card stolen') OR "
	    "(action = 'unfreeze' AND reason = 'case 7 closed'))",
	    ida, a);
	ck_assert_int_eq(actions_where(cond), 4);
	ck_assert_int_eq(stack_cmd("grep -q 'event=admin_action "
	                           "operator=tester action=freeze "
	                           "target=\"user %lld %s\" outcome=done "
	                           "reason=\"case 7: card stolen\"' "
	                           "\"$STACK_DIR/admin.log\"",
	                     ida, a),
	    0);
	ck_assert_int_eq(stack_cmd("grep -q 'action=freeze target=\"user "
	                           "%lld %s\" outcome=already_frozen' "
	                           "\"$STACK_DIR/admin.log\"",
	                     ida, a),
	    0);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_admin_reverse__both_histories_once_then_refused)
{
	char a[40], b[40], ta[1024], tb[1024], args[256], cond[128];
	long long tid;

	unique_name("ra", a, sizeof(a));
	unique_name("rb", b, sizeof(b));
	register_login(a, ta);
	register_login(b, tb);
	ck_assert_int_eq(top_up(ta, "30.00"), 200);
	ck_assert_int_eq(pay(ta, b, "10.00"), 201);
	tid = resp_int(R, "id");
	ck_assert_str_eq(balance(ta), "19.25");
	(void)snprintf(args, sizeof(args),
	    "--operator ops1 reverse %lld --reason 'paid in error'", tid);
	ck_assert_int_eq(admin(args), 0);
	/* The sender has its amount and fee back; the recipient gave it. */
	ck_assert_str_eq(balance(ta), "30.00");
	ck_assert_str_eq(balance(tb), "0.00");
	ck_assert_int_eq(call("GET", "/transactions?limit=1", ta, NULL), 200);
	ck_assert_ptr_nonnull(strstr(R->body, "\"type\":\"reversal_in\""));
	ck_assert_ptr_nonnull(strstr(R->body, "\"amount\":\"10.00\""));
	ck_assert_ptr_nonnull(strstr(R->body, "\"fee\":\"0.75\""));
	ck_assert_ptr_nonnull(strstr(R->body, "\"balance_after\":\"30.00\""));
	(void)snprintf(cond, sizeof(cond), "\"transfer_id\":%lld", tid);
	ck_assert_ptr_nonnull(strstr(R->body, cond));
	ck_assert_int_eq(call("GET", "/transactions?limit=1", tb, NULL), 200);
	ck_assert_ptr_nonnull(strstr(R->body, "\"type\":\"reversal_out\""));
	ck_assert_ptr_nonnull(strstr(R->body, "\"fee\":\"0.00\""));
	ck_assert_ptr_nonnull(strstr(R->body, cond));
	/* At most once: the second is refused, nothing moves. */
	ck_assert_int_eq(admin(args), 1);
	ck_assert_int_eq(stack_cmd("grep -q already_reversed "
	                           "\"$STACK_DIR/admin.out\""),
	    0);
	ck_assert_str_eq(balance(ta), "30.00");
	/* Not a transfer: a top-up's id, and no such id. */
	ck_assert_int_eq(admin("reverse 999999999999 --reason x"), 1);
	(void)snprintf(cond, sizeof(cond),
	    "action = 'reverse' AND target = 'transfer %lld' AND "
	    "operator = 'ops1'",
	    tid);
	ck_assert_int_eq(actions_where(cond), 2);
	ck_assert_int_eq(run_audit(), 0);
	/* The audit checks a reversal against its transfer: a wrong fee. */
	ck_assert_int_eq(stack_cmd("stack_sql \"$STACK_DIR\" \"UPDATE "
	                           "payd.movements SET fee = fee + 1 WHERE "
	                           "kind = 'reversal' AND transfer_id = %lld\"",
	                     tid),
	    0);
	ck_assert_int_eq(run_audit(), 1);
	ck_assert_int_eq(stack_cmd("grep -q 'MISMATCH reversal .* of transfer "
	                           "%lld' \"$STACK_DIR/audit.log\"",
	                     tid),
	    0);
	ck_assert_int_eq(stack_cmd("stack_sql \"$STACK_DIR\" \"UPDATE "
	                           "payd.movements SET fee = fee - 1 WHERE "
	                           "kind = 'reversal' AND transfer_id = %lld\"",
	                     tid),
	    0);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_admin_reverse__recipient_short__refused_nothing_moves)
{
	char a[40], b[40], c[40], ta[1024], tb[1024], tc[1024], args[256];
	long long tid;

	unique_name("sa", a, sizeof(a));
	unique_name("sb", b, sizeof(b));
	unique_name("sc", c, sizeof(c));
	register_login(a, ta);
	register_login(b, tb);
	register_login(c, tc);
	ck_assert_int_eq(top_up(ta, "20.00"), 200);
	ck_assert_int_eq(pay(ta, b, "10.00"), 201);
	tid = resp_int(R, "id");
	/* The recipient spends part of it: 10.00 - 5.75 = 4.25 left. */
	ck_assert_int_eq(pay(tb, c, "5.00"), 201);
	(void)snprintf(args, sizeof(args), "reverse %lld --reason oops", tid);
	ck_assert_int_eq(admin(args), 1);
	ck_assert_int_eq(stack_cmd("grep -q recipient_short "
	                           "\"$STACK_DIR/admin.out\""),
	    0);
	ck_assert_str_eq(balance(ta), "9.25");
	ck_assert_str_eq(balance(tb), "4.25");
	/* Topped up, the recipient can give it back. */
	ck_assert_int_eq(top_up(tb, "6.00"), 200);
	ck_assert_int_eq(admin(args), 0);
	ck_assert_str_eq(balance(ta), "20.00");
	ck_assert_str_eq(balance(tb), "0.25");
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_admin_reverse__concurrent__exactly_once)
{
	char a[40], b[40], ta[1024], tb[1024], args[256];
	pid_t pids[ACC_REVERSERS];
	int done = 0, refused = 0;
	long long tid;

	unique_name("ca", a, sizeof(a));
	unique_name("cb", b, sizeof(b));
	register_login(a, ta);
	register_login(b, tb);
	ck_assert_int_eq(top_up(ta, "20.00"), 200);
	ck_assert_int_eq(pay(ta, b, "10.00"), 201);
	tid = resp_int(R, "id");
	(void)snprintf(
	    args, sizeof(args), "reverse %lld --reason race >/dev/null", tid);
	for (int i = 0; i < ACC_REVERSERS; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0)
			_exit(stack_cmd(
			    "\"$PAYD_BIN\" -c \"$STACK_DIR/payd.conf\" "
			    "admin %s 2>>\"$STACK_DIR/admin.log\"",
			    args));
	}
	for (int i = 0; i < ACC_REVERSERS; i++) {
		int st = 0;

		ck_assert_int_eq(waitpid(pids[i], &st, 0), pids[i]);
		ck_assert(WIFEXITED(st));
		done += WEXITSTATUS(st) == 0;
		refused += WEXITSTATUS(st) == 1;
	}
	ck_assert_int_eq(done, 1);
	ck_assert_int_eq(refused, ACC_REVERSERS - 1);
	ck_assert_str_eq(balance(ta), "20.00");
	ck_assert_str_eq(balance(tb), "0.00");
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_admin_show_log_help__exit_codes_no_secrets)
{
	char a[40], ta[1024], args[256];
	long long id;

	unique_name("sh", a, sizeof(a));
	id = register_login(a, ta);
	ck_assert_int_eq(top_up(ta, "12.50"), 200);
	(void)snprintf(args, sizeof(args), "--operator auditor show %s", a);
	ck_assert_int_eq(admin(args), 0);
	ck_assert_int_eq(stack_cmd("grep -q '^user %lld %s$' "
	                           "\"$STACK_DIR/admin.out\" && grep -q "
	                           "'balance  *12.50' \"$STACK_DIR/admin.out\" "
	                           "&& grep -q 'frozen  *no' "
	                           "\"$STACK_DIR/admin.out\" && grep -q "
	                           "'deposit .*amount 12.50' "
	                           "\"$STACK_DIR/admin.out\"",
	                     id, a),
	    0);
	ck_assert_int_eq(admin("show no_such_user_x1"), 1);
	ck_assert_int_eq(admin("--operator auditor log --since 2000-01-01"), 0);
	ck_assert_int_eq(stack_cmd("grep -q 'operator=\"auditor\" action=show "
	                           "target=\"user %lld %s\" outcome=done' "
	                           "\"$STACK_DIR/admin.out\"",
	                     id, a),
	    0);
	ck_assert_int_eq(admin("log --since 2999-01-01T00:00:00Z"), 0);
	ck_assert_int_eq(stack_cmd("test ! -s \"$STACK_DIR/admin.out\""), 0);
	/* Without --operator: the OS user, or under sudo the one who ran it. */
	ck_assert_int_eq(
	    stack_cmd("last() { stack_sql \"$STACK_DIR\" \"SELECT operator "
	              "FROM payd.admin_actions ORDER BY id DESC LIMIT 1\"; }; "
	              "SUDO_USER= \"$PAYD_BIN\" -c \"$STACK_DIR/payd.conf\" "
	              "admin show %s >/dev/null 2>&1 && "
	              "test \"$(last)\" = \"$(id -un)\" && "
	              "{ [ \"$(id -u)\" != 0 ] || { SUDO_USER=jane "
	              "\"$PAYD_BIN\" -c \"$STACK_DIR/payd.conf\" admin show %s "
	              ">/dev/null 2>&1 && "
	              "test \"$(last)\" = 'jane via sudo'; }; }",
	        a, a),
	    0);
	/* --help for each command; bad arguments are 2. */
	ck_assert_int_eq(admin("--help"), 0);
	ck_assert_int_eq(admin("show --help"), 0);
	ck_assert_int_eq(admin("freeze --help"), 0);
	ck_assert_int_eq(admin("unfreeze --help"), 0);
	ck_assert_int_eq(admin("reverse --help"), 0);
	ck_assert_int_eq(admin("log --help"), 0);
	ck_assert_int_eq(stack_cmd("grep -q 'usage: payd admin log' "
	                           "\"$STACK_DIR/admin.out\""),
	    0);
	ck_assert_int_eq(admin("freeze someone"), 2);
	ck_assert_int_eq(admin("reverse abc --reason x"), 2);
	ck_assert_int_eq(admin("log --since yesterday"), 2);
	ck_assert_int_eq(admin("explode"), 2);
	ck_assert_int_eq(admin(""), 2);
	ck_assert_int_eq(
	    actions_where("operator = 'auditor' AND action IN ('show', 'log')"),
	    2);
	/* No secret in the log or the output: the DB password, the key. */
	ck_assert_int_eq(
	    stack_cmd("! grep -qF \"$(cat \"$STACK_DIR/db-password\")\" "
	              "\"$STACK_DIR/admin.log\" \"$STACK_DIR/admin.out\" "
	              "&& ! grep -qF \"$(cat \"$STACK_DIR/jwt-secret\")\" "
	              "\"$STACK_DIR/admin.log\""),
	    0);
}
END_TEST

START_TEST(test_password__two_changes_with_one_token__exactly_one)
{
	char name[40], t[1024], t2[1024], body[256];
	int *won = mmap(NULL, sizeof(int) * 2, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pids[2];

	ck_assert_ptr_ne(won, MAP_FAILED);
	unique_name("p2", name, sizeof(name));
	register_login(name, t);
	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			struct resp *r = malloc(sizeof(*r));

			(void)snprintf(body, sizeof(body),
			    "{\"password\":\"password123\",\"new_password\":"
			    "\"racer number %d\"}",
			    i);
			won[i] = r != NULL && api("POST", "/password", t, body,
			                          NULL, r) == 0
			             ? (int)r->status
			             : -1;
			_exit(0);
		}
	}
	for (int i = 0; i < 2; i++)
		(void)waitpid(pids[i], NULL, 0);
	/* One change is made; the other is refused (its token is revoked). */
	ck_assert_msg((won[0] == 200 && won[1] == 401) ||
	                  (won[0] == 401 && won[1] == 200),
	    "statuses %d and %d", won[0], won[1]);
	ck_assert_int_eq(
	    login(
	        name, won[0] == 200 ? "racer number 0" : "racer number 1", t2),
	    200);
	ck_assert_int_eq(
	    login(
	        name, won[0] == 200 ? "racer number 1" : "racer number 0", t2),
	    401);
	munmap(won, sizeof(int) * 2);
}
END_TEST

/* Concurrent transfers of one frozen payer: each 403, whichever path. */
#define ACC_FROZEN_CLIENTS 8

START_TEST(test_admin_freeze__concurrent_and_keyed_transfers__403_replayed)
{
	char a[40], b[40], ta[1024], tb[1024], args[256], body[256], key[96];
	const char *extra[] = {key, NULL};
	int *refused = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pids[ACC_FROZEN_CLIENTS];

	ck_assert_ptr_ne(refused, MAP_FAILED);
	*refused = 0;
	unique_name("fk", a, sizeof(a));
	unique_name("fl", b, sizeof(b));
	register_login(a, ta);
	register_login(b, tb);
	ck_assert_int_eq(top_up(ta, "40.00"), 200);
	(void)snprintf(args, sizeof(args), "freeze %s --reason audit", a);
	ck_assert_int_eq(admin(args), 0);
	/* Together, so that workers take several in one batch. */
	(void)snprintf(
	    body, sizeof(body), "{\"to\":\"%s\",\"amount\":\"1\"}", b);
	for (int c = 0; c < ACC_FROZEN_CLIENTS; c++) {
		pids[c] = fork();
		ck_assert_int_ge(pids[c], 0);
		if (pids[c] == 0) {
			struct resp *r = malloc(sizeof(*r));

			if (r != NULL &&
			    api("POST", "/transfer", ta, body, NULL, r) == 0 &&
			    r->status == 403 &&
			    strcmp(resp_err(r), "account_frozen") == 0)
				__atomic_fetch_add(
				    refused, 1, __ATOMIC_RELAXED);
			_exit(0);
		}
	}
	for (int c = 0; c < ACC_FROZEN_CLIENTS; c++)
		(void)waitpid(pids[c], NULL, 0);
	ck_assert_int_eq(*refused, ACC_FROZEN_CLIENTS);
	/* With a key: stored, and replayed even once unfrozen. */
	(void)snprintf(key, sizeof(key), "Idempotency-Key: frozen-%s", a);
	resp_free(R);
	ck_assert_int_eq(api("POST", "/transfer", ta, body, extra, R), 0);
	ck_assert_int_eq(R->status, 403);
	(void)snprintf(args, sizeof(args), "unfreeze %s --reason done", a);
	ck_assert_int_eq(admin(args), 0);
	resp_free(R);
	ck_assert_int_eq(api("POST", "/transfer", ta, body, extra, R), 0);
	ck_assert_int_eq(R->status, 403);
	ck_assert_str_eq(resp_err(R), "account_frozen");
	ck_assert_ptr_nonnull(
	    resp_header(R, "Idempotent-Replayed", key, sizeof(key)));
	ck_assert_str_eq(balance(ta), "40.00");
	ck_assert_str_eq(balance(tb), "0.00");
	munmap(refused, sizeof(int));
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

/* RFC 3339 UTC of now minus secs, into out[32]. */
static const char *
utc_ago(long secs, char out[32])
{
	time_t t = time(NULL) - secs;
	struct tm tm;

	ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
	ck_assert_uint_gt(strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm), 0);
	return out;
}

/*
 * A statement counts the fee a reversal gives back as money in, not as a
 * fee paid: over the reversal alone, total_fees stays 0.00 (it is the
 * part of total_out that was fees).
 */
START_TEST(test_admin_reverse__statement_counts_fee_back_as_in)
{
	char a[40], b[40], ta[1024], tb[1024], args[256], path[256];
	char at[32], to[32];
	long long ida, tid;

	unique_name("ta", a, sizeof(a));
	unique_name("tb", b, sizeof(b));
	ida = register_login(a, ta);
	register_login(b, tb);
	ck_assert_int_eq(top_up(ta, "30.00"), 200);
	ck_assert_int_eq(pay(ta, b, "10.00"), 201);
	tid = resp_int(R, "id");
	(void)snprintf(args, sizeof(args), "reverse %lld --reason x", tid);
	ck_assert_int_eq(admin(args), 0);
	/* Everything: the fee paid once, and given back as money in. */
	(void)snprintf(path, sizeof(path), "/statement?from=%s&to=%s",
	    utc_ago(86400, at), utc_ago(-86400, to));
	ck_assert_int_eq(call("GET", path, ta, NULL), 200);
	ck_assert_str_eq(resp_str(R, "total_in"), "40.75");
	ck_assert_str_eq(resp_str(R, "total_out"), "10.75");
	ck_assert_str_eq(resp_str(R, "total_fees"), "0.75");
	ck_assert_str_eq(resp_str(R, "closing_balance"), "30.00");
	/* The reversal alone: the top-up and the transfer an hour before. */
	ck_assert_int_eq(
	    stack_cmd("stack_sql \"$STACK_DIR\" \"UPDATE "
	              "payd.entries SET created_at = created_at - "
	              "INTERVAL 1 HOUR WHERE account_kind = 'user' "
	              "AND account_id = %lld AND type <> "
	              "'reversal_in'\"",
	        ida),
	    0);
	(void)snprintf(path, sizeof(path), "/statement?from=%s&to=%s",
	    utc_ago(1800, at), to);
	ck_assert_int_eq(call("GET", path, ta, NULL), 200);
	ck_assert_str_eq(resp_str(R, "opening_balance"), "19.25");
	ck_assert_str_eq(resp_str(R, "total_in"), "10.75");
	ck_assert_str_eq(resp_str(R, "total_out"), "0.00");
	ck_assert_str_eq(resp_str(R, "total_fees"), "0.00");
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

/* Pairs of a refund and a reversal of one transfer, each pair at once. */
#define ACC_RACES 6

/*
 * A reversal racing a refund of the same transfer (4.00 of 10.00): one
 * runs after the other on the transfer's row lock, so exactly one of two
 * orders happens, and money adds up either way. Refund first: 201, then
 * the reversal takes back the 6.00 left. Reversal first: it takes back
 * 10.00, then the refund is refused and moves nothing. The sender always
 * ends with all it had (amount and fee back), the recipient with 0.
 */
START_TEST(test_admin_reverse__racing_a_refund__one_order_audit_clean)
{
	int orders[2] = {0, 0};

	for (int race = 0; race < ACC_RACES; race++) {
		char a[40], b[40], ta[1024], tb[1024], path[64], cmd[256];
		struct resp *rr;
		pid_t pid;
		int st = 0, refund_status;
		long long tid;

		unique_name("xa", a, sizeof(a));
		unique_name("xb", b, sizeof(b));
		register_login(a, ta);
		register_login(b, tb);
		ck_assert_int_eq(top_up(ta, "30.00"), 200);
		ck_assert_int_eq(pay(ta, b, "10.00"), 201);
		tid = resp_int(R, "id");
		(void)snprintf(cmd, sizeof(cmd),
		    "\"$PAYD_BIN\" -c \"$STACK_DIR/payd.conf\" admin reverse "
		    "%lld --reason race >\"$STACK_DIR/race.out\" "
		    "2>>\"$STACK_DIR/admin.log\"",
		    tid);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			_exit(stack_cmd("%s", cmd));
		(void)snprintf(
		    path, sizeof(path), "/transfers/%lld/refund", tid);
		rr = malloc(sizeof(*rr));
		ck_assert_ptr_nonnull(rr);
		ck_assert_int_eq(
		    api("POST", path, tb, "{\"amount\":\"4.00\"}", NULL, rr),
		    0);
		refund_status = (int)rr->status;
		resp_free(rr);
		free(rr);
		ck_assert_int_eq(waitpid(pid, &st, 0), pid);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		if (refund_status == 201) {
			/* Refund first: the reversal took back what was left.
			 */
			ck_assert_int_eq(stack_cmd("grep -q 'gave back 6.00' "
			                           "\"$STACK_DIR/race.out\""),
			    0);
			orders[0]++;
		} else {
			ck_assert_int_eq(refund_status, 422);
			ck_assert_int_eq(stack_cmd("grep -q 'gave back 10.00' "
			                           "\"$STACK_DIR/race.out\""),
			    0);
			orders[1]++;
		}
		ck_assert_str_eq(balance(ta), "30.00");
		ck_assert_str_eq(balance(tb), "0.00");
		/* The transfer says so: reversed, and what was refunded. */
		(void)snprintf(path, sizeof(path), "/transfers/%lld", tid);
		ck_assert_int_eq(call("GET", path, ta, NULL), 200);
		ck_assert_ptr_nonnull(strstr(R->body, "\"reversed\":true"));
		ck_assert_str_eq(resp_str(R, "refunded"),
		    refund_status == 201 ? "4.00" : "0.00");
	}
	ck_assert_int_eq(orders[0] + orders[1], ACC_RACES);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

/* payd admin show: what pending holds reserve, and how many there are. */
START_TEST(test_admin_show__pending_holds_and_available)
{
	char a[40], b[40], ta[1024], tb[1024], body[128], args[128];
	long long id;

	unique_name("ha", a, sizeof(a));
	unique_name("hb", b, sizeof(b));
	id = register_login(a, ta);
	register_login(b, tb);
	ck_assert_int_eq(top_up(ta, "20.00"), 200);
	(void)snprintf(
	    body, sizeof(body), "{\"to\":\"%s\",\"amount\":\"5.00\"}", b);
	ck_assert_int_eq(call("POST", "/holds", ta, body), 201);
	(void)snprintf(args, sizeof(args), "show %s", a);
	ck_assert_int_eq(admin(args), 0);
	ck_assert_int_eq(stack_cmd("grep -q '^user %lld %s$' "
	                           "\"$STACK_DIR/admin.out\" && grep -q "
	                           "'balance  *20.00' \"$STACK_DIR/admin.out\" "
	                           "&& grep -q 'available  *14.25' "
	                           "\"$STACK_DIR/admin.out\" && grep -q "
	                           "'pending_holds 1' \"$STACK_DIR/admin.out\"",
	                     id, a),
	    0);
}
END_TEST

Suite *
accounts_suite(void)
{
	Suite *s = suite_create("accounts");
	TCase *tc = tcase_create("accounts");

	tcase_add_checked_fixture(tc, resp_setup, resp_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(
	    tc, test_password__change__old_tokens_refused_new_one_works);
	tcase_add_test(tc, test_password__wrong_current__403_nothing_changes);
	tcase_add_test(tc, test_password__new_password_rules__paired_400);
	tcase_add_test(tc, test_logout__old_tokens_refused_on_both_instances);
	tcase_add_test(tc, test_password_flood__429_rate_limited);
	tcase_add_test(tc, test_admin_freeze__payer_refused_incoming_money_ok);
	tcase_add_test(
	    tc, test_admin_reverse__both_histories_once_then_refused);
	tcase_add_test(
	    tc, test_admin_reverse__recipient_short__refused_nothing_moves);
	tcase_add_test(tc, test_admin_reverse__concurrent__exactly_once);
	tcase_add_test(tc, test_admin_show_log_help__exit_codes_no_secrets);
	tcase_add_test(
	    tc, test_password__two_changes_with_one_token__exactly_one);
	tcase_add_test(tc,
	    test_admin_freeze__concurrent_and_keyed_transfers__403_replayed);
	tcase_add_test(tc, test_admin_reverse__statement_counts_fee_back_as_in);
	tcase_add_test(
	    tc, test_admin_reverse__racing_a_refund__one_order_audit_clean);
	tcase_add_test(tc, test_admin_show__pending_holds_and_available);
	suite_add_tcase(s, tc);
	return s;
}
