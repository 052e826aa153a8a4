/*
 * The ledger core: each money movement (a top-up, a transfer) as one
 * database transaction over the double-entry tables of sql/001_schema.sql,
 * run by its stored procedure in one round trip, retried whole on a
 * deadlock or a lock-wait timeout while the request's deadline leaves time
 * for a whole attempt. No HTTP here: a request struct in, a closed outcome
 * and the rows out; the handlers (app/h_money.c) parse and render. The
 * Idempotency-Key protocol is app/idem.c.
 */
#ifndef LEDGER_H
#define LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "db.h"

/* A username read back from the database: utf8mb4 is 4 bytes a char. */
#define LEDGER_NAME_SIZE_MAX (USERNAME_LEN_MAX * 4 + 1)

/*
 * The state the money procedures answer in their first column (or OUT
 * parameter): payd_deposit, payd_transfer, payd_transfer_many and their
 * steps, payd_hold_create, payd_hold_end and payd_refund (sql/R__payd_*.sql
 * write these numbers). Only LEDGER_STATE_DONE
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
	LEDGER_STATE_FROZEN = 9, /* the payer is frozen: 403 account_frozen */
	LEDGER_STATE_NOT_FOUND = 10,   /* no hold or transfer of the caller's */
	LEDGER_STATE_FORBIDDEN = 11,   /* the wrong party: 403 */
	LEDGER_STATE_NOT_PENDING = 12, /* a hold captured or voided: 409 */
	LEDGER_STATE_EXPIRED = 13,     /* a hold expired: 409 */
	LEDGER_STATE_OVER_HOLD = 14,   /* a capture above the hold: 422 */
	LEDGER_STATE_OVER_REFUND = 15, /* a refund above what is left: 422 */
	LEDGER_STATE__MAX
};
/*
 * 8 is no state: it was an unused slot of payd_transfer_batch, which
 * payd_transfer_many replaced. A procedure that answers it breaks the
 * contract (500).
 */
enum { LEDGER_STATE_RETIRED = 8 };

enum ledger_kind {
	LEDGER_DEPOSIT,  /* "deposit": a top-up of the caller's account */
	LEDGER_TRANSFER, /* "transfer": the caller pays a recipient */
	LEDGER_KIND__MAX
};

/* One money movement asked for. */
struct ledger_req {
	enum ledger_kind kind;
	int64_t user_id;      /* who: the token's user */
	const char *username; /* and its name: the row must still match */
	int64_t token_gen;    /* and its token's generation: the same */
	int64_t amount_minor; /* (0, MONEY_AMOUNT_MAX_MINOR] */
	int64_t fee_minor;    /* transfers; 0 for top-ups */
	int64_t to_id;        /* transfers: the recipient, or 0: by to_text */
	const char *to_text;  /* the recipient's name as sent, to_len bytes */
	size_t to_len;
	const char *idem_key; /* NULL: no Idempotency-Key */
	/* What the key's request hash covers: the same request, the same. */
	char canon[LEDGER_CANON_SIZE_MAX];
	/* util_now_ms() after which no attempt may end; 0: no deadline. */
	int64_t deadline_ms;
	const char *log_name; /* what log lines call it: the route's name */
};

/*
 * How a movement ended: a closed set. The procedures' states (enum
 * ledger_state) keep their numbers, so that an answered state is its
 * outcome; the last two are the app's own.
 */
enum ledger_outcome {
	LEDGER_MOVED = LEDGER_STATE_DONE, /* with a key, left open (idem.h) */
	LEDGER_CALLER_GONE = LEDGER_STATE_NO_USER,
	LEDGER_SELF = LEDGER_STATE_SELF,
	LEDGER_NO_RECIPIENT = LEDGER_STATE_NO_TO,
	LEDGER_NO_FUNDS = LEDGER_STATE_FUNDS,
	LEDGER_OVER_CAP = LEDGER_STATE_CAP,
	LEDGER_KEY_TAKEN = LEDGER_STATE_KEY_TAKEN, /* idem_replay() says */
	LEDGER_KEY_BUSY = LEDGER_STATE_KEY_BUSY,
	LEDGER_FROZEN = LEDGER_STATE_FROZEN, /* the payer is frozen */
	/* The database cannot say now: lost, retries spent, no time left. */
	LEDGER_UNAVAILABLE = LEDGER_STATE__MAX,
	LEDGER_FAILED, /* the database failed otherwise */
	LEDGER_OUTCOME__MAX
};

/* What a movement did. */
struct ledger_res {
	enum ledger_outcome outcome;
	/* LEDGER_MOVED with a key: the transaction is open (idem_finish). */
	bool open;
	bool late;           /* LEDGER_UNAVAILABLE: the deadline, not the db */
	int64_t at_s;        /* the movement's instant, as time(2) */
	int64_t movement_id; /* LEDGER_MOVED: */
	int64_t balance_minor;              /* the caller's balance after */
	int64_t to_id;                      /* transfers: the recipient */
	int64_t to_balance_minor;           /* and its balance after */
	char to_name[LEDGER_NAME_SIZE_MAX]; /* its name, as stored */
};

/*
 * The longest one attempt of a movement can take: a CALL's lock waits
 * (DB_CALL_LOCK_WAITS_MAX of db_lock_wait_timeout_s each) and the
 * back-off before it. No attempt starts with less time left.
 */
int64_t ledger_attempt_ms(const struct config *cfg);

/*
 * The number, 0 to INT32_MAX, from which the procedures pick the fee
 * sub-account a transfer (or a capture, or a batch payout) credits
 * (payd_fee_account, sql/R__payd_fee_account.sql), so that no fee row is
 * hot: each process goes round them.
 */
int64_t ledger_fee_account(void);

/*
 * Runs req as one transaction, retrying a deadlock or a lock-wait timeout
 * up to DB_RETRY_COUNT_MAX times while req->deadline_ms leaves time for a
 * whole attempt (LEDGER_UNAVAILABLE with res->late without one: nothing
 * is sent that could commit after the client was told 503). With a key,
 * a movement is left open for idem_finish(); nothing else is.
 */
void ledger_move(
    struct db *db, const struct ledger_req *req, struct ledger_res *res);

/*
 * Runs the n transfers reqs (2 to WORKER_BATCH_MAX, without an
 * Idempotency-Key) in one transaction: CALL payd_transfer_many
 * (sql/R__payd_transfer_many.sql), each outcome into res[i]. Returns
 * false when it rolled back on a deadlock or a lock-wait timeout:
 * nothing moved, and each may run on its own (ledger_move). Any other
 * failure may have come after the commit, so each transfer whose row was
 * not read gets it (LEDGER_UNAVAILABLE or LEDGER_FAILED).
 */
bool ledger_transfer_batch(struct db *db, const struct ledger_req *const *reqs,
    struct ledger_res *res, size_t n);

#endif /* LEDGER_H */
