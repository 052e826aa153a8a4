/*
 * Holds (docs/money.md): money reserved from a payer's available for a
 * recipient, who captures it (in whole or in part) or voids it; a hold not
 * ended by its expires_at expires. No HTTP here: a plain request in, an
 * outcome and the hold's row out; app/h_holds.c parses and renders.
 */
#ifndef LEDGER_HOLD_H
#define LEDGER_HOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "db.h"
#include "ledger.h"
#include "util.h"

/* A username read back from the database: utf8mb4 is 4 bytes a char. */
#define LEDGER_HOLD_NAME_SIZE (USERNAME_LEN_MAX * 4 + 1)

/* Who asks, and the Idempotency-Key of the request (key NULL: none). */
struct ledger_caller {
	int64_t user_id;
	const char *user_name;
	int64_t
	    user_gen; /* the token's generation: the row must still have it */
	const char *key;
	const char *canon; /* what the key's request hash covers */
	int64_t at_s;      /* the request's instant, as time(2) */
	/*
	 * No attempt starts unless it can end by deadline_ms (util_now_ms();
	 * 0: none), given attempt_ms for a whole one (API.md Faults: a 503
	 * never moves money afterwards).
	 */
	int64_t deadline_ms;
	int64_t attempt_ms;
};

/* POST /holds. */
struct ledger_hold_req {
	int64_t to_id;       /* the recipient by id, or 0: by to_name */
	const char *to_name; /* to_len bytes, as sent */
	size_t to_len;
	int64_t amount_minor; /* (0, MONEY_AMOUNT_MAX_MINOR] */
	int64_t fee_minor;    /* fee(amount) */
	int64_t expires_in_s; /* [HOLD_EXPIRES_IN_S_MIN, _MAX] */
};

/* POST /holds/{id}/capture and /void. */
struct ledger_hold_end_req {
	int64_t hold_id;
	bool capture;         /* false: void */
	int64_t amount_minor; /* capture: 0 for the whole amount */
	int64_t fee_minor;    /* capture: fee(amount_minor) */
	int64_t fee_account;  /* the fee sub-account a capture credits */
};

/* A hold as GET /holds/{id} shows it. */
struct ledger_hold_row {
	int64_t id;
	char from[LEDGER_HOLD_NAME_SIZE];
	char to[LEDGER_HOLD_NAME_SIZE];
	int64_t amount_minor, fee_minor, captured_minor;
	int64_t transfer_id; /* 0: none */
	char status[LEDGER_HOLD_STATUS_SIZE];
	char created_at[UTIL_TIME_SIZE + 8];
	char expires_at[UTIL_TIME_SIZE + 8];
	int64_t available_minor; /* create: the payer's after; else 0 */
};

/*
 * Each of these runs one CALL (one transaction), retrying a deadlock or a
 * lock-wait timeout up to DB_RETRY_COUNT_MAX times. DB_OK sets *state, the
 * procedure's answer; LEDGER_STATE_DONE fills *row too, and with a key the
 * transaction is then left open for the answer to be stored under it
 * (idem_finish). Any other return is how the database failed.
 */
enum db_rc ledger_hold_create(struct db *db, const struct ledger_caller *who,
    const struct ledger_hold_req *req, struct ledger_hold_row *row,
    enum ledger_state *state);
enum db_rc ledger_hold_end(struct db *db, const struct ledger_caller *who,
    const struct ledger_hold_end_req *req, struct ledger_hold_row *row,
    enum ledger_state *state);

/*
 * The hold hold_id if user_id is its payer or recipient, as it stands at
 * at_s: DB_OK, DB_NOT_FOUND (also when not the user's), or a failure.
 */
enum db_rc ledger_hold_get(struct db *db, int64_t user_id, int64_t hold_id,
    int64_t at_s, struct ledger_hold_row *row);

/* A page of GET /holds: the user's holds, newest first. */
struct ledger_hold_page {
	int64_t user_id;
	const char *status; /* "" for all, else a status as shown */
	int64_t before;     /* ids below this */
	int64_t limit;      /* rows to give, at most TXN_PAGE_LIMIT_MAX */
	int64_t at_s;
	/* Called for each row, in order; more: a next page exists. */
	void (*each)(const struct ledger_hold_row *row, void *arg);
	void *arg;
	bool more;
	int64_t last_id; /* the last row's id, the next page's cursor */
};
enum db_rc ledger_hold_list(struct db *db, struct ledger_hold_page *page);

/*
 * One tick of the sweeper: takes or renews the lease as holder and, if
 * held, expires the holds due at at_s. *expired gets how many, or -1
 * without the lease.
 */
enum db_rc ledger_hold_sweep(
    struct db *db, const char *holder, int64_t at_s, int64_t *expired);

/*
 * CALL id of a money procedure that always answers one row (db_call),
 * retried whole on a deadlock or a lock-wait timeout up to
 * DB_RETRY_COUNT_MAX times (each attempt rolled back by the procedure),
 * each only while who's deadline leaves time for it: DB_RETRY (503,
 * nothing moved) when it does not. No row is DB_ERROR. Shared by
 * ledger_hold.c and ledger_refund.c.
 */
enum db_rc ledger_money_call(struct db *db, const struct ledger_caller *who,
    enum stmt id, struct db_val *in, unsigned nin, struct db_val *out,
    unsigned nout);

/* unix_s as a DATETIME text, UTC (LEDGER_SQL_TIME_SIZE, bounds.h). */
void ledger_sql_time(char out[LEDGER_SQL_TIME_SIZE], int64_t unix_s);

#endif /* LEDGER_HOLD_H */
