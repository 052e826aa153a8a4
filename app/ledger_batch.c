/*
 * Batch payouts: one CALL payd_payout (sql/R__payd_payout.sql) per
 * attempt, retried whole on a deadlock or a lock-wait timeout, with the
 * Idempotency-Key protocol of idem.h (whose answers go up to a batch's).
 */
#include <assert.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "idem.h"
#include "ledger.h"
#include "ledger_batch.h"
#include "log.h"
#include "metrics.h"
#include "money.h"
#include "util.h"

/* The first column of payd_payout's rows: how the batch ended. */
enum ledger_batch_state {
	LEDGER_BATCH_STATE_DONE = 0,      /* moved: committed, or open (key) */
	LEDGER_BATCH_STATE_NO_USER = 1,   /* the payer is gone */
	LEDGER_BATCH_STATE_KEY_TAKEN = 6, /* the key is used: replay it */
	LEDGER_BATCH_STATE_KEY_BUSY = 7,  /* the key's request still runs */
	LEDGER_BATCH_STATE_FROZEN = 9, /* the payer is frozen: nothing moved */
	LEDGER_BATCH_STATE_REJECTED = 10, /* atomic, an item refused */
};

/* The parameters of CALL payd_payout, in order. */
enum ledger_batch_param {
	LEDGER_BATCH_FROM,        /* the payer's id, from the token */
	LEDGER_BATCH_FROM_NAME,   /* and name: the row must still match */
	LEDGER_BATCH_FROM_GEN,    /* and token generation: the same */
	LEDGER_BATCH_ITEMS,       /* [[to_id, "to", amount, fee], ...] */
	LEDGER_BATCH_ATOMIC,      /* 1: all or nothing */
	LEDGER_BATCH_CAP,         /* the balance cap, minor units */
	LEDGER_BATCH_FEE_ACCOUNT, /* the fee sub-account of every item */
	LEDGER_BATCH_AT,          /* the movements' DATETIME */
	LEDGER_BATCH_KEY,         /* the Idempotency-Key, or NULL */
	LEDGER_BATCH_CANON,       /* the canonical request, hashed with it */
	LEDGER_BATCH_LOCK_MS,     /* the row locks' time, at most */
	LEDGER_BATCH_COMMIT_MS,   /* no COMMIT after this long */
	LEDGER_BATCH_PARAM__MAX
};

/* The columns of payd_payout's rows. */
enum ledger_batch_col {
	LEDGER_BATCH_COL_STATE,   /* enum ledger_batch_state */
	LEDGER_BATCH_COL_IDX,     /* 0 the batch, 1 to n the items */
	LEDGER_BATCH_COL_ITEM,    /* enum ledger_item_state */
	LEDGER_BATCH_COL_TO,      /* the recipient's id, 0 when none */
	LEDGER_BATCH_COL_TO_NAME, /* and name as stored */
	LEDGER_BATCH_COL_MID,     /* the movement's id */
	LEDGER_BATCH_COL_BAL,     /* the payer's balance after */
	LEDGER_BATCH_COL_TO_BAL,  /* the recipient's balance after */
	LEDGER_BATCH_COL__MAX
};

_Static_assert(LEDGER_BATCH_COL__MAX <= DB_COLUMN_COUNT_MAX,
    "payd_payout's rows fit a statement's columns");
_Static_assert(LEDGER_BATCH_PARAM__MAX <= DB_PARAM_COUNT_MAX,
    "payd_payout's parameters fit a statement's");

/* The items' JSON: built once per attempt, at most one batch at a time. */
static char ledger_batch_json[BATCH_ITEMS_JSON_SIZE_MAX];

static void ledger_batch_items_json(
    const struct ledger_batch_req *req, struct buf *b);
static enum db_rc ledger_batch_read(struct db *db, struct db_val *out,
    struct ledger_batch_req *req, struct ledger_batch_res *res, int64_t *state);
static int64_t ledger_batch_lock_ms(const struct config *cfg);
static enum db_rc ledger_batch_call(struct db *db, const struct config *cfg,
    struct ledger_batch_req *req, struct ledger_batch_res *res,
    int64_t commit_ms, int64_t *state);
static enum ledger_batch_rc ledger_batch_replay(struct db *db,
    const struct ledger_batch_req *req, struct ledger_batch_res *res,
    struct buf *body);
static enum ledger_batch_rc ledger_batch_close(struct db *db,
    const struct ledger_batch_req *req, struct ledger_batch_res *res,
    int status, struct buf *body);
static enum ledger_batch_rc ledger_batch_attempt(struct db *db,
    const struct config *cfg, struct ledger_batch_req *req,
    struct ledger_batch_res *res, ledger_batch_render_fn render, void *arg,
    struct buf *body);

/*
 * [[to_id, "to", amount, fee], ...]: a name is a valid username (bytes of
 * A-Z a-z 0-9 _ . -, nothing to escape) or empty, which no user has.
 */
static void
ledger_batch_items_json(const struct ledger_batch_req *req, struct buf *b)
{
	(void)buf_puts(b, "[");
	for (size_t i = 0; i < req->n; i++) {
		const struct ledger_batch_item *it = &req->items[i];

		assert(it->to_len <= USERNAME_LEN_MAX);
		assert(strcspn(it->to_text, "\"\\") >= it->to_len);
		(void)buf_printf(
		    b, "%s[%" PRId64 ",\"", i == 0 ? "" : ",", it->to_id);
		(void)buf_append(b, it->to_text, it->to_len);
		(void)buf_printf(b, "\",%" PRId64 ",%" PRId64 "]",
		    it->amount_minor, it->fee_minor);
	}
	(void)buf_puts(b, "]");
	/* BATCH_ITEMS_JSON_SIZE_MAX holds BATCH_ITEMS_MAX of the longest. */
	assert(!b->overflow);
}

/* True when st is a state an item can have (enum ledger_item_state). */
static bool
ledger_batch_item_state_is_valid(int64_t st)
{
	return st == LEDGER_ITEM_DONE || st == LEDGER_ITEM_SELF ||
	       st == LEDGER_ITEM_NO_TO || st == LEDGER_ITEM_FUNDS ||
	       st == LEDGER_ITEM_CAP;
}

/*
 * Reads payd_payout's rows, bound to out, into req's items and res;
 * *state is the batch's (enum ledger_batch_state). The caller ends the
 * CALL with db_call_end().
 */
static enum db_rc
ledger_batch_read(struct db *db, struct db_val *out,
    struct ledger_batch_req *req, struct ledger_batch_res *res, int64_t *state)
{
	size_t seen = 0;
	enum db_rc rc;

	while ((rc = db_fetch(db, STMT_PAYOUT)) == DB_OK) {
		int64_t k = out[LEDGER_BATCH_COL_IDX].i64;
		int64_t st = out[LEDGER_BATCH_COL_ITEM].i64;
		struct ledger_batch_item *it;

		*state = out[LEDGER_BATCH_COL_STATE].i64;
		if (k == 0) {
			res->balance_minor = out[LEDGER_BATCH_COL_BAL].i64;
			continue;
		}
		/* Items come in order, each once, with a known state. */
		if ((size_t)k != seen + 1 || (size_t)k > req->n ||
		    !ledger_batch_item_state_is_valid(st)) {
			log_event(LOG_ERROR, "ledger_call",
			    "route=transfers_batch idx=%" PRId64
			    " state=%" PRId64,
			    k, st);
			return DB_ERROR;
		}
		it = &req->items[seen++];
		it->state = (enum ledger_item_state)st;
		it->movement_id = out[LEDGER_BATCH_COL_MID].i64;
		it->balance_minor = out[LEDGER_BATCH_COL_BAL].i64;
		assert(out[LEDGER_BATCH_COL_TO_NAME].len < sizeof(it->to_name));
		memcpy(it->to_name, out[LEDGER_BATCH_COL_TO_NAME].str,
		    out[LEDGER_BATCH_COL_TO_NAME].len + 1);
		if (it->state != LEDGER_ITEM_DONE)
			res->refused++;
	}
	if (rc != DB_NOT_FOUND)
		return rc;
	/* Every item answers, unless the batch ended before them. */
	if (*state == LEDGER_BATCH_STATE_DONE ||
	    *state == LEDGER_BATCH_STATE_REJECTED)
		return seen == req->n ? DB_OK : DB_ERROR;
	return *state < 0 ? DB_ERROR : DB_OK;
}

/*
 * One CALL payd_payout, which commits only within commit_ms of its start:
 * *state says how it ended (when DB_OK).
 */
static enum db_rc
ledger_batch_call(struct db *db, const struct config *cfg,
    struct ledger_batch_req *req, struct ledger_batch_res *res,
    int64_t commit_ms, int64_t *state)
{
	char at_sql[UTIL_SQL_TIME_SIZE], name[LEDGER_BATCH_NAME_SIZE_MAX];
	struct db_val in[LEDGER_BATCH_PARAM__MAX], out[LEDGER_BATCH_COL__MAX];
	struct buf items;
	enum db_rc rc;

	buf_init(&items, ledger_batch_json, sizeof(ledger_batch_json));
	ledger_batch_items_json(req, &items);
	res->at_s = (int64_t)time(NULL);
	util_format_sql_time(at_sql, res->at_s);
	/*
	 * The fee sub-account as a transfer picks it (ledger_fee_account: no
	 * system call); the fee row is only locked last, and briefly.
	 */
#define STR_IN(s, n) DB_STR_IN((uintptr_t)(s), (n))
	in[LEDGER_BATCH_FROM] = DB_I64_IN(req->user_id);
	in[LEDGER_BATCH_FROM_NAME] =
	    STR_IN(req->username, strlen(req->username));
	in[LEDGER_BATCH_FROM_GEN] = DB_I64_IN(req->token_gen);
	in[LEDGER_BATCH_ITEMS] = STR_IN(items.data, items.len);
	in[LEDGER_BATCH_ATOMIC] = DB_I64_IN(req->atomic ? 1 : 0);
	in[LEDGER_BATCH_CAP] = DB_I64_IN(MONEY_BALANCE_MAX_MINOR);
	in[LEDGER_BATCH_FEE_ACCOUNT] = DB_I64_IN(ledger_fee_account());
	in[LEDGER_BATCH_AT] = STR_IN(at_sql, strlen(at_sql));
	in[LEDGER_BATCH_KEY] = STR_IN(
	    req->idem_key, req->idem_key != NULL ? strlen(req->idem_key) : 0);
	in[LEDGER_BATCH_KEY].is_null = req->idem_key == NULL;
	in[LEDGER_BATCH_CANON] = STR_IN(req->canon, req->canon_len);
#undef STR_IN
	in[LEDGER_BATCH_LOCK_MS] = DB_I64_IN(ledger_batch_lock_ms(cfg));
	in[LEDGER_BATCH_COMMIT_MS] = DB_I64_IN(commit_ms);
	for (int i = 0; i < LEDGER_BATCH_COL__MAX; i++)
		out[i] = DB_I64_OUT();
	out[LEDGER_BATCH_COL_TO_NAME] = DB_STR_OUT(name);
	res->refused = 0;
	res->balance_minor = 0;
	*state = -1;
	rc = db_call_query(db, STMT_PAYOUT, in, LEDGER_BATCH_PARAM__MAX, out,
	    LEDGER_BATCH_COL__MAX);
	if (rc == DB_OK)
		rc = ledger_batch_read(db, out, req, res, state);
	/* Every row read is the CALL's whole answer (db_call_end). */
	return db_call_end(db, STMT_PAYOUT, rc, rc == DB_OK);
}

/* The batch's key, for idem.h. */
static struct idem_key
ledger_batch_key(const struct ledger_batch_req *req)
{
	assert(strlen(req->canon) == req->canon_len);
	return (struct idem_key){req->user_id, req->idem_key, req->canon};
}

/*
 * Answers from what the key holds (idem_replay), into body and
 * res->status: REPLAY, REUSED (another request), BUSY (no answer yet),
 * FAILED; or DONE when the key is gone (purged meanwhile): the caller
 * runs the batch again.
 */
static enum ledger_batch_rc
ledger_batch_replay(struct db *db, const struct ledger_batch_req *req,
    struct ledger_batch_res *res, struct buf *body)
{
	struct idem_key k = ledger_batch_key(req);

	switch (idem_replay(db, &k, &res->status, body, &res->db_rc)) {
	case IDEM_FOUND:
		return LEDGER_BATCH_REPLAY;
	case IDEM_REUSED:
		return LEDGER_BATCH_REUSED;
	case IDEM_PENDING:
		return LEDGER_BATCH_BUSY;
	case IDEM_GONE:
		return LEDGER_BATCH_DONE;
	default:
		return LEDGER_BATCH_FAILED;
	}
}

/*
 * Ends a batch that moved money: with a key, the CALL left its
 * transaction open, and the answer is stored under the key before the
 * COMMIT, so that both are one write (idem_finish).
 */
static enum ledger_batch_rc
ledger_batch_close(struct db *db, const struct ledger_batch_req *req,
    struct ledger_batch_res *res, int status, struct buf *body)
{
	struct idem_key k;
	struct idem_answer a = {status, body->data, body->len};

	if (req->idem_key == NULL)
		return LEDGER_BATCH_DONE;
	k = ledger_batch_key(req);
	db_txn_adopt(db, STMT_PAYOUT);
	res->db_rc = idem_finish(db, &k, &a);
	return res->db_rc == DB_OK ? LEDGER_BATCH_DONE : LEDGER_BATCH_FAILED;
}

/*
 * How long payd_payout's row locks may take: as payd_transfer_many's
 * (bounds.h DB_BATCH_LOCK_WAITS).
 */
static int64_t
ledger_batch_lock_ms(const struct config *cfg)
{
	return (int64_t)cfg->db_lock_wait_timeout_s * 1000 *
	       DB_BATCH_LOCK_WAITS;
}

/*
 * How long after its start an attempt may still commit: before the app's
 * read timeout, after which it stops reading (config_check), and before
 * the request's deadline, after which nginx has answered 503; at most
 * BATCH_COMMIT_MARGIN_MS before either. -1: no time for an attempt.
 */
static int64_t
ledger_batch_commit_ms(
    const struct config *cfg, const struct ledger_batch_req *req)
{
	int64_t ms =
	    (int64_t)cfg->db_rw_timeout_s * 1000 - BATCH_COMMIT_MARGIN_MS;

	if (req->deadline_ms != 0) {
		int64_t left = req->deadline_ms - util_now_ms() -
		               BATCH_COMMIT_MARGIN_MS - DB_RETRY_SLEEP_MS_MAX;

		ms = left < ms ? left : ms;
	}
	return ms > ledger_batch_lock_ms(cfg) ? ms : -1;
}

/* One attempt; FAILED with DB_RETRY in res->db_rc: run it again. */
static enum ledger_batch_rc
ledger_batch_attempt(struct db *db, const struct config *cfg,
    struct ledger_batch_req *req, struct ledger_batch_res *res,
    ledger_batch_render_fn render, void *arg, struct buf *body)
{
	int64_t state = -1, commit_ms = ledger_batch_commit_ms(cfg, req);
	enum ledger_batch_rc lrc;
	enum db_rc rc;
	int status;

	if (commit_ms < 0) {
		log_event(LOG_WARN, "deadline_passed",
		    "route=transfers_batch stage=attempt");
		return LEDGER_BATCH_LATE;
	}
	rc = ledger_batch_call(db, cfg, req, res, commit_ms, &state);
	if (rc != DB_OK) {
		res->db_rc = rc;
		return LEDGER_BATCH_FAILED;
	}
	switch (state) {
	case LEDGER_BATCH_STATE_DONE:
		/* Read back under the locks: never below zero. */
		assert(res->balance_minor >= 0);
		assert(res->refused < req->n || !req->atomic);
		status = render(arg, req, res, body);
		assert(!body->overflow && body->len > 0);
		return ledger_batch_close(db, req, res, status, body);
	case LEDGER_BATCH_STATE_NO_USER:
		return LEDGER_BATCH_NO_USER;
	case LEDGER_BATCH_STATE_KEY_TAKEN:
		lrc = ledger_batch_replay(db, req, res, body);
		if (lrc != LEDGER_BATCH_DONE)
			return lrc;
		res->db_rc = DB_RETRY; /* purged meanwhile: claim it again */
		return LEDGER_BATCH_FAILED;
	case LEDGER_BATCH_STATE_KEY_BUSY:
		return LEDGER_BATCH_BUSY;
	case LEDGER_BATCH_STATE_FROZEN:
		return LEDGER_BATCH_FROZEN;
	case LEDGER_BATCH_STATE_REJECTED:
		assert(req->atomic && res->refused > 0);
		return LEDGER_BATCH_REJECTED;
	default:
		log_event(LOG_ERROR, "ledger_call",
		    "route=transfers_batch state=%" PRId64, state);
		res->db_rc = DB_ERROR;
		return LEDGER_BATCH_FAILED;
	}
}

enum ledger_batch_rc
ledger_batch_run(struct db *db, const struct config *cfg,
    struct ledger_batch_req *req, struct ledger_batch_res *res,
    ledger_batch_render_fn render, void *arg, struct buf *body)
{
	enum ledger_batch_rc rc = LEDGER_BATCH_FAILED;

	assert(req->n >= 1 && req->n <= BATCH_ITEMS_MAX);
	assert(req->user_id > 0 && req->canon_len > 0);
	memset(res, 0, sizeof(*res));
	for (unsigned attempt = 1; attempt <= DB_RETRY_COUNT_MAX; attempt++) {
		if (attempt > 1) {
			log_event(LOG_WARN, "db_retry",
			    "route=transfers_batch attempt=%u rc=%s", attempt,
			    db_rc_name(res->db_rc));
			db_retry_sleep(attempt - 1);
		}
		res->db_rc = DB_OK;
		rc = ledger_batch_attempt(db, cfg, req, res, render, arg, body);
		assert(!db->in_txn);
		if (rc != LEDGER_BATCH_FAILED || res->db_rc != DB_RETRY)
			break;
	}
	if (rc != LEDGER_BATCH_DONE)
		return rc;
	for (size_t i = 0; i < req->n; i++) {
		const struct ledger_batch_item *it = &req->items[i];

		if (it->state == LEDGER_ITEM_DONE)
			metrics_transfer(it->amount_minor, it->fee_minor);
		else if (it->state == LEDGER_ITEM_FUNDS)
			metrics_insufficient_funds();
	}
	return rc;
}

enum ledger_batch_rc
ledger_batch_refuse(struct db *db, const struct ledger_batch_req *req,
    struct ledger_batch_res *res, int status, struct buf *body)
{
	struct idem_key k;
	struct idem_answer a = {status, body->data, body->len};
	enum db_rc rc;

	assert(!db->in_txn && !body->overflow);
	if (req->idem_key == NULL)
		return LEDGER_BATCH_DONE;
	k = ledger_batch_key(req);
	rc = idem_record(db, &k, &a);
	if (rc == DB_OK)
		return LEDGER_BATCH_DONE;
	if (rc == DB_DUPLICATE) {
		enum ledger_batch_rc lrc =
		    ledger_batch_replay(db, req, res, body);

		if (lrc != LEDGER_BATCH_DONE)
			return lrc;
		rc = DB_CONN; /* gone again: the client retries */
	}
	if (rc == DB_RETRY)
		return LEDGER_BATCH_BUSY;
	res->db_rc = rc;
	return LEDGER_BATCH_FAILED;
}
