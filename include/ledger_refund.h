/*
 * Refunds (docs/money.md): the recipient of a transfer sends part or all
 * of it back to the sender, without a fee; the refunds of a transfer never
 * add up to more than its amount. And a transfer as GET /transfers/{id}
 * shows it, with its refunds. No HTTP here: app/h_refund.c parses and
 * renders.
 */
#ifndef LEDGER_REFUND_H
#define LEDGER_REFUND_H

#include <stdbool.h>
#include <stdint.h>

#include "ledger_hold.h"

/* POST /transfers/{id}/refund. */
struct ledger_refund_req {
	int64_t transfer_id;
	int64_t amount_minor; /* 0: what is left to refund */
};

/* What a refund did. */
struct ledger_refund_row {
	int64_t id;             /* the refund's movement */
	int64_t amount_minor;   /* what it moved */
	int64_t refunded_minor; /* the transfer's refunds, all together */
	int64_t balance_minor;  /* the refunder's, after */
	char to[LEDGER_HOLD_NAME_SIZE]; /* the transfer's sender */
};

/*
 * One CALL (sql/R__payd_refund.sql), retried on a deadlock or a lock-wait
 * timeout. DB_OK sets *state; LEDGER_STATE_DONE fills *row, and with a key
 * the transaction is left open for the answer to be stored under it. Any
 * other return is how the database failed.
 */
enum db_rc ledger_refund(struct db *db, const struct ledger_caller *who,
    const struct ledger_refund_req *req, struct ledger_refund_row *row,
    enum ledger_state *state);

/* A transfer, for its sender or recipient. */
struct ledger_transfer_row {
	int64_t id;
	char from[LEDGER_HOLD_NAME_SIZE];
	char to[LEDGER_HOLD_NAME_SIZE];
	int64_t amount_minor, fee_minor, refunded_minor;
	int64_t hold_id; /* 0: none */
	bool reversed;
	char created_at[UTIL_TIME_SIZE + 8];
};

/* One of its refunds. */
struct ledger_transfer_refund {
	int64_t id;
	int64_t amount_minor;
	char created_at[UTIL_TIME_SIZE + 8];
};

/*
 * Reads the transfer id if user_id sent or received it, and its first
 * REFUND_LIST_MAX refunds, oldest first, in one statement: head() once,
 * then each() per refund. DB_NOT_FOUND when it is not there or not the
 * user's (or not a transfer).
 */
enum db_rc ledger_transfer_get(struct db *db, int64_t user_id, int64_t id,
    void (*head)(const struct ledger_transfer_row *t, void *arg),
    void (*each)(const struct ledger_transfer_refund *r, void *arg), void *arg);

#endif /* LEDGER_REFUND_H */
