/*
 * Goal: holds and refunds behave as API.md says, over HTTP through nginx:
 * available in GET /balance, POST/GET /holds, capture (whole and
 * partial), void, expiry (also with no traffic, and when the instance
 * holding the sweeper's lease stops), GET /transfers/{id}, refunds, their
 * Idempotency-Keys and every error code; and under concurrency from
 * fork()ed clients: a hold ends exactly once, a payer's holds and
 * transfers never overdraw it, refunds never exceed their transfer; after
 * each, `payd audit` finds the ledger sound.
 */
#include <check.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "money_util.h"

Suite *holds_suite(void);

/* The default fee of the test stack: a flat 0.75. */
#define FEE 75LL

/* A request with an optional Idempotency-Key; returns the status. */
static long
call(const char *method, const char *path, const struct user *u,
    const char *body, const char *key, struct resp *r)
{
	char hdr[300];
	const char *extra[2] = {NULL, NULL};

	if (key != NULL) {
		(void)snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key);
		extra[0] = hdr;
	}
	resp_free(r);
	ck_assert_int_eq(
	    api(method, path, u != NULL ? u->token : NULL, body, extra, r), 0);
	return r->status;
}

/* The caller's balance and available, in cents. */
static void
money_of(const struct user *u, long long *balance, long long *available)
{
	struct resp *r = calloc(1, sizeof(*r));

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(call("GET", "/balance", u, NULL, NULL, r), 200);
	*balance = minor_of(resp_str(r, "balance"));
	*available = minor_of(resp_str(r, "available"));
	resp_free(r);
	free(r);
}

/* POST /holds from u to "to" of amount; returns the hold's id. */
static long long
hold(const struct user *u, const struct user *to, const char *amount)
{
	char body[160];

	(void)snprintf(body, sizeof(body), "{\"to\":\"%s\",\"amount\":\"%s\"}",
	    to->name, amount);
	ck_assert_int_eq(call("POST", "/holds", u, body, NULL, R), 201);
	return resp_int(R, "id");
}

/* POST /<what>/<id>/<action>: "/holds/7/capture". */
static long
post_id(const char *what, long long id, const char *action,
    const struct user *u, const char *body, const char *key)
{
	char path[96];

	(void)snprintf(path, sizeof(path), "/%s/%lld/%s", what, id, action);
	return call("POST", path, u, body, key, R);
}

/* Runs an SQL statement of the test's own setup as the database root. */
static void sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
sql(const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ck_assert_int_eq(
	    stack_cmd("stack_sql \"$STACK_DIR\" \"%s\" >/dev/null", text), 0);
}

/* A hold's expires_at moved to one second ago, as if it had passed. */
static void
expire_now(long long hold_id)
{
	sql("UPDATE payd.holds SET expires_at = UTC_TIMESTAMP() - INTERVAL 1 "
	    "SECOND WHERE id = %lld",
	    hold_id);
}

/* Whether user id's reservation is back to r cents, read from the DB. */
static bool
reserved_is(long long id, long long r)
{
	return stack_cmd("test \"$(stack_sql \"$STACK_DIR\" \"SELECT reserved "
	                 "FROM payd.users WHERE id = %lld\")\" = %lld",
	           id, r) == 0;
}

/* Polls the database (not the app) every 100 ms for up to ms. */
static bool
reserved_within(long long id, long long r, int ms)
{
	for (int waited = 0; waited <= ms; waited += 100) {
		if (reserved_is(id, r))
			return true;
		usleep(100000);
	}
	return false;
}

static struct shot *
seen_shared(int n)
{
	return shared(sizeof(struct shot) * (size_t)n);
}

/* A client's record of its answer (no ck_assert in a client). */
static void
seen_set(struct shot *s, const struct resp *r)
{
	s->status = r->status;
	(void)snprintf(s->err, sizeof(s->err), "%s", resp_err(r));
}

START_TEST(test_hold_create__fields_available_get_and_list)
{
	struct user a, shop, eve;
	long long bal, avail, id1, id2;
	char path[96];

	make_user(&a, "ha");
	make_user(&shop, "hs");
	make_user(&eve, "he");
	ck_assert_int_eq(top_up(a.token, "100.00"), 200);
	money_of(&a, &bal, &avail);
	ck_assert_int_eq(bal, 10000);
	ck_assert_int_eq(avail, 10000);
	ck_assert_int_eq(
	    call("POST", "/holds", &a,
	        "{\"to\":\"x\",\"to_id\":1,\"amount\":\"1\"}", NULL, R),
	    400);
	(void)snprintf(path, sizeof(path),
	    "{\"to_id\":%lld,\"amount\":30,\"expires_in\":3600}", shop.id);
	ck_assert_int_eq(call("POST", "/holds", &a, path, NULL, R), 201);
	id1 = resp_int(R, "id");
	ck_assert_int_gt(id1, 0);
	ck_assert_str_eq(resp_str(R, "status"), "pending");
	ck_assert_str_eq(resp_str(R, "from"), a.name);
	ck_assert_str_eq(resp_str(R, "to"), shop.name);
	ck_assert_str_eq(resp_str(R, "amount"), "30.00");
	ck_assert_str_eq(resp_str(R, "fee"), "0.75");
	ck_assert_str_eq(resp_str(R, "captured"), "0.00");
	ck_assert_str_eq(resp_str(R, "available"), "69.25");
	ck_assert(strstr(R->body, "\"transfer_id\":null") != NULL);
	ck_assert_int_eq(strlen(resp_str(R, "created_at")), 20);
	ck_assert_int_eq(strlen(resp_str(R, "expires_at")), 20);
	ck_assert_str_ne(resp_str(R, "created_at"), resp_str(R, "expires_at"));
	id2 = hold(&a, &shop, "10.00");
	money_of(&a, &bal, &avail);
	ck_assert_int_eq(bal, 10000);
	ck_assert_int_eq(avail, 10000 - 3075 - 1075);
	/* Both parties see it, without "available"; nobody else does. */
	(void)snprintf(path, sizeof(path), "/holds/%lld", id1);
	ck_assert_int_eq(call("GET", path, &shop, NULL, NULL, R), 200);
	ck_assert_int_eq(resp_int(R, "id"), id1);
	ck_assert(strstr(R->body, "\"available\"") == NULL);
	ck_assert_int_eq(call("GET", path, &a, NULL, NULL, R), 200);
	ck_assert_str_eq(resp_str(R, "status"), "pending");
	ck_assert_int_eq(call("GET", path, &eve, NULL, NULL, R), 404);
	ck_assert_str_eq(resp_err(R), "not_found");
	ck_assert_int_eq(call("GET", path, NULL, NULL, NULL, R), 401);
	/* The list: newest first, paged, filtered by status. */
	ck_assert_int_eq(
	    call("GET", "/holds?limit=1", &shop, NULL, NULL, R), 200);
	ck_assert(strstr(R->body, "\"holds\":[{\"id\":") != NULL);
	ck_assert_int_eq(resp_int(R, "next_before"), id2);
	(void)snprintf(path, sizeof(path), "/holds?limit=1&before=%lld", id2);
	ck_assert_int_eq(call("GET", path, &a, NULL, NULL, R), 200);
	ck_assert(strstr(R->body, "\"next_before\":null") != NULL);
	ck_assert_int_eq(
	    call("GET", "/holds?status=pending", &a, NULL, NULL, R), 200);
	ck_assert(strstr(R->body, "\"status\":\"pending\"") != NULL);
	ck_assert_int_eq(
	    call("GET", "/holds?status=captured", &a, NULL, NULL, R), 200);
	ck_assert_str_eq(R->body, "{\"holds\":[],\"next_before\":null}");
	ck_assert_int_eq(call("GET", "/holds", &eve, NULL, NULL, R), 200);
	ck_assert_str_eq(R->body, "{\"holds\":[],\"next_before\":null}");
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_hold_create__each_error__nothing_reserved)
{
	/* Each body around the recipient's name, and its error code. */
	static const char *const bad[][3] = {
	    {"{\"to\":\"", "\",\"amount\":\"0\"}", "invalid_amount"},
	    {"{\"to\":\"", "\",\"amount\":\"1.005\"}", "invalid_amount"},
	    {"{\"to\":\"", "\",\"amount\":null}", "invalid_amount"},
	    {"{\"to\":\"", "\"}", "invalid_request"},
	    {"{\"amount\":\"1\",\"x\":\"", "\"}", "invalid_request"},
	    {"{\"to\":\"", "\",\"amount\":\"1\",\"expires_in\":59}",
	        "invalid_request"},
	    {"{\"to\":\"", "\",\"amount\":\"1\",\"expires_in\":604801}",
	        "invalid_request"},
	    {"{\"to\":\"", "\",\"amount\":\"1\",\"expires_in\":\"60\"}",
	        "invalid_request"},
	    {"[\"", "\"]", "invalid_request"},
	};
	struct user a, shop;
	long long bal, avail;
	char body[160];

	make_user(&a, "hx");
	make_user(&shop, "hy");
	ck_assert_int_eq(top_up(a.token, "10.00"), 200);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)snprintf(body, sizeof(body), "%s%s%s", bad[i][0],
		    shop.name, bad[i][1]);
		ck_assert_int_eq(
		    call("POST", "/holds", &a, body, NULL, R), 400);
		ck_assert_msg(strcmp(resp_err(R), bad[i][2]) == 0, "%s: %s",
		    body, R->body);
	}
	(void)snprintf(
	    body, sizeof(body), "{\"to\":\"%s\",\"amount\":\"1\"}", a.name);
	ck_assert_int_eq(call("POST", "/holds", &a, body, NULL, R), 400);
	(void)snprintf(
	    body, sizeof(body), "{\"to_id\":%lld,\"amount\":\"1\"}", a.id);
	ck_assert_int_eq(call("POST", "/holds", &a, body, NULL, R), 400);
	ck_assert_int_eq(
	    call("POST", "/holds", &a,
	        "{\"to\":\"nobody-here-x\",\"amount\":\"1\"}", NULL, R),
	    404);
	ck_assert_str_eq(resp_err(R), "recipient_not_found");
	/* 9.25 + 0.75 fits 10.00 exactly; one cent more does not. */
	(void)snprintf(body, sizeof(body),
	    "{\"to\":\"%s\",\"amount\":\"9.26\"}", shop.name);
	ck_assert_int_eq(call("POST", "/holds", &a, body, NULL, R), 422);
	ck_assert_str_eq(resp_err(R), "insufficient_funds");
	ck_assert_int_eq(call("POST", "/holds", NULL, body, NULL, R), 401);
	money_of(&a, &bal, &avail);
	ck_assert_int_eq(avail, 1000);
	(void)hold(&a, &shop, "9.25");
	money_of(&a, &bal, &avail);
	ck_assert_int_eq(bal, 1000);
	ck_assert_int_eq(avail, 0);
	/* The reservation is not spent twice: a transfer is refused too. */
	(void)snprintf(body, sizeof(body),
	    "{\"to\":\"%s\",\"amount\":\"0.01\"}", shop.name);
	ck_assert_int_eq(call("POST", "/transfer", &a, body, NULL, R), 422);
	ck_assert_str_eq(resp_err(R), "insufficient_funds");
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_hold_paths__bad_ids_404_methods_405)
{
	static const char *const paths[] = {"/holds/abc", "/holds/0",
	    "/holds/-1", "/holds/007", "/holds/1.5", "/holds/",
	    "/holds/99999999999999999999", "/transfers/abc", "/transfers/0",
	    "/transfers/99999999999999999999"};
	struct user a;

	make_user(&a, "hp");
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		ck_assert_int_eq(call("GET", paths[i], &a, NULL, NULL, R), 404);
		ck_assert_str_eq(resp_err(R), "not_found");
	}
	ck_assert_int_eq(
	    call("POST", "/holds/x1/capture", &a, "{}", NULL, R), 404);
	ck_assert_int_eq(
	    call("POST", "/transfers/0/refund", &a, "{}", NULL, R), 404);
	/* Unknown but well-formed ids: 404 from the ledger. */
	ck_assert_int_eq(
	    call("GET", "/holds/9223372036854775807", &a, NULL, NULL, R), 404);
	ck_assert_int_eq(
	    call("POST", "/holds/922337203685477580/void", &a, "{}", NULL, R),
	    404);
	ck_assert_int_eq(call("POST", "/transfers/922337203685477580/refund",
	                     &a, NULL, NULL, R),
	    404);
	ck_assert_int_eq(
	    call("GET", "/holds/1/capture", &a, NULL, NULL, R), 405);
	ck_assert_str_eq(resp_err(R), "method_not_allowed");
	ck_assert_int_eq(call("POST", "/holds/1", &a, "{}", NULL, R), 405);
	ck_assert_int_eq(call("DELETE", "/holds", &a, NULL, NULL, R), 405);
	ck_assert_int_eq(call("POST", "/transfers/1", &a, "{}", NULL, R), 405);
	ck_assert_int_eq(
	    call("GET", "/holds?status=done", &a, NULL, NULL, R), 400);
	ck_assert_int_eq(call("GET", "/holds?limit=0", &a, NULL, NULL, R), 400);
	ck_assert_int_eq(
	    call("GET", "/holds?before=x", &a, NULL, NULL, R), 400);
}
END_TEST

START_TEST(test_hold_capture__partial__moves_exactly_then_409)
{
	struct user a, shop;
	long long bal, avail, id, tid;
	char path[96];

	make_user(&a, "hc");
	make_user(&shop, "hd");
	ck_assert_int_eq(top_up(a.token, "100.00"), 200);
	id = hold(&a, &shop, "30.00");
	ck_assert_int_eq(post_id("holds", id, "capture", &a, "{}", NULL), 403);
	ck_assert_str_eq(resp_err(R), "forbidden");
	ck_assert_int_eq(post_id("holds", id, "capture", &shop,
	                     "{\"amount\":\"30.01\"}", NULL),
	    422);
	ck_assert_str_eq(resp_err(R), "invalid_amount");
	ck_assert_int_eq(
	    post_id("holds", id, "capture", &shop, "{\"amount\":\"0\"}", NULL),
	    400);
	ck_assert_int_eq(post_id("holds", id, "capture", &shop,
	                     "{\"amount\":\"25.00\"}", NULL),
	    200);
	ck_assert_str_eq(resp_str(R, "status"), "captured");
	ck_assert_str_eq(resp_str(R, "captured"), "25.00");
	ck_assert_str_eq(resp_str(R, "amount"), "30.00");
	tid = resp_int(R, "transfer_id");
	ck_assert_int_gt(tid, 0);
	/* The payer lost 25.00 + 0.75; the rest is available again. */
	money_of(&a, &bal, &avail);
	ck_assert_int_eq(bal, 10000 - 2500 - FEE);
	ck_assert_int_eq(avail, bal);
	money_of(&shop, &bal, &avail);
	ck_assert_int_eq(bal, 2500);
	ck_assert_int_eq(
	    post_id("holds", id, "capture", &shop, NULL, NULL), 409);
	ck_assert_str_eq(resp_err(R), "hold_not_pending");
	ck_assert_int_eq(post_id("holds", id, "void", &shop, NULL, NULL), 409);
	ck_assert_str_eq(resp_err(R), "hold_not_pending");
	/* A capture is a transfer: both see it, with its hold. */
	(void)snprintf(path, sizeof(path), "/transfers/%lld", tid);
	ck_assert_int_eq(call("GET", path, &a, NULL, NULL, R), 200);
	ck_assert_int_eq(resp_int(R, "hold_id"), id);
	ck_assert_str_eq(resp_str(R, "amount"), "25.00");
	ck_assert_str_eq(resp_str(R, "fee"), "0.75");
	ck_assert_str_eq(resp_str(R, "refunded"), "0.00");
	ck_assert(strstr(R->body, "\"reversed\":false") != NULL);
	ck_assert(strstr(R->body, "\"refunds\":[]") != NULL);
	ck_assert_int_eq(
	    call("GET", "/transactions?limit=1", &shop, NULL, NULL, R), 200);
	ck_assert(strstr(R->body, "\"type\":\"transfer_in\"") != NULL);
	/* The whole amount by default. */
	id = hold(&a, &shop, "10.00");
	ck_assert_int_eq(
	    post_id("holds", id, "capture", &shop, NULL, NULL), 200);
	ck_assert_str_eq(resp_str(R, "captured"), "10.00");
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_hold_void_and_expiry__released__409s)
{
	struct user a, shop;
	long long bal, avail, id, id2;
	char path[96];

	make_user(&a, "hv");
	make_user(&shop, "hw");
	ck_assert_int_eq(top_up(a.token, "50.00"), 200);
	id = hold(&a, &shop, "20.00");
	ck_assert_int_eq(post_id("holds", id, "void", &a, NULL, NULL), 403);
	ck_assert_str_eq(resp_err(R), "forbidden");
	ck_assert_int_eq(post_id("holds", id, "void", &shop, NULL, NULL), 200);
	ck_assert_str_eq(resp_str(R, "status"), "voided");
	ck_assert_str_eq(resp_str(R, "captured"), "0.00");
	money_of(&a, &bal, &avail);
	ck_assert_int_eq(avail, 5000);
	ck_assert_int_eq(
	    post_id("holds", id, "capture", &shop, NULL, NULL), 409);
	ck_assert_str_eq(resp_err(R), "hold_not_pending");
	/* Past expires_at: refused whatever the sweeper has done yet. */
	id2 = hold(&a, &shop, "20.00");
	expire_now(id2);
	ck_assert_int_eq(
	    post_id("holds", id2, "capture", &shop, NULL, NULL), 409);
	ck_assert_str_eq(resp_err(R), "hold_expired");
	ck_assert_int_eq(post_id("holds", id2, "void", &shop, NULL, NULL), 409);
	ck_assert_str_eq(resp_err(R), "hold_expired");
	(void)snprintf(path, sizeof(path), "/holds/%lld", id2);
	ck_assert_int_eq(call("GET", path, &a, NULL, NULL, R), 200);
	ck_assert_str_eq(resp_str(R, "status"), "expired");
	ck_assert_int_eq(
	    call("GET", "/holds?status=expired", &shop, NULL, NULL, R), 200);
	ck_assert(strstr(R->body, "\"next_before\":null") != NULL);
	ck_assert(strstr(R->body, "\"status\":\"expired\"") != NULL);
	ck_assert(strstr(R->body, "\"status\":\"voided\"") == NULL);
	ck_assert_msg(reserved_within(a.id, 0, 5000), "not released in 5 s");
	money_of(&a, &bal, &avail);
	ck_assert_int_eq(bal, 5000);
	ck_assert_int_eq(avail, 5000);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_refund__partial_whole_errors__no_fee_moved)
{
	struct user a, b, eve;
	long long bal, avail, tid, rid;
	char body[160], path[96];

	make_user(&a, "ra");
	make_user(&b, "rb");
	make_user(&eve, "re");
	ck_assert_int_eq(top_up(a.token, "20.00"), 200);
	(void)snprintf(
	    body, sizeof(body), "{\"to\":\"%s\",\"amount\":\"10.00\"}", b.name);
	ck_assert_int_eq(call("POST", "/transfer", &a, body, NULL, R), 201);
	tid = resp_int(R, "id");
	ck_assert_int_eq(
	    post_id("transfers", tid, "refund", &a, NULL, NULL), 403);
	ck_assert_str_eq(resp_err(R), "forbidden");
	ck_assert_int_eq(
	    post_id("transfers", tid, "refund", &eve, NULL, NULL), 404);
	ck_assert_str_eq(resp_err(R), "not_found");
	ck_assert_int_eq(post_id("transfers", tid, "refund", &b,
	                     "{\"amount\":\"10.01\"}", NULL),
	    422);
	ck_assert_str_eq(resp_err(R), "refund_exceeds_transfer");
	ck_assert_int_eq(post_id("transfers", tid, "refund", &b,
	                     "{\"amount\":\"abc\"}", NULL),
	    400);
	ck_assert_int_eq(post_id("transfers", tid, "refund", &b,
	                     "{\"amount\":\"4.00\"}", NULL),
	    201);
	rid = resp_int(R, "id");
	ck_assert_int_gt(rid, tid);
	ck_assert_int_eq(resp_int(R, "transfer_id"), tid);
	ck_assert_str_eq(resp_str(R, "from"), b.name);
	ck_assert_str_eq(resp_str(R, "to"), a.name);
	ck_assert_str_eq(resp_str(R, "amount"), "4.00");
	ck_assert_str_eq(resp_str(R, "refunded"), "4.00");
	ck_assert_str_eq(resp_str(R, "balance"), "6.00");
	ck_assert_int_eq(strlen(resp_str(R, "created_at")), 20);
	/* What is left, by default; then nothing is. */
	ck_assert_int_eq(
	    post_id("transfers", tid, "refund", &b, NULL, NULL), 201);
	ck_assert_str_eq(resp_str(R, "amount"), "6.00");
	ck_assert_str_eq(resp_str(R, "refunded"), "10.00");
	ck_assert_int_eq(
	    post_id("transfers", tid, "refund", &b, "{}", NULL), 422);
	ck_assert_str_eq(resp_err(R), "refund_exceeds_transfer");
	/* The fee stays with the fee account: a lost 0.75 in all. */
	money_of(&a, &bal, &avail);
	ck_assert_int_eq(bal, 2000 - FEE);
	money_of(&b, &bal, &avail);
	ck_assert_int_eq(bal, 0);
	(void)snprintf(path, sizeof(path), "/transfers/%lld", tid);
	ck_assert_int_eq(call("GET", path, &b, NULL, NULL, R), 200);
	ck_assert_str_eq(resp_str(R, "refunded"), "10.00");
	ck_assert(strstr(R->body, "\"amount\":\"4.00\"") != NULL);
	ck_assert(strstr(R->body, "\"amount\":\"6.00\"") != NULL);
	ck_assert_int_eq(call("GET", path, &eve, NULL, NULL, R), 404);
	/* A refund or a deposit is no transfer. */
	(void)snprintf(path, sizeof(path), "/transfers/%lld", rid);
	ck_assert_int_eq(call("GET", path, &a, NULL, NULL, R), 404);
	ck_assert_int_eq(
	    post_id("transfers", rid, "refund", &a, NULL, NULL), 404);
	ck_assert_int_eq(
	    call("GET", "/transactions?limit=2", &a, NULL, NULL, R), 200);
	ck_assert(strstr(R->body, "\"type\":\"refund_in\"") != NULL);
	(void)snprintf(path, sizeof(path), "\"transfer_id\":%lld", tid);
	ck_assert(strstr(R->body, path) != NULL);
	ck_assert_int_eq(
	    call("GET", "/transactions?limit=1", &b, NULL, NULL, R), 200);
	ck_assert(strstr(R->body, "\"type\":\"refund_out\"") != NULL);
	ck_assert(strstr(R->body, path) != NULL);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_refund__recipient_short_or_reserved__422_funds)
{
	struct user a, b, c;
	long long tid;
	char body[160];

	make_user(&a, "rf");
	make_user(&b, "rg");
	make_user(&c, "rh");
	ck_assert_int_eq(top_up(a.token, "20.00"), 200);
	(void)snprintf(
	    body, sizeof(body), "{\"to\":\"%s\",\"amount\":\"10.00\"}", b.name);
	ck_assert_int_eq(call("POST", "/transfer", &a, body, NULL, R), 201);
	tid = resp_int(R, "id");
	/* b reserves 9.25 + 0.75 of its 10.00 for c: 0.00 available. */
	(void)hold(&b, &c, "9.25");
	ck_assert_int_eq(post_id("transfers", tid, "refund", &b,
	                     "{\"amount\":\"0.01\"}", NULL),
	    422);
	ck_assert_str_eq(resp_err(R), "insufficient_funds");
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_idempotency__holds_capture_void_refund__replayed)
{
	struct user a, shop;
	long long bal, avail, id, id2, tid;
	char body[160], first[1024];

	make_user(&a, "ia");
	make_user(&shop, "ib");
	ck_assert_int_eq(top_up(a.token, "100.00"), 200);
	(void)snprintf(
	    body, sizeof(body), "{\"to\":\"%s\",\"amount\":\"5\"}", shop.name);
	ck_assert_int_eq(call("POST", "/holds", &a, body, "h-1", R), 201);
	id = resp_int(R, "id");
	ck_assert_int_lt(R->len, sizeof(first));
	memcpy(first, R->body, R->len + 1);
	ck_assert_int_eq(call("POST", "/holds", &a, body, "h-1", R), 201);
	ck_assert_str_eq(R->body, first);
	ck_assert_ptr_nonnull(resp_header(R, "Idempotent-Replayed", body, 8));
	money_of(&a, &bal, &avail);
	ck_assert_int_eq(avail, 10000 - 500 - FEE);
	ck_assert_int_eq(call("POST", "/holds", &a,
	                     "{\"to\":\"other\",\"amount\":\"5\"}", "h-1", R),
	    422);
	ck_assert_str_eq(resp_err(R), "idempotency_key_reused");
	/* A key of 256 characters is one too long. */
	memset(first, 'k', 256);
	first[256] = '\0';
	ck_assert_int_eq(call("POST", "/holds", &a,
	                     "{\"to\":\"x\",\"amount\":\"1\"}", first, R),
	    400);
	ck_assert_str_eq(resp_err(R), "invalid_request");
	/* Capture, replayed; a refusal is replayed too, not run again. */
	ck_assert_int_eq(
	    post_id("holds", id, "capture", &shop, "{\"amount\":\"2\"}", "c-1"),
	    200);
	tid = resp_int(R, "transfer_id");
	ck_assert_int_eq(
	    post_id("holds", id, "capture", &shop, "{\"amount\":\"2\"}", "c-1"),
	    200);
	ck_assert_int_eq(resp_int(R, "transfer_id"), tid);
	ck_assert_int_eq(
	    post_id("holds", id, "capture", &shop, "{\"amount\":\"3\"}", "c-1"),
	    422);
	ck_assert_str_eq(resp_err(R), "idempotency_key_reused");
	ck_assert_int_eq(post_id("holds", id, "void", &shop, NULL, "v-1"), 409);
	id2 = hold(&a, &shop, "1.00");
	ck_assert_int_eq(post_id("holds", id, "void", &shop, NULL, "v-1"), 409);
	ck_assert_str_eq(resp_err(R), "hold_not_pending");
	ck_assert_int_eq(
	    post_id("holds", id2, "void", &shop, NULL, "v-2"), 200);
	ck_assert_int_eq(
	    post_id("holds", id2, "void", &shop, NULL, "v-2"), 200);
	ck_assert_str_eq(resp_str(R, "status"), "voided");
	/* Refunds with a key: applied once. */
	ck_assert_int_eq(post_id("transfers", tid, "refund", &shop,
	                     "{\"amount\":\"1.50\"}", "r-1"),
	    201);
	ck_assert_int_eq(post_id("transfers", tid, "refund", &shop,
	                     "{\"amount\":\"1.50\"}", "r-1"),
	    201);
	ck_assert_str_eq(resp_str(R, "refunded"), "1.50");
	money_of(&shop, &bal, &avail);
	ck_assert_int_eq(bal, 50);
	money_of(&a, &bal, &avail);
	ck_assert_int_eq(bal, 10000 - 200 - FEE + 150);
	ck_assert_int_eq(avail, bal);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

/* payd admin freeze|unfreeze of a user, as an operator would. */
static void
freeze(const struct user *u, bool on)
{
	ck_assert_int_eq(
	    stack_cmd("\"$PAYD_BIN\" -c \"$STACK_DIR/payd.conf\" admin "
	              "--operator tester %s %s --reason 'holds test' "
	              ">/dev/null 2>>\"$STACK_DIR/admin.log\"",
	        on ? "freeze" : "unfreeze", u->name),
	    0);
}

START_TEST(test_frozen__hold_capture_as_payer_refund__403_nothing_moves)
{
	struct user a, shop;
	long long bal, avail, id, tid;
	char body[160];

	make_user(&a, "za");
	make_user(&shop, "zb");
	ck_assert_int_eq(top_up(a.token, "50.00"), 200);
	id = hold(&a, &shop, "10.00");
	(void)snprintf(body, sizeof(body),
	    "{\"to\":\"%s\",\"amount\":\"5.00\"}", shop.name);
	ck_assert_int_eq(call("POST", "/transfer", &a, body, NULL, R), 201);
	tid = resp_int(R, "id");
	/* The payer frozen: no new hold, no capture out of it. */
	freeze(&a, true);
	ck_assert_int_eq(call("POST", "/holds", &a, body, "fz-1", R), 403);
	ck_assert_str_eq(resp_err(R), "account_frozen");
	ck_assert_int_eq(call("POST", "/holds", &a, body, "fz-1", R), 403);
	ck_assert_str_eq(resp_err(R), "account_frozen");
	ck_assert_int_eq(
	    post_id("holds", id, "capture", &shop, NULL, NULL), 403);
	ck_assert_str_eq(resp_err(R), "account_frozen");
	money_of(&a, &bal, &avail);
	ck_assert_int_eq(bal, 5000 - 500 - FEE);
	ck_assert_int_eq(avail, bal - 1000 - FEE);
	/* Its recipient may still void it, and a refund still reaches it. */
	ck_assert_int_eq(post_id("holds", id, "void", &shop, NULL, NULL), 200);
	ck_assert_int_eq(post_id("transfers", tid, "refund", &shop,
	                     "{\"amount\":\"1.00\"}", NULL),
	    201);
	freeze(&a, false);
	/* The refunder frozen: no refund out of it. */
	freeze(&shop, true);
	ck_assert_int_eq(
	    post_id("transfers", tid, "refund", &shop, NULL, NULL), 403);
	ck_assert_str_eq(resp_err(R), "account_frozen");
	freeze(&shop, false);
	ck_assert_int_eq(
	    post_id("transfers", tid, "refund", &shop, NULL, NULL), 201);
	ck_assert_str_eq(resp_str(R, "refunded"), "5.00");
	money_of(&a, &bal, &avail);
	ck_assert_int_eq(bal, 5000 - FEE);
	ck_assert_int_eq(avail, bal);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

/* The hold, the recipient and the clients' answers of the race below. */
struct end_race {
	long long hold_id;
	struct user shop;
	struct shot *seen;
};

static void
end_client(int i, void *arg)
{
	struct end_race *e = arg;
	struct resp *r = calloc(1, sizeof(*r));
	char path[96];
	const char *body = i % 3 == 0 ? "{\"amount\":\"1.00\"}" : NULL;

	if (r == NULL)
		_exit(1);
	(void)snprintf(path, sizeof(path), "/holds/%lld/%s", e->hold_id,
	    i % 2 == 0 ? "capture" : "void");
	if (api("POST", path, e->shop.token, body, NULL, r) != 0)
		_exit(1);
	seen_set(&e->seen[i], r);
	resp_free(r);
	free(r);
}

START_TEST(test_concurrency__50_captures_voids_expiry__one_outcome)
{
	enum { N = 50 };
	struct end_race e;
	struct user a;
	long long bal, avail, lost = 0;

	make_user(&a, "ca");
	make_user(&e.shop, "cb");
	ck_assert_int_eq(top_up(a.token, "100.00"), 200);
	for (int round = 0; round < 2; round++) {
		e.hold_id = hold(&a, &e.shop, "10.00");
		e.seen = seen_shared(N);
		/* The second round races the expiry too (the sweeper's). */
		if (round == 1)
			sql("UPDATE payd.holds SET expires_at = "
			    "UTC_TIMESTAMP() "
			    "+ INTERVAL 1 SECOND WHERE id = %lld",
			    e.hold_id);
		run_clients(N, end_client, &e);
		int wins = 0;

		for (int i = 0; i < N; i++) {
			if (e.seen[i].status == 200) {
				/* Even clients capture (1.00 or all), odd void.
				 */
				if (i % 2 == 0)
					lost += (i % 3 == 0 ? 100 : 1000) + FEE;
				wins++;
				continue;
			}
			ck_assert_msg(
			    e.seen[i].status == 409 &&
			        (strcmp(e.seen[i].err, "hold_not_pending") ==
			                0 ||
			            strcmp(e.seen[i].err, "hold_expired") == 0),
			    "client %d: %ld %s", i, e.seen[i].status,
			    e.seen[i].err);
		}
		ck_assert_int_le(wins, 1);
		ck_assert_int_eq(wins, round == 0 ? 1 : wins);
		ck_assert_msg(reserved_within(a.id, 0, 5000), "still reserved");
		money_of(&a, &bal, &avail);
		ck_assert_int_eq(avail, bal);
		ck_assert_int_eq(run_audit(), 0);
		(void)munmap(e.seen, sizeof(struct shot) * N);
	}
	/* Only the winners moved money, each once. */
	money_of(&a, &bal, &avail);
	ck_assert_int_eq(bal, 10000 - lost);
	ck_assert_int_eq(avail, bal);
}
END_TEST

/* A payer whose transfers and new holds race for the same money. */
struct spend_race {
	struct user payer, shop;
	struct shot *seen;
};

static void
spend_client(int i, void *arg)
{
	struct spend_race *s = arg;
	struct resp *r = calloc(1, sizeof(*r));
	char body[160];

	if (r == NULL)
		_exit(1);
	(void)snprintf(body, sizeof(body),
	    "{\"to\":\"%s\",\"amount\":\"5.00\"}", s->shop.name);
	if (api("POST", i % 2 == 0 ? "/transfer" : "/holds", s->payer.token,
	        body, NULL, r) != 0)
		_exit(1);
	seen_set(&s->seen[i], r);
	resp_free(r);
	free(r);
}

START_TEST(test_concurrency__holds_race_transfers__never_overdrawn)
{
	enum { N = 40 };
	struct spend_race s;
	long long bal, avail, sent = 0, held = 0, id;

	make_user(&s.payer, "sp");
	make_user(&s.shop, "sq");
	ck_assert_int_eq(top_up(s.payer.token, "100.00"), 200);
	/* An older hold reserves 30.75 of it already. */
	id = hold(&s.payer, &s.shop, "30.00");
	s.seen = seen_shared(N);
	run_clients(N, spend_client, &s);
	for (int i = 0; i < N; i++) {
		if (s.seen[i].status == 201) {
			if (i % 2 == 0)
				sent++;
			else
				held++;
			continue;
		}
		ck_assert_msg(
		    s.seen[i].status == 422 &&
		        strcmp(s.seen[i].err, "insufficient_funds") == 0,
		    "client %d: %ld %s", i, s.seen[i].status, s.seen[i].err);
	}
	/* 69.25 available covered 12 of 5.75 and no more. */
	ck_assert_int_eq(sent + held, 12);
	money_of(&s.payer, &bal, &avail);
	ck_assert_int_eq(bal, 10000 - sent * (500 + FEE));
	ck_assert_int_eq(avail, bal - 3075 - held * (500 + FEE));
	ck_assert_int_ge(avail, 0);
	ck_assert_int_eq(run_audit(), 0);
	/* The old hold is still whole: its capture moves 30.75. */
	ck_assert_int_eq(
	    post_id("holds", id, "capture", &s.shop, NULL, NULL), 200);
	money_of(&s.payer, &bal, &avail);
	ck_assert_int_eq(bal, 10000 - sent * (500 + FEE) - 3075);
	ck_assert_int_eq(run_audit(), 0);
	(void)munmap(s.seen, sizeof(struct shot) * N);
}
END_TEST

/* Partial refunds of one transfer, more than it holds. */
struct refund_race {
	long long transfer_id;
	struct user refunder;
	struct shot *seen;
};

static void
refund_client(int i, void *arg)
{
	struct refund_race *f = arg;
	struct resp *r = calloc(1, sizeof(*r));
	char path[96];

	if (r == NULL)
		_exit(1);
	(void)snprintf(
	    path, sizeof(path), "/transfers/%lld/refund", f->transfer_id);
	if (api("POST", path, f->refunder.token,
	        i % 2 == 0 ? "{\"amount\":\"0.50\"}" : "{\"amount\":\"0.75\"}",
	        NULL, r) != 0)
		_exit(1);
	seen_set(&f->seen[i], r);
	resp_free(r);
	free(r);
}

START_TEST(test_concurrency__50_partial_refunds__never_above_transfer)
{
	enum { N = 50 };
	struct refund_race f;
	struct user a;
	long long bal, avail, accepted = 0;
	char body[160], path[96];

	make_user(&a, "fa");
	make_user(&f.refunder, "fb");
	ck_assert_int_eq(top_up(a.token, "20.00"), 200);
	/* The refunder has money of its own: only the transfer limits.
	 */
	ck_assert_int_eq(top_up(f.refunder.token, "100.00"), 200);
	(void)snprintf(body, sizeof(body),
	    "{\"to\":\"%s\",\"amount\":\"10.00\"}", f.refunder.name);
	ck_assert_int_eq(call("POST", "/transfer", &a, body, NULL, R), 201);
	f.transfer_id = resp_int(R, "id");
	f.seen = seen_shared(N);
	run_clients(N, refund_client, &f);
	for (int i = 0; i < N; i++) {
		if (f.seen[i].status == 201) {
			accepted += i % 2 == 0 ? 50 : 75;
			continue;
		}
		ck_assert_msg(
		    f.seen[i].status == 422 &&
		        strcmp(f.seen[i].err, "refund_exceeds_transfer") == 0,
		    "client %d: %ld %s", i, f.seen[i].status, f.seen[i].err);
	}
	/* 25 x 0.50 + 25 x 0.75 = 31.25 asked; at most 10.00 given. */
	ck_assert_int_le(accepted, 1000);
	ck_assert_int_gt(accepted, 1000 - 75);
	(void)snprintf(path, sizeof(path), "/transfers/%lld", f.transfer_id);
	ck_assert_int_eq(call("GET", path, &a, NULL, NULL, R), 200);
	ck_assert_int_eq(minor_of(resp_str(R, "refunded")), accepted);
	money_of(&a, &bal, &avail);
	ck_assert_int_eq(bal, 2000 - 1000 - FEE + accepted);
	money_of(&f.refunder, &bal, &avail);
	ck_assert_int_eq(bal, 10000 + 1000 - accepted);
	ck_assert_int_eq(run_audit(), 0);
	(void)munmap(f.seen, sizeof(struct shot) * N);
}
END_TEST

/*
 * The instance whose sweeper holds the lease: "payd" or "payd2" into
 * out, read from the leases row and each master's children; "" when
 * neither's child is the holder after LEASE_TRIES reads 100 ms apart (a
 * sweeper being replaced, or a lease passing on a loaded machine), and
 * then what was seen into seen.
 */
enum { LEASE_TRIES = 50 };

static void
lease_instance(char *out, size_t size, char *seen, size_t seen_size)
{
	for (int i = 0; i < LEASE_TRIES; i++) {
		(void)stack_output(out, size,
		    ". \"$STACK_ROOT/tests/lib/stack.sh\"; "
		    "p=$(stack_sql \"$STACK_DIR\" \"SELECT "
		    "SUBSTRING_INDEX(holder, ':', -1) FROM payd.leases WHERE "
		    "name = 'hold_sweeper'\"); "
		    "for n in payd payd2; do pgrep -P \"$(cat "
		    "\"$STACK_DIR/$n.pid\")\" | grep -qx \"$p\" && echo $n; "
		    "done");
		if (out[0] != '\0')
			return;
		usleep(100000);
	}
	(void)stack_output(seen, seen_size,
	    ". \"$STACK_ROOT/tests/lib/stack.sh\"; "
	    "echo holder=$(stack_sql \"$STACK_DIR\" \"SELECT holder FROM "
	    "payd.leases WHERE name = 'hold_sweeper'\") "
	    "children=$(for n in payd payd2; do pgrep -P \"$(cat "
	    "\"$STACK_DIR/$n.pid\")\"; done | tr '\\n' ,)");
}

START_TEST(test_expiry__no_traffic__released_within_5s_on_either)
{
	struct user a, shop;
	long long bal, avail, id;
	char holder[32], seen[256] = "";

	make_user(&a, "xa");
	make_user(&shop, "xb");
	ck_assert_int_eq(top_up(a.token, "10.00"), 200);
	id = hold(&a, &shop, "5.00");
	/* No request to the app from here: the database is read alone.
	 */
	expire_now(id);
	ck_assert_msg(reserved_within(a.id, 0, 5000), "not released in 5 s");
	money_of(&a, &bal, &avail);
	ck_assert_int_eq(avail, 1000);
	/* The instance that holds the lease stops: the other takes
	 * over. */
	lease_instance(holder, sizeof(holder), seen, sizeof(seen));
	ck_assert_msg(
	    holder[0] != '\0', "no instance holds the lease: %s", seen);
	ck_assert_int_eq(stack_cmd("STACK_NAME=%s stack_app_stop "
	                           "\"$STACK_DIR\"",
	                     holder),
	    0);
	id = hold(&a, &shop, "5.00");
	expire_now(id);
	ck_assert_msg(reserved_within(a.id, 0, 5000),
	    "not released within 5 s with %s stopped", holder);
	ck_assert_int_eq(stack_cmd("STACK_NAME=%s stack_app_start "
	                           "\"$STACK_DIR\" \"$PAYD_BIN\"",
	                     holder),
	    0);
	money_of(&a, &bal, &avail);
	ck_assert_int_eq(bal, 1000);
	ck_assert_int_eq(avail, 1000);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

/* Keyed captures and refunds that a worker kill and a restart cross. */
enum { FAULT_OPS = 20, FAULT_CLIENTS = 8, FAULT_TRIES = 600 };

struct fault_run {
	struct user shop;
	long long holds[FAULT_OPS];
	long long transfer_id;
	struct shot *seen; /* captures, then refunds */
};

/*
 * One request, sent again with its key while the answer says nothing
 * final (no answer, 5xx, 409 request_in_progress), at most FAULT_TRIES
 * times, 100 ms apart: what a careful client does.
 */
static void
fault_send(const char *path, const char *token, const char *body,
    const char *key, struct shot *out)
{
	char hdr[96];
	const char *extra[2] = {hdr, NULL};
	struct resp *r = calloc(1, sizeof(*r));

	if (r == NULL)
		_exit(1);
	(void)snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key);
	for (int t = 0; t < FAULT_TRIES; t++) {
		int rc = api("POST", path, token, body, extra, r);

		seen_set(out, r);
		resp_free(r);
		if (rc == 0 && r->status > 0 && r->status < 500 &&
		    strcmp(out->err, "request_in_progress") != 0)
			break;
		usleep(100000);
	}
	free(r);
}

static void
fault_client(int i, void *arg)
{
	struct fault_run *f = arg;
	char path[96], key[32];

	for (int k = i; k < FAULT_OPS; k += FAULT_CLIENTS) {
		(void)snprintf(
		    path, sizeof(path), "/holds/%lld/capture", f->holds[k]);
		(void)snprintf(key, sizeof(key), "cap-%d", k);
		fault_send(path, f->shop.token, NULL, key, &f->seen[k]);
		(void)snprintf(path, sizeof(path), "/transfers/%lld/refund",
		    f->transfer_id);
		(void)snprintf(key, sizeof(key), "ref-%d", k);
		fault_send(path, f->shop.token, "{\"amount\":\"0.50\"}", key,
		    &f->seen[FAULT_OPS + k]);
	}
}

/* The pid of a worker (not the sweeper) of the first app instance. */
static void
fault_victim(char *out, size_t size)
{
	(void)stack_output(out, size, STACK_PAYD_WORKERS " | head -1");
	ck_assert_int_gt(strlen(out), 0);
}

START_TEST(test_faults__worker_killed_db_restarted__keys_tell_the_truth)
{
	struct fault_run f;
	struct user a;
	long long bal, avail;
	char body[160], victim[32];
	pid_t pid;
	int st;

	make_user(&a, "ka");
	make_user(&f.shop, "kb");
	ck_assert_int_eq(top_up(a.token, "100.00"), 200);
	for (int k = 0; k < FAULT_OPS; k++)
		f.holds[k] = hold(&a, &f.shop, "1.00");
	(void)snprintf(body, sizeof(body),
	    "{\"to\":\"%s\",\"amount\":\"20.00\"}", f.shop.name);
	ck_assert_int_eq(call("POST", "/transfer", &a, body, NULL, R), 201);
	f.transfer_id = resp_int(R, "id");
	f.seen = seen_shared(2 * FAULT_OPS);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		run_clients(FAULT_CLIENTS, fault_client, &f);
		_exit(0);
	}
	/* A worker of the first instance dies; then the database restarts. */
	fault_victim(victim, sizeof(victim));
	ck_assert_int_eq(stack_cmd("kill -9 %s", victim), 0);
	ck_assert_int_eq(stack_cmd("stack_db_stop \"$STACK_DIR\""), 0);
	/* Its own session: Check kills the test's process group at its end. */
	ck_assert_int_eq(
	    stack_cmd("setsid -w sh -c '. tests/lib/stack.sh && "
	              "STACK_BIN=\"$PAYD_BIN\" stack_db_start \"$STACK_DIR\"' "
	              ">/dev/null"),
	    0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* Every key ended in its one true outcome, applied once. */
	for (int k = 0; k < FAULT_OPS; k++) {
		ck_assert_msg(f.seen[k].status == 200, "capture %d: %ld %s", k,
		    f.seen[k].status, f.seen[k].err);
		ck_assert_msg(f.seen[FAULT_OPS + k].status == 201,
		    "refund %d: %ld %s", k, f.seen[FAULT_OPS + k].status,
		    f.seen[FAULT_OPS + k].err);
	}
	money_of(&f.shop, &bal, &avail);
	ck_assert_int_eq(bal, FAULT_OPS * 100 + 2000 - FAULT_OPS * 50);
	money_of(&a, &bal, &avail);
	ck_assert_int_eq(bal,
	    10000 - FAULT_OPS * (100 + FEE) - (2000 + FEE) + FAULT_OPS * 50);
	ck_assert_int_eq(avail, bal);
	(void)snprintf(body, sizeof(body), "/transfers/%lld", f.transfer_id);
	ck_assert_int_eq(call("GET", body, &a, NULL, NULL, R), 200);
	ck_assert_int_eq(minor_of(resp_str(R, "refunded")), FAULT_OPS * 50);
	ck_assert_int_eq(run_audit(), 0);
	(void)munmap(f.seen, sizeof(struct shot) * 2 * FAULT_OPS);
}
END_TEST

Suite *
holds_suite(void)
{
	Suite *s = suite_create("holds");
	TCase *tc = tcase_create("api");

	tcase_add_checked_fixture(tc, resp_setup, resp_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_hold_create__fields_available_get_and_list);
	tcase_add_test(tc, test_hold_create__each_error__nothing_reserved);
	tcase_add_test(tc, test_hold_paths__bad_ids_404_methods_405);
	tcase_add_test(tc, test_hold_capture__partial__moves_exactly_then_409);
	tcase_add_test(tc, test_hold_void_and_expiry__released__409s);
	tcase_add_test(tc, test_refund__partial_whole_errors__no_fee_moved);
	tcase_add_test(tc, test_refund__recipient_short_or_reserved__422_funds);
	tcase_add_test(
	    tc, test_idempotency__holds_capture_void_refund__replayed);
	tcase_add_test(
	    tc, test_frozen__hold_capture_as_payer_refund__403_nothing_moves);
	suite_add_tcase(s, tc);
	tc = tcase_create("concurrency");
	tcase_add_checked_fixture(tc, resp_setup, resp_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(
	    tc, test_concurrency__50_captures_voids_expiry__one_outcome);
	tcase_add_test(
	    tc, test_concurrency__holds_race_transfers__never_overdrawn);
	tcase_add_test(
	    tc, test_concurrency__50_partial_refunds__never_above_transfer);
	tcase_add_test(
	    tc, test_expiry__no_traffic__released_within_5s_on_either);
	tcase_add_test(
	    tc, test_faults__worker_killed_db_restarted__keys_tell_the_truth);
	suite_add_tcase(s, tc);
	return s;
}
