/*
 * Goal: money moves exactly as API.md says, over HTTP through nginx:
 * GET/POST /balance, POST /transfer, GET /transactions, Idempotency-Key,
 * every error code, no rejected request changing a balance, and, under
 * concurrency from fork()ed clients, no balance below zero, no transfer
 * lost or applied twice, and a ledger that `payd audit` finds sound; a
 * lock-wait timeout is retried and a stopped database answers 503, after
 * which the client's retry with its key is applied once (API.md Faults).
 */
#include <ctype.h>
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

Suite *money_http_suite(void);

/* A registered, logged-in user. */
struct user {
	char name[40];
	char token[1024];
	long long id;
};

/* What one forked client saw; lives in memory shared with the parent. */
struct shot {
	long status;
	bool replayed;
	char err[64]; /* the error code, "" on success */
	char body[512];
};

static struct resp *R;

static void
setup(void)
{
	R = calloc(1, sizeof(*R));
	ck_assert_ptr_nonnull(R);
}

static void
teardown(void)
{
	resp_free(R);
	free(R);
}

static void
make_user(struct user *u, const char *prefix)
{
	unique_name(prefix, u->name, sizeof(u->name));
	u->id = register_login(u->name, u->token);
	ck_assert_int_gt(u->id, 0);
}

/* "12.50" -> 1250; the test's own reading, independent of money.c. */
static long long
minor_of(const char *text)
{
	long long units = 0;
	int cents = 0;

	ck_assert_msg(sscanf(text, "%lld.%2d", &units, &cents) == 2 &&
	                  strlen(strchr(text, '.')) == 3,
	    "not an amount: \"%s\"", text);
	return units * 100 + cents;
}

static long long
balance_minor(const struct user *u)
{
	char text[64];

	ck_assert_str_ne(balance_of(u->token, text, sizeof(text)), "");
	return minor_of(text);
}

/* POST path with body and an optional Idempotency-Key; returns status. */
static long
post(const char *path, const struct user *u, const char *body, const char *key,
    struct resp *r)
{
	char hdr[400];
	const char *extra[2] = {NULL, NULL};

	if (key != NULL) {
		(void)snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key);
		extra[0] = hdr;
	}
	resp_free(r);
	ck_assert_int_eq(api("POST", path, u->token, body, extra, r), 0);
	return r->status;
}

static long
transfer(const struct user *from, const char *to, const char *amount,
    const char *key, struct resp *r)
{
	char body[256];

	(void)snprintf(body, sizeof(body), "{\"to\":\"%s\",\"amount\":\"%s\"}",
	    to, amount);
	return post("/transfer", from, body, key, r);
}

static void
fund(const struct user *u, const char *amount)
{
	ck_assert_int_eq(top_up(u->token, amount), 200);
}

/* Copies a short text whole (it must fit) or, in a client, cut. */
static void
copy_text(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static bool
is_replayed(const struct resp *r)
{
	char v[32];

	return resp_header(r, "Idempotent-Replayed", v, sizeof(v)) != NULL &&
	       strcmp(v, "true") == 0;
}

/* A timestamp as API.md writes it: "2026-11-26T03:15:49Z". */
static void
assert_rfc3339(const char *t)
{
	ck_assert_msg(
	    strlen(t) == 20 && t[4] == '-' && t[10] == 'T' && t[19] == 'Z',
	    "not RFC 3339 UTC: \"%s\"", t);
}

/*
 * Gives user u a balance of minor cents near the cap, written as a proper
 * deposit (movement and both entries) so that the audit stays sound.
 */
static void
seed_balance(const struct user *u, long long minor)
{
	ck_assert_int_eq(
	    stack_cmd(
	        "stack_sql \"$STACK_DIR\" \""
	        "START TRANSACTION; "
	        "INSERT INTO payd.movements (kind, to_user, amount, fee) "
	        "VALUES ('deposit', %lld, %lld, 0); SET @m = LAST_INSERT_ID(); "
	        "UPDATE payd.users SET balance = balance + %lld WHERE id = "
	        "%lld; "
	        "INSERT INTO payd.entries (account_kind, account_id, "
	        "movement_id, "
	        "type, delta, balance_after) SELECT 'user', id, @m, 'deposit', "
	        "%lld, balance FROM payd.users WHERE id = %lld; "
	        "INSERT INTO payd.entries (account_kind, account_id, "
	        "movement_id, "
	        "type, delta) VALUES ('external', 0, @m, 'funding', -%lld); "
	        "COMMIT\"",
	        u->id, minor, minor, u->id, minor, u->id, minor),
	    0);
}

/* Runs fn(i, arg) in n forked clients at once and waits for them all. */
static void
run_clients(int n, void (*fn)(int i, void *arg), void *arg)
{
	pid_t pids[64];
	int st;

	ck_assert_int_le(n, 64);
	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			fn(i, arg);
			_exit(0);
		}
	}
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(waitpid(pids[i], &st, 0), pids[i]);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "client %d failed", i);
	}
}

static void *
shared(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(p, MAP_FAILED);
	memset(p, 0, size);
	return p;
}

/* The transactions array of a GET /transactions answer. */
static struct json_object *
history(const struct user *u, const char *query, struct resp *r)
{
	char path[128];
	struct json_object *list;

	(void)snprintf(path, sizeof(path), "/transactions%s", query);
	resp_free(r);
	ck_assert_int_eq(api("GET", path, u->token, NULL, NULL, r), 0);
	ck_assert_msg(r->status == 200, "%s: %ld %s", path, r->status, r->body);
	ck_assert(json_object_object_get_ex(r->json, "transactions", &list));
	ck_assert(json_object_is_type(list, json_type_array));
	return list;
}

static const char *
field(struct json_object *o, const char *name)
{
	struct json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, name, &v), "no %s", name);
	return json_object_is_type(v, json_type_null)
	           ? NULL
	           : json_object_get_string(v);
}

static long long
field_int(struct json_object *o, const char *name)
{
	struct json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, name, &v), "no %s", name);
	ck_assert(json_object_is_type(v, json_type_int));
	return (long long)json_object_get_int64(v);
}

START_TEST(test_balance_get__new_user__zero_usd)
{
	struct user a;

	make_user(&a, "mb");
	ck_assert_int_eq(api("GET", "/balance", a.token, NULL, NULL, R), 0);
	ck_assert_int_eq(R->status, 200);
	ck_assert_str_eq(resp_str(R, "username"), a.name);
	ck_assert_str_eq(resp_str(R, "balance"), "0.00");
	ck_assert_str_eq(resp_str(R, "currency"), "USD");
}
END_TEST

START_TEST(test_balance__no_token__401)
{
	ck_assert_int_eq(api("GET", "/balance", NULL, NULL, NULL, R), 0);
	ck_assert_int_eq(R->status, 401);
	resp_free(R);
	ck_assert_int_eq(api("POST", "/transfer", NULL, "{}", NULL, R), 0);
	ck_assert_int_eq(R->status, 401);
	resp_free(R);
	ck_assert_int_eq(api("GET", "/transactions", NULL, NULL, NULL, R), 0);
	ck_assert_int_eq(R->status, 401);
}
END_TEST

START_TEST(test_balance_post__string_and_number__balance_after)
{
	struct user a;

	make_user(&a, "mp");
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":\"10.00\"}", NULL, R), 200);
	ck_assert_str_eq(resp_str(R, "username"), a.name);
	ck_assert_str_eq(resp_str(R, "balance"), "10.00");
	ck_assert_str_eq(resp_str(R, "currency"), "USD");
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":12.5}", NULL, R), 200);
	ck_assert_str_eq(resp_str(R, "balance"), "22.50");
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":\"7\"}", NULL, R), 200);
	ck_assert_str_eq(resp_str(R, "balance"), "29.50");
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":3,\"x\":[1]}", NULL, R), 200);
	ck_assert_str_eq(resp_str(R, "balance"), "32.50");
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":\"0.01\"}", NULL, R), 200);
	ck_assert_str_eq(resp_str(R, "balance"), "32.51");
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":\"1000000000.00\"}", NULL, R),
	    200);
	ck_assert_str_eq(resp_str(R, "balance"), "1000000032.51");
	ck_assert_int_eq(balance_minor(&a), 100000003251LL);
}
END_TEST

START_TEST(test_balance_post__bad_amounts__400_unchanged)
{
	static const char *const bad_amount[] = {
	    "\"0\"",
	    "\"0.00\"",
	    "0",
	    "\"-1\"",
	    "-1",
	    "\"1.005\"",
	    "1.005",
	    "\"1e3\"",
	    "1e3",
	    "1E3",
	    "\"+1\"",
	    "\" 1\"",
	    "\"1 \"",
	    "\"1 0\"",
	    "\"\"",
	    "\"NaN\"",
	    "\"Infinity\"",
	    "null",
	    "true",
	    "false",
	    "\"1000000000.01\"",
	    "1000000000.01",
	    "\".5\"",
	    "\"5.\"",
	    "\"abc\"",
	    "\"007.5\"",
	    "-0.5",
	    "99999999999999999999999999",
	};
	static const char *const bad_request[] = {
	    "{}",
	    "{\"amount\":{}}",
	    "{\"amount\":[1]}",
	    "{\"amount\":",
	    "[1]",
	    "\"10.00\"",
	    "{\"Amount\":\"1.00\"}",
	};
	struct user a;
	char body[128];

	make_user(&a, "mx");
	fund(&a, "5.00");
	for (size_t i = 0; i < sizeof(bad_amount) / sizeof(*bad_amount); i++) {
		(void)snprintf(
		    body, sizeof(body), "{\"amount\":%s}", bad_amount[i]);
		ck_assert_int_eq(post("/balance", &a, body, NULL, R), 400);
		ck_assert_msg(strcmp(resp_err(R), "invalid_amount") == 0,
		    "%s: %s", body, R->body);
	}
	for (size_t i = 0; i < sizeof(bad_request) / sizeof(*bad_request);
	     i++) {
		ck_assert_int_eq(
		    post("/balance", &a, bad_request[i], NULL, R), 400);
		ck_assert_msg(strcmp(resp_err(R), "invalid_request") == 0,
		    "%s: %s", bad_request[i], R->body);
	}
	/* The message names the missing field. */
	ck_assert_int_eq(post("/balance", &a, "{}", NULL, R), 400);
	ck_assert_ptr_nonnull(strstr(R->body, "amount"));
	ck_assert_int_eq(balance_minor(&a), 500);
}
END_TEST

START_TEST(test_balance_post__cap__exact_ok_over_422_unchanged)
{
	/* 10^13 units is the cap; start 5.00 below it. */
	const long long cap = 1000000000000000LL;
	struct user a, b;

	make_user(&a, "mc");
	make_user(&b, "mc");
	seed_balance(&a, cap - 500);
	fund(&b, "20.00");
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":\"5.01\"}", NULL, R), 422);
	ck_assert_str_eq(resp_err(R), "limit_exceeded");
	ck_assert_int_eq(balance_minor(&a), cap - 500);
	/* A transfer that would lift the recipient over the cap: 422. */
	ck_assert_int_eq(transfer(&b, a.name, "5.01", NULL, R), 422);
	ck_assert_str_eq(resp_err(R), "limit_exceeded");
	ck_assert_int_eq(balance_minor(&b), 2000);
	ck_assert_int_eq(balance_minor(&a), cap - 500);
	/* Exactly up to the cap is allowed; one cent more is not. */
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":\"5.00\"}", NULL, R), 200);
	ck_assert_str_eq(resp_str(R, "balance"), "10000000000000.00");
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":\"0.01\"}", NULL, R), 422);
	ck_assert_str_eq(resp_err(R), "limit_exceeded");
	ck_assert_int_eq(balance_minor(&a), cap);
	/* The capped user can still pay out. */
	ck_assert_int_eq(transfer(&a, b.name, "1.00", NULL, R), 201);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_transfer__ok__201_every_field)
{
	struct user a, b;
	char upper[40];

	make_user(&a, "ta");
	make_user(&b, "tb");
	fund(&a, "100.00");
	ck_assert_int_eq(transfer(&a, b.name, "10.00", NULL, R), 201);
	ck_assert_int_gt(resp_int(R, "id"), 0);
	ck_assert_str_eq(resp_str(R, "from"), a.name);
	ck_assert_str_eq(resp_str(R, "to"), b.name);
	ck_assert_str_eq(resp_str(R, "amount"), "10.00");
	ck_assert_str_eq(resp_str(R, "fee"), "0.75");
	ck_assert_str_eq(resp_str(R, "balance"), "89.25");
	assert_rfc3339(resp_str(R, "created_at"));
	ck_assert_int_eq(balance_minor(&b), 1000);
	/* By id, and by a name in another case: the same recipient. */
	(void)snprintf(upper, sizeof(upper),
	    "{\"to_id\":%lld,"
	    "\"amount\":2.5}",
	    b.id);
	ck_assert_int_eq(post("/transfer", &a, upper, NULL, R), 201);
	ck_assert_str_eq(resp_str(R, "to"), b.name);
	ck_assert_str_eq(resp_str(R, "amount"), "2.50");
	ck_assert_str_eq(resp_str(R, "balance"), "86.00");
	(void)snprintf(upper, sizeof(upper), "%s", b.name);
	for (char *p = upper; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	ck_assert_int_eq(transfer(&a, upper, "1", NULL, R), 201);
	ck_assert_str_eq(resp_str(R, "to"), b.name);
	ck_assert_str_eq(resp_str(R, "balance"), "84.25");
	ck_assert_int_eq(balance_minor(&b), 1350);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_transfer__insufficient__422_then_exact_ok)
{
	struct user a, b;

	make_user(&a, "ti");
	make_user(&b, "ti");
	fund(&a, "10.00");
	/* 9.26 + 0.75 is one cent more than the balance. */
	ck_assert_int_eq(transfer(&a, b.name, "9.26", NULL, R), 422);
	ck_assert_str_eq(resp_err(R), "insufficient_funds");
	ck_assert_int_eq(balance_minor(&a), 1000);
	ck_assert_int_eq(balance_minor(&b), 0);
	ck_assert_int_eq(transfer(&a, b.name, "9.25", NULL, R), 201);
	ck_assert_str_eq(resp_str(R, "balance"), "0.00");
	ck_assert_int_eq(transfer(&a, b.name, "0.01", NULL, R), 422);
	ck_assert_str_eq(resp_err(R), "insufficient_funds");
	ck_assert_int_eq(balance_minor(&b), 925);
}
END_TEST

START_TEST(test_transfer__unknown_recipient__404_unchanged)
{
	struct user a;
	char body[128];

	make_user(&a, "tn");
	fund(&a, "10.00");
	ck_assert_int_eq(transfer(&a, "nosuchuser_zz9", "1.00", NULL, R), 404);
	ck_assert_str_eq(resp_err(R), "recipient_not_found");
	/* Names no user can have: 404 as well, never a 500. */
	ck_assert_int_eq(transfer(&a, "no such user!", "1.00", NULL, R), 404);
	ck_assert_str_eq(resp_err(R), "recipient_not_found");
	ck_assert_int_eq(transfer(&a, "z\\u00e9\\u4e2d", "1.00", NULL, R), 404);
	ck_assert_str_eq(resp_err(R), "recipient_not_found");
	ck_assert_int_eq(transfer(&a, "ab", "1.00", NULL, R), 404);
	ck_assert_str_eq(resp_err(R), "recipient_not_found");
	(void)snprintf(body, sizeof(body), "{\"to_id\":%lld,\"amount\":1}",
	    (long long)1 << 60);
	ck_assert_int_eq(post("/transfer", &a, body, NULL, R), 404);
	ck_assert_str_eq(resp_err(R), "recipient_not_found");
	ck_assert_int_eq(balance_minor(&a), 1000);
}
END_TEST

START_TEST(test_transfer__bad_requests__400_unchanged)
{
	struct user a, b;
	char bodies[12][160], key[300];
	int n = 0;

	make_user(&a, "tr");
	make_user(&b, "tr");
	fund(&a, "10.00");
	(void)snprintf(
	    bodies[n++], 160, "{\"to\":\"%s\",\"amount\":\"1\"}", a.name);
	(void)snprintf(
	    bodies[n++], 160, "{\"to_id\":%lld,\"amount\":\"1\"}", a.id);
	(void)snprintf(bodies[n++], 160, "{\"amount\":\"1\"}");
	(void)snprintf(bodies[n++], 160,
	    "{\"to\":\"%s\",\"to_id\":%lld,"
	    "\"amount\":\"1\"}",
	    b.name, b.id);
	(void)snprintf(bodies[n++], 160, "{\"to\":5,\"amount\":\"1\"}");
	(void)snprintf(bodies[n++], 160, "{\"to\":null,\"amount\":\"1\"}");
	(void)snprintf(bodies[n++], 160,
	    "{\"to_id\":\"%lld\","
	    "\"amount\":\"1\"}",
	    b.id);
	(void)snprintf(bodies[n++], 160, "{\"to_id\":0,\"amount\":\"1\"}");
	(void)snprintf(bodies[n++], 160, "{\"to\":\"%s\"}", b.name);
	(void)snprintf(
	    bodies[n++], 160, "{\"to\":\"%s\",\"amount\":[]}", b.name);
	(void)snprintf(bodies[n++], 160, "[\"%s\"]", b.name);
	/* Oneself by name in another case: still oneself. */
	(void)snprintf(
	    bodies[n], 160, "{\"to\":\"%s\",\"amount\":\"1\"}", a.name);
	for (char *p = bodies[n++]; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	ck_assert_int_le(n, 12);
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(
		    post("/transfer", &a, bodies[i], NULL, R), 400);
		ck_assert_msg(strcmp(resp_err(R), "invalid_request") == 0,
		    "%s: %s", bodies[i], R->body);
	}
	ck_assert_int_eq(transfer(&a, b.name, "1.001", NULL, R), 400);
	ck_assert_str_eq(resp_err(R), "invalid_amount");
	/* Idempotency-Key: 255 characters pass, 256 do not. */
	memset(key, 'k', 256);
	key[256] = '\0';
	ck_assert_int_eq(transfer(&a, b.name, "1.00", key, R), 400);
	ck_assert_str_eq(resp_err(R), "invalid_request");
	ck_assert_int_eq(transfer(&a, b.name, "1.00", "bad\x01key", R), 400);
	ck_assert_str_eq(resp_err(R), "invalid_request");
	/* A 400 is never stored: the key stays free for a real request. */
	ck_assert_int_eq(
	    post("/transfer", &a, bodies[n - 1], "self-key", R), 400);
	ck_assert_int_eq(balance_minor(&a), 1000);
	ck_assert_int_eq(balance_minor(&b), 0);
	key[255] = '\0';
	ck_assert_int_eq(transfer(&a, b.name, "1.00", key, R), 201);
	ck_assert_int_eq(balance_minor(&a), 825);
	ck_assert_int_eq(transfer(&a, b.name, "1.00", "self-key", R), 201);
	ck_assert(!is_replayed(R));
	ck_assert_int_eq(balance_minor(&a), 650);
}
END_TEST

START_TEST(test_idem_transfer__same_body__replayed_once)
{
	struct user a, b;
	char first[1024];

	make_user(&a, "ia");
	make_user(&b, "ib");
	fund(&a, "50.00");
	ck_assert_int_eq(transfer(&a, b.name, "10.00", "key-1", R), 201);
	ck_assert(!is_replayed(R));
	ck_assert_uint_lt(R->len, sizeof(first));
	copy_text(first, sizeof(first), R->body);
	/* The same request spelt differently ("10" for "10.00") is the same. */
	ck_assert_int_eq(transfer(&a, b.name, "10", "key-1", R), 201);
	ck_assert(is_replayed(R));
	ck_assert_str_eq(R->body, first);
	ck_assert_int_eq(balance_minor(&a), 5000 - 1075);
	ck_assert_int_eq(balance_minor(&b), 1000);
	/* A different body under the same key: 422, nothing moves. */
	ck_assert_int_eq(transfer(&a, b.name, "11.00", "key-1", R), 422);
	ck_assert_str_eq(resp_err(R), "idempotency_key_reused");
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":\"10.00\"}", "key-1", R), 422);
	ck_assert_str_eq(resp_err(R), "idempotency_key_reused");
	ck_assert_int_eq(balance_minor(&a), 5000 - 1075);
	/* Keys belong to their user: b may use "key-1" for itself. */
	ck_assert_int_eq(transfer(&b, a.name, "1.00", "key-1", R), 201);
	ck_assert(!is_replayed(R));
	ck_assert_int_eq(balance_minor(&b), 1000 - 175);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_idem_transfer__refusal__replayed_not_rerun)
{
	struct user a, b;
	char first[1024];

	make_user(&a, "ir");
	make_user(&b, "ir");
	fund(&a, "1.00");
	ck_assert_int_eq(transfer(&a, b.name, "5.00", "k-fail", R), 422);
	ck_assert_str_eq(resp_err(R), "insufficient_funds");
	ck_assert_uint_lt(R->len, sizeof(first));
	copy_text(first, sizeof(first), R->body);
	fund(&a, "100.00");
	/* The retry gets the first answer, even though it would pass now. */
	ck_assert_int_eq(transfer(&a, b.name, "5.00", "k-fail", R), 422);
	ck_assert(is_replayed(R));
	ck_assert_str_eq(R->body, first);
	ck_assert_int_eq(balance_minor(&a), 10100);
	/* An unknown recipient is stored too. */
	ck_assert_int_eq(transfer(&a, "ghost_zz9_x", "5.00", "k-404", R), 404);
	ck_assert(!is_replayed(R));
	ck_assert_int_eq(transfer(&a, "ghost_zz9_x", "5.00", "k-404", R), 404);
	ck_assert(is_replayed(R));
	ck_assert_str_eq(resp_err(R), "recipient_not_found");
	/* A 400 is not stored: the key is still free for a good request. */
	ck_assert_int_eq(transfer(&a, b.name, "-5", "k-400", R), 400);
	ck_assert_int_eq(transfer(&a, b.name, "5", "k-400", R), 201);
	ck_assert(!is_replayed(R));
}
END_TEST

START_TEST(test_idem_deposit__same_body__replayed_once)
{
	struct user a;
	char first[1024];

	make_user(&a, "id");
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":\"3.00\"}", "dep-1", R), 200);
	ck_assert(!is_replayed(R));
	ck_assert_uint_lt(R->len, sizeof(first));
	copy_text(first, sizeof(first), R->body);
	fund(&a, "1.00");
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":3}", "dep-1", R), 200);
	ck_assert(is_replayed(R));
	/* The replay is the first answer: the balance of that moment. */
	ck_assert_str_eq(R->body, first);
	ck_assert_str_eq(resp_str(R, "balance"), "3.00");
	ck_assert_int_eq(balance_minor(&a), 400);
}
END_TEST

/* The one transfer every client of a race sends. */
static struct {
	const struct user *from;
	char to[40];
	const char *amount;
	const char *key; /* NULL: none */
} race;

/* Client i of a race: one POST /transfer, what it saw into shots[i]. */
static void
race_client(int i, void *arg)
{
	struct shot *shots = arg;
	struct resp *r = calloc(1, sizeof(*r));

	if (r == NULL)
		_exit(1);
	if (transfer(race.from, race.to, race.amount, race.key, r) < 0)
		_exit(1);
	shots[i].status = r->status;
	shots[i].replayed = is_replayed(r);
	copy_text(shots[i].err, sizeof(shots[i].err), resp_err(r));
	copy_text(shots[i].body, sizeof(shots[i].body), r->body);
	resp_free(r);
	free(r);
}

START_TEST(test_idem_transfer__20_concurrent_same_key__one_movement)
{
	struct shot *shots = shared(20 * sizeof(*shots));
	struct user a, b;
	struct json_object *list;
	const char *body = NULL;
	int originals = 0, outs = 0;

	make_user(&a, "ic");
	make_user(&b, "ic");
	fund(&a, "100.00");
	race.from = &a;
	copy_text(race.to, sizeof(race.to), b.name);
	race.amount = "7.00";
	race.key = "same-key-race";
	run_clients(20, race_client, shots);
	for (int i = 0; i < 20; i++) {
		/* Waiting for the first is allowed, and so is 409. */
		ck_assert_msg(shots[i].status == 201 || shots[i].status == 409,
		    "client %d: %ld %s", i, shots[i].status, shots[i].body);
		if (shots[i].status != 201)
			continue;
		originals += !shots[i].replayed;
		if (body == NULL)
			body = shots[i].body;
		ck_assert_str_eq(shots[i].body, body);
	}
	ck_assert_int_eq(originals, 1);
	ck_assert_int_eq(balance_minor(&a), 10000 - 775);
	ck_assert_int_eq(balance_minor(&b), 700);
	list = history(&a, "", R);
	for (size_t i = 0; i < json_object_array_length(list); i++)
		outs +=
		    strcmp(field(json_object_array_get_idx(list, i), "type"),
		        "transfer_out") == 0;
	ck_assert_int_eq(outs, 1);
	ck_assert_int_eq(run_audit(), 0);
	munmap(shots, 20 * sizeof(*shots));
}
END_TEST

START_TEST(test_transactions__entries__every_field_newest_first)
{
	struct user a, b;
	struct json_object *list, *e;
	long long out_id, dep_id;

	make_user(&a, "ha");
	make_user(&b, "hb");
	fund(&a, "20.00");
	ck_assert_int_eq(transfer(&a, b.name, "5.00", NULL, R), 201);
	out_id = resp_int(R, "id");
	list = history(&a, "", R);
	ck_assert_int_eq(json_object_array_length(list), 2);
	e = json_object_array_get_idx(list, 0);
	ck_assert_int_eq(field_int(e, "id"), out_id);
	ck_assert_str_eq(field(e, "type"), "transfer_out");
	ck_assert_str_eq(field(e, "amount"), "5.00");
	ck_assert_str_eq(field(e, "fee"), "0.75");
	ck_assert_str_eq(field(e, "counterparty"), b.name);
	ck_assert_str_eq(field(e, "balance_after"), "14.25");
	assert_rfc3339(field(e, "created_at"));
	e = json_object_array_get_idx(list, 1);
	dep_id = field_int(e, "id");
	ck_assert_int_lt(dep_id, out_id);
	ck_assert_str_eq(field(e, "type"), "deposit");
	ck_assert_str_eq(field(e, "amount"), "20.00");
	ck_assert_str_eq(field(e, "fee"), "0.00");
	ck_assert_ptr_null(field(e, "counterparty"));
	ck_assert_str_eq(field(e, "balance_after"), "20.00");
	ck_assert_ptr_null(field(R->json, "next_before"));
	/* The recipient's side: the same movement, no fee, no deposit. */
	list = history(&b, "", R);
	ck_assert_int_eq(json_object_array_length(list), 1);
	e = json_object_array_get_idx(list, 0);
	ck_assert_int_eq(field_int(e, "id"), out_id);
	ck_assert_str_eq(field(e, "type"), "transfer_in");
	ck_assert_str_eq(field(e, "amount"), "5.00");
	ck_assert_str_eq(field(e, "fee"), "0.00");
	ck_assert_str_eq(field(e, "counterparty"), a.name);
	ck_assert_str_eq(field(e, "balance_after"), "5.00");
}
END_TEST

START_TEST(test_transactions__pages__cursor_exact_and_private)
{
	struct user a, b;
	struct json_object *list;
	long long ids[5], next;
	char q[64];

	make_user(&a, "pa");
	make_user(&b, "pb");
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(
		    post("/balance", &a, "{\"amount\":\"1.00\"}", NULL, R),
		    200);
		fund(&b, "2.00"); /* interleaved: b's ids sit between a's */
	}
	list = history(&a, "?limit=100", R);
	ck_assert_int_eq(json_object_array_length(list), 5);
	for (int i = 0; i < 5; i++)
		ids[i] = field_int(json_object_array_get_idx(list, i), "id");
	ck_assert_ptr_null(field(R->json, "next_before"));
	/* Pages of 2: 2, 2, 1; the cursor is the last id shown. */
	list = history(&a, "?limit=2", R);
	ck_assert_int_eq(json_object_array_length(list), 2);
	next = field_int(R->json, "next_before");
	ck_assert_int_eq(next, ids[1]);
	(void)snprintf(q, sizeof(q), "?limit=2&before=%lld", next);
	list = history(&a, q, R);
	ck_assert_int_eq(json_object_array_length(list), 2);
	ck_assert_int_eq(
	    field_int(json_object_array_get_idx(list, 0), "id"), ids[2]);
	next = field_int(R->json, "next_before");
	ck_assert_int_eq(next, ids[3]);
	(void)snprintf(q, sizeof(q), "?before=%lld&limit=2", next);
	list = history(&a, q, R);
	ck_assert_int_eq(json_object_array_length(list), 1);
	ck_assert_int_eq(
	    field_int(json_object_array_get_idx(list, 0), "id"), ids[4]);
	ck_assert_ptr_null(field(R->json, "next_before"));
	/* A page that ends exactly at the last entry has no next page. */
	(void)snprintf(q, sizeof(q), "?limit=4&before=%lld", ids[0]);
	list = history(&a, q, R);
	ck_assert_int_eq(json_object_array_length(list), 4);
	ck_assert_ptr_null(field(R->json, "next_before"));
	list = history(&a, "?limit=1", R);
	ck_assert_int_eq(json_object_array_length(list), 1);
	/* b sees only its own five deposits of 2.00, never a's. */
	list = history(&b, "?limit=100", R);
	ck_assert_int_eq(json_object_array_length(list), 5);
	for (int i = 0; i < 5; i++)
		ck_assert_str_eq(
		    field(json_object_array_get_idx(list, i), "amount"),
		    "2.00");
}
END_TEST

START_TEST(test_transactions__bad_params__400)
{
	static const char *const bad[] = {
	    "?limit=0",
	    "?limit=101",
	    "?limit=-1",
	    "?limit=abc",
	    "?limit=",
	    "?limit=1.5",
	    "?limit=+5",
	    "?limit=%201",
	    "?limit=5&limit=6",
	    "?before=0",
	    "?before=-3",
	    "?before=x",
	    "?before=",
	    "?before=99999999999999999999",
	};
	struct user a;

	make_user(&a, "qa");
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char path[96];

		(void)snprintf(path, sizeof(path), "/transactions%s", bad[i]);
		resp_free(R);
		ck_assert_int_eq(api("GET", path, a.token, NULL, NULL, R), 0);
		ck_assert_msg(R->status == 400, "%s: %ld", path, R->status);
		ck_assert_str_eq(resp_err(R), "invalid_request");
	}
	(void)history(&a, "?limit=100&before=1", R);
	(void)history(&a, "?limit=1&other=x", R);
}
END_TEST

/*
 * Another session holds the user's row for 2.5 s, past the stack's lock
 * wait (1 s); returns half a second later, by when it holds it.
 */
static void
hold_user_row(long long id)
{
	ck_assert_int_eq(
	    stack_cmd(
	        "(stack_sql \"$STACK_DIR\" \""
	        "START TRANSACTION; SELECT id FROM payd.users WHERE id = %lld "
	        "FOR UPDATE; DO SLEEP(2.5); COMMIT\" >/dev/null 2>&1 &)",
	        id),
	    0);
	usleep(500000);
}

START_TEST(test_retry__lock_wait_timeout__applied_once)
{
	struct user a, b;

	make_user(&a, "rw");
	make_user(&b, "rw");
	fund(&a, "10.00");
	hold_user_row(b.id);
	/* The first attempt times out waiting; a retry applies it once. */
	ck_assert_int_eq(transfer(&a, b.name, "1.00", "retry-key", R), 201);
	ck_assert(!is_replayed(R));
	ck_assert_int_eq(balance_minor(&a), 825);
	ck_assert_int_eq(balance_minor(&b), 100);
	ck_assert_int_eq(stack_cmd("grep -q 'event=db_retry ' "
	                           "\"$STACK_DIR\"/payd*.log"),
	    0);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

/*
 * A top-up is one CALL too (sql/R__payd_deposit.sql): a lock wait inside
 * it rolls the whole of it back and the app runs it again, once.
 */
START_TEST(test_retry__top_up_lock_wait__applied_once)
{
	struct user a;

	make_user(&a, "rt");
	fund(&a, "10.00");
	hold_user_row(a.id);
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":\"1.00\"}", "top-key", R), 200);
	ck_assert(!is_replayed(R));
	ck_assert_ptr_nonnull(strstr(R->body, "\"balance\":\"11.00\""));
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":\"1.00\"}", "top-key", R), 200);
	ck_assert(is_replayed(R));
	ck_assert_int_eq(balance_minor(&a), 1100);
	ck_assert_int_eq(
	    stack_cmd("grep -q 'event=db_retry route=balance_post' "
	              "\"$STACK_DIR\"/payd*.log"),
	    0);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_faults__db_stopped__503_then_key_retry_once)
{
	struct user a, b;
	int up = 0;

	make_user(&a, "fd");
	make_user(&b, "fd");
	fund(&a, "10.00");
	ck_assert_int_eq(stack_cmd("stack_db_stop \"$STACK_DIR\""), 0);
	/* The database is gone: 503 at once, nothing half done. */
	ck_assert_int_eq(transfer(&a, b.name, "1.00", "down-1", R), 503);
	ck_assert_str_eq(resp_err(R), "unavailable");
	/* The audit cannot connect: its own exit status says so. */
	ck_assert_int_eq(run_audit(), 2);
	/*
	 * In a session of its own: Check kills the test's process group
	 * when the test ends, and the suites after this one need MariaDB.
	 */
	ck_assert_int_eq(
	    stack_cmd("setsid -w sh -c '. tests/lib/stack.sh && "
	              "STACK_BIN=\"$PAYD_BIN\" stack_db_start \"$STACK_DIR\"' "
	              ">/dev/null"),
	    0);
	for (int i = 0; i < 100 && !up; i++) {
		resp_free(R);
		ck_assert_int_eq(
		    api("GET", "/healthz", NULL, NULL, NULL, R), 0);
		up = R->status == 200;
		if (!up)
			usleep(100000);
	}
	ck_assert(up);
	/* The client's retry with its key is applied, and only once. */
	ck_assert_int_eq(transfer(&a, b.name, "1.00", "down-1", R), 201);
	ck_assert(!is_replayed(R));
	ck_assert_int_eq(transfer(&a, b.name, "1.00", "down-1", R), 201);
	ck_assert(is_replayed(R));
	ck_assert_int_eq(balance_minor(&a), 825);
	ck_assert_int_eq(balance_minor(&b), 100);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_audit__tampered_balance__reported_exit_1)
{
	struct user a;

	make_user(&a, "au");
	fund(&a, "5.00");
	ck_assert_int_eq(run_audit(), 0);
	/* A balance changed without its entries: the audit must see it. */
	ck_assert_int_eq(
	    stack_cmd("stack_sql \"$STACK_DIR\" \"UPDATE "
	              "payd.users SET balance = balance + 1 WHERE id = %lld\"",
	        a.id),
	    0);
	ck_assert_int_eq(run_audit(), 1);
	ck_assert_int_eq(
	    stack_cmd("grep -q 'MISMATCH user %lld: balance "
	              "5.01, sum of its entries 5.00' \"$STACK_DIR/audit.log\"",
	        a.id),
	    0);
	ck_assert_int_eq(stack_cmd("grep -q 'MISMATCH conservation' "
	                           "\"$STACK_DIR/audit.log\""),
	    0);
	ck_assert_int_eq(
	    stack_cmd("stack_sql \"$STACK_DIR\" \"UPDATE "
	              "payd.users SET balance = balance - 1 WHERE id = %lld\"",
	        a.id),
	    0);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_concurrency__50_overdraws__exactly_one_succeeds)
{
	struct shot *shots = shared(50 * sizeof(*shots));
	struct user a, b;
	int ok = 0;

	make_user(&a, "ca");
	make_user(&b, "cb");
	fund(&a, "10.00");
	/* Every client tries 5.01 + 0.75 from 10.00. */
	race.from = &a;
	copy_text(race.to, sizeof(race.to), b.name);
	race.amount = "5.01";
	race.key = NULL;
	run_clients(50, race_client, shots);
	for (int i = 0; i < 50; i++) {
		if (shots[i].status == 201) {
			ok++;
			continue;
		}
		ck_assert_msg(
		    shots[i].status == 422 &&
		        strcmp(shots[i].err, "insufficient_funds") == 0,
		    "client %d: %ld %s", i, shots[i].status, shots[i].body);
	}
	ck_assert_int_eq(ok, 1);
	ck_assert_int_eq(balance_minor(&a), 1000 - 576);
	ck_assert_int_eq(balance_minor(&b), 501);
	ck_assert_int_eq(run_audit(), 0);
	munmap(shots, 50 * sizeof(*shots));
}
END_TEST

/* The random mesh: users and how many transfers each client makes. */
#define MESH_USERS 20
#define MESH_CLIENTS 10
#define MESH_PER_CLIENT 50

static struct user mesh[MESH_USERS];

struct mesh_count {
	int created;
	int refused;
	int other;
	char last_other[256];
};

static void
mesh_client(int i, void *arg)
{
	struct mesh_count *c = arg;
	struct resp *r = calloc(1, sizeof(*r));
	unsigned seed = (unsigned)(getpid() * 7919 + i);
	char amount[32];

	if (r == NULL)
		_exit(1);
	for (int n = 0; n < MESH_PER_CLIENT; n++) {
		int from = rand_r(&seed) % MESH_USERS;
		int to =
		    (from + 1 + rand_r(&seed) % (MESH_USERS - 1)) % MESH_USERS;
		int cents = 1 + rand_r(&seed) % 3000;

		(void)snprintf(amount, sizeof(amount), "%d.%02d", cents / 100,
		    cents % 100);
		(void)transfer(&mesh[from], mesh[to].name, amount, NULL, r);
		if (r->status == 201) {
			__atomic_fetch_add(&c->created, 1, __ATOMIC_SEQ_CST);
		} else if (r->status == 422 &&
		           strcmp(resp_err(r), "insufficient_funds") == 0) {
			__atomic_fetch_add(&c->refused, 1, __ATOMIC_SEQ_CST);
		} else {
			__atomic_fetch_add(&c->other, 1, __ATOMIC_SEQ_CST);
			(void)snprintf(c->last_other, sizeof(c->last_other),
			    "%ld %.200s", r->status, r->body);
		}
	}
	resp_free(r);
	free(r);
}

START_TEST(test_concurrency__500_random_transfers__conserved)
{
	struct mesh_count *c = shared(sizeof(*c));
	long long total = 0;

	for (int i = 0; i < MESH_USERS; i++) {
		make_user(&mesh[i], "m");
		fund(&mesh[i], "50.00");
	}
	run_clients(MESH_CLIENTS, mesh_client, c);
	ck_assert_msg(c->other == 0, "%d unexpected answers, last: %s",
	    c->other, c->last_other);
	ck_assert_int_eq(
	    c->created + c->refused, MESH_CLIENTS * MESH_PER_CLIENT);
	ck_assert_int_gt(c->created, 0);
	for (int i = 0; i < MESH_USERS; i++) {
		long long b = balance_minor(&mesh[i]);

		ck_assert_int_ge(b, 0);
		total += b;
	}
	/* Users plus the fee account (0.75 a transfer) hold every top-up. */
	ck_assert_int_eq(total + 75LL * c->created, MESH_USERS * 5000LL);
	ck_assert_int_eq(run_audit(), 0);
	munmap(c, sizeof(*c));
}
END_TEST

/* Crossing transfers: even clients pay A->B, odd ones B->A. */
static struct user cross[2];

static void
cross_client(int i, void *arg)
{
	int *failed = arg;
	struct resp *r = calloc(1, sizeof(*r));
	const struct user *from = &cross[i % 2], *to = &cross[1 - i % 2];

	if (r == NULL)
		_exit(1);
	for (int n = 0; n < 20; n++) {
		(void)transfer(from, to->name, "1.00", NULL, r);
		if (r->status != 201)
			__atomic_fetch_add(failed, 1, __ATOMIC_SEQ_CST);
	}
	resp_free(r);
	free(r);
}

START_TEST(test_concurrency__crossing_transfers__all_complete)
{
	int *failed = shared(sizeof(*failed));

	make_user(&cross[0], "xa");
	make_user(&cross[1], "xb");
	fund(&cross[0], "500.00");
	fund(&cross[1], "500.00");
	run_clients(10, cross_client, failed);
	ck_assert_int_eq(*failed, 0);
	/* Each side sent 100 x 1.75 and received 100 x 1.00. */
	ck_assert_int_eq(balance_minor(&cross[0]), 50000 - 17500 + 10000);
	ck_assert_int_eq(balance_minor(&cross[1]), 50000 - 17500 + 10000);
	ck_assert_int_eq(run_audit(), 0);
	munmap(failed, sizeof(*failed));
}
END_TEST

static const struct user *topup_user;

static void
topup_client(int i, void *arg)
{
	int *failed = arg;

	(void)i;
	if (top_up(topup_user->token, "1.00") != 200)
		__atomic_fetch_add(failed, 1, __ATOMIC_SEQ_CST);
}

START_TEST(test_concurrency__50_top_ups__exact_sum)
{
	int *failed = shared(sizeof(*failed));
	struct user a;

	make_user(&a, "cu");
	fund(&a, "0.50");
	topup_user = &a;
	run_clients(50, topup_client, failed);
	ck_assert_int_eq(*failed, 0);
	ck_assert_int_eq(balance_minor(&a), 5050);
	ck_assert_int_eq(run_audit(), 0);
	munmap(failed, sizeof(*failed));
}
END_TEST

/*
 * Readers of GET /balance and GET /transactions at once, each its own user
 * with its own amount; a worker takes such requests in batches and reads
 * their users in one statement (app/worker.c, auth_users_load), so every
 * answer must still be its own caller's, and a deleted user's 401. The
 * workers are stopped (SIGSTOP) while the readers send their first
 * requests, which therefore wait on the listening sockets together and
 * are taken in batches when the workers go on (SIGCONT).
 */
#define BATCH_READERS 24
#define BATCH_ROUNDS 10
/* How long the workers stay stopped while the first requests queue. */
#define BATCH_STOP_US (1000 * 1000)

struct batch_reader {
	struct user u;
	char amount[32]; /* its one top-up, and so its balance */
	bool gone;       /* deleted: every answer is 401 */
	int wrong;       /* answers that were not its own */
	char seen[256];  /* the first of them */
};

/* Every worker of both app instances (children of their masters). */
#define BATCH_WORKERS_SIGNAL                                                   \
	"for f in \"$STACK_DIR\"/payd*.pid; do "                               \
	"pkill -%s -P \"$(cat \"$f\")\" || exit 1; done"

/*
 * The start of client i of a batch test: the last one (i == last) lets the
 * stopped workers go on after BATCH_STOP_US and exits; the others get an
 * answer to fill.
 */
static struct resp *
batch_client(int i, int last)
{
	struct resp *resp;

	if (i == last) {
		(void)usleep(BATCH_STOP_US);
		_exit(stack_cmd(BATCH_WORKERS_SIGNAL, "CONT") == 0 ? 0 : 1);
	}
	resp = calloc(1, sizeof(*resp));
	if (resp == NULL)
		_exit(2);
	return resp;
}

static bool
batch_answer_ok(
    const struct batch_reader *r, const struct resp *resp, bool history_read)
{
	struct json_object *list, *e;

	if (r->gone)
		return resp->status == 401 &&
		       strcmp(resp_err(resp), "unauthorized") == 0;
	if (resp->status != 200)
		return false;
	if (!history_read)
		return strcmp(resp_str(resp, "username"), r->u.name) == 0 &&
		       strcmp(resp_str(resp, "balance"), r->amount) == 0;
	if (!json_object_object_get_ex(resp->json, "transactions", &list) ||
	    json_object_array_length(list) != 1)
		return false;
	e = json_object_array_get_idx(list, 0);
	return json_object_object_get_ex(e, "amount", &e) &&
	       strcmp(json_object_get_string(e), r->amount) == 0;
}

/* Client i < BATCH_READERS reads; the last one lets the workers go on. */
static void
batch_read(int i, void *arg)
{
	struct batch_reader *r = (struct batch_reader *)arg + i;
	struct resp *resp = batch_client(i, BATCH_READERS);

	for (int k = 0; k < BATCH_ROUNDS * 2; k++) {
		bool history_read = k % 2 == 1;

		if (api("GET", history_read ? "/transactions" : "/balance",
		        r->u.token, NULL, NULL, resp) != 0)
			_exit(3);
		if (!batch_answer_ok(r, resp, history_read) && r->wrong++ == 0)
			(void)snprintf(r->seen, sizeof(r->seen), "%ld %.200s",
			    resp->status, resp->body);
		resp_free(resp);
	}
	free(resp);
}

START_TEST(test_balance_get__batched_readers__each_own_answer)
{
	struct batch_reader *rs = shared(sizeof(*rs) * BATCH_READERS);

	for (int i = 0; i < BATCH_READERS; i++) {
		make_user(&rs[i].u, "batchrd");
		rs[i].gone = i % 4 == 3;
		/* Only a user without money is deleted: the ledger stays whole.
		 */
		if (rs[i].gone) {
			ck_assert_int_eq(
			    stack_cmd("stack_sql \"$STACK_DIR\" \"DELETE FROM "
			              "payd.users WHERE id=%lld\"",
			        rs[i].u.id),
			    0);
			continue;
		}
		(void)snprintf(
		    rs[i].amount, sizeof(rs[i].amount), "%d.%02d", i + 1, i);
		ck_assert_int_eq(top_up(rs[i].u.token, rs[i].amount), 200);
	}
	ck_assert_int_eq(stack_cmd(BATCH_WORKERS_SIGNAL, "STOP"), 0);
	run_clients(BATCH_READERS + 1, batch_read, rs);
	for (int i = 0; i < BATCH_READERS; i++)
		ck_assert_msg(rs[i].wrong == 0, "reader %d (%s): %d wrong, %s",
		    i, rs[i].gone ? "deleted" : "live", rs[i].wrong,
		    rs[i].seen);
	/* They were read in batches, found and refused alike. */
	ck_assert_int_eq(stack_cmd("grep -Eq 'route=balance_get status=200 "
	                           ".* user=batchrd[0-9a-z]+ .* batch=[2-8]$' "
	                           "\"$STACK_DIR\"/payd*.log"),
	    0);
	ck_assert_int_eq(stack_cmd("grep -Eq 'route=balance_get status=401 "
	                           ".* user=batchrd[0-9a-z]+ .* batch=[2-8]$' "
	                           "\"$STACK_DIR\"/payd*.log"),
	    0);
	munmap(rs, sizeof(*rs) * BATCH_READERS);
}
END_TEST

/*
 * Payers of POST /transfer at once, queued behind stopped workers as the
 * readers above, so that workers take them in batches and run each batch
 * in one transaction (app/h_transfer.c h_transfer_load, CALL
 * payd_transfer_batch). Every answer must be its own payer's, with the
 * payer's own balance after it, and a refusal in a batch must refuse that
 * transfer alone. Payer i by role (i % 6):
 *   0-2: pays the merchant 1.00 a round, by name and by id in turn: 201;
 *   3:   has 0.50: 422 insufficient_funds, every round;
 *   4:   pays a user that does not exist (404) and itself by name (400),
 *        in turn;
 *   5:   is deleted: 401.
 */
#define BATCH_PAYERS 24

enum batch_role {
	BATCH_PAYS,
	BATCH_POOR = 3,
	BATCH_ASTRAY,
	BATCH_GONE,
	BATCH_ROLES
};

struct batch_payer {
	struct user u;
	enum batch_role role;
	long long start_minor; /* its balance before the rounds */
	long long fee_minor;   /* the fee of its 201s (all alike) */
	int ok;                /* its 201s */
	int wrong;             /* answers not as its role says */
	char seen[256];        /* the first of them */
};

static struct user batch_merchant;

/* The k-th answer (0-based) of payer p is as its role says. */
static bool
batch_paid_ok(struct batch_payer *p, int k, const struct resp *resp)
{
	long long left;

	switch (p->role) {
	case BATCH_POOR:
		return resp->status == 422 &&
		       strcmp(resp_err(resp), "insufficient_funds") == 0;
	case BATCH_ASTRAY:
		if (k % 2 == 0)
			return resp->status == 404 &&
			       strcmp(resp_err(resp), "recipient_not_found") ==
			           0;
		return resp->status == 400 &&
		       strcmp(resp_err(resp), "invalid_request") == 0;
	case BATCH_GONE:
		return resp->status == 401 &&
		       strcmp(resp_err(resp), "unauthorized") == 0;
	default:
		break;
	}
	if (resp->status != 201 ||
	    strcmp(resp_str(resp, "from"), p->u.name) != 0 ||
	    strcmp(resp_str(resp, "to"), batch_merchant.name) != 0 ||
	    strcmp(resp_str(resp, "amount"), "1.00") != 0)
		return false;
	if (p->ok == 0)
		p->fee_minor = minor_of(resp_str(resp, "fee"));
	else if (minor_of(resp_str(resp, "fee")) != p->fee_minor)
		return false;
	/* Only this payer debits its account: each answer one step lower. */
	left = p->start_minor - (p->ok + 1) * (100 + p->fee_minor);
	if (minor_of(resp_str(resp, "balance")) != left)
		return false;
	p->ok++;
	return true;
}

/* Client i < BATCH_PAYERS pays; the last one lets the workers go on. */
static void
batch_pay(int i, void *arg)
{
	struct batch_payer *p = (struct batch_payer *)arg + i;
	struct resp *resp = batch_client(i, BATCH_PAYERS);
	char body[256], upper[40];

	for (size_t c = 0; c < sizeof(upper); c++)
		upper[c] = (char)toupper((unsigned char)p->u.name[c]);
	for (int k = 0; k < BATCH_ROUNDS; k++) {
		if (p->role == BATCH_ASTRAY)
			(void)snprintf(body, sizeof(body),
			    "{\"to\":\"%s\",\"amount\":\"1.00\"}",
			    k % 2 == 0 ? "nosuchpayee" : upper);
		else if (k % 2 == 1)
			(void)snprintf(body, sizeof(body),
			    "{\"to_id\":%lld,\"amount\":\"1.00\"}",
			    batch_merchant.id);
		else
			(void)snprintf(body, sizeof(body),
			    "{\"to\":\"%s\",\"amount\":\"1.00\"}",
			    batch_merchant.name);
		if (api("POST", "/transfer", p->u.token, body, NULL, resp) != 0)
			_exit(3);
		if (!batch_paid_ok(p, k, resp) && p->wrong++ == 0)
			(void)snprintf(p->seen, sizeof(p->seen),
			    "%d: %ld %.200s", k, resp->status, resp->body);
		resp_free(resp);
	}
	free(resp);
}

/* In the log: a transfer of a batch of two or more answered status. */
static int
batch_logged(int status)
{
	return stack_cmd("grep -Eq 'route=transfer status=%d "
	                 ".* user=batchtx[0-9a-z]+ .* batch=[2-8]$' "
	                 "\"$STACK_DIR\"/payd*.log",
	    status);
}

START_TEST(test_transfer__batched__each_own_answer_money_conserved)
{
	struct batch_payer *ps = shared(sizeof(*ps) * BATCH_PAYERS);
	int payers = 0;

	make_user(&batch_merchant, "batchm");
	for (int i = 0; i < BATCH_PAYERS; i++) {
		struct batch_payer *p = &ps[i];

		make_user(&p->u, "batchtx");
		p->role = (enum batch_role)(i % BATCH_ROLES);
		if (p->role == BATCH_GONE) {
			ck_assert_int_eq(
			    stack_cmd("stack_sql \"$STACK_DIR\" \"DELETE FROM "
			              "payd.users WHERE id=%lld\"",
			        p->u.id),
			    0);
			continue;
		}
		fund(&p->u, p->role == BATCH_POOR ? "0.50" : "100.00");
		p->start_minor = p->role == BATCH_POOR ? 50 : 10000;
		payers += p->role < BATCH_POOR;
	}
	ck_assert_int_eq(stack_cmd(BATCH_WORKERS_SIGNAL, "STOP"), 0);
	run_clients(BATCH_PAYERS + 1, batch_pay, ps);
	for (int i = 0; i < BATCH_PAYERS; i++) {
		struct batch_payer *p = &ps[i];

		ck_assert_msg(p->wrong == 0, "payer %d (role %d): %d wrong, %s",
		    i, p->role, p->wrong, p->seen);
		if (p->role == BATCH_GONE)
			continue;
		ck_assert_int_eq(balance_minor(&p->u),
		    p->start_minor - p->ok * (100 + p->fee_minor));
	}
	ck_assert_int_eq(balance_minor(&batch_merchant),
	    (long long)payers * BATCH_ROUNDS * 100);
	ck_assert_int_eq(run_audit(), 0);
	/* They ran in batches: moved, refused and denied alike. */
	ck_assert_int_eq(batch_logged(201), 0);
	ck_assert_int_eq(batch_logged(422), 0);
	ck_assert_int_eq(batch_logged(404), 0);
	ck_assert_int_eq(batch_logged(400), 0);
	ck_assert_int_eq(batch_logged(401), 0);
	munmap(ps, sizeof(*ps) * BATCH_PAYERS);
}
END_TEST

/*
 * A batch whose transaction times out on a lock rolls back whole, and its
 * transfers run again each on its own (ledger_transfer_batch): every one
 * is applied exactly once. The merchant's row is held (hold_user_row,
 * longer here) while the payers' first transfers queue behind the stopped
 * workers, so the first batches wait on it past the lock wait.
 */
#define FALLBACK_PAYERS 8

static struct user fallback_payers[FALLBACK_PAYERS];

static void
fallback_pay(int i, void *arg)
{
	struct resp *resp = batch_client(i, FALLBACK_PAYERS);

	(void)arg;
	for (int k = 0; k < 3; k++) {
		char body[256];

		(void)snprintf(body, sizeof(body),
		    "{\"to\":\"%s\",\"amount\":\"1.00\"}", batch_merchant.name);
		if (api("POST", "/transfer", fallback_payers[i].token, body,
		        NULL, resp) != 0 ||
		    resp->status != 201)
			_exit(4);
		resp_free(resp);
	}
	free(resp);
}

START_TEST(test_transfer__batch_lock_wait__each_runs_alone_once)
{
	make_user(&batch_merchant, "fbm");
	for (int i = 0; i < FALLBACK_PAYERS; i++) {
		make_user(&fallback_payers[i], "fbtx");
		fund(&fallback_payers[i], "10.00");
	}
	ck_assert_int_eq(
	    stack_cmd(
	        "(stack_sql \"$STACK_DIR\" \""
	        "START TRANSACTION; SELECT id FROM payd.users WHERE id = %lld "
	        "FOR UPDATE; DO SLEEP(3); COMMIT\" >/dev/null 2>&1 &)",
	        batch_merchant.id),
	    0);
	usleep(300000);
	ck_assert_int_eq(stack_cmd(BATCH_WORKERS_SIGNAL, "STOP"), 0);
	run_clients(FALLBACK_PAYERS + 1, fallback_pay, NULL);
	for (int i = 0; i < FALLBACK_PAYERS; i++)
		ck_assert_int_eq(
		    balance_minor(&fallback_payers[i]), 1000 - 3 * (100 + 75));
	ck_assert_int_eq(
	    balance_minor(&batch_merchant), FALLBACK_PAYERS * 3 * 100);
	ck_assert_int_eq(stack_cmd("grep -q 'event=batch_fallback "
	                           "route=transfer' \"$STACK_DIR\"/payd*.log"),
	    0);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

Suite *
money_http_suite(void)
{
	Suite *s = suite_create("money_http");
	TCase *tc = tcase_create("balance");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_balance_get__new_user__zero_usd);
	tcase_add_test(tc, test_balance__no_token__401);
	tcase_add_test(tc, test_balance_post__string_and_number__balance_after);
	tcase_add_test(tc, test_balance_post__bad_amounts__400_unchanged);
	tcase_add_test(tc, test_balance_post__cap__exact_ok_over_422_unchanged);
	suite_add_tcase(s, tc);
	tc = tcase_create("transfer");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_transfer__ok__201_every_field);
	tcase_add_test(tc, test_transfer__insufficient__422_then_exact_ok);
	tcase_add_test(tc, test_transfer__unknown_recipient__404_unchanged);
	tcase_add_test(tc, test_transfer__bad_requests__400_unchanged);
	suite_add_tcase(s, tc);
	tc = tcase_create("idempotency");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_idem_transfer__same_body__replayed_once);
	tcase_add_test(tc, test_idem_transfer__refusal__replayed_not_rerun);
	tcase_add_test(tc, test_idem_deposit__same_body__replayed_once);
	tcase_add_test(
	    tc, test_idem_transfer__20_concurrent_same_key__one_movement);
	suite_add_tcase(s, tc);
	tc = tcase_create("transactions");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(
	    tc, test_transactions__entries__every_field_newest_first);
	tcase_add_test(tc, test_transactions__pages__cursor_exact_and_private);
	tcase_add_test(tc, test_transactions__bad_params__400);
	suite_add_tcase(s, tc);
	tc = tcase_create("concurrency");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(
	    tc, test_concurrency__50_overdraws__exactly_one_succeeds);
	tcase_add_test(tc, test_concurrency__500_random_transfers__conserved);
	tcase_add_test(tc, test_concurrency__crossing_transfers__all_complete);
	tcase_add_test(tc, test_concurrency__50_top_ups__exact_sum);
	tcase_add_test(tc, test_balance_get__batched_readers__each_own_answer);
	tcase_add_test(
	    tc, test_transfer__batched__each_own_answer_money_conserved);
	tcase_add_test(
	    tc, test_transfer__batch_lock_wait__each_runs_alone_once);
	suite_add_tcase(s, tc);
	tc = tcase_create("faults");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_retry__lock_wait_timeout__applied_once);
	tcase_add_test(tc, test_retry__top_up_lock_wait__applied_once);
	tcase_add_test(tc, test_faults__db_stopped__503_then_key_retry_once);
	tcase_add_test(tc, test_audit__tampered_balance__reported_exit_1);
	suite_add_tcase(s, tc);
	return s;
}
