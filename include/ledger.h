/*
 * The ledger: the one database transaction of each money movement
 * (deposit, transfer), its bounded deadlock retries, and the
 * Idempotency-Key protocol (API.md POST /balance, POST /transfer).
 *
 * Idempotency: the key row is inserted first in the movement's own
 * transaction, so a concurrent request with the same key waits on its lock
 * and, once the first commits, gets a duplicate key and replays the stored
 * answer. A business refusal (422, 404) is stored under the key too, in its
 * own short transaction after the rollback, so that a retry gets the same
 * answer. Validation errors (400) are never stored.
 */
#ifndef LEDGER_H
#define LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "bounds.h"
#include "handler.h"

/* A username read back from the database: utf8mb4 is 4 bytes a char. */
#define LEDGER_NAME_SIZE_MAX (USERNAME_LEN_MAX * 4 + 1)
/* The message of the 400 for a transfer to oneself, by id or by name. */
#define LEDGER_SELF_MESSAGE "A transfer to oneself is not allowed."

/*
 * The state the money procedures answer in their first column (or OUT
 * parameter): payd_deposit, payd_transfer, payd_transfer_batch and their
 * steps (sql/R__payd_*.sql write these numbers). Only LEDGER_STATE_DONE
 * moved money. The values are the procedures' wire format, so each is
 * written out; tests/unit/check_source.c compares them with the SQL.
 */
enum ledger_state {
	LEDGER_STATE_DONE = 0,    /* moved: committed, or left open (key) */
	LEDGER_STATE_NO_USER = 1, /* the token's user is gone: 401 */
	LEDGER_STATE_SELF = 2,    /* the recipient is the caller: 400 */
	LEDGER_STATE_NO_TO = 3,   /* no such recipient: 404 */
	LEDGER_STATE_FUNDS = 4,   /* balance < amount + fee: 422 */
	LEDGER_STATE_CAP = 5,     /* the recipient's cap: 422 limit_exceeded */
	LEDGER_STATE_KEY_TAKEN = 6, /* the key is used: replay it */
	LEDGER_STATE_KEY_BUSY = 7,  /* the key's request still runs: 409 */
	LEDGER_STATE_NOT_RUN = 8,   /* a batch's slot with no transfer in it */
	LEDGER_STATE_FROZEN = 9, /* the payer is frozen: 403 account_frozen */
	LEDGER_STATE__MAX
};

enum ledger_kind {
	LEDGER_DEPOSIT,  /* "deposit": a top-up of the caller's account */
	LEDGER_TRANSFER, /* "transfer": the caller pays a recipient */
	LEDGER_KIND__MAX
};

/*
 * The outcome of a transfer that ledger_transfer_batch() ran with others,
 * which ledger_run() then answers without a CALL of its own.
 */
struct ledger_batched {
	bool ran;      /* the batch's CALL answered for this transfer */
	enum db_rc rc; /* DB_OK, or how the CALL failed (never DB_RETRY) */
	int64_t at_s;  /* the batch's instant, as time(2) */
	int64_t state, to_id, movement_id, balance_minor, to_balance_minor;
};

/* One money movement: what the handler asks for. */
struct ledger_op {
	enum ledger_kind kind;
	int64_t amount_minor; /* (0, MONEY_AMOUNT_MAX_MINOR] */
	int64_t fee_minor;    /* transfers; 0 for deposits */
	int64_t to_id;        /* transfers: the recipient, or 0: by to_text */
	const char *to_text;  /* the "to" username as sent (to_len bytes) */
	size_t to_len;
	char to_name[LEDGER_NAME_SIZE_MAX]; /* the recipient's, as stored */
	const char *idem_key;               /* NULL: no Idempotency-Key */
	/* What the request hash covers; the same request, the same text. */
	char canon[LEDGER_CANON_SIZE_MAX];
	enum db_rc db_rc; /* the last database failure */
	struct ledger_batched batched;
};

/*
 * DB_STR_IN for read-only text: the database layer only reads its inputs,
 * so dropping the const (through uintptr_t, for -Wcast-qual) is safe.
 */
#define LEDGER_STR_IN(s, n) DB_STR_IN((uintptr_t)(s), (n))

/*
 * True when key is an acceptable Idempotency-Key: 1 to IDEM_KEY_LEN_MAX
 * printable ASCII characters (0x20 to 0x7e).
 */
bool ledger_idem_key_is_valid(const char *key);

/*
 * Starts a POST of the ledger: checks the Idempotency-Key header into
 * op->idem_key, parses the body as a JSON object into *obj (the caller
 * releases it with json_object_put) and reads its "amount" into
 * op->amount_minor. Returns 0, or -1 after answering 400 (*obj is then
 * NULL): invalid_request for a bad key, a body that is not an object, a
 * missing amount or one of the wrong JSON type; invalid_amount for null,
 * a boolean, or text that money_parse() refuses.
 */
int ledger_read_request(
    struct ctx *ctx, struct ledger_op *op, struct json_object **obj);

/*
 * The longest one attempt of a movement can take: a CALL's lock waits
 * (DB_CALL_LOCK_WAITS_MAX of db_lock_wait_timeout_s each) and the
 * back-off before it. No attempt starts with less time left.
 */
int64_t ledger_attempt_ms(const struct config *cfg);

/*
 * Runs op as one transaction, retrying a deadlock or a lock-wait timeout
 * up to DB_RETRY_COUNT_MAX times while the request's deadline leaves time
 * for a whole attempt (ledger_attempt_ms; 503 without one, then: nothing
 * is sent that could commit after nginx gave up), and answers: 200
 * (deposit) or 201
 * (transfer) with the body of API.md; 422 insufficient_funds or
 * limit_exceeded when nothing moved; the replay of a stored answer
 * (Idempotent-Replayed: true) or 422 idempotency_key_reused when the key
 * was used before; 409 request_in_progress when another request holds the
 * key too long; 503 or 500 when the database fails.
 */
void ledger_run(struct ctx *ctx, struct ledger_op *op);

/*
 * Runs the n transfers ops (2 to WORKER_BATCH_MAX, without an
 * Idempotency-Key, of the callers ctxs) in one transaction: CALL
 * payd_transfer_batch (sql/R__payd_transfer_batch.sql). Each op's
 * outcome goes to op->batched, for ledger_run() to answer. On a deadlock
 * or a lock-wait timeout nothing moved, and nothing is set: ledger_run()
 * runs each on its own. Any other failure may have come after the commit,
 * so each op keeps it, to answer 503 or 500 as its own CALL's would.
 */
void ledger_transfer_batch(
    struct ctx *const *ctxs, struct ledger_op *const *ops, size_t n);

/*
 * Answers a business refusal (404 recipient_not_found, 422
 * insufficient_funds or limit_exceeded, 403 account_frozen) and records
 * it under the Idempotency-Key, if any, so that a retry gets the same
 * answer; or replays what the key already holds.
 */
void ledger_refuse(struct ctx *ctx, struct ledger_op *op, enum api_err err);

#endif /* LEDGER_H */
