/*
 * Goal: POST /transfers/batch moves money exactly as API.md says, over
 * HTTP through nginx: all or nothing (atomic) with every refused item
 * listed, each item on its own otherwise, the fee of /transfer on each,
 * 400 for malformed bodies and items naming every bad one, bodies up to
 * 128 KiB on this path alone, the Idempotency-Key over the whole batch
 * (large answers replayed byte for byte); and, with many batches and
 * single transfers at once over crossing accounts, no deadlock left
 * unresolved, every balance exactly as the answers say, and a ledger
 * that `payd audit` finds sound.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ledger_client.h"

Suite *batch_suite(void);

/* The fee of every transfer of the test stack: a flat 0.75 (API.md). */
#define FEE 75

/* A request body being built; a batch of 1000 items fits. */
static char body[160 * 1024];

static long
batch(const struct user *u, const char *b, const char *key)
{
	return lcall("POST", "/transfers/batch", u, b, key, NULL, R);
}

/* The array field of the answer in R. */
static struct json_object *
array_of(struct json_object *o, const char *field)
{
	struct json_object *list;

	ck_assert_msg(json_object_object_get_ex(o, field, &list) &&
	                  json_object_is_type(list, json_type_array),
	    "no %s: %s", field, R->body);
	return list;
}

static long long
int_of(struct json_object *o, const char *field)
{
	struct json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, field, &v) &&
	                  json_object_is_type(v, json_type_int),
	    "no %s", field);
	return (long long)json_object_get_int64(v);
}

/* The error object of the answer in R. */
static struct json_object *
error_of(void)
{
	struct json_object *e;

	ck_assert_msg(
	    json_object_object_get_ex(R->json, "error", &e), "%s", R->body);
	return e;
}

/* Asserts u's history: n entries, newest first, with these balances. */
static void
assert_balances_after(struct user *u, const char *const *want, size_t n)
{
	struct json_object *list;

	ck_assert_int_eq(
	    lcall("GET", "/transactions", u, NULL, NULL, NULL, R), 200);
	list = array_of(R->json, "transactions");
	ck_assert_uint_eq(json_object_array_length(list), n);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(
		    lfield(json_object_array_get_idx(list, i), "balance_after"),
		    want[i]);
}

/* Asserts error.items of R: these indexes with these codes, in order. */
static void
assert_items(const int *index, const char *const *code, size_t n)
{
	struct json_object *items = array_of(error_of(), "items");

	ck_assert_uint_eq(json_object_array_length(items), n);
	for (size_t i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(items, i);

		ck_assert_int_eq(int_of(it, "index"), index[i]);
		ck_assert_str_eq(lfield(it, "code"), code[i]);
		ck_assert_str_ne(lfield(it, "message"), "");
	}
}

START_TEST(test_batch__atomic__201_every_transfer_and_fee)
{
	struct user a, b, c;
	struct json_object *list, *t;

	make_user(&a, "ba");
	make_user(&b, "ba");
	make_user(&c, "ba");
	fund(&a, "100.00");
	(void)snprintf(body, sizeof(body),
	    "{\"transfers\":[{\"to\":\"%s\",\"amount\":\"10.00\"},"
	    "{\"to_id\":%lld,\"amount\":2.5},{\"to\":\"%s\",\"amount\":1}]}",
	    b.name, c.id, b.name);
	ck_assert_int_eq(batch(&a, body, NULL), 201);
	list = array_of(R->json, "transfers");
	ck_assert_uint_eq(json_object_array_length(list), 3);
	t = json_object_array_get_idx(list, 0);
	ck_assert_int_gt(int_of(t, "id"), 0);
	ck_assert_str_eq(lfield(t, "from"), a.name);
	ck_assert_str_eq(lfield(t, "to"), b.name);
	ck_assert_str_eq(lfield(t, "amount"), "10.00");
	ck_assert_str_eq(lfield(t, "fee"), "0.75");
	ck_assert_str_eq(lfield(t, "balance"), "89.25");
	ltime(lfield(t, "created_at"));
	t = json_object_array_get_idx(list, 1);
	ck_assert_str_eq(lfield(t, "to"), c.name);
	ck_assert_str_eq(lfield(t, "amount"), "2.50");
	ck_assert_str_eq(lfield(t, "balance"), "86.00");
	t = json_object_array_get_idx(list, 2);
	ck_assert_str_eq(lfield(t, "balance"), "84.25");
	ck_assert_str_eq(resp_str(R, "balance"), "84.25");
	ck_assert_int_eq(balance_minor(&a), 8425);
	ck_assert_int_eq(balance_minor(&b), 1100);
	ck_assert_int_eq(balance_minor(&c), 250);
	/*
	 * Each is a transfer like any other, in both histories, newest
	 * first, with the balance after each item (b is paid twice).
	 */
	{
		static const char *const of_b[] = {"11.00", "10.00"};
		static const char *const of_a[] = {
		    "84.25", "86.00", "89.25", "100.00"};

		assert_balances_after(&b, of_b, 2);
		assert_balances_after(&a, of_a, 4);
	}
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_batch__atomic_refused__422_every_item_nothing_moved)
{
	static const int idx[] = {1, 2, 3};
	static const char *const codes[] = {
	    "recipient_not_found", "insufficient_funds", "recipient_not_found"};
	struct user a, b;

	make_user(&a, "br");
	make_user(&b, "br");
	fund(&a, "20.00");
	/* Item 2 is refused on the balance the items before it leave. */
	(void)snprintf(body, sizeof(body),
	    "{\"atomic\":true,\"transfers\":["
	    "{\"to\":\"%s\",\"amount\":\"10.00\"},"
	    "{\"to\":\"nobody-%s\",\"amount\":\"1.00\"},"
	    "{\"to\":\"%s\",\"amount\":\"9.00\"},"
	    "{\"to\":\"no such!\",\"amount\":\"1.00\"},"
	    "{\"to\":\"%s\",\"amount\":\"1.00\"}]}",
	    b.name, b.name, b.name, b.name);
	ck_assert_int_eq(batch(&a, body, NULL), 422);
	ck_assert_str_eq(resp_err(R), "batch_rejected");
	assert_items(idx, codes, 3);
	ck_assert_int_eq(balance_minor(&a), 2000);
	ck_assert_int_eq(balance_minor(&b), 0);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_batch__not_atomic__each_answered_in_order)
{
	struct user a, b;
	struct json_object *list, *r;

	make_user(&a, "bn");
	make_user(&b, "bn");
	fund(&a, "20.00");
	(void)snprintf(body, sizeof(body),
	    "{\"atomic\":false,\"transfers\":["
	    "{\"to\":\"%s\",\"amount\":\"10.00\"},"
	    "{\"to\":\"nobody-%s\",\"amount\":\"1.00\"},"
	    "{\"to\":\"%s\",\"amount\":\"9.00\"},"
	    "{\"to\":\"%s\",\"amount\":\"8.50\"}]}",
	    b.name, b.name, b.name, b.name);
	ck_assert_int_eq(batch(&a, body, NULL), 201);
	list = array_of(R->json, "results");
	ck_assert_uint_eq(json_object_array_length(list), 4);
	r = json_object_array_get_idx(list, 0);
	ck_assert_int_eq(int_of(r, "index"), 0);
	ck_assert_int_eq(int_of(r, "status"), 201);
	ck_assert(json_object_object_get_ex(r, "transfer", &r));
	ck_assert_str_eq(lfield(r, "balance"), "9.25");
	r = json_object_array_get_idx(list, 1);
	ck_assert_int_eq(int_of(r, "index"), 1);
	ck_assert_int_eq(int_of(r, "status"), 404);
	ck_assert(json_object_object_get_ex(r, "error", &r));
	ck_assert_str_eq(lfield(r, "code"), "recipient_not_found");
	r = json_object_array_get_idx(list, 2);
	ck_assert_int_eq(int_of(r, "status"), 422);
	ck_assert(json_object_object_get_ex(r, "error", &r));
	ck_assert_str_eq(lfield(r, "code"), "insufficient_funds");
	/* Exactly the balance left: 8.50 + 0.75 = 9.25. */
	r = json_object_array_get_idx(list, 3);
	ck_assert_int_eq(int_of(r, "status"), 201);
	ck_assert_str_eq(resp_str(R, "balance"), "0.00");
	ck_assert_int_eq(balance_minor(&a), 0);
	ck_assert_int_eq(balance_minor(&b), 1850);
	/* All refused: still 201, each answered, nothing moved. */
	(void)snprintf(body, sizeof(body),
	    "{\"atomic\":false,\"transfers\":[{\"to\":\"%s\",\"amount\":1}]}",
	    b.name);
	ck_assert_int_eq(batch(&a, body, NULL), 201);
	ck_assert_str_eq(resp_str(R, "balance"), "0.00");
	ck_assert_int_eq(balance_minor(&b), 1850);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_batch__malformed__400_every_bad_item)
{
	static const char *const bad_body[] = {"[]", "{}", "{\"transfers\":[]}",
	    "{\"transfers\":{}}",
	    "{\"transfers\":[{\"to\":\"x\"}],"
	    "\"atomic\":\"yes\"}",
	    "{\"transfers\":[{\"to\":\"x\",\"amount\":1}],\"atomic\":null}",
	    "not json"};
	struct user a, b;
	size_t n;

	make_user(&a, "bm");
	make_user(&b, "bm");
	fund(&a, "10.00");
	for (size_t i = 0; i < sizeof(bad_body) / sizeof(bad_body[0]); i++) {
		ck_assert_msg(batch(&a, bad_body[i], NULL) == 400, "%s: %ld",
		    bad_body[i], R->status);
		ck_assert_str_eq(resp_err(R), "invalid_request");
	}
	/* 1001 items: one too many. */
	n = (size_t)snprintf(body, sizeof(body), "{\"transfers\":[");
	for (int i = 0; i < 1001; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n,
		    "%s{\"to_id\":%lld,\"amount\":\"0.01\"}", i ? "," : "",
		    b.id);
	(void)snprintf(body + n, sizeof(body) - n, "]}");
	ck_assert_int_eq(batch(&a, body, NULL), 400);
	ck_assert_str_eq(resp_err(R), "invalid_request");
	/* Every bad item listed, the first named in the message. */
	(void)snprintf(body, sizeof(body),
	    "{\"transfers\":[{\"to\":\"%s\",\"amount\":\"1.00\"},"
	    "{\"to\":\"%s\"},{\"to\":\"%s\",\"amount\":\"1.005\"},"
	    "{\"amount\":\"1.00\"},{\"to\":\"%s\",\"to_id\":%lld,"
	    "\"amount\":1},7,{\"to\":\"%s\",\"amount\":1},"
	    "{\"to_id\":%lld,\"amount\":1},{\"to\":\"%s\",\"amount\":-1}]}",
	    b.name, b.name, b.name, b.name, b.id, a.name, a.id, b.name);
	ck_assert_int_eq(batch(&a, body, NULL), 400);
	ck_assert_str_eq(resp_err(R), "invalid_request");
	{
		static const int idx2[] = {1, 2, 3, 4, 5, 6, 7, 8};
		static const char *const codes2[] = {"invalid_request",
		    "invalid_amount", "invalid_request", "invalid_request",
		    "invalid_request", "invalid_request", "invalid_request",
		    "invalid_amount"};

		assert_items(idx2, codes2, 8);
	}
	ck_assert_ptr_nonnull(
	    strstr(lfield(error_of(), "message"), "Transfer 1:"));
	/* The caller by another case is still the caller. */
	for (char *p = a.name; *p != '\0'; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	(void)snprintf(body, sizeof(body),
	    "{\"transfers\":[{\"to\":\"%s\",\"amount\":1},{\"to\":\"%s\","
	    "\"amount\":true},{\"to\":\"\",\"amount\":1},{\"to\":\"%s\","
	    "\"amount\":{}},{\"to_id\":0,\"amount\":1},{\"to\":\"%s\","
	    "\"amount\":\"1e3\"},{\"to\":\"%s\",\"amount\":\"2000000000\"}]}",
	    a.name, b.name, b.name, b.name, b.name);
	ck_assert_int_eq(batch(&a, body, NULL), 400);
	{
		static const char *const codes3[] = {"invalid_request",
		    "invalid_amount", "invalid_request", "invalid_request",
		    "invalid_request", "invalid_amount", "invalid_amount"};
		static const int idx3[] = {0, 1, 2, 3, 4, 5, 6};

		assert_items(idx3, codes3, 7);
	}
	ck_assert_int_eq(balance_minor(&a), 1000);
	ck_assert_int_eq(balance_minor(&b), 0);
}
END_TEST

START_TEST(test_batch__http__401_405_413_415_and_128k)
{
	const char *text[] = {"Content-Type: text/plain", NULL};
	char allow[64];
	struct user a, b;
	size_t n;

	make_user(&a, "bh");
	make_user(&b, "bh");
	fund(&a, "1000.00");
	(void)snprintf(body, sizeof(body),
	    "{\"transfers\":[{\"to\":\"%s\",\"amount\":1}]}", b.name);
	ck_assert_int_eq(
	    lcall("POST", "/transfers/batch", NULL, body, NULL, NULL, R), 401);
	ck_assert_int_eq(
	    lcall("GET", "/transfers/batch", &a, NULL, NULL, NULL, R), 405);
	ck_assert_str_eq(resp_header(R, "Allow", allow, sizeof(allow)), "POST");
	ck_assert_int_eq(
	    lcall("POST", "/transfers/batch", &a, body, NULL, text, R), 415);
	/* 1000 items with padding: over 16 KiB, under 128 KiB: accepted. */
	n = (size_t)snprintf(body, sizeof(body), "{\"transfers\":[");
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n,
		    "%s{\"to_id\":%lld,\"amount\":\"0.01\",\"memo\":"
		    "\"%085d\"}",
		    i ? "," : "", b.id, i);
	(void)snprintf(body + n, sizeof(body) - n, "]}");
	ck_assert_uint_gt(strlen(body), 100 * 1024);
	ck_assert_uint_lt(strlen(body), 128 * 1024);
	ck_assert_int_eq(batch(&a, body, NULL), 201);
	ck_assert_int_eq(balance_minor(&b), 1000);
	ck_assert_int_eq(balance_minor(&a), 100000 - 1000 - 1000 * FEE);
	/* The same size elsewhere is 413; and over 128 KiB here too. */
	ck_assert_int_eq(
	    lcall("POST", "/transfer", &a, body, NULL, NULL, R), 413);
	ck_assert_str_eq(resp_err(R), "payload_too_large");
	memset(body + n, ' ', 30 * 1024);
	(void)snprintf(body + n + 30 * 1024, 8, "]}");
	ck_assert_uint_gt(strlen(body), 128 * 1024);
	ck_assert_int_eq(batch(&a, body, NULL), 413);
	ck_assert_str_eq(resp_err(R), "payload_too_large");
	ck_assert_int_eq(balance_minor(&b), 1000);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_batch__idempotency__whole_batch_replayed)
{
	struct user a, b;
	char *first;
	char key[300];
	size_t n;

	make_user(&a, "bi");
	make_user(&b, "bi");
	fund(&a, "1000.00");
	(void)snprintf(key, sizeof(key), "batch-%s", a.name);
	/* A large answer (500 results, ~90 KB) replays byte for byte. */
	n = (size_t)snprintf(
	    body, sizeof(body), "{\"atomic\":false,\"transfers\":[");
	for (int i = 0; i < 500; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n,
		    "%s{\"to\":\"%s\",\"amount\":\"0.01\"}", i ? "," : "",
		    b.name);
	(void)snprintf(body + n, sizeof(body) - n, "]}");
	ck_assert_int_eq(batch(&a, body, key), 201);
	ck_assert_uint_gt(R->len, 64 * 1024);
	first = strdup(R->body);
	ck_assert_ptr_nonnull(first);
	ck_assert_int_eq(batch(&a, body, key), 201);
	ck_assert_str_eq(R->body, first);
	{
		char v[16];

		ck_assert_str_eq(
		    resp_header(R, "Idempotent-Replayed", v, sizeof(v)),
		    "true");
	}
	free(first);
	ck_assert_int_eq(balance_minor(&b), 500);
	ck_assert_int_eq(balance_minor(&a), 100000 - 500 - 500 * FEE);
	/* The same key with another batch, or atomic instead: 422. */
	body[n - 3] = '2'; /* the last amount: "0.02" */
	ck_assert_int_eq(batch(&a, body, key), 422);
	ck_assert_str_eq(resp_err(R), "idempotency_key_reused");
	/* A refused batch is replayed too, never run again. */
	(void)snprintf(key, sizeof(key), "refused-%s", a.name);
	(void)snprintf(body, sizeof(body),
	    "{\"transfers\":[{\"to\":\"%s\",\"amount\":\"999.00\"}]}", b.name);
	ck_assert_int_eq(batch(&a, body, key), 422);
	ck_assert_str_eq(resp_err(R), "batch_rejected");
	fund(&a, "1000.00");
	ck_assert_int_eq(batch(&a, body, key), 422);
	ck_assert_str_eq(resp_err(R), "batch_rejected");
	ck_assert_int_eq(balance_minor(&b), 500);
	/* A bad key (256 characters, one too many): 400, nothing moved. */
	memset(key, 'k', 256);
	key[256] = '\0';
	ck_assert_int_eq(batch(&a, body, key), 400);
	ck_assert_str_eq(resp_err(R), "invalid_request");
	ck_assert_int_eq(balance_minor(&b), 500);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_batch__frozen_payer__403_nothing_moved)
{
	struct user a, b;
	char args[256];

	make_user(&a, "bf");
	make_user(&b, "bf");
	fund(&a, "10.00");
	(void)snprintf(args, sizeof(args),
	    "\"$PAYD_BIN\" -c \"$STACK_DIR/payd.conf\" admin --operator tester "
	    "%s %s --reason 'batch test' >/dev/null 2>&1",
	    "freeze", a.name);
	ck_assert_int_eq(stack_cmd("%s", args), 0);
	/* Atomic or not, with a key or not: 403, nothing moves. */
	(void)snprintf(body, sizeof(body),
	    "{\"atomic\":false,\"transfers\":[{\"to\":\"%s\",\"amount\":1},"
	    "{\"to\":\"nobody-%s\",\"amount\":1}]}",
	    b.name, b.name);
	ck_assert_int_eq(batch(&a, body, NULL), 403);
	ck_assert_str_eq(resp_err(R), "account_frozen");
	ck_assert_int_eq(batch(&a, body, "frozen-1"), 403);
	ck_assert_int_eq(batch(&a, body, "frozen-1"), 403);
	ck_assert_str_eq(resp_err(R), "account_frozen");
	ck_assert_int_eq(balance_minor(&a), 1000);
	ck_assert_int_eq(balance_minor(&b), 0);
	/* It still receives money, and once unfrozen it pays again. */
	ck_assert_int_eq(top_up(a.token, "1.00"), 200);
	(void)snprintf(args, sizeof(args),
	    "\"$PAYD_BIN\" -c \"$STACK_DIR/payd.conf\" admin --operator tester "
	    "%s %s --reason 'batch test' >/dev/null 2>&1",
	    "unfreeze", a.name);
	ck_assert_int_eq(stack_cmd("%s", args), 0);
	ck_assert_int_eq(batch(&a, body, NULL), 201);
	ck_assert_int_eq(balance_minor(&b), 100);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_batch__hold__items_check_available)
{
	struct user a, b;

	make_user(&a, "bv");
	make_user(&b, "bv");
	fund(&a, "10.00");
	/* A hold of 8.00 reserves 8.75: 1.25 of the 10.00 is available. */
	(void)snprintf(
	    body, sizeof(body), "{\"to\":\"%s\",\"amount\":\"8.00\"}", b.name);
	ck_assert_int_eq(post("/holds", &a, body, NULL, R), 201);
	(void)snprintf(body, sizeof(body),
	    "{\"transfers\":[{\"to\":\"%s\",\"amount\":\"0.50\"},"
	    "{\"to\":\"%s\",\"amount\":\"0.50\"}]}",
	    b.name, b.name);
	ck_assert_int_eq(batch(&a, body, NULL), 422);
	ck_assert_str_eq(resp_err(R), "batch_rejected");
	{
		static const int idx[] = {1};
		static const char *const codes[] = {"insufficient_funds"};

		assert_items(idx, codes, 1);
	}
	ck_assert_int_eq(balance_minor(&a), 1000);
	/* One of them fits what is available. */
	(void)snprintf(body, sizeof(body),
	    "{\"transfers\":[{\"to\":\"%s\",\"amount\":\"0.50\"}]}", b.name);
	ck_assert_int_eq(batch(&a, body, NULL), 201);
	ck_assert_int_eq(balance_minor(&a), 1000 - 50 - FEE);
	ck_assert_int_eq(balance_minor(&b), 50);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

/* The concurrency test's accounts and what each client saw. */
#define CC_USERS 6
#define CC_CLIENTS 8
#define CC_ROUNDS 6
#define CC_ITEMS 40

struct cc_state {
	struct user users[CC_USERS];
	/* Per client, the net change of each user from its 201 answers. */
	long long delta[CC_CLIENTS][CC_USERS];
	int bad[CC_CLIENTS]; /* an answer that was neither 201 nor 422 */
};

/* One item's amount: 0.01 to 3.00, from the client, round and item. */
static long long
cc_amount(int c, int round, int k)
{
	return 1 + (c * 131 + round * 37 + k * 17) % 300;
}

/* Adds the 201 answer of a batch (in R) to the client's deltas. */
static void
cc_count(struct cc_state *st, int c, int payer, const int *to, int n,
    bool atomic, const long long *amounts)
{
	struct json_object *list =
	    array_of(R->json, atomic ? "transfers" : "results");

	for (int k = 0; k < n; k++) {
		struct json_object *r = json_object_array_get_idx(list, k);

		if (!atomic && int_of(r, "status") != 201)
			continue;
		st->delta[c][payer] -= amounts[k] + FEE;
		st->delta[c][to[k]] += amounts[k];
	}
}

/* Client c: batches (atomic and not) and single transfers, crossing. */
static void
cc_client(struct cc_state *st, int c)
{
	int payer = c % CC_USERS;

	for (int round = 0; round < CC_ROUNDS; round++) {
		bool atomic = (round + c) % 2 == 0;
		long long amounts[CC_ITEMS];
		int to[CC_ITEMS];
		size_t n = (size_t)snprintf(body, sizeof(body),
		    "{\"atomic\":%s,\"transfers\":[",
		    atomic ? "true" : "false");
		long status;

		for (int k = 0; k < CC_ITEMS; k++) {
			to[k] = (payer + 1 + (k + round) % (CC_USERS - 1)) %
			        CC_USERS;
			amounts[k] = cc_amount(c, round, k);
			n += (size_t)snprintf(body + n, sizeof(body) - n,
			    "%s{\"to_id\":%lld,\"amount\":\"%lld.%02lld\"}",
			    k ? "," : "", st->users[to[k]].id, amounts[k] / 100,
			    amounts[k] % 100);
		}
		(void)snprintf(body + n, sizeof(body) - n, "]}");
		status = batch(&st->users[payer], body, NULL);
		if (status == 201)
			cc_count(st, c, payer, to, CC_ITEMS, atomic, amounts);
		else if (status != 422)
			st->bad[c] = (int)status;
		/* And a single transfer the other way. */
		(void)snprintf(body, sizeof(body),
		    "{\"to_id\":%lld,\"amount\":\"1.00\"}",
		    st->users[payer].id);
		status = lcall("POST", "/transfer", &st->users[to[0]], body,
		    NULL, NULL, R);
		if (status == 201) {
			st->delta[c][to[0]] -= 100 + FEE;
			st->delta[c][payer] += 100;
		} else if (status != 422) {
			st->bad[c] = (int)status;
		}
	}
}

/* cc_client() as a client of run_clients(). */
static void
cc_run(int c, void *arg)
{
	cc_client(arg, c);
}

START_TEST(test_batch__concurrent_batches_and_transfers__exact_balances)
{
	struct cc_state *st = shared(sizeof(*st));

	for (int u = 0; u < CC_USERS; u++) {
		make_user(&st->users[u], "bc");
		/* Enough for most rounds, not all: some batches are refused. */
		fund(&st->users[u], "400.00");
	}
	run_clients(CC_CLIENTS, cc_run, st);
	for (int c = 0; c < CC_CLIENTS; c++)
		ck_assert_msg(
		    st->bad[c] == 0, "client %d: status %d", c, st->bad[c]);
	for (int u = 0; u < CC_USERS; u++) {
		long long expect = 40000;

		for (int c = 0; c < CC_CLIENTS; c++)
			expect += st->delta[c][u];
		ck_assert_int_ge(expect, 0);
		ck_assert_int_eq(balance_minor(&st->users[u]), expect);
	}
	ck_assert_int_eq(run_audit(), 0);
	(void)munmap(st, sizeof(*st));
}
END_TEST

Suite *
batch_suite(void)
{
	Suite *s = suite_create("batch");
	TCase *tc = tcase_create("batch");

	tcase_add_checked_fixture(tc, resp_setup, resp_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_batch__atomic__201_every_transfer_and_fee);
	tcase_add_test(
	    tc, test_batch__atomic_refused__422_every_item_nothing_moved);
	tcase_add_test(tc, test_batch__not_atomic__each_answered_in_order);
	tcase_add_test(tc, test_batch__malformed__400_every_bad_item);
	tcase_add_test(tc, test_batch__http__401_405_413_415_and_128k);
	tcase_add_test(tc, test_batch__idempotency__whole_batch_replayed);
	tcase_add_test(tc, test_batch__frozen_payer__403_nothing_moved);
	tcase_add_test(tc, test_batch__hold__items_check_available);
	suite_add_tcase(s, tc);
	tc = tcase_create("concurrency");
	tcase_add_checked_fixture(tc, resp_setup, resp_teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(
	    tc, test_batch__concurrent_batches_and_transfers__exact_balances);
	suite_add_tcase(s, tc);
	return s;
}
