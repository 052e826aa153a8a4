/*
 * The ledger core: include/ledger.h. Each movement is one CALL of its
 * stored procedure (sql/R__payd_deposit.sql, sql/R__payd_transfer.sql,
 * sql/R__payd_transfer_many.sql), which checks the caller, claims the
 * Idempotency-Key, moves the money and writes the ledger in one round
 * trip.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ledger.h"
#include "log.h"
#include "money.h"
#include "util.h"

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

/* Read-only text as a statement input (the database only reads it). */
#define LEDGER_STR_IN(s, n) DB_STR_IN((uintptr_t)(s), (n))

static void ledger_at(time_t now, char at_sql[LEDGER_SQL_TIME_SIZE]);
static int64_t ledger_room(int64_t amount_minor);
static enum ledger_outcome ledger_state(
    const struct ledger_req *req, enum db_rc rc, int64_t state);
static enum db_rc ledger_deposit(struct db *db, const struct ledger_req *req,
    struct ledger_res *res, const char *at_sql);
static void ledger_transfer_params(
    const struct ledger_req *req, struct db_val *in);
static enum db_rc ledger_transfer(struct db *db, const struct ledger_req *req,
    struct ledger_res *res, const char *at_sql);
static bool ledger_attempt(
    struct db *db, const struct ledger_req *req, struct ledger_res *res);
static void ledger_check_moved(
    const struct ledger_req *req, const struct ledger_res *res);
static void ledger_batch_json(const struct ledger_req *const *reqs, size_t n,
    char json[DB_TRANSFER_BATCH_JSON_SIZE_MAX]);
static bool ledger_batch_row(const struct db_val *out, const char *name,
    const struct ledger_req *const *reqs, struct ledger_res *res, size_t n,
    bool *read);

/* The instant of a movement as MariaDB reads a DATETIME. */
static void
ledger_at(time_t now, char at_sql[LEDGER_SQL_TIME_SIZE])
{
	struct tm tm;
	size_t n;

	if (gmtime_r(&now, &tm) == NULL)
		memset(&tm, 0, sizeof(tm)); /* 1900-01-00: visibly wrong */
	n = strftime(at_sql, LEDGER_SQL_TIME_SIZE, "%Y-%m-%d %H:%M:%S", &tm);
	assert(n == LEDGER_SQL_TIME_SIZE - 1);
}

/* The cap minus amount: how high a balance may be before the credit. */
static int64_t
ledger_room(int64_t amount_minor)
{
	int64_t room;

	/* Exact: amount is in (0, MONEY_AMOUNT_MAX_MINOR]. */
	if (money_sub(MONEY_BALANCE_MAX_MINOR, amount_minor, &room) != MONEY_OK)
		assert(!"ledger arithmetic overflowed");
	assert(room >= 0);
	return room;
}

/*
 * The outcome of a CALL: how it ran (rc) and, when it answered, the state
 * in its first column. DB_RETRY is left to the caller (LEDGER_UNAVAILABLE
 * once the retries are spent).
 */
static enum ledger_outcome
ledger_state(const struct ledger_req *req, enum db_rc rc, int64_t state)
{
	const char *kind = req->kind == LEDGER_DEPOSIT ? "deposit" : "transfer";

	if (rc == DB_NOT_FOUND)
		log_event(LOG_ERROR, "ledger_call", "kind=%s msg=no_row", kind);
	if (rc == DB_CONN || rc == DB_RETRY)
		return LEDGER_UNAVAILABLE;
	if (rc != DB_OK)
		return LEDGER_FAILED;
	if (state < LEDGER_STATE_DONE || state >= LEDGER_STATE__MAX ||
	    state == LEDGER_STATE_RETIRED) {
		log_event(LOG_ERROR, "ledger_call", "kind=%s state=%" PRId64,
		    kind, state);
		return LEDGER_FAILED;
	}
	return (enum ledger_outcome)state;
}

/* CALL payd_deposit: the whole top-up (sql/R__payd_deposit.sql). */
static enum db_rc
ledger_deposit(struct db *db, const struct ledger_req *req,
    struct ledger_res *res, const char *at_sql)
{
	const char *key = req->idem_key;
	struct db_val in[LEDGER_DEPOSIT_PARAM__MAX] = {
	    [LEDGER_DEPOSIT_USER] = DB_I64_IN(req->user_id),
	    [LEDGER_DEPOSIT_USER_NAME] =
	        LEDGER_STR_IN(req->username, strlen(req->username)),
	    [LEDGER_DEPOSIT_USER_GEN] = DB_I64_IN(req->token_gen),
	    [LEDGER_DEPOSIT_AMOUNT] = DB_I64_IN(req->amount_minor),
	    [LEDGER_DEPOSIT_ROOM] = DB_I64_IN(ledger_room(req->amount_minor)),
	    [LEDGER_DEPOSIT_AT] = LEDGER_STR_IN(at_sql, strlen(at_sql)),
	    [LEDGER_DEPOSIT_KEY] =
	        LEDGER_STR_IN(key, key != NULL ? strlen(key) : 0),
	    [LEDGER_DEPOSIT_CANON] =
	        LEDGER_STR_IN(req->canon, strlen(req->canon)),
	};
	struct db_val out[] = {DB_I64_OUT(), DB_I64_OUT(), DB_I64_OUT()};
	enum db_rc rc;

	assert(req->fee_minor == 0);
	in[LEDGER_DEPOSIT_KEY].is_null = key == NULL;
	rc = db_call(db, STMT_DEPOSIT, in, LEDGER_DEPOSIT_PARAM__MAX, out, 3);
	res->outcome = ledger_state(req, rc, out[0].i64);
	res->movement_id = out[1].i64;
	res->balance_minor = out[2].i64;
	return rc;
}

/*
 * The number that picks the fee sub-account of a transfer, so that no fee
 * row is hot: each process counts up from a random start, drawn at its
 * first transfer (in a worker, after the fork), not with a system call per
 * transfer. The procedures map it onto the rows of fee_accounts
 * (payd_fee_account, sql/R__payd_fee_account.sql), the one place of their
 * count.
 */
int64_t
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
	return (int64_t)(next++ & INT32_MAX);
}

/*
 * The transfer's own parameters, in[LEDGER_TRANSFER_FROM] to
 * in[LEDGER_TRANSFER_ROOM]: the same for CALL payd_transfer and for one
 * transfer of CALL payd_transfer_many.
 */
static void
ledger_transfer_params(const struct ledger_req *req, struct db_val *in)
{
	int64_t total;

	assert(req->kind == LEDGER_TRANSFER);
	assert(req->to_id >= 0 && req->to_id != req->user_id);
	assert(req->fee_minor >= 0);
	/* Bounded by the configuration: amount and fee are each <= 10^11. */
	if (money_add(req->amount_minor, req->fee_minor, &total) != MONEY_OK)
		assert(!"transfer arithmetic overflowed");
	assert(total >= req->amount_minor && total <= MONEY_BALANCE_MAX_MINOR);
	in[LEDGER_TRANSFER_FROM] = DB_I64_IN(req->user_id);
	in[LEDGER_TRANSFER_FROM_NAME] =
	    LEDGER_STR_IN(req->username, strlen(req->username));
	in[LEDGER_TRANSFER_FROM_GEN] = DB_I64_IN(req->token_gen);
	in[LEDGER_TRANSFER_TO] = DB_I64_IN(req->to_id);
	in[LEDGER_TRANSFER_TO_NAME] =
	    req->to_text != NULL ? LEDGER_STR_IN(req->to_text, req->to_len)
	                         : LEDGER_STR_IN("", 0);
	in[LEDGER_TRANSFER_AMOUNT] = DB_I64_IN(req->amount_minor);
	in[LEDGER_TRANSFER_FEE] = DB_I64_IN(req->fee_minor);
	in[LEDGER_TRANSFER_ROOM] = DB_I64_IN(ledger_room(req->amount_minor));
}

/* CALL payd_transfer: the whole transfer (sql/R__payd_transfer.sql). */
static enum db_rc
ledger_transfer(struct db *db, const struct ledger_req *req,
    struct ledger_res *res, const char *at_sql)
{
	const char *key = req->idem_key;
	struct db_val in[LEDGER_TRANSFER_PARAM__MAX] = {
	    [LEDGER_TRANSFER_FEE_ACCOUNT] = DB_I64_IN(ledger_fee_account()),
	    [LEDGER_TRANSFER_AT] = LEDGER_STR_IN(at_sql, strlen(at_sql)),
	    [LEDGER_TRANSFER_KEY] =
	        LEDGER_STR_IN(key, key != NULL ? strlen(key) : 0),
	    [LEDGER_TRANSFER_CANON] =
	        LEDGER_STR_IN(req->canon, strlen(req->canon)),
	};
	struct db_val out[] = {DB_I64_OUT(), DB_I64_OUT(),
	    DB_STR_OUT(res->to_name), DB_I64_OUT(), DB_I64_OUT(), DB_I64_OUT()};
	enum db_rc rc;

	ledger_transfer_params(req, in);
	in[LEDGER_TRANSFER_KEY].is_null = key == NULL;
	rc = db_call(db, STMT_TRANSFER, in, LEDGER_TRANSFER_PARAM__MAX, out, 6);
	res->outcome = ledger_state(req, rc, out[0].i64);
	res->to_id = out[1].i64;
	res->movement_id = out[3].i64;
	res->balance_minor = out[4].i64;
	res->to_balance_minor = out[5].i64;
	return rc;
}

/* Read back under the locks: never below zero, never over the cap. */
static void
ledger_check_moved(const struct ledger_req *req, const struct ledger_res *res)
{
	assert(res->movement_id > 0);
	assert(res->balance_minor >= 0);
	assert(res->balance_minor <= MONEY_BALANCE_MAX_MINOR);
	if (req->kind == LEDGER_DEPOSIT) {
		assert(res->balance_minor >= req->amount_minor);
		return;
	}
	assert(res->to_id > 0 && res->to_id != req->user_id);
	assert(res->to_balance_minor >= req->amount_minor);
	assert(res->to_balance_minor <= MONEY_BALANCE_MAX_MINOR);
}

/*
 * One attempt of req into res. Returns true when it should run again (a
 * deadlock or a lock-wait timeout: rolled back).
 */
static bool
ledger_attempt(
    struct db *db, const struct ledger_req *req, struct ledger_res *res)
{
	char at_sql[LEDGER_SQL_TIME_SIZE];
	time_t now = time(NULL);
	enum db_rc rc;

	memset(res, 0, sizeof(*res));
	res->at_s = (int64_t)now;
	ledger_at(now, at_sql);
	rc = req->kind == LEDGER_DEPOSIT
	         ? ledger_deposit(db, req, res, at_sql)
	         : ledger_transfer(db, req, res, at_sql);
	if (res->outcome != LEDGER_MOVED)
		return rc == DB_RETRY;
	ledger_check_moved(req, res);
	/* With a key the CALL left it open: idem_finish() commits it. */
	if (req->idem_key != NULL) {
		db_txn_adopt(db,
		    req->kind == LEDGER_DEPOSIT ? STMT_DEPOSIT : STMT_TRANSFER);
		res->open = true;
	}
	return false;
}

int64_t
ledger_attempt_ms(const struct config *cfg)
{
	/* Plus the retry's back-off, which is a few milliseconds. */
	return (int64_t)cfg->db_lock_wait_timeout_s * 1000 *
	           DB_CALL_LOCK_WAITS_MAX +
	       DB_RETRY_SLEEP_MS_MAX;
}

void
ledger_move(struct db *db, const struct ledger_req *req, struct ledger_res *res)
{
	int64_t need_ms = ledger_attempt_ms(db->cfg);

	assert(req->kind < LEDGER_KIND__MAX && req->canon[0] != '\0');
	assert(req->user_id > 0 && req->username[0] != '\0');
	assert(req->amount_minor > 0 &&
	       req->amount_minor <= MONEY_AMOUNT_MAX_MINOR);
	assert(!db->in_txn);
	for (unsigned attempt = 1; attempt <= DB_RETRY_COUNT_MAX; attempt++) {
		if (req->deadline_ms != 0 &&
		    util_now_ms() + need_ms > req->deadline_ms) {
			log_event(LOG_WARN, "deadline_passed",
			    "route=%s stage=attempt attempt=%u", req->log_name,
			    attempt);
			memset(res, 0, sizeof(*res));
			res->outcome = LEDGER_UNAVAILABLE;
			res->late = true;
			return;
		}
		if (attempt > 1) {
			log_event(LOG_WARN, "db_retry", "route=%s attempt=%u",
			    req->log_name, attempt);
			db_retry_sleep(attempt - 1);
		}
		if (!ledger_attempt(db, req, res))
			return;
	}
	log_event(LOG_WARN, "db_retry_exhausted", "route=%s attempts=%d",
	    req->log_name, DB_RETRY_COUNT_MAX);
	assert(res->outcome == LEDGER_UNAVAILABLE);
}

/*
 * The transfers of reqs as payd_transfer_many's document
 * (sql/R__payd_transfer_many.sql), into json: [[from, "from_name",
 * from_gen, to_id, "to_name", amount, fee, room], ...]. Both names are
 * usernames (A-Z a-z 0-9 _ . -, nothing to escape) or empty.
 */
static void
ledger_batch_json(const struct ledger_req *const *reqs, size_t n,
    char json[DB_TRANSFER_BATCH_JSON_SIZE_MAX])
{
	size_t len = 1;

	json[0] = '[';
	for (size_t i = 0; i < n; i++) {
		const struct ledger_req *r = reqs[i];
		struct db_val p[LEDGER_TRANSFER_PARAM__MAX];
		int k;

		assert(r->idem_key == NULL);
		ledger_transfer_params(r, p);
		assert(strcspn(p[LEDGER_TRANSFER_FROM_NAME].str, "\"\\") >=
		       p[LEDGER_TRANSFER_FROM_NAME].len);
		assert(strcspn(p[LEDGER_TRANSFER_TO_NAME].str, "\"\\") >=
		       p[LEDGER_TRANSFER_TO_NAME].len);
		k = snprintf(json + len, DB_TRANSFER_ITEM_JSON_SIZE_MAX,
		    "%s[%" PRId64 ",\"%.*s\",%" PRId64 ",%" PRId64
		    ",\"%.*s\",%" PRId64 ",%" PRId64 ",%" PRId64 "]",
		    i == 0 ? "" : ",", p[LEDGER_TRANSFER_FROM].i64,
		    (int)p[LEDGER_TRANSFER_FROM_NAME].len,
		    p[LEDGER_TRANSFER_FROM_NAME].str,
		    p[LEDGER_TRANSFER_FROM_GEN].i64, p[LEDGER_TRANSFER_TO].i64,
		    (int)p[LEDGER_TRANSFER_TO_NAME].len,
		    p[LEDGER_TRANSFER_TO_NAME].str,
		    p[LEDGER_TRANSFER_AMOUNT].i64, p[LEDGER_TRANSFER_FEE].i64,
		    p[LEDGER_TRANSFER_ROOM].i64);
		assert(k > 0 && k < DB_TRANSFER_ITEM_JSON_SIZE_MAX);
		len += (size_t)k;
	}
	json[len++] = ']';
	json[len] = '\0';
	assert(len < DB_TRANSFER_BATCH_JSON_SIZE_MAX);
}

/* One row of the batch's CALL into res[index - 1]; false for a bad one. */
static bool
ledger_batch_row(const struct db_val *out, const char *name,
    const struct ledger_req *const *reqs, struct ledger_res *res, size_t n,
    bool *read)
{
	int64_t k = out[0].i64 - 1;
	struct ledger_res *r;

	if (k < 0 || k >= WORKER_BATCH_MAX) {
		log_event(LOG_ERROR, "ledger_call",
		    "kind=transfer_batch slot=%" PRId64, k + 1);
		return false;
	}
	if ((size_t)k >= n)
		return true; /* unused */
	r = &res[k];
	r->outcome = ledger_state(reqs[k], DB_OK, out[1].i64);
	r->to_id = out[2].i64;
	r->movement_id = out[4].i64;
	r->balance_minor = out[5].i64;
	r->to_balance_minor = out[6].i64;
	_Static_assert(LEDGER_NAME_SIZE_MAX == sizeof(r->to_name),
	    "the recipient's name is copied whole");
	memcpy(r->to_name, name, LEDGER_NAME_SIZE_MAX);
	if (r->outcome == LEDGER_MOVED)
		ledger_check_moved(reqs[k], r);
	read[k] = true;
	return true;
}

bool
ledger_transfer_batch(struct db *db, const struct ledger_req *const *reqs,
    struct ledger_res *res, size_t n)
{
	char json[DB_TRANSFER_BATCH_JSON_SIZE_MAX];
	struct db_val in[DB_TRANSFER_BATCH_PARAMS];
	char name[LEDGER_NAME_SIZE_MAX] = ""; /* db_fetch fills it */
	/* slot, state, to_id, to_name, movement_id, balance, to_balance */
	struct db_val out[] = {DB_I64_OUT(), DB_I64_OUT(), DB_I64_OUT(),
	    DB_STR_OUT(name), DB_I64_OUT(), DB_I64_OUT(), DB_I64_OUT()};
	bool read[WORKER_BATCH_MAX] = {false}, any = false;
	char at_sql[LEDGER_SQL_TIME_SIZE];
	time_t now = time(NULL);
	enum db_rc rc, end;

	assert(n >= 2 && n <= WORKER_BATCH_MAX && !db->in_txn);
	memset(res, 0, n * sizeof(*res));
	ledger_at(now, at_sql);
	ledger_batch_json(reqs, n, json);
	in[0] = LEDGER_STR_IN(json, strlen(json));
	in[1] = DB_I64_IN(ledger_fee_account());
	in[2] = LEDGER_STR_IN(at_sql, strlen(at_sql));
	in[3] = DB_I64_IN((int64_t)db->cfg->db_lock_wait_timeout_s * 1000 *
	                  DB_BATCH_LOCK_WAITS);
	rc = db_call_query(
	    db, STMT_TRANSFER_BATCH, in, DB_TRANSFER_BATCH_PARAMS, out, 7);
	/* Rows come only after the COMMIT. */
	while (
	    rc == DB_OK && (rc = db_fetch(db, STMT_TRANSFER_BATCH)) == DB_OK) {
		any = true;
		if (!ledger_batch_row(out, name, reqs, res, n, read))
			rc = DB_ERROR;
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
		log_event(
		    LOG_WARN, "batch_fallback", "route=transfer n=%zu", n);
		return false; /* rolled back whole */
	}
	for (size_t i = 0; i < n; i++) {
		res[i].at_s = (int64_t)now;
		if (read[i])
			continue;
		if (rc == DB_OK)
			log_event(LOG_ERROR, "ledger_call",
			    "kind=transfer_batch msg=no_row slot=%zu", i + 1);
		/* Each answers as its own CALL's failure would. */
		res[i].outcome =
		    rc == DB_CONN ? LEDGER_UNAVAILABLE : LEDGER_FAILED;
	}
	return true;
}
