/*
 * What a handler receives: the request, the response to fill, the worker's
 * database and configuration, and the caller when the route needs a token.
 */
#ifndef HANDLER_H
#define HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "ledger.h"

struct route;           /* router.c */
struct h_transfer_slot; /* h_transfer.c */

struct ctx {
	const struct config *cfg;
	struct db *db;
	struct http_req *req;
	struct http_resp *resp;
	const char *route;       /* route name, for logs */
	const struct route *hit; /* NULL once answered without a handler */
	int64_t user_id;         /* 0 on public routes */
	char username[USERNAME_LEN_MAX + 1]; /* "" on public routes */
	/* The token's generation: the users row must still have it. */
	int64_t token_gen;
	/*
	 * True once the caller's row has confirmed the token's user (always
	 * before a handler runs, but for the money routes, whose CALL checks
	 * the user itself: auth.h).
	 */
	bool user_checked;
	/*
	 * The caller's balance as auth_user() or auth_users_load() read it
	 * with the user's row,
	 * outside any transaction: GET /balance answers it without reading
	 * the same row again. Never used inside a money movement.
	 */
	int64_t balance_minor;
	/* And its available (balance - reserved by pending holds), alike. */
	int64_t available_minor;
	/* The {id} of a path such as /holds/{id}: a positive integer. */
	int64_t path_id;
	/*
	 * POST /transfer taken with others: its request as
	 * h_transfer_batch() read it, for h_transfer() to run when the batch
	 * has not answered it. NULL otherwise.
	 */
	struct h_transfer_slot *transfer;
	/*
	 * util_now_ms() past which the request gets 503 without touching
	 * the database (config request_deadline_s from nginx's
	 * REQUEST_START); 0: none.
	 */
	int64_t deadline_ms;
	/*
	 * Set by the worker's load step when the answer is known and needs
	 * no more database work (a batch's result, a 400 or 401): the worker
	 * writes it before it runs any other request of its take.
	 */
	bool settled;
};

/* One file each: app/h_<name>.c. Each fills ctx->resp. */
void h_healthz(struct ctx *ctx);
void h_fees(struct ctx *ctx);
void h_register(struct ctx *ctx);
void h_login(struct ctx *ctx);
void h_balance_get(struct ctx *ctx);
void h_balance_post(struct ctx *ctx);
void h_transfer(struct ctx *ctx);
/*
 * The batch step of POST /transfer (worker.c): the requests ctxs[0..n)
 * that a worker took together. Reads each (answering the bad ones, 400
 * or 401, as h_transfer would), runs those without an Idempotency-Key in
 * one transaction (ledger_transfer_batch) when there are two or more,
 * and answers each of those (ctx->settled). What is left, h_transfer()
 * runs on its own.
 */
void h_transfer_batch(struct ctx *const *ctxs, size_t n);
void h_transactions(struct ctx *ctx);
/*
 * GET /balance?at=T (h_statement.c): answers the caller's balance at T
 * and returns true, or returns false, untouched, when there is no ?at=.
 */
bool h_balance_at(struct ctx *ctx);
void h_statement(struct ctx *ctx);
void h_batch(struct ctx *ctx);
void h_holds_create(struct ctx *ctx);
void h_holds_list(struct ctx *ctx);
void h_holds_get(struct ctx *ctx);
void h_holds_capture(struct ctx *ctx);
void h_holds_void(struct ctx *ctx);
void h_transfers_get(struct ctx *ctx);
void h_transfers_refund(struct ctx *ctx);
void h_metrics(struct ctx *ctx);
void h_password(struct ctx *ctx);
void h_logout(struct ctx *ctx);

/*
 * Maps a database outcome that a handler cannot handle itself to the API:
 * DB_CONN and DB_RETRY are 503 unavailable, anything else 500.
 */
void handler_db_error(struct ctx *ctx, enum db_rc rc);

/*
 * True when ctx has need_ms left before its deadline (always when it has
 * none).
 */
bool handler_in_time(const struct ctx *ctx, int64_t need_ms);

/*
 * Runs statement id, one write under autocommit, as db_exec(); a deadlock
 * or lock-wait victim was rolled back whole, so it is run again, up to
 * DB_RETRY_COUNT_MAX times in all, each only while ctx's deadline leaves
 * time for it (DB_RETRY when none is left: 503). A lost connection is not
 * run again: the write may have been committed.
 */
enum db_rc handler_exec_retry(struct ctx *ctx, enum stmt id, struct db_val *in,
    unsigned nin, uint64_t *affected);

/*
 * Writes the body of GET and POST /balance (API.md) for the caller with
 * this balance: {"username","balance","currency"}. Leaves the status.
 */
void handler_balance_body(struct ctx *ctx, int64_t balance_minor);
/* The same with "available" (GET /balance). */
void handler_balance_available_body(
    struct ctx *ctx, int64_t balance_minor, int64_t available_minor);

/*
 * The request's Idempotency-Key into *key (NULL when absent). Returns 0,
 * or -1 after answering 400 for a key that is not 1 to IDEM_KEY_LEN_MAX
 * printable ASCII characters.
 */
int handler_idem_key(struct ctx *ctx, const char **key);

/*
 * The request's body as a JSON object (the caller releases it with
 * json_object_put), or NULL after answering 400 invalid_request.
 */
struct json_object;
struct json_object *handler_body_object(struct ctx *ctx);

/*
 * Reads the "amount" of obj into *minor (API.md Conventions). Returns 0,
 * or -1 with *err and *message (NULL: the error's own message):
 * invalid_request for a missing amount, an object or an array;
 * invalid_amount for null, a boolean, or text that money_parse() refuses.
 * handler_read_amount() answers that 400 itself.
 */
int handler_parse_amount(struct json_object *obj, int64_t *minor,
    enum api_err *err, const char **message);
int handler_read_amount(
    struct ctx *ctx, struct json_object *obj, int64_t *minor);

/*
 * Reads an optional body {"amount": ...} (POST /holds/{id}/capture, POST
 * /transfers/{id}/refund): no body, or one without "amount", leaves
 * *minor 0. Returns 0, or -1 after answering 400.
 */
int handler_read_optional_amount(struct ctx *ctx, int64_t *minor);

/*
 * Reads the recipient of obj: "to" (a username of 1 to USERNAME_LEN_MAX
 * bytes; *to and *to_len point into obj; *to_id 0) or "to_id" (*to_id > 0,
 * *to NULL, *to_len 0), exactly one of them. Returns 0, or -1 with the
 * message of its 400 invalid_request in *message;
 * handler_read_recipient() answers that 400 itself.
 */
int handler_parse_recipient(struct json_object *obj, int64_t *to_id,
    const char **to, size_t *to_len, const char **message);
int handler_read_recipient(struct ctx *ctx, struct json_object *obj,
    int64_t *to_id, const char **to, size_t *to_len);

#endif /* HANDLER_H */
