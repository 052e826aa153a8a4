/*
 * The ledger: each money movement is one transaction over the double-entry
 * tables of sql/001_schema.sql, retried whole on a deadlock, and guarded by
 * the Idempotency-Key protocol described in ledger.h.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jsonio.h"
#include "ledger.h"
#include "metrics.h"
#include "log.h"
#include "money.h"
#include "util.h"

/* How one attempt ended. Every outcome but LEDGER_DONE has rolled back. */
enum ledger_rc {
	LEDGER_DONE,    /* committed; ctx->resp holds the answer */
	LEDGER_REFUSED, /* a business rule said no: txn->refusal */
	LEDGER_DENIED,  /* 401 or 400 (txn->refusal), never stored */
	LEDGER_REPLAY,  /* the key is taken: replay what it holds */
	LEDGER_BUSY,    /* another request held the key past the lock wait */
	LEDGER_RETRY,   /* deadlock or lock-wait timeout: run it again */
	LEDGER_FAILED,  /* the database failed: op->db_rc */
	LEDGER_LATE,    /* no time for another attempt: nothing sent */
	LEDGER_RC__MAX
};

/* One attempt's own state: its time, and what it read back. */
struct ledger_txn {
	char at_sql[LEDGER_SQL_TIME_SIZE]; /* bound to every insert */
	char at_rfc3339[UTIL_TIME_SIZE];   /* the same instant, for JSON */
	int64_t movement_id;
	int64_t balance_minor;    /* the caller's, after */
	int64_t to_balance_minor; /* the recipient's, after */
	enum api_err refusal;     /* with LEDGER_REFUSED */
};

/* The parameters of CALL payd_deposit (sql/R__payd_deposit.sql), in order. */
enum ledger_deposit_param {
	LEDGER_DEPOSIT_USER,      /* the caller's id, from the token */
	LEDGER_DEPOSIT_USER_NAME, /* and name: the row must still match */
	LEDGER_DEPOSIT_USER_GEN,  /* and token generation: the same */
	LEDGER_DEPOSIT_AMOUNT,    /* minor units */
	LEDGER_DEPOSIT_ROOM,      /* the cap minus amount */
	LEDGER_DEPOSIT_AT,        /* the movement's DATETIME */
	LEDGER_DEPOSIT_KEY,       /* the Idempotency-Key, or NULL */
	LEDGER_DEPOSIT_CANON,     /* the canonical request, hashed with it */
	LEDGER_DEPOSIT_PARAM__MAX
};

/* The parameters of CALL payd_transfer (sql/R__payd_transfer.sql). */
enum ledger_transfer_param {
	LEDGER_TRANSFER_FROM,        /* the caller's id, from the token */
	LEDGER_TRANSFER_FROM_NAME,   /* and name: the row must still match */
	LEDGER_TRANSFER_FROM_GEN,    /* and token generation: the same */
	LEDGER_TRANSFER_TO,          /* the recipient's id, or 0: by name */
	LEDGER_TRANSFER_TO_NAME,     /* the recipient's name as sent */
	LEDGER_TRANSFER_AMOUNT,      /* minor units */
	LEDGER_TRANSFER_FEE,         /* minor units */
	LEDGER_TRANSFER_ROOM,        /* the cap minus amount */
	LEDGER_TRANSFER_FEE_ACCOUNT, /* ledger_fee_account() */
	LEDGER_TRANSFER_AT,          /* the movement's DATETIME */
	LEDGER_TRANSFER_KEY,         /* the Idempotency-Key, or NULL */
	LEDGER_TRANSFER_CANON,       /* the canonical request, hashed with it */
	LEDGER_TRANSFER_PARAM__MAX
};

_Static_assert(DB_TRANSFER_SLOT_PARAMS == LEDGER_TRANSFER_ROOM + 1,
    "a slot of payd_transfer_batch has payd_transfer's first parameters");

static int ledger_read_amount(
    struct ctx *ctx, struct json_object *obj, struct ledger_op *op);
static void ledger_txn_init(struct ledger_txn *txn, const struct ledger_op *op);
static void ledger_txn_at(struct ledger_txn *txn, time_t now);
static enum ledger_rc ledger_fail(
    struct ctx *ctx, struct ledger_op *op, enum db_rc rc);
static enum ledger_rc ledger_close(
    struct ctx *ctx, struct ledger_op *op, int status);
static enum ledger_rc ledger_called(struct ctx *ctx, struct ledger_op *op,
    struct ledger_txn *txn, enum db_rc rc, int64_t state);
static enum ledger_rc ledger_answer(
    struct ctx *ctx, struct ledger_op *op, enum stmt call, int status);
static enum ledger_rc ledger_deposit(
    struct ctx *ctx, struct ledger_op *op, struct ledger_txn *txn);
static int64_t ledger_fee_account(void);
static void ledger_transfer_params(
    const struct ctx *ctx, const struct ledger_op *op, struct db_val *in);
static enum db_rc ledger_transfer_call(struct ctx *ctx, struct ledger_op *op,
    struct ledger_txn *txn, int64_t *state);
static enum ledger_rc ledger_transfer(
    struct ctx *ctx, struct ledger_op *op, struct ledger_txn *txn);
static void ledger_body_transfer(
    struct ctx *ctx, const struct ledger_op *op, const struct ledger_txn *txn);
static int ledger_replay(struct ctx *ctx, const struct ledger_op *op);

bool
ledger_idem_key_is_valid(const char *key)
{
	size_t n;

	for (n = 0; key[n] != '\0'; n++) {
		unsigned char c = (unsigned char)key[n];

		if (n >= IDEM_KEY_LEN_MAX || c < 0x20 || c > 0x7e)
			return false;
	}
	return n > 0;
}

/*
 * API.md Conventions: a missing amount, an object or an array is a bad
 * request; null, a boolean or text that is no amount is a bad amount.
 */
static int
ledger_read_amount(
    struct ctx *ctx, struct json_object *obj, struct ledger_op *op)
{
	char text[MONEY_LITERAL_LEN_MAX + 1];
	struct json_object *v;

	switch (jsonio_get_amount_text(obj, "amount", text, sizeof(text))) {
	case JSONIO_OK:
		if (money_parse(text, &op->amount_minor) == MONEY_OK)
			return 0;
		break;
	case JSONIO_MISSING:
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The field \"amount\" is required.");
		return -1;
	case JSONIO_TYPE:
		if (json_object_object_get_ex(obj, "amount", &v) &&
		    json_object_is_type(v, json_type_boolean))
			break;
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The field \"amount\" must be a string or a number.");
		return -1;
	default:
		break; /* null, or a literal too long to be an amount */
	}
	http_error(ctx->resp, API_INVALID_AMOUNT, NULL);
	return -1;
}

int
ledger_read_request(
    struct ctx *ctx, struct ledger_op *op, struct json_object **obj)
{
	const char *key = ctx->req->idem_key;

	*obj = NULL;
	if (key != NULL && !ledger_idem_key_is_valid(key)) {
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The "
		    "Idempotency-Key header must be 1 to 255 printable ASCII "
		    "characters.");
		return -1;
	}
	op->idem_key = key;
	*obj = jsonio_parse_object(ctx->req->body, ctx->req->body_len);
	if (*obj == NULL) {
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The body must be a JSON object.");
		return -1;
	}
	if (ledger_read_amount(ctx, *obj, op) != 0) {
		json_object_put(*obj);
		*obj = NULL;
		return -1;
	}
	assert(op->amount_minor > 0);
	assert(op->amount_minor <= MONEY_AMOUNT_MAX_MINOR);
	return 0;
}

/*
 * The instant of the movement, taken once (or the batch's, which its CALL
 * wrote) and written in both forms.
 */
static void
ledger_txn_init(struct ledger_txn *txn, const struct ledger_op *op)
{
	ledger_txn_at(
	    txn, op->batched.ran ? (time_t)op->batched.at_s : time(NULL));
}

/* ledger_txn_init() at the instant now. */
static void
ledger_txn_at(struct ledger_txn *txn, time_t now)
{
	struct tm tm;
	size_t n;

	memset(txn, 0, sizeof(*txn));
	txn->refusal = API__MAX;
	if (gmtime_r(&now, &tm) == NULL)
		memset(&tm, 0, sizeof(tm)); /* 1900-01-00: visibly wrong */
	n = strftime(
	    txn->at_sql, sizeof(txn->at_sql), "%Y-%m-%d %H:%M:%S", &tm);
	assert(n == LEDGER_SQL_TIME_SIZE - 1);
	util_format_time(txn->at_rfc3339, (int64_t)now);
}

/* Rolls back after a database failure and says whether to run again. */
static enum ledger_rc
ledger_fail(struct ctx *ctx, struct ledger_op *op, enum db_rc rc)
{
	assert(rc != DB_OK);
	db_txn_rollback(ctx->db);
	op->db_rc = rc;
	return rc == DB_RETRY ? LEDGER_RETRY : LEDGER_FAILED;
}

/*
 * Stores the answer under the key, in the same transaction as the
 * movement, then commits. The status is set only once it is committed.
 */
static enum ledger_rc
ledger_close(struct ctx *ctx, struct ledger_op *op, int status)
{
	const struct buf *b = &ctx->resp->body;
	uint64_t affected = 0;
	enum db_rc rc;

	assert(!b->overflow && b->len > 0);
	if (op->idem_key != NULL) {
		struct db_val in[] = {
		    DB_I64_IN(status),
		    LEDGER_STR_IN(b->data, b->len),
		    DB_I64_IN(ctx->user_id),
		    LEDGER_STR_IN(op->idem_key, strlen(op->idem_key)),
		};

		/* Our answers fit the column; a larger one is a bug. */
		assert(b->len <= IDEM_RESPONSE_SIZE_MAX);
		rc = db_exec(ctx->db, STMT_IDEM_FINISH, in, 4, &affected);
		if (rc == DB_OK && affected != 1) {
			log_event(LOG_ERROR, "idem_finish", "affected=%llu",
			    (unsigned long long)affected);
			return ledger_fail(ctx, op, DB_ERROR);
		}
	}
	rc = db_txn_end(ctx->db);
	if (rc != DB_OK) {
		op->db_rc = rc;
		return rc == DB_RETRY ? LEDGER_RETRY : LEDGER_FAILED;
	}
	ctx->resp->status = status;
	return LEDGER_DONE;
}

/*
 * What a CALL's state (enum ledger_state) means for the request. rc is the
 * CALL's own outcome. LEDGER_DONE: money moved, and the caller answers.
 */
static enum ledger_rc
ledger_called(struct ctx *ctx, struct ledger_op *op, struct ledger_txn *txn,
    enum db_rc rc, int64_t state)
{
	static const enum api_err refusals[LEDGER_STATE__MAX] = {
	    [LEDGER_STATE_NO_USER] = API_UNAUTHORIZED,
	    [LEDGER_STATE_SELF] = API_INVALID_REQUEST,
	    [LEDGER_STATE_NO_TO] = API_RECIPIENT_NOT_FOUND,
	    [LEDGER_STATE_FUNDS] = API_INSUFFICIENT_FUNDS,
	    [LEDGER_STATE_CAP] = API_LIMIT_EXCEEDED,
	    [LEDGER_STATE_FROZEN] = API_ACCOUNT_FROZEN,
	};

	if (rc == DB_NOT_FOUND) {
		log_event(LOG_ERROR, "ledger_call", "route=%s msg=no_row",
		    ctx->route);
		rc = DB_ERROR;
	}
	if (rc != DB_OK) {
		op->db_rc = rc;
		return rc == DB_RETRY ? LEDGER_RETRY : LEDGER_FAILED;
	}
	switch (state) {
	case LEDGER_STATE_DONE:
		return LEDGER_DONE;
	case LEDGER_STATE_NO_USER:
	case LEDGER_STATE_SELF:
		txn->refusal = refusals[state];
		return LEDGER_DENIED;
	case LEDGER_STATE_NO_TO:
	case LEDGER_STATE_FUNDS:
	case LEDGER_STATE_CAP:
	case LEDGER_STATE_FROZEN:
		txn->refusal = refusals[state];
		return LEDGER_REFUSED;
	case LEDGER_STATE_KEY_TAKEN:
		return LEDGER_REPLAY;
	case LEDGER_STATE_KEY_BUSY:
		return LEDGER_BUSY;
	default:
		log_event(LOG_ERROR, "ledger_call", "route=%s state=%" PRId64,
		    ctx->route, state);
		op->db_rc = DB_ERROR;
		return LEDGER_FAILED;
	}
}

/*
 * Ends a movement whose CALL answered LEDGER_STATE_DONE, once its answer is
 * written: without a key the CALL has committed; with one it has left the
 * transaction open, and ledger_close() stores the answer under the key and
 * commits, so that both are one atomic write.
 */
static enum ledger_rc
ledger_answer(struct ctx *ctx, struct ledger_op *op, enum stmt call, int status)
{
	if (op->idem_key == NULL) {
		ctx->resp->status = status;
		return LEDGER_DONE;
	}
	db_txn_adopt(ctx->db, call);
	return ledger_close(ctx, op, status);
}

/*
 * A top-up: the whole request in one CALL (sql/R__payd_deposit.sql), which
 * checks the caller, claims the key, credits the caller under the cap,
 * reads the balance back and writes the movement and its two entries.
 */
static enum ledger_rc
ledger_deposit(struct ctx *ctx, struct ledger_op *op, struct ledger_txn *txn)
{
	const char *key = op->idem_key;
	int64_t room;
	enum ledger_rc lrc;

	/* Exact: amount is in (0, MONEY_AMOUNT_MAX_MINOR]. */
	if (money_sub(MONEY_BALANCE_MAX_MINOR, op->amount_minor, &room) !=
	    MONEY_OK)
		assert(!"deposit arithmetic overflowed");
	assert(room >= 0 && op->fee_minor == 0);
	{
		struct db_val in[LEDGER_DEPOSIT_PARAM__MAX] = {
		    [LEDGER_DEPOSIT_USER] = DB_I64_IN(ctx->user_id),
		    [LEDGER_DEPOSIT_USER_NAME] =
		        LEDGER_STR_IN(ctx->username, strlen(ctx->username)),
		    [LEDGER_DEPOSIT_USER_GEN] = DB_I64_IN(ctx->token_gen),
		    [LEDGER_DEPOSIT_AMOUNT] = DB_I64_IN(op->amount_minor),
		    [LEDGER_DEPOSIT_ROOM] = DB_I64_IN(room),
		    [LEDGER_DEPOSIT_AT] =
		        LEDGER_STR_IN(txn->at_sql, strlen(txn->at_sql)),
		    [LEDGER_DEPOSIT_KEY] =
		        LEDGER_STR_IN(key, key != NULL ? strlen(key) : 0),
		    [LEDGER_DEPOSIT_CANON] =
		        LEDGER_STR_IN(op->canon, strlen(op->canon)),
		};
		struct db_val out[] = {
		    DB_I64_OUT(), DB_I64_OUT(), DB_I64_OUT()};
		enum db_rc rc;

		in[LEDGER_DEPOSIT_KEY].is_null = key == NULL;
		rc = db_call(ctx->db, STMT_DEPOSIT, in,
		    LEDGER_DEPOSIT_PARAM__MAX, out, 3);
		lrc = ledger_called(ctx, op, txn, rc, out[0].i64);
		txn->movement_id = out[1].i64;
		txn->balance_minor = out[2].i64;
	}
	if (lrc != LEDGER_DONE)
		return lrc;
	/* Read back under the lock: the credit held the cap. */
	assert(txn->movement_id > 0);
	assert(txn->balance_minor >= op->amount_minor);
	assert(txn->balance_minor <= MONEY_BALANCE_MAX_MINOR);
	handler_balance_body(ctx, txn->balance_minor);
	return ledger_answer(ctx, op, STMT_DEPOSIT, 200);
}

/*
 * The fee sub-account of a transfer, so that no fee row is hot (bounds.h):
 * each process goes round them from a random start, drawn at its first
 * transfer (in a worker, after the fork), not with a system call per
 * transfer.
 */
static int64_t
ledger_fee_account(void)
{
	static bool started;
	static unsigned next;

	if (!started) {
		unsigned char r = 0;

		if (util_random(&r, sizeof(r)) != 0)
			r = (unsigned char)(util_now_us() & 0xff);
		next = r;
		started = true;
	}
	return next++ % DB_FEE_ACCOUNT_COUNT;
}

/*
 * The transfer's own parameters, in[LEDGER_TRANSFER_FROM] to
 * in[LEDGER_TRANSFER_ROOM]: the same for CALL payd_transfer and for a slot
 * of CALL payd_transfer_batch.
 */
static void
ledger_transfer_params(
    const struct ctx *ctx, const struct ledger_op *op, struct db_val *in)
{
	int64_t room;

	/* Exact: amount is in (0, MONEY_AMOUNT_MAX_MINOR]. */
	if (money_sub(MONEY_BALANCE_MAX_MINOR, op->amount_minor, &room) !=
	    MONEY_OK)
		assert(!"transfer arithmetic overflowed");
	in[LEDGER_TRANSFER_FROM] = DB_I64_IN(ctx->user_id);
	in[LEDGER_TRANSFER_FROM_NAME] =
	    LEDGER_STR_IN(ctx->username, strlen(ctx->username));
	in[LEDGER_TRANSFER_FROM_GEN] = DB_I64_IN(ctx->token_gen);
	in[LEDGER_TRANSFER_TO] = DB_I64_IN(op->to_id);
	in[LEDGER_TRANSFER_TO_NAME] =
	    op->to_text != NULL ? LEDGER_STR_IN(op->to_text, op->to_len)
	                        : LEDGER_STR_IN("", 0);
	in[LEDGER_TRANSFER_AMOUNT] = DB_I64_IN(op->amount_minor);
	in[LEDGER_TRANSFER_FEE] = DB_I64_IN(op->fee_minor);
	in[LEDGER_TRANSFER_ROOM] = DB_I64_IN(room);
}

/*
 * CALL payd_transfer (sql/R__payd_transfer.sql) with op and the caller, into
 * op and txn; *state is its first column (enum ledger_state).
 */
static enum db_rc
ledger_transfer_call(struct ctx *ctx, struct ledger_op *op,
    struct ledger_txn *txn, int64_t *state)
{
	const char *key = op->idem_key;
	struct db_val in[LEDGER_TRANSFER_PARAM__MAX] = {
	    [LEDGER_TRANSFER_FEE_ACCOUNT] = DB_I64_IN(ledger_fee_account()),
	    [LEDGER_TRANSFER_AT] =
	        LEDGER_STR_IN(txn->at_sql, strlen(txn->at_sql)),
	    [LEDGER_TRANSFER_KEY] =
	        LEDGER_STR_IN(key, key != NULL ? strlen(key) : 0),
	    [LEDGER_TRANSFER_CANON] =
	        LEDGER_STR_IN(op->canon, strlen(op->canon)),
	};
	struct db_val out[] = {DB_I64_OUT(), DB_I64_OUT(),
	    DB_STR_OUT(op->to_name), DB_I64_OUT(), DB_I64_OUT(), DB_I64_OUT()};
	enum db_rc rc;

	ledger_transfer_params(ctx, op, in);
	in[LEDGER_TRANSFER_KEY].is_null = key == NULL;
	rc = db_call(
	    ctx->db, STMT_TRANSFER, in, LEDGER_TRANSFER_PARAM__MAX, out, 6);
	if (rc != DB_OK)
		return rc;
	*state = out[0].i64;
	op->to_id = out[1].i64;
	txn->movement_id = out[3].i64;
	txn->balance_minor = out[4].i64;
	txn->to_balance_minor = out[5].i64;
	return DB_OK;
}

/*
 * A transfer: the whole request in one CALL (sql/R__payd_transfer.sql),
 * which checks the caller and the recipient, claims the key, moves the
 * money and writes the ledger.
 */
static enum ledger_rc
ledger_transfer(struct ctx *ctx, struct ledger_op *op, struct ledger_txn *txn)
{
	int64_t total, state = -1;
	enum ledger_rc lrc;
	enum db_rc rc;

	assert(op->to_id >= 0 && op->to_id != ctx->user_id);
	assert(op->fee_minor >= 0);
	/* Bounded by the configuration: amount and fee are each <= 10^11. */
	if (money_add(op->amount_minor, op->fee_minor, &total) != MONEY_OK)
		assert(!"transfer arithmetic overflowed");
	assert(total >= op->amount_minor && total <= MONEY_BALANCE_MAX_MINOR);
	if (op->batched.ran) {
		/* Answered by the batch's CALL (ledger_transfer_batch). */
		op->batched.ran = false;
		rc = op->batched.rc;
		state = op->batched.state;
		op->to_id = op->batched.to_id;
		txn->movement_id = op->batched.movement_id;
		txn->balance_minor = op->batched.balance_minor;
		txn->to_balance_minor = op->batched.to_balance_minor;
	} else {
		rc = ledger_transfer_call(ctx, op, txn, &state);
	}
	lrc = ledger_called(ctx, op, txn, rc, state);
	if (lrc != LEDGER_DONE)
		return lrc;
	/* Read back under the locks: never below zero, never over the cap. */
	assert(txn->movement_id > 0 && op->to_id > 0);
	assert(txn->balance_minor >= 0);
	assert(txn->to_balance_minor >= op->amount_minor);
	assert(txn->to_balance_minor <= MONEY_BALANCE_MAX_MINOR);
	ledger_body_transfer(ctx, op, txn);
	return ledger_answer(ctx, op, STMT_TRANSFER, 201);
}

/* API.md POST /transfer: {"id","from","to","amount","fee","balance",...}. */
static void
ledger_body_transfer(
    struct ctx *ctx, const struct ledger_op *op, const struct ledger_txn *txn)
{
	struct buf *b = &ctx->resp->body;
	char amount[MONEY_TEXT_SIZE_MAX], fee[MONEY_TEXT_SIZE_MAX];
	char balance[MONEY_TEXT_SIZE_MAX];

	money_format(op->amount_minor, amount);
	money_format(op->fee_minor, fee);
	money_format(txn->balance_minor, balance);
	buf_reset(b);
	(void)buf_printf(b, "{\"id\":%" PRId64 ",\"from\":", txn->movement_id);
	(void)buf_json_str(b, ctx->username);
	(void)buf_puts(b, ",\"to\":");
	(void)buf_json_str(b, op->to_name);
	(void)buf_printf(b,
	    ",\"amount\":\"%s\",\"fee\":\"%s\","
	    "\"balance\":\"%s\",\"created_at\":\"%s\"}",
	    amount, fee, balance, txn->at_rfc3339);
}

/*
 * Answers from what the key holds: the stored status and body with
 * Idempotent-Replayed, or 422 when the request differs. Returns 0 once
 * answered, or -1 when the key is gone (purged meanwhile): run again.
 */
static int
ledger_replay(struct ctx *ctx, const struct ledger_op *op)
{
	char stored[IDEM_RESPONSE_SIZE_MAX + 1];
	struct db_val in[] = {
	    LEDGER_STR_IN(op->canon, strlen(op->canon)),
	    DB_I64_IN(ctx->user_id),
	    LEDGER_STR_IN(op->idem_key, strlen(op->idem_key)),
	};
	struct db_val out[] = {DB_I64_OUT(), DB_I64_OUT(), DB_STR_OUT(stored)};
	enum db_rc rc = db_row(ctx->db, STMT_IDEM_GET, in, 3, out, 3);

	if (rc == DB_NOT_FOUND)
		return -1;
	if (rc != DB_OK) {
		handler_db_error(ctx, rc);
		return 0;
	}
	if (out[0].i64 != 1) {
		http_error(ctx->resp, API_IDEM_KEY_REUSED, NULL);
		return 0;
	}
	/* Only a transaction still open has no answer yet. */
	if (out[1].is_null || out[2].is_null) {
		http_error(ctx->resp, API_REQUEST_IN_PROGRESS, NULL);
		return 0;
	}
	if (out[1].i64 < 200 || out[1].i64 > 599 || out[2].len == 0) {
		log_event(
		    LOG_ERROR, "idem_corrupt", "status=%" PRId64, out[1].i64);
		http_error(ctx->resp, API_INTERNAL, NULL);
		return 0;
	}
	ctx->resp->status = (int)out[1].i64;
	buf_reset(&ctx->resp->body);
	(void)buf_append(&ctx->resp->body, stored, out[2].len);
	(void)http_header(ctx->resp, "Idempotent-Replayed", "true");
	log_event(LOG_INFO, "idem_replay", "status=%d", ctx->resp->status);
	return 0;
}

void
ledger_transfer_batch(
    struct ctx *const *ctxs, struct ledger_op *const *ops, size_t n)
{
	enum { SLOT = DB_TRANSFER_SLOT_PARAMS, NIN = DB_TRANSFER_BATCH_PARAMS };
	struct db_val in[NIN];
	char name[LEDGER_NAME_SIZE_MAX] = ""; /* db_fetch fills it */
	/* slot, state, to_id, to_name, movement_id, balance, to_balance */
	struct db_val out[] = {DB_I64_OUT(), DB_I64_OUT(), DB_I64_OUT(),
	    DB_STR_OUT(name), DB_I64_OUT(), DB_I64_OUT(), DB_I64_OUT()};
	bool answered[WORKER_BATCH_MAX] = {false};
	bool any = false;
	time_t now = time(NULL);
	struct ledger_txn txn;
	struct db *db;
	enum db_rc rc, end;

	assert(n >= 2 && n <= WORKER_BATCH_MAX);
	ledger_txn_at(&txn, now);
	for (size_t i = 0; i < WORKER_BATCH_MAX; i++) {
		struct db_val *slot = &in[i * SLOT];
		const struct ledger_op *op = i < n ? ops[i] : NULL;

		/* No user has id 0: a slot whose payer is 0 is unused. */
		if (op == NULL) {
			for (size_t j = 0; j < SLOT; j++)
				slot[j] = DB_I64_IN(0);
			slot[LEDGER_TRANSFER_FROM_NAME] = LEDGER_STR_IN("", 0);
			slot[LEDGER_TRANSFER_TO_NAME] = LEDGER_STR_IN("", 0);
			continue;
		}
		assert(op->kind == LEDGER_TRANSFER && op->idem_key == NULL);
		assert(op->to_id >= 0 && op->to_id != ctxs[i]->user_id);
		assert(!op->batched.ran);
		ledger_transfer_params(ctxs[i], op, slot);
	}
	in[NIN - 3] = DB_I64_IN(ledger_fee_account());
	in[NIN - 2] = LEDGER_STR_IN(txn.at_sql, strlen(txn.at_sql));
	in[NIN - 1] = DB_I64_IN((int64_t)ctxs[0]->cfg->db_lock_wait_timeout_s *
	                        1000 * DB_BATCH_LOCK_WAITS);
	db = ctxs[0]->db;
	rc = db_call_query(db, STMT_TRANSFER_BATCH, in, NIN, out, 7);
	while (
	    rc == DB_OK && (rc = db_fetch(db, STMT_TRANSFER_BATCH)) == DB_OK) {
		int64_t k = out[0].i64 - 1;
		struct ledger_batched *b;

		/* Rows come only after the COMMIT. */
		any = true;
		if (k < 0 || k >= WORKER_BATCH_MAX) {
			log_event(LOG_ERROR, "ledger_call",
			    "route=transfer_batch slot=%" PRId64, k + 1);
			rc = DB_ERROR;
			break;
		}
		if ((size_t)k >= n)
			continue; /* unused */
		b = &ops[k]->batched;
		b->state = out[1].i64;
		b->to_id = out[2].i64;
		b->movement_id = out[4].i64;
		b->balance_minor = out[5].i64;
		b->to_balance_minor = out[6].i64;
		_Static_assert(sizeof(name) == sizeof(ops[k]->to_name),
		    "the recipient's name is copied whole");
		memcpy(ops[k]->to_name, name, sizeof(name));
		answered[k] = true;
	}
	if (rc == DB_NOT_FOUND)
		rc = DB_OK;
	/*
	 * Without a row, the CALL's outcome; with rows, the slots read are
	 * answered whatever follows, and rc says how the others fared.
	 */
	end = db_call_end(db, STMT_TRANSFER_BATCH, rc, any);
	if (!any)
		rc = end;
	if (rc == DB_RETRY && !any) {
		/* Rolled back whole: each runs on its own, with its retries. */
		log_event(
		    LOG_WARN, "batch_fallback", "route=transfer n=%zu", n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct ledger_batched *b = &ops[i]->batched;

		b->ran = true;
		b->at_s = (int64_t)now;
		b->rc = answered[i] ? DB_OK : rc == DB_RETRY ? DB_ERROR : rc;
		if (b->rc == DB_OK && !answered[i]) {
			log_event(LOG_ERROR, "ledger_call",
			    "route=transfer_batch msg=no_row slot=%zu", i + 1);
			b->rc = DB_ERROR;
		}
	}
}

void
ledger_refuse(struct ctx *ctx, struct ledger_op *op, enum api_err err)
{
	const struct buf *b = &ctx->resp->body;
	enum db_rc rc;

	assert(err == API_INSUFFICIENT_FUNDS || err == API_LIMIT_EXCEEDED ||
	       err == API_RECIPIENT_NOT_FOUND || err == API_ACCOUNT_FROZEN);
	assert(!ctx->db->in_txn);
	http_error(ctx->resp, err, NULL);
	if (op->idem_key == NULL)
		return;
	/* One statement under autocommit: its own short transaction. */
	rc = db_ensure(ctx->db);
	if (rc == DB_OK) {
		struct db_val in[] = {
		    DB_I64_IN(ctx->user_id),
		    LEDGER_STR_IN(op->idem_key, strlen(op->idem_key)),
		    LEDGER_STR_IN(op->canon, strlen(op->canon)),
		    DB_I64_IN(ctx->resp->status),
		    LEDGER_STR_IN(b->data, b->len),
		};

		rc = db_exec(ctx->db, STMT_IDEM_INSERT, in, 5, NULL);
	}
	if (rc == DB_OK)
		return;
	if (rc == DB_DUPLICATE) {
		if (ledger_replay(ctx, op) != 0)
			http_error(ctx->resp, API_UNAVAILABLE, NULL);
	} else if (rc == DB_RETRY) {
		http_error(ctx->resp, API_REQUEST_IN_PROGRESS, NULL);
	} else {
		/* Unrecorded, this answer could differ on a retry: 503. */
		handler_db_error(ctx, rc);
	}
}

int64_t
ledger_attempt_ms(const struct config *cfg)
{
	/* Plus the retry's back-off, which is a few milliseconds. */
	return (int64_t)cfg->db_lock_wait_timeout_s * 1000 *
	           DB_CALL_LOCK_WAITS_MAX +
	       DB_RETRY_SLEEP_MS_MAX;
}

/*
 * The attempts of op, each only while the deadline leaves time for a
 * whole one: how the last ended (a replay answered is LEDGER_DONE, with
 * *replayed), and txn as that attempt left it.
 */
static enum ledger_rc
ledger_attempts(struct ctx *ctx, struct ledger_op *op, struct ledger_txn *txn,
    bool *replayed)
{
	enum ledger_rc rc = LEDGER_RETRY;

	for (unsigned attempt = 1; attempt <= DB_RETRY_COUNT_MAX; attempt++) {
		/* A batch's answer is in already (op->batched). */
		if (!op->batched.ran &&
		    !handler_in_time(ctx, ledger_attempt_ms(ctx->cfg))) {
			log_event(LOG_WARN, "deadline_passed",
			    "route=%s stage=attempt attempt=%u", ctx->route,
			    attempt);
			return LEDGER_LATE;
		}
		if (attempt > 1) {
			log_event(LOG_WARN, "db_retry",
			    "route=%s attempt=%u rc=%s", ctx->route, attempt,
			    db_rc_name(op->db_rc));
			db_retry_sleep(attempt - 1);
		}
		ledger_txn_init(txn, op);
		rc = op->kind == LEDGER_DEPOSIT ? ledger_deposit(ctx, op, txn)
		                                : ledger_transfer(ctx, op, txn);
		assert(!ctx->db->in_txn);
		*replayed = rc == LEDGER_REPLAY;
		if (rc == LEDGER_REPLAY)
			rc = ledger_replay(ctx, op) == 0 ? LEDGER_DONE
			                                 : LEDGER_RETRY;
		if (rc != LEDGER_RETRY)
			break;
	}
	return rc;
}

void
ledger_run(struct ctx *ctx, struct ledger_op *op)
{
	struct ledger_txn txn;
	bool replayed = false;
	enum ledger_rc rc;

	assert(op->kind < LEDGER_KIND__MAX && op->canon[0] != '\0');
	assert(
	    op->amount_minor > 0 && op->amount_minor <= MONEY_AMOUNT_MAX_MINOR);
	rc = ledger_attempts(ctx, op, &txn, &replayed);
	switch (rc) {
	case LEDGER_DONE:
		/* Only a movement committed now counts, never a replay. */
		if (!replayed && op->kind == LEDGER_DEPOSIT)
			metrics_deposit(op->amount_minor);
		else if (!replayed)
			metrics_transfer(op->amount_minor, op->fee_minor);
		break;
	case LEDGER_REFUSED:
		if (txn.refusal == API_INSUFFICIENT_FUNDS)
			metrics_insufficient_funds();
		ledger_refuse(ctx, op, txn.refusal);
		break;
	case LEDGER_DENIED:
		http_error(ctx->resp, txn.refusal,
		    txn.refusal == API_INVALID_REQUEST ? LEDGER_SELF_MESSAGE
		                                       : NULL);
		break;
	case LEDGER_BUSY:
		http_error(ctx->resp, API_REQUEST_IN_PROGRESS, NULL);
		break;
	case LEDGER_RETRY:
		log_event(LOG_WARN, "db_retry_exhausted",
		    "route=%s attempts=%d", ctx->route, DB_RETRY_COUNT_MAX);
		http_error(ctx->resp, API_UNAVAILABLE, NULL);
		break;
	case LEDGER_LATE:
		http_error(ctx->resp, API_UNAVAILABLE, NULL);
		break;
	default:
		handler_db_error(ctx, op->db_rc);
		break;
	}
}
