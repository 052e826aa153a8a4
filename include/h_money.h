/*
 * The HTTP side of the money routes: what they read from a request before
 * the ledger runs, and how a ledger outcome is answered, Idempotency-Key
 * included (app/idem.c): POST /balance and POST /transfer whole (through
 * app/ledger.c); the answers of holds (h_holds.c) and refunds (h_refund.c),
 * and the transfer object that batches (h_batch.c) write too. The ledger
 * modules move the money; these parse and render.
 */
#ifndef H_MONEY_H
#define H_MONEY_H

#include <stdbool.h>

#include <json-c/json.h>

#include "handler.h"
#include "ledger.h"

/* The message of the 400 for a transfer to oneself, by id or by name. */
#define H_MONEY_SELF_MESSAGE "A transfer to oneself is not allowed."

/*
 * Starts req for ctx's caller: checks the Idempotency-Key header into
 * req->idem_key, parses the body as a JSON object into *obj (the caller
 * releases it with json_object_put) and reads its "amount" into
 * req->amount_minor; the caller, the deadline and the route's name too.
 * Returns 0, or -1 after answering 400 (*obj is then NULL):
 * invalid_request for a bad key, a body that is not an object, a missing
 * amount or one of the wrong JSON type; invalid_amount for null, a
 * boolean, or text that money_parse() refuses. A 400 answered before the
 * movement's CALL is a 401 when the token's user is gone
 * (auth_user_before_400).
 */
int h_money_read(
    struct ctx *ctx, struct ledger_req *req, struct json_object **obj);

/*
 * Runs req (ledger_move) and answers: 200 (top-up) or 201 (transfer)
 * with the body of docs/api.md; 400, 401, 403, 404 or 422 when nothing
 * moved (a 403, 404 or 422 is stored under the key); the replay of a stored
 * answer (Idempotent-Replayed: true) or 422 idempotency_key_reused when the key
 * was used before; 409 request_in_progress when another request holds
 * the key; 503 or 500 when the database fails.
 */
void h_money_run(struct ctx *ctx, const struct ledger_req *req);

/* Answers what the ledger did for req (h_money_run, or a batch's). */
void h_money_answer(struct ctx *ctx, const struct ledger_req *req,
    const struct ledger_res *res);

/* A transfer object of docs/api.md (the 201 of POST /transfer). */
struct h_money_transfer {
	int64_t id; /* the movement's */
	const char *from;
	const char *to;
	int64_t amount_minor;
	int64_t fee_minor;
	int64_t balance_minor; /* the payer's, after it */
	const char *at;        /* created_at, util_format_time()'s text */
};

/* Appends t to b as {"id","from","to","amount","fee","balance","created_at"}.
 */
void h_money_transfer_write(struct buf *b, const struct h_money_transfer *t);

struct ledger_caller; /* ledger_hold.h */

/*
 * Fills *who for ctx's caller: its user, the request's instant, deadline
 * and Idempotency-Key, and canon (the text the key's hash covers, which
 * the caller writes before the CALL). Returns 0, or -1 after answering
 * 400 for a bad key (handler_idem_key).
 */
int h_money_caller(
    struct ctx *ctx, const char *canon, struct ledger_caller *who);

/*
 * Ends a money request whose CALL (statement call) ended
 * LEDGER_STATE_DONE once its body is written: without a key the CALL has
 * committed and the status is set; with one, the answer is stored under
 * the key and committed (idem.h), or 503/500 when that fails (the
 * movement is then rolled back). Returns true, answering nothing, when
 * that COMMIT deadlocked (on a Galera cluster: a certification failure,
 * which rolled the whole request back) and the request may run again
 * (attempt, from 1, counts the runs up to DB_RETRY_COUNT_MAX within the
 * deadline): the caller then runs its CALL again.
 */
bool h_money_done(struct ctx *ctx, enum stmt call,
    const struct ledger_caller *who, int status, unsigned *attempt);

/*
 * Answers a money request whose CALL failed (rc, 503 or 500) or answered a
 * state other than LEDGER_STATE_DONE: 401 and 400 as they are; a business
 * refusal (403, 404, 409, 422) recorded under the key, if any, so that a
 * retry gets the same answer; a taken key replays what it holds (or 422
 * idempotency_key_reused); 409 request_in_progress.
 */
void h_money_refused(struct ctx *ctx, enum ledger_state state, enum db_rc rc,
    const struct ledger_caller *who);

#endif /* H_MONEY_H */
