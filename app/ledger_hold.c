/*
 * Holds: each operation one CALL of its stored procedure (sql/R__payd_hold_
 * *.sql), which checks, reserves or moves, and answers the hold's row.
 */
#include <assert.h>
#include <string.h>
#include <time.h>

#include "ledger_hold.h"
#include "log.h"
#include "money.h"

/* Binds an input text (the database layer only reads it). */
#define HOLD_STR_IN(s, n) DB_STR_IN((uintptr_t)(s), (n))

/* The columns of a hold row after the outcome (payd_hold_answer). */
enum hold_col {
	HOLD_COL_ID,
	HOLD_COL_FROM,
	HOLD_COL_TO,
	HOLD_COL_AMOUNT,
	HOLD_COL_FEE,
	HOLD_COL_CAPTURED,
	HOLD_COL_TRANSFER,
	HOLD_COL_STATUS,
	HOLD_COL_CREATED,
	HOLD_COL_EXPIRES,
	HOLD_COL__MAX
};

static void hold_bind(struct ledger_hold_row *row, struct db_val *out);
static void hold_read(struct ledger_hold_row *row, const struct db_val *out);
static enum db_rc hold_call(struct db *db, const struct ledger_caller *who,
    enum stmt id, struct db_val *in, unsigned nin, struct ledger_hold_row *row,
    enum ledger_state *state);

void
ledger_sql_time(char out[LEDGER_SQL_TIME_SIZE], int64_t unix_s)
{
	time_t t = (time_t)unix_s;
	struct tm tm;
	size_t n;

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm)); /* 1900-01-00: visibly wrong */
	n = strftime(out, LEDGER_SQL_TIME_SIZE, "%Y-%m-%d %H:%M:%S", &tm);
	assert(n == LEDGER_SQL_TIME_SIZE - 1);
}

enum db_rc
ledger_money_call(struct db *db, const struct ledger_caller *who, enum stmt id,
    struct db_val *in, unsigned nin, struct db_val *out, unsigned nout)
{
	enum db_rc rc = DB_RETRY;

	for (unsigned attempt = 1; attempt <= DB_RETRY_COUNT_MAX; attempt++) {
		if (who->deadline_ms != 0 &&
		    util_now_ms() + who->attempt_ms > who->deadline_ms) {
			log_event(LOG_WARN, "deadline_passed",
			    "stmt=%s stage=attempt attempt=%u",
			    db_stmt_name(id), attempt);
			return DB_RETRY;
		}
		if (attempt > 1)
			db_retry_sleep(attempt - 1);
		rc = db_call(db, id, in, nin, out, nout);
		if (rc != DB_RETRY)
			break;
	}
	return rc == DB_NOT_FOUND ? DB_ERROR : rc;
}

/* out[0 .. HOLD_COL__MAX) bound to row. */
static void
hold_bind(struct ledger_hold_row *row, struct db_val *out)
{
	memset(row, 0, sizeof(*row));
	out[HOLD_COL_ID] = DB_I64_OUT();
	out[HOLD_COL_FROM] = DB_STR_OUT(row->from);
	out[HOLD_COL_TO] = DB_STR_OUT(row->to);
	out[HOLD_COL_AMOUNT] = DB_I64_OUT();
	out[HOLD_COL_FEE] = DB_I64_OUT();
	out[HOLD_COL_CAPTURED] = DB_I64_OUT();
	out[HOLD_COL_TRANSFER] = DB_I64_OUT();
	out[HOLD_COL_STATUS] = DB_STR_OUT(row->status);
	out[HOLD_COL_CREATED] = DB_STR_OUT(row->created_at);
	out[HOLD_COL_EXPIRES] = DB_STR_OUT(row->expires_at);
}

static void
hold_read(struct ledger_hold_row *row, const struct db_val *out)
{
	row->id = out[HOLD_COL_ID].i64;
	row->amount_minor = out[HOLD_COL_AMOUNT].i64;
	row->fee_minor = out[HOLD_COL_FEE].i64;
	row->captured_minor = out[HOLD_COL_CAPTURED].i64;
	row->transfer_id =
	    out[HOLD_COL_TRANSFER].is_null ? 0 : out[HOLD_COL_TRANSFER].i64;
	/* The schema's CHECKs: a positive amount, captured within it. */
	assert(row->amount_minor > 0 && row->fee_minor >= 0);
	assert(row->captured_minor >= 0 &&
	       row->captured_minor <= row->amount_minor);
}

/*
 * Runs a hold procedure, retried on a deadlock or a lock-wait timeout
 * (each attempt rolled back whole), and reads its answer row: the state,
 * the hold, the payer's available. A state no hold procedure answers, or
 * a done one without its hold, is a broken contract: DB_ERROR (500).
 */
static enum db_rc
hold_call(struct db *db, const struct ledger_caller *who, enum stmt id,
    struct db_val *in, unsigned nin, struct ledger_hold_row *row,
    enum ledger_state *state)
{
	struct db_val out[1 + HOLD_COL__MAX + 1];
	enum db_rc rc;
	int64_t v;

	out[0] = DB_I64_OUT();
	hold_bind(row, out + 1);
	out[HOLD_COL__MAX + 1] = DB_I64_OUT();
	rc = ledger_money_call(db, who, id, in, nin, out, HOLD_COL__MAX + 2);
	if (rc != DB_OK)
		return rc;
	v = out[0].i64;
	if (v < 0 || v >= LEDGER_STATE__MAX || v == LEDGER_STATE_RETIRED)
		return DB_ERROR;
	if (v == LEDGER_STATE_DONE) {
		if (out[1 + HOLD_COL_ID].is_null)
			return DB_ERROR;
		hold_read(row, out + 1);
		row->available_minor = out[HOLD_COL__MAX + 1].i64;
	}
	*state = (enum ledger_state)v;
	return DB_OK;
}

enum db_rc
ledger_hold_create(struct db *db, const struct ledger_caller *who,
    const struct ledger_hold_req *req, struct ledger_hold_row *row,
    enum ledger_state *state)
{
	char at[LEDGER_SQL_TIME_SIZE];
	struct db_val in[11];
	enum db_rc rc;

	assert(req->amount_minor > 0 &&
	       req->amount_minor <= MONEY_AMOUNT_MAX_MINOR);
	assert(req->expires_in_s >= HOLD_EXPIRES_IN_S_MIN &&
	       req->expires_in_s <= HOLD_EXPIRES_IN_S_MAX);
	ledger_sql_time(at, who->at_s);
	in[0] = DB_I64_IN(who->user_id);
	in[1] = HOLD_STR_IN(who->user_name, strlen(who->user_name));
	in[2] = DB_I64_IN(who->user_gen);
	in[3] = DB_I64_IN(req->to_id);
	in[4] = HOLD_STR_IN(req->to_name != NULL ? req->to_name : "",
	    req->to_name != NULL ? req->to_len : 0);
	in[5] = DB_I64_IN(req->amount_minor);
	in[6] = DB_I64_IN(req->fee_minor);
	in[7] = DB_I64_IN(req->expires_in_s);
	in[8] = HOLD_STR_IN(at, strlen(at));
	in[9] = HOLD_STR_IN(who->key, who->key != NULL ? strlen(who->key) : 0);
	in[9].is_null = who->key == NULL;
	in[10] = HOLD_STR_IN(who->canon, strlen(who->canon));
	rc = hold_call(db, who, STMT_HOLD_CREATE, in, 11, row, state);
	/* Read under the payer's lock: the reservation left it >= 0. */
	assert(rc != DB_OK || *state != LEDGER_STATE_DONE ||
	       (row->available_minor >= 0 &&
	           row->amount_minor == req->amount_minor));
	return rc;
}

enum db_rc
ledger_hold_end(struct db *db, const struct ledger_caller *who,
    const struct ledger_hold_end_req *req, struct ledger_hold_row *row,
    enum ledger_state *state)
{
	char at[LEDGER_SQL_TIME_SIZE];
	struct db_val in[12];
	enum db_rc rc;

	assert(req->hold_id > 0);
	assert(req->amount_minor >= 0 && req->fee_minor >= 0);
	ledger_sql_time(at, who->at_s);
	in[0] = DB_I64_IN(who->user_id);
	in[1] = HOLD_STR_IN(who->user_name, strlen(who->user_name));
	in[2] = DB_I64_IN(who->user_gen);
	in[3] = DB_I64_IN(req->hold_id);
	in[4] = DB_I64_IN(req->capture ? 1 : 0);
	in[5] = DB_I64_IN(req->amount_minor);
	in[6] = DB_I64_IN(req->fee_minor);
	in[7] = DB_I64_IN(MONEY_BALANCE_MAX_MINOR);
	in[8] = DB_I64_IN(req->fee_account);
	in[9] = HOLD_STR_IN(at, strlen(at));
	in[10] = HOLD_STR_IN(who->key, who->key != NULL ? strlen(who->key) : 0);
	in[10].is_null = who->key == NULL;
	in[11] = HOLD_STR_IN(who->canon, strlen(who->canon));
	rc = hold_call(db, who, STMT_HOLD_END, in, 12, row, state);
	assert(rc != DB_OK || *state != LEDGER_STATE_DONE ||
	       row->id == req->hold_id);
	assert(rc != DB_OK || *state != LEDGER_STATE_DONE || !req->capture ||
	       (row->transfer_id > 0 && row->captured_minor > 0));
	return rc;
}

enum db_rc
ledger_hold_get(struct db *db, int64_t user_id, int64_t hold_id, int64_t at_s,
    struct ledger_hold_row *row)
{
	char at[LEDGER_SQL_TIME_SIZE];
	struct db_val out[HOLD_COL__MAX];
	struct db_val in[4];
	enum db_rc rc = DB_CONN;

	assert(user_id > 0 && hold_id > 0);
	ledger_sql_time(at, at_s);
	in[0] = HOLD_STR_IN(at, strlen(at));
	in[1] = DB_I64_IN(hold_id);
	in[2] = DB_I64_IN(user_id);
	in[3] = DB_I64_IN(user_id);
	hold_bind(row, out);
	/* A connection that died while idle: one fresh try (a read). */
	for (int attempt = 0; attempt < 2 && rc == DB_CONN; attempt++) {
		rc = db_ensure(db);
		if (rc == DB_OK)
			rc = db_row(
			    db, STMT_HOLD_GET, in, 4, out, HOLD_COL__MAX);
	}
	if (rc == DB_OK)
		hold_read(row, out);
	return rc;
}

enum db_rc
ledger_hold_list(struct db *db, struct ledger_hold_page *page)
{
	char at[LEDGER_SQL_TIME_SIZE];
	struct ledger_hold_row row;
	struct db_val out[HOLD_COL__MAX];
	struct db_val in[8];
	enum db_rc rc;

	assert(page->limit >= 1 && page->limit <= TXN_PAGE_LIMIT_MAX);
	ledger_sql_time(at, page->at_s);
	in[0] = HOLD_STR_IN(at, strlen(at));
	in[1] = DB_I64_IN(page->user_id);
	in[2] = DB_I64_IN(page->user_id);
	in[3] = DB_I64_IN(page->before);
	in[4] = HOLD_STR_IN(page->status, strlen(page->status));
	in[5] = HOLD_STR_IN(at, strlen(at));
	in[6] = HOLD_STR_IN(page->status, strlen(page->status));
	in[7] = DB_I64_IN(page->limit + 1); /* one more: is there a next? */
	hold_bind(&row, out);
	page->more = false;
	page->last_id = 0;
	rc = db_ensure(db);
	if (rc == DB_OK)
		rc = db_query(db, STMT_HOLD_LIST, in, 8, out, HOLD_COL__MAX);
	if (rc != DB_OK)
		return rc;
	for (int64_t n = 0; (rc = db_fetch(db, STMT_HOLD_LIST)) == DB_OK; n++) {
		if (n == page->limit) {
			page->more = true;
			break;
		}
		hold_read(&row, out);
		/* Newest first, each once, all before the cursor. */
		assert(row.id < page->before &&
		       (page->last_id == 0 || row.id < page->last_id));
		page->last_id = row.id;
		page->each(&row, page->arg);
	}
	db_query_end(db, STMT_HOLD_LIST);
	return rc == DB_NOT_FOUND ? DB_OK : rc;
}

enum db_rc
ledger_hold_sweep(
    struct db *db, const char *holder, int64_t at_s, int64_t *expired)
{
	char at[LEDGER_SQL_TIME_SIZE];
	struct db_val in[4];
	struct db_val out[] = {DB_I64_OUT()};
	enum db_rc rc;

	ledger_sql_time(at, at_s);
	in[0] = HOLD_STR_IN(holder, strlen(holder));
	in[1] = HOLD_STR_IN(at, strlen(at));
	in[2] = DB_I64_IN(SWEEPER_LEASE_MS);
	in[3] = DB_I64_IN(SWEEPER_HOLDS_MAX);
	rc = db_call(db, STMT_HOLD_SWEEP, in, 4, out, 1);
	if (rc == DB_NOT_FOUND)
		rc = DB_ERROR; /* the procedure always answers a row */
	*expired = rc == DB_OK ? out[0].i64 : 0;
	assert(
	    rc != DB_OK || (*expired >= -1 && *expired <= SWEEPER_HOLDS_MAX));
	return rc;
}
