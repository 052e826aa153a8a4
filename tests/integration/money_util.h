/*
 * What the money suites share: registered users, amounts read back from
 * answers, requests with an optional Idempotency-Key, forked clients with
 * results in shared memory, and setups written as proper ledger rows.
 */
#ifndef MONEY_UTIL_H
#define MONEY_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "client.h"

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

/* The one transfer every client of a race sends. */
struct race {
	const struct user *from;
	char to[40];
	const char *amount;
	const char *key; /* NULL: none */
};
extern struct race race;

/* Registers and logs in a user named prefix-<unique>. */
void make_user(struct user *u, const char *prefix);

/* "12.50" -> 1250; the test's own reading, independent of money.c. */
long long minor_of(const char *text);

/* The user's balance from GET /balance, in cents. */
long long balance_minor(const struct user *u);

/* POST path with body and an optional Idempotency-Key; returns status. */
long post(const char *path, const struct user *u, const char *body,
    const char *key, struct resp *r);

/* POST /transfer of amount to the username to; returns the status. */
long transfer(const struct user *from, const char *to, const char *amount,
    const char *key, struct resp *r);

/* Tops the user up by amount (200 asserted). */
void fund(const struct user *u, const char *amount);

/* Copies a short text whole (it must fit) or, in a client, cut. */
void copy_text(char *dst, size_t size, const char *src);

/* The answer carries Idempotent-Replayed: true. */
bool is_replayed(const struct resp *r);

/*
 * Gives user u a balance of minor cents near the cap, written as a proper
 * deposit (movement and both entries) so that the audit stays sound.
 */
void seed_balance(const struct user *u, long long minor);

/* A timestamp as API.md writes it: "2026-11-26T03:15:49Z". */
void assert_rfc3339(const char *t);

/* Runs fn(i, arg) in n forked clients at once and waits for them all. */
void run_clients(int n, void (*fn)(int i, void *arg), void *arg);

/* Zeroed memory shared with forked clients. */
void *shared(size_t size);

/* The transactions array of a GET /transactions answer. */
struct json_object *history(
    const struct user *u, const char *query, struct resp *r);

/* A field of o as a string (NULL for JSON null); asserted present. */
const char *field(struct json_object *o, const char *name);

/* An integer field of o; asserted present and an integer. */
long long field_int(struct json_object *o, const char *name);

/* Client i of a race: one POST /transfer, what it saw into shots[i]. */
void race_client(int i, void *arg);

/*
 * Another session holds the user's row; returns once it holds it, and
 * releases it as soon as the app's logs have one more line matching
 * pattern (a grep pattern) than when it was taken.
 */
void hold_user_row_until_log(long long id, const char *pattern);

#endif
