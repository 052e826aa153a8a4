/*
 * Refunds, and a transfer read with its refunds: one CALL of
 * sql/R__payd_refund.sql, and one statement (STMT_TRANSFER_GET).
 */
#include <assert.h>
#include <string.h>

#include "ledger_refund.h"
#include "money.h"

#define REFUND_STR_IN(s, n) DB_STR_IN((uintptr_t)(s), (n))

/* The columns of STMT_TRANSFER_GET. */
enum tget_col {
	TGET_ID,
	TGET_FROM,
	TGET_TO,
	TGET_AMOUNT,
	TGET_FEE,
	TGET_REFUNDED,
	TGET_HOLD,
	TGET_REVERSED,
	TGET_CREATED,
	TGET_REFUND_ID,
	TGET_REFUND_AMOUNT,
	TGET_REFUND_CREATED,
	TGET__MAX
};

enum db_rc
ledger_refund(struct db *db, const struct ledger_caller *who,
    const struct ledger_refund_req *req, struct ledger_refund_row *row,
    enum ledger_state *state)
{
	char at[LEDGER_SQL_TIME_SIZE];
	struct db_val in[9];
	struct db_val out[6];
	enum db_rc rc;
	int64_t v;

	assert(req->transfer_id > 0 && req->amount_minor >= 0);
	ledger_sql_time(at, who->at_s);
	in[0] = DB_I64_IN(who->user_id);
	in[1] = REFUND_STR_IN(who->user_name, strlen(who->user_name));
	in[2] = DB_I64_IN(who->user_gen);
	in[3] = DB_I64_IN(req->transfer_id);
	in[4] = DB_I64_IN(req->amount_minor);
	in[5] = DB_I64_IN(MONEY_BALANCE_MAX_MINOR);
	in[6] = REFUND_STR_IN(at, strlen(at));
	in[7] =
	    REFUND_STR_IN(who->key, who->key != NULL ? strlen(who->key) : 0);
	in[7].is_null = who->key == NULL;
	in[8] = REFUND_STR_IN(who->canon, strlen(who->canon));
	memset(row, 0, sizeof(*row));
	for (int i = 0; i < 5; i++)
		out[i] = DB_I64_OUT();
	out[5] = DB_STR_OUT(row->to);
	rc = ledger_money_call(db, who, STMT_REFUND, in, 9, out, 6);
	if (rc != DB_OK)
		return rc;
	/* A state the procedure never answers is a broken contract: 500. */
	v = out[0].i64;
	if (v < 0 || v >= LEDGER_STATE__MAX || v == LEDGER_STATE_RETIRED)
		return DB_ERROR;
	*state = (enum ledger_state)v;
	row->id = out[1].i64;
	row->amount_minor = out[2].i64;
	row->refunded_minor = out[3].i64;
	row->balance_minor = out[4].i64;
	/* Read back under the locks: a real amount, within the transfer. */
	assert(v != LEDGER_STATE_DONE ||
	       (row->id > 0 && row->amount_minor > 0 &&
	           row->refunded_minor >= row->amount_minor));
	assert(v != LEDGER_STATE_DONE || row->balance_minor >= 0);
	return DB_OK;
}

enum db_rc
ledger_transfer_get(struct db *db, int64_t user_id, int64_t id,
    void (*head)(const struct ledger_transfer_row *t, void *arg),
    void (*each)(const struct ledger_transfer_refund *r, void *arg), void *arg)
{
	struct ledger_transfer_row t;
	struct ledger_transfer_refund r;
	struct db_val out[TGET__MAX];
	enum db_rc rc;
	bool first = true;

	assert(user_id > 0 && id > 0);
	memset(&t, 0, sizeof(t));
	memset(&r, 0, sizeof(r));
	for (int i = 0; i < TGET__MAX; i++)
		out[i] = DB_I64_OUT();
	out[TGET_FROM] = DB_STR_OUT(t.from);
	out[TGET_TO] = DB_STR_OUT(t.to);
	out[TGET_CREATED] = DB_STR_OUT(t.created_at);
	out[TGET_REFUND_CREATED] = DB_STR_OUT(r.created_at);
	rc = db_ensure(db);
	if (rc == DB_OK) {
		struct db_val in[] = {DB_I64_IN(id), DB_I64_IN(user_id),
		    DB_I64_IN(user_id), DB_I64_IN(REFUND_LIST_MAX)};

		rc = db_query(db, STMT_TRANSFER_GET, in, 4, out, TGET__MAX);
	}
	if (rc != DB_OK)
		return rc;
	while ((rc = db_fetch(db, STMT_TRANSFER_GET)) == DB_OK) {
		if (first) {
			t.id = out[TGET_ID].i64;
			t.amount_minor = out[TGET_AMOUNT].i64;
			t.fee_minor = out[TGET_FEE].i64;
			t.refunded_minor = out[TGET_REFUNDED].i64;
			t.hold_id =
			    out[TGET_HOLD].is_null ? 0 : out[TGET_HOLD].i64;
			t.reversed = out[TGET_REVERSED].i64 != 0;
			/* The schema's CHECK: refunds within the amount. */
			assert(t.id == id && t.amount_minor > 0);
			assert(t.refunded_minor >= 0 &&
			       t.refunded_minor <= t.amount_minor);
			head(&t, arg);
			first = false;
		}
		if (out[TGET_REFUND_ID].is_null)
			continue; /* no refund: the transfer's row alone */
		r.id = out[TGET_REFUND_ID].i64;
		r.amount_minor = out[TGET_REFUND_AMOUNT].i64;
		each(&r, arg);
	}
	db_query_end(db, STMT_TRANSFER_GET);
	if (rc != DB_NOT_FOUND)
		return rc;
	return first ? DB_NOT_FOUND : DB_OK;
}
