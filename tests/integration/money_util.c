/* What the money suites share; see money_util.h. */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "money_util.h"

void
make_user(struct user *u, const char *prefix)
{
	unique_name(prefix, u->name, sizeof(u->name));
	u->id = register_login(u->name, u->token);
	ck_assert_int_gt(u->id, 0);
}

/* "12.50" -> 1250; the test's own reading, independent of money.c. */
long long
minor_of(const char *text)
{
	long long units = 0;
	int cents = 0;

	ck_assert_msg(sscanf(text, "%lld.%2d", &units, &cents) == 2 &&
	                  strlen(strchr(text, '.')) == 3,
	    "not an amount: \"%s\"", text);
	return units * 100 + cents;
}

long long
balance_minor(const struct user *u)
{
	char text[64];

	ck_assert_str_ne(balance_of(u->token, text, sizeof(text)), "");
	return minor_of(text);
}

/* POST path with body and an optional Idempotency-Key; returns status. */
long
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

long
transfer(const struct user *from, const char *to, const char *amount,
    const char *key, struct resp *r)
{
	char body[256];

	(void)snprintf(body, sizeof(body), "{\"to\":\"%s\",\"amount\":\"%s\"}",
	    to, amount);
	return post("/transfer", from, body, key, r);
}

void
fund(const struct user *u, const char *amount)
{
	ck_assert_int_eq(top_up(u->token, amount), 200);
}

/* Copies a short text whole (it must fit) or, in a client, cut. */
void
copy_text(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

bool
is_replayed(const struct resp *r)
{
	char v[32];

	return resp_header(r, "Idempotent-Replayed", v, sizeof(v)) != NULL &&
	       strcmp(v, "true") == 0;
}

/* A timestamp as API.md writes it: "2026-11-26T03:15:49Z". */
void
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
void
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
void
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

void *
shared(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(p, MAP_FAILED);
	memset(p, 0, size);
	return p;
}

/* The transactions array of a GET /transactions answer. */
struct json_object *
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

const char *
field(struct json_object *o, const char *name)
{
	struct json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, name, &v), "no %s", name);
	return json_object_is_type(v, json_type_null)
	           ? NULL
	           : json_object_get_string(v);
}

long long
field_int(struct json_object *o, const char *name)
{
	struct json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, name, &v), "no %s", name);
	ck_assert(json_object_is_type(v, json_type_int));
	return (long long)json_object_get_int64(v);
}

/* The one transfer every client of a race sends. */
struct race race;

/* Client i of a race: one POST /transfer, what it saw into shots[i]. */
void
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

/*
 * Another session holds the user's row (SELECT ... FOR UPDATE, then a
 * sleep of HOLD_MAX_S, its statement text naming the user); returns once
 * it holds it. Then, in the background, as soon as the app's logs have
 * one more line matching pattern than now (the app met the lock), the
 * holder's connection is killed, which releases the row. Nothing here
 * depends on how fast the machine is: the hold ends on an event.
 */
#define HOLD_MAX_S 30

void
hold_user_row_until_log(long long id, const char *pattern)
{
	ck_assert_int_eq(
	    stack_cmd(
	        "(stack_sql \"$STACK_DIR\" \""
	        "START TRANSACTION; SELECT id FROM payd.users WHERE id = %lld "
	        "FOR UPDATE; DO SLEEP(%d), %lld; COMMIT\" >/dev/null 2>&1 &)",
	        id, HOLD_MAX_S, id),
	    0);
	ck_assert_int_eq(
	    stack_wait("[ \"$(stack_sql \"$STACK_DIR\" \"SELECT "
	               "COUNT(*) FROM information_schema.PROCESSLIST "
	               "WHERE INFO = 'DO SLEEP(%d), %lld'\")\" = 1 ]",
	        HOLD_MAX_S, id),
	    0);
	ck_assert_int_eq(
	    stack_cmd(
	        "count() { cat \"$STACK_DIR\"/payd*.log | grep -c '%s'; }; "
	        "n0=$(count); (n=0; until [ \"$(count)\" -gt \"$n0\" ] || "
	        "[ $n -ge %d ]; do n=$((n + 1)); sleep 0.05; done; "
	        "stack_sql \"$STACK_DIR\" \"$(stack_sql \"$STACK_DIR\" "
	        "\"SELECT CONCAT('KILL ', ID) FROM "
	        "information_schema.PROCESSLIST WHERE INFO = "
	        "'DO SLEEP(%d), %lld'\")\") >/dev/null 2>&1 &",
	        pattern, HOLD_MAX_S * 20, HOLD_MAX_S, id),
	    0);
}
