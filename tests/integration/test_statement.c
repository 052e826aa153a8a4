/*
 * Goal: GET /balance?at= and GET /statement answer from the ledger as
 * API.md and docs/money.md say, over HTTP through nginx: the balance
 * right after the last movement at or before T ("0.00" before the first),
 * statements whose opening + in - out = closing exactly with fees in out,
 * [from, to) exact to the second, oldest first, the same entries as
 * /transactions, CSV with RFC 4180 quoting, 400 for every malformed
 * parameter, and 422 range_too_large past 10000 entries.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ledger_client.h"

Suite *statement_suite(void);

/* GET /balance?at=<at> as u; returns the status. */
static long
balance_at(const struct user *u, const char *at)
{
	char path[256];

	(void)snprintf(path, sizeof(path), "/balance?at=%s", at);
	return lcall("GET", path, u, NULL, NULL, NULL, R);
}

/* GET /statement?from=&to= (times as UNIX seconds) as u, JSON or CSV. */
static long
statement(const struct user *u, time_t from, time_t to, bool csv)
{
	const char *accept[] = {"Accept: text/csv", NULL};
	char path[256], f[21], t[21];

	ltime_text(from, f);
	ltime_text(to, t);
	(void)snprintf(path, sizeof(path), "/statement?from=%s&to=%s", f, t);
	return lcall("GET", path, u, NULL, NULL, csv ? accept : NULL, R);
}

/* The entries array of a statement or a /transactions page. */
static struct json_object *
entries_of(const char *field)
{
	struct json_object *list;

	ck_assert_msg(json_object_object_get_ex(R->json, field, &list) &&
	                  json_object_is_type(list, json_type_array),
	    "no %s: %s", field, R->body);
	return list;
}

/*
 * A user with two movements at two different seconds: a top-up of 10.00
 * at *t1, then a transfer of 2.00 (fee 0.75) to peer at *t2 > *t1, their
 * times read back from /transactions.
 */
static void
two_movements(struct user *u, struct user *peer, time_t *t1, time_t *t2)
{
	struct json_object *list;
	char body[128];

	make_user(u, "st");
	make_user(peer, "st");
	fund(u, "10.00");
	ck_assert_int_eq(
	    lcall("GET", "/transactions", u, NULL, NULL, NULL, R), 200);
	list = entries_of("transactions");
	*t1 = ltime(lfield(json_object_array_get_idx(list, 0), "created_at"));
	lwait_past(*t1);
	(void)snprintf(body, sizeof(body),
	    "{\"to\":\"%s\",\"amount\":\"2.00\"}", peer->name);
	ck_assert_int_eq(
	    lcall("POST", "/transfer", u, body, NULL, NULL, R), 201);
	*t2 = ltime(resp_str(R, "created_at"));
	ck_assert_int_gt(*t2, *t1);
}

START_TEST(test_balance_at__movements__balance_after_each_second)
{
	struct user u, peer;
	time_t t1, t2;
	char at[64];

	two_movements(&u, &peer, &t1, &t2);
	/* Before the first movement: 0.00; then after each, to the second. */
	ltime_text(t1 - 1, at);
	ck_assert_int_eq(balance_at(&u, at), 200);
	ck_assert_str_eq(resp_str(R, "balance"), "0.00");
	ck_assert_str_eq(resp_str(R, "username"), u.name);
	ck_assert_str_eq(resp_str(R, "currency"), "USD");
	ck_assert_str_eq(resp_str(R, "at"), at);
	ltime_text(t1, at);
	ck_assert_int_eq(balance_at(&u, at), 200);
	ck_assert_str_eq(resp_str(R, "balance"), "10.00");
	ltime_text(t2 - 1, at);
	ck_assert_int_eq(balance_at(&u, at), 200);
	ck_assert_str_eq(resp_str(R, "balance"), "10.00");
	ltime_text(t2, at);
	ck_assert_int_eq(balance_at(&u, at), 200);
	ck_assert_str_eq(resp_str(R, "balance"), "7.25");
	/* The recipient's own history. */
	ck_assert_int_eq(balance_at(&peer, at), 200);
	ck_assert_str_eq(resp_str(R, "balance"), "2.00");
	/* Another offset, a fraction, percent-encoding: the same instant. */
	{
		struct tm tm;
		char local[64];
		time_t t = t2 + 3600;

		ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
		ck_assert_uint_gt(
		    strftime(local, sizeof(local),
		        "%Y-%m-%dT%H%%3A%M%%3A%S.999%%2B01:00", &tm),
		    0);
		ck_assert_int_eq(balance_at(&u, local), 200);
		ck_assert_str_eq(resp_str(R, "balance"), "7.25");
		ck_assert_str_eq(resp_str(R, "at"), at);
	}
}
END_TEST

START_TEST(test_balance_at__malformed_or_future__400)
{
	static const char *const bad[] = {"yesterday", "",
	    "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
	    "2025-02-29T00:00:00Z", "2026-01-01T00:00:00",
	    "2026-01-01%2000:00:00Z", "2026-01-01T24:00:00Z",
	    "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00+0100",
	    "2026-1-01T00:00:00Z", "2026-01-01T00:00:00Zjunk", "%zz",
	    "2999-01-01T00:00:00Z"};
	struct user u;
	char future[21];

	make_user(&u, "sb");
	fund(&u, "1.00");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(balance_at(&u, bad[i]) == 400, "%s: %ld", bad[i],
		    R->status);
		ck_assert_str_eq(resp_err(R), "invalid_request");
	}
	ltime_text(time(NULL) + 120, future);
	ck_assert_int_eq(balance_at(&u, future), 400);
	ck_assert_str_eq(resp_err(R), "invalid_request");
	/* Without ?at=, the current balance; no token, 401. */
	ck_assert_int_eq(
	    lcall("GET", "/balance", &u, NULL, NULL, NULL, R), 200);
	ck_assert_str_eq(resp_str(R, "balance"), "1.00");
	ck_assert_int_eq(lcall("GET", "/balance?at=2026-01-01T00:00:00Z", NULL,
	                     NULL, NULL, NULL, R),
	    401);
}
END_TEST

/* Asserts the statement in R: balances, totals and entries in order. */
static void
assert_statement(const char *opening, const char *closing, const char *in,
    const char *out, const char *fees, size_t n)
{
	struct json_object *list = entries_of("entries");

	ck_assert_msg(R->status == 200, "%ld %s", R->status, R->body);
	ck_assert_str_eq(resp_str(R, "opening_balance"), opening);
	ck_assert_str_eq(resp_str(R, "closing_balance"), closing);
	ck_assert_str_eq(resp_str(R, "total_in"), in);
	ck_assert_str_eq(resp_str(R, "total_out"), out);
	ck_assert_str_eq(resp_str(R, "total_fees"), fees);
	ck_assert_str_eq(resp_str(R, "currency"), "USD");
	ck_assert_uint_eq(json_object_array_length(list), n);
	/* API.md: opening + in - out = closing, exactly. */
	ck_assert_int_eq(minor_of(opening) + minor_of(in) - minor_of(out),
	    minor_of(closing));
}

START_TEST(test_statement__ranges__exact_to_the_second)
{
	struct user u, peer;
	struct json_object *e;
	time_t t1, t2;
	char f[21];

	two_movements(&u, &peer, &t1, &t2);
	/* Both entries, oldest first. */
	ck_assert_int_eq(statement(&u, t1, t2 + 1, false), 200);
	assert_statement("0.00", "7.25", "10.00", "2.75", "0.75", 2);
	ck_assert_str_eq(resp_str(R, "username"), u.name);
	ltime_text(t1, f);
	ck_assert_str_eq(resp_str(R, "from"), f);
	e = json_object_array_get_idx(entries_of("entries"), 0);
	ck_assert_str_eq(lfield(e, "type"), "deposit");
	e = json_object_array_get_idx(entries_of("entries"), 1);
	ck_assert_str_eq(lfield(e, "type"), "transfer_out");
	ck_assert_str_eq(lfield(e, "fee"), "0.75");
	ck_assert_str_eq(lfield(e, "counterparty"), peer.name);
	ck_assert_str_eq(lfield(e, "balance_after"), "7.25");
	/* to is excluded, from included. */
	ck_assert_int_eq(statement(&u, t1, t2, false), 200);
	assert_statement("0.00", "10.00", "10.00", "0.00", "0.00", 1);
	ck_assert_int_eq(statement(&u, t2, t2 + 1, false), 200);
	assert_statement("10.00", "7.25", "0.00", "2.75", "0.75", 1);
	/* Between the two (when a second lies between them): none. */
	if (t2 > t1 + 1) {
		ck_assert_int_eq(statement(&u, t1 + 1, t2, false), 200);
		assert_statement("10.00", "10.00", "0.00", "0.00", "0.00", 0);
	}
	ck_assert_int_eq(statement(&u, t1 - 100, t1, false), 200);
	assert_statement("0.00", "0.00", "0.00", "0.00", "0.00", 0);
	/* The recipient: money in, no fee. */
	ck_assert_int_eq(statement(&peer, t1 - 1, t2 + 1, false), 200);
	assert_statement("0.00", "2.00", "2.00", "0.00", "0.00", 1);
	/* A future end is allowed, and 366 days is the longest range. */
	ck_assert_int_eq(statement(&u, t2, t2 + 366 * 86400, false), 200);
	assert_statement("10.00", "7.25", "0.00", "2.75", "0.75", 1);
}
END_TEST

START_TEST(test_statement__same_entries_as_transactions)
{
	struct user u, peer;
	struct json_object *root, *tx, *st;
	char body[128], *copy;
	time_t t0 = time(NULL);
	size_t n;

	make_user(&u, "se");
	make_user(&peer, "se");
	fund(&u, "50.00");
	(void)snprintf(body, sizeof(body),
	    "{\"to\":\"%s\",\"amount\":\"1.50\"}", peer.name);
	/* Several movements, most in one second: ordered by id within it. */
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(
		    lcall("POST", "/transfer", &u, body, NULL, NULL, R), 201);
	ck_assert_int_eq(
	    lcall("GET", "/transactions?limit=100", &u, NULL, NULL, NULL, R),
	    200);
	copy = strdup(R->body);
	ck_assert_ptr_nonnull(copy);
	ck_assert_int_eq(statement(&u, t0 - 1, time(NULL) + 1, false), 200);
	assert_statement("0.00", "38.75", "50.00", "11.25", "3.75", 6);
	st = entries_of("entries");
	root = json_tokener_parse(copy);
	ck_assert(json_object_object_get_ex(root, "transactions", &tx));
	n = json_object_array_length(tx);
	ck_assert_uint_eq(n, 6);
	/* The same objects, /transactions newest first, the statement oldest.
	 */
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(json_object_to_json_string(
		                     json_object_array_get_idx(st, i)),
		    json_object_to_json_string(
		        json_object_array_get_idx(tx, n - 1 - i)));
	json_object_put(root);
	free(copy);
}
END_TEST

START_TEST(test_statement__csv__rfc4180)
{
	struct user u, peer;
	char ct[128], line[256], expect[256];
	time_t t1, t2;
	const char *p;

	two_movements(&u, &peer, &t1, &t2);
	ck_assert_int_eq(statement(&u, t1, t2 + 1, true), 200);
	ck_assert_str_eq(resp_header(R, "Content-Type", ct, sizeof(ct)),
	    "text/csv; charset=utf-8");
	p = R->body;
	ck_assert_msg(strstr(p, "\r\n") != NULL, "no CRLF: %s", p);
	(void)snprintf(
	    line, sizeof(line), "%.*s", (int)(strstr(p, "\r\n") - p), p);
	ck_assert_str_eq(line,
	    "id,type,amount,fee,counterparty,balance_after,created_at,"
	    "transfer_id");
	p = strstr(p, "\r\n") + 2;
	ck_assert_ptr_nonnull(strstr(p, ",\"deposit\",10.00,0.00,,10.00,\""));
	p = strstr(p, "\r\n") + 2;
	{
		char at[21];

		ltime_text(t2, at);
		(void)snprintf(expect, sizeof(expect),
		    ",\"transfer_out\",2.00,0.75,\"%s\",7.25,\"%s\",\r\n",
		    peer.name, at);
		ck_assert_ptr_nonnull(strstr(p, expect));
	}
	p = strstr(p, "\r\n") + 2;
	ck_assert_str_eq(p, "");
	/* Errors stay JSON. */
	ck_assert_int_eq(statement(&u, t2, t1, true), 400);
	ck_assert_str_eq(resp_err(R), "invalid_request");
}
END_TEST

START_TEST(test_statement__bad_params__400)
{
	static const char *const bad[] = {"", "?from=2026-01-01T00:00:00Z",
	    "?to=2026-01-01T00:00:00Z",
	    "?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
	    "?from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
	    "?from=2025-01-01T00:00:00Z&to=2026-01-02T00:00:01Z",
	    "?from=2026-01-01&to=2026-01-02T00:00:00Z",
	    "?from=2026-01-01T00:00:00Z&to=tomorrow",
	    "?from=2026-01-01T00:00:00Z&from=2026-01-01T00:00:00Z"
	    "&to=2026-01-02T00:00:00Z"};
	struct user u;
	char path[256];

	make_user(&u, "sp");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)snprintf(path, sizeof(path), "/statement%s", bad[i]);
		ck_assert_msg(
		    lcall("GET", path, &u, NULL, NULL, NULL, R) == 400,
		    "%s: %ld", bad[i], R->status);
		ck_assert_str_eq(resp_err(R), "invalid_request");
	}
	/* 366 days exactly is allowed. */
	ck_assert_int_eq(lcall("GET",
	                     "/statement?from=2025-01-01T00:00:00Z"
	                     "&to=2026-01-02T00:00:00Z",
	                     &u, NULL, NULL, NULL, R),
	    200);
	ck_assert_int_eq(lcall("GET",
	                     "/statement?from=2025-01-01T00:00:00Z"
	                     "&to=2026-01-02T00:00:00Z",
	                     NULL, NULL, NULL, NULL, R),
	    401);
	ck_assert_int_eq(
	    lcall("POST", "/statement", &u, "{}", NULL, NULL, R), 405);
}
END_TEST

/* Pays 1000 transfers of 0.01 from payer to payee in one batch. */
static void
pay_thousand(const struct user *payer, const struct user *payee)
{
	static char body[64 * 1024];
	size_t n = 0;

	n += (size_t)snprintf(body + n, sizeof(body) - n, "{\"transfers\":[");
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n,
		    "%s{\"to_id\":%lld,\"amount\":\"0.01\"}", i ? "," : "",
		    payee->id);
	(void)snprintf(body + n, sizeof(body) - n, "]}");
	ck_assert_int_eq(
	    lcall("POST", "/transfers/batch", payer, body, NULL, NULL, R), 201);
}

START_TEST(test_statement__over_10000_entries__422_range_too_large)
{
	struct user payer, payee;
	time_t t0 = time(NULL);

	make_user(&payer, "sr");
	make_user(&payee, "sr");
	fund(&payer, "8000.00");
	for (int i = 0; i < 10; i++)
		pay_thousand(&payer, &payee);
	/* The payee has exactly 10000 entries: the most a statement holds. */
	ck_assert_int_eq(statement(&payee, t0 - 1, time(NULL) + 1, false), 200);
	assert_statement("0.00", "100.00", "100.00", "0.00", "0.00", 10000);
	ck_assert_int_eq(statement(&payee, t0 - 1, time(NULL) + 1, true), 200);
	/* The payer has 10001 (the top-up too): too many, in both forms. */
	ck_assert_int_eq(statement(&payer, t0 - 1, time(NULL) + 1, false), 422);
	ck_assert_str_eq(resp_err(R), "range_too_large");
	ck_assert_int_eq(statement(&payer, t0 - 1, time(NULL) + 1, true), 422);
	ck_assert_str_eq(resp_err(R), "range_too_large");
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

/* The number that the privileged account's SQL query sql prints. */
static long long
sql_number(const char *sql)
{
	char out[32];

	ck_assert_int_eq(stack_output(out, sizeof(out),
	                     ". \"$STACK_ROOT/tests/lib/stack.sh\"; "
	                     "stack_sql \"$STACK_DIR\" \"%s\"",
	                     sql),
	    0);
	ck_assert_msg(out[0] != '\0', "no answer to %s", sql);
	return atoll(out);
}

/*
 * How many entries of the movements after first that touch a or b also
 * meet the SQL condition cond (on e, the entry, and m, its movement).
 */
static long long
entries_where(long long first, long long a, long long b, const char *cond)
{
	char sql[1024];

	(void)snprintf(sql, sizeof(sql),
	    "SELECT COUNT(*) FROM payd.entries e JOIN payd.movements m "
	    "ON m.id = e.movement_id WHERE m.id > %lld AND "
	    "(m.from_user IN (%lld, %lld) OR m.to_user IN (%lld, %lld)) "
	    "AND %s",
	    first, a, b, a, b, cond);
	return sql_number(sql);
}

START_TEST(test_entries_time__later_entry_first__never_go_back)
{
	struct user a, b, c;
	char body[512], sql[512];
	long long first, tid;

	make_user(&a, "et");
	make_user(&b, "et");
	make_user(&c, "et");
	fund(&a, "100.00");
	fund(&b, "10.00");
	(void)snprintf(sql, sizeof(sql),
	    "UPDATE payd.entries SET created_at = created_at + INTERVAL 1 HOUR "
	    "WHERE account_kind = 'user' AND account_id IN (%lld, %lld); "
	    "SELECT MAX(id) FROM payd.movements",
	    a.id, b.id);
	first = sql_number(sql);
	ck_assert_int_gt(first, 0);

	ck_assert_int_eq(transfer(&a, b.name, "1.00", NULL, R), 201);
	tid = resp_int(R, "id");
	fund(&a, "1.00");
	(void)snprintf(body, sizeof(body),
	    "{\"transfers\":[{\"to\":\"%s\",\"amount\":\"1.00\"},"
	    "{\"to\":\"%s\",\"amount\":\"1.00\"}]}",
	    b.name, c.name);
	ck_assert_int_eq(
	    lcall("POST", "/transfers/batch", &a, body, NULL, NULL, R), 201);
	(void)snprintf(body, sizeof(body),
	    "{\"atomic\":false,\"transfers\":["
	    "{\"to\":\"%s\",\"amount\":\"1.00\"},"
	    "{\"to\":\"nobody-%s\",\"amount\":\"1.00\"}]}",
	    b.name, b.name);
	ck_assert_int_eq(
	    lcall("POST", "/transfers/batch", &a, body, NULL, NULL, R), 201);
	(void)snprintf(body, sizeof(body), "/transfers/%lld/refund", tid);
	ck_assert_int_eq(lcall("POST", body, &b, "{}", NULL, NULL, R), 201);
	ck_assert_int_eq(transfer(&a, b.name, "2.00", NULL, R), 201);
	ck_assert_int_eq(
	    stack_cmd("\"$PAYD_BIN\" -c \"$STACK_DIR/payd.conf\" admin "
	              "--operator ops1 reverse %lld --reason 'time test' "
	              ">/dev/null 2>&1",
	        resp_int(R, "id")),
	    0);

	/*
	 * a's and b's: 2 of the transfer, 1 of the top-up, 3 and 2 of the
	 * batches, 2 of the refund, 2 + 2 of the reversed transfer and its
	 * reversal; every one at or after the hour ahead, and so at least
	 * 59 minutes after its movement's own second.
	 */
	(void)snprintf(sql, sizeof(sql),
	    "e.account_kind = 'user' AND e.account_id IN (%lld, %lld)", a.id,
	    b.id);
	ck_assert_int_eq(entries_where(first, a.id, b.id, sql), 14);
	(void)snprintf(sql, sizeof(sql),
	    "e.account_kind = 'user' AND e.account_id IN (%lld, %lld) AND "
	    "e.created_at >= m.created_at + INTERVAL 59 MINUTE",
	    a.id, b.id);
	ck_assert_int_eq(entries_where(first, a.id, b.id, sql), 14);
	/* The fee and funding entries keep their movement's second. */
	ck_assert_int_eq(
	    entries_where(first, a.id, b.id, "e.account_kind <> 'user'"), 7);
	ck_assert_int_eq(entries_where(first, a.id, b.id,
	                     "e.account_kind <> 'user' AND "
	                     "e.created_at <> m.created_at"),
	    0);
	/* No entry of a, b or c has an earlier time than the one before. */
	(void)snprintf(sql, sizeof(sql),
	    "SELECT COUNT(*) FROM (SELECT created_at, LAG(created_at) OVER "
	    "(PARTITION BY account_id ORDER BY movement_id) AS before_it "
	    "FROM payd.entries WHERE account_kind = 'user' AND account_id "
	    "IN (%lld, %lld, %lld)) x WHERE created_at < before_it",
	    a.id, b.id, c.id);
	ck_assert_int_eq(sql_number(sql), 0);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

Suite *
statement_suite(void)
{
	Suite *s = suite_create("statement");
	TCase *tc = tcase_create("balance_at");

	tcase_add_checked_fixture(tc, resp_setup, resp_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(
	    tc, test_balance_at__movements__balance_after_each_second);
	tcase_add_test(tc, test_balance_at__malformed_or_future__400);
	suite_add_tcase(s, tc);
	tc = tcase_create("statement");
	tcase_add_checked_fixture(tc, resp_setup, resp_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_statement__ranges__exact_to_the_second);
	tcase_add_test(tc, test_statement__same_entries_as_transactions);
	tcase_add_test(tc, test_statement__csv__rfc4180);
	tcase_add_test(tc, test_statement__bad_params__400);
	tcase_add_test(
	    tc, test_statement__over_10000_entries__422_range_too_large);
	tcase_add_test(tc, test_entries_time__later_entry_first__never_go_back);
	suite_add_tcase(s, tc);
	return s;
}
