/*
 * Batch payouts (API.md POST /transfers/batch): up to BATCH_ITEMS_MAX
 * transfers from one payer in one transaction, all or nothing (atomic) or
 * each on its own, through CALL payd_payout (sql/R__payd_payout.sql).
 *
 * The ledger side only: a plain request in, a closed outcome and one row
 * per item out; no HTTP, no JSON object. The handler (h_batch.c) reads
 * the body and writes the answer, through the render callback, which the
 * run calls once money moved so that, with an Idempotency-Key, the answer
 * and the movements commit together.
 */
#ifndef LEDGER_BATCH_H
#define LEDGER_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "buf.h"
#include "config.h"
#include "db.h"

/* A username read back from the database: utf8mb4 is 4 bytes a char. */
#define LEDGER_BATCH_NAME_SIZE_MAX (USERNAME_LEN_MAX * 4 + 1)

/*
 * How one item ended: payd_transfer_move's states (sql/R__payd_payout.sql,
 * the values of payd_transfer's), of which an item has these.
 */
enum ledger_item_state {
	LEDGER_ITEM_DONE = 0,  /* moved (committed unless refused whole) */
	LEDGER_ITEM_SELF = 2,  /* the recipient is the payer */
	LEDGER_ITEM_NO_TO = 3, /* no such recipient */
	LEDGER_ITEM_FUNDS = 4, /* the payer's balance < amount + fee */
	LEDGER_ITEM_CAP = 5,   /* the recipient's cap */
	LEDGER_ITEM_STATE__MAX
};

/* How a batch ended. */
enum ledger_batch_rc {
	LEDGER_BATCH_DONE,     /* committed: the render callback answered */
	LEDGER_BATCH_REJECTED, /* atomic, an item refused: nothing moved */
	LEDGER_BATCH_NO_USER,  /* the payer is gone */
	LEDGER_BATCH_FROZEN, /* the payer's account is frozen: nothing moved */
	LEDGER_BATCH_REPLAY, /* the key's stored answer: status, body */
	LEDGER_BATCH_REUSED, /* the key was used for another request */
	LEDGER_BATCH_BUSY,   /* the key's request is still running */
	LEDGER_BATCH_FAILED, /* the database failed: db_rc */
	LEDGER_BATCH_LATE,   /* no time left for an attempt: nothing sent */
	LEDGER_BATCH_RC__MAX
};

/* One transfer of the batch, as the handler read it. */
struct ledger_batch_item {
	int64_t to_id;       /* the recipient by id, or 0: by to_text */
	const char *to_text; /* the username as sent, to_len bytes; "" */
	size_t to_len;       /* 0: a name no user can have (never found) */
	int64_t amount_minor;
	int64_t fee_minor;
	/* The outcome, when the CALL answered. */
	enum ledger_item_state state;
	int64_t movement_id;
	int64_t balance_minor; /* the payer's, after this item */
	char to_name[LEDGER_BATCH_NAME_SIZE_MAX]; /* as stored, when found */
};

/* The whole request. */
struct ledger_batch_req {
	int64_t user_id;
	const char *username;
	int64_t token_gen; /* the token's: the payer's row must still have it */
	bool atomic;
	const char *idem_key; /* NULL: no Idempotency-Key */
	const char *canon;    /* the canonical request, for the key */
	size_t canon_len;
	struct ledger_batch_item *items;
	size_t n; /* 1 to BATCH_ITEMS_MAX */
	/* util_now_ms() past which nothing may commit (503); 0: none. */
	int64_t deadline_ms;
};

/* What the run says, beside the items' own outcomes. */
struct ledger_batch_res {
	int64_t at_s;          /* the movements' instant, as time(2) */
	int64_t balance_minor; /* the payer's after the batch (DONE) */
	size_t refused;        /* items not moved */
	int status;            /* REPLAY: the stored status */
	enum db_rc db_rc;      /* FAILED: why */
};

/*
 * Writes the answer of a batch that moved money (LEDGER_BATCH_DONE) into
 * body and returns its status; called at most once per attempt.
 */
typedef int (*ledger_batch_render_fn)(void *arg,
    const struct ledger_batch_req *req, const struct ledger_batch_res *res,
    struct buf *body);

/*
 * Runs req (its items' amounts and fees checked, no item to the payer by
 * id) as one transaction, retried whole on a deadlock or a lock-wait
 * timeout up to DB_RETRY_COUNT_MAX times, each attempt only when it can
 * lock its rows before req->deadline_ms (else LEDGER_BATCH_LATE, and an
 * attempt running then rolls back instead of committing), and fills each
 * item's outcome.
 * On LEDGER_BATCH_DONE, render has written body and, with a key, that
 * answer was stored under the key in the same transaction. On
 * LEDGER_BATCH_REPLAY body holds the stored answer (res->status). A
 * refused atomic batch is not stored: ledger_batch_refuse() does that once
 * the handler has written its answer.
 */
enum ledger_batch_rc ledger_batch_run(struct db *db, const struct config *cfg,
    struct ledger_batch_req *req, struct ledger_batch_res *res,
    ledger_batch_render_fn render, void *arg, struct buf *body);

/*
 * Stores the answer of a refused batch (REJECTED or FROZEN: status and
 * body) under its key, in
 * its own short transaction, so that a retry gets the same answer. Returns
 * LEDGER_BATCH_DONE; LEDGER_BATCH_REPLAY (body, res->status replaced) or
 * REUSED or BUSY when the key was taken meanwhile; FAILED when it could
 * not be stored (the answer must then not be given: it could change).
 */
enum ledger_batch_rc ledger_batch_refuse(struct db *db,
    const struct ledger_batch_req *req, struct ledger_batch_res *res,
    int status, struct buf *body);

#endif /* LEDGER_BATCH_H */
