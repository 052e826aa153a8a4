/*
 * The HTTP side of the money routes (POST /balance, POST /transfer): what
 * they read from a request before the ledger runs, and how a ledger
 * outcome is answered, Idempotency-Key included (app/idem.c). The ledger
 * core (app/ledger.c) moves the money; these parse and render.
 */
#ifndef H_MONEY_H
#define H_MONEY_H

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

#endif /* H_MONEY_H */
