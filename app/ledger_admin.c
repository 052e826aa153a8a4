/*
 * The operator commands' money side (ledger_admin.h): one CALL each, a
 * deadlock retried whole (the CALL rolled back), never a lost connection
 * (it may have committed).
 */
#include <assert.h>
#include <string.h>

#include "bounds.h"
#include "ledger_admin.h"
#include "money.h"

/* DB_STR_IN for read-only text (the database layer only reads it). */
#define LEDGER_ADMIN_STR_IN(s) DB_STR_IN((uintptr_t)(s), strlen(s))

static const char *const ledger_admin_rc_names[LEDGER_ADMIN_RC__MAX] = {
    "done",             /* LEDGER_ADMIN_DONE */
    "no_such_user",     /* LEDGER_ADMIN_NO_SUCH_USER */
    "already_frozen",   /* LEDGER_ADMIN_ALREADY_FROZEN */
    "not_frozen",       /* LEDGER_ADMIN_NOT_FROZEN */
    "no_such_transfer", /* LEDGER_ADMIN_NO_SUCH_TRANSFER */
    "already_reversed", /* LEDGER_ADMIN_ALREADY_REVERSED */
    "recipient_short",  /* LEDGER_ADMIN_RECIPIENT_SHORT */
    "sender_limit",     /* LEDGER_ADMIN_SENDER_LIMIT */
    "failed",           /* LEDGER_ADMIN_FAILED */
};

static enum db_rc ledger_admin_call(struct db *db, enum stmt id,
    struct db_val *in, unsigned nin, struct db_val *out, unsigned nout);

const char *
ledger_admin_rc_name(enum ledger_admin_rc rc)
{
	return rc < LEDGER_ADMIN_RC__MAX ? ledger_admin_rc_names[rc] : "?";
}

void
ledger_admin_act_at(struct ledger_admin_act *act, int64_t now)
{
	util_format_sql_time(act->at_sql, now);
}

/* db_call(), run again after a deadlock or lock-wait timeout, bounded. */
static enum db_rc
ledger_admin_call(struct db *db, enum stmt id, struct db_val *in, unsigned nin,
    struct db_val *out, unsigned nout)
{
	enum db_rc rc = db_call(db, id, in, nin, out, nout);

	for (unsigned attempt = 1;
	     rc == DB_RETRY && attempt < DB_RETRY_COUNT_MAX; attempt++) {
		db_retry_sleep(attempt);
		rc = db_call(db, id, in, nin, out, nout);
	}
	return rc;
}

enum ledger_admin_rc
ledger_admin_freeze(struct db *db, const struct ledger_admin_act *act,
    int64_t user_id, const char *target, bool freeze, enum db_rc *db_rc)
{
	struct db_val in[] = {
	    DB_I64_IN(user_id),
	    DB_I64_IN(freeze ? 1 : 0),
	    LEDGER_ADMIN_STR_IN(target),
	    LEDGER_ADMIN_STR_IN(act->operator_name),
	    LEDGER_ADMIN_STR_IN(act->reason),
	    LEDGER_ADMIN_STR_IN(act->at_sql),
	};
	struct db_val out[] = {DB_I64_OUT(), DB_I64_OUT()};

	assert(user_id >= 0);
	*db_rc = ledger_admin_call(db, STMT_ADMIN_FREEZE, in, 6, out, 2);
	if (*db_rc != DB_OK)
		return LEDGER_ADMIN_FAILED;
	switch (out[0].i64) {
	case 0:
		assert(out[1].i64 > 0);
		return LEDGER_ADMIN_DONE;
	case 1:
		return LEDGER_ADMIN_NO_SUCH_USER;
	case 2:
		return freeze ? LEDGER_ADMIN_ALREADY_FROZEN
		              : LEDGER_ADMIN_NOT_FROZEN;
	default:
		*db_rc = DB_ERROR;
		return LEDGER_ADMIN_FAILED;
	}
}

enum ledger_admin_rc
ledger_admin_reverse(struct db *db, const struct ledger_admin_act *act,
    struct ledger_admin_reversal *rev, enum db_rc *db_rc)
{
	static const enum ledger_admin_rc outcomes[] = {
	    LEDGER_ADMIN_DONE,
	    LEDGER_ADMIN_NO_SUCH_TRANSFER,
	    LEDGER_ADMIN_ALREADY_REVERSED,
	    LEDGER_ADMIN_RECIPIENT_SHORT,
	    LEDGER_ADMIN_SENDER_LIMIT,
	};
	struct db_val in[] = {
	    DB_I64_IN(rev->transfer_id),
	    DB_I64_IN(MONEY_BALANCE_MAX_MINOR),
	    LEDGER_ADMIN_STR_IN(act->operator_name),
	    LEDGER_ADMIN_STR_IN(act->reason),
	    LEDGER_ADMIN_STR_IN(act->at_sql),
	};
	struct db_val out[] = {DB_I64_OUT(), DB_I64_OUT(), DB_I64_OUT(),
	    DB_I64_OUT(), DB_I64_OUT(), DB_I64_OUT(), DB_I64_OUT()};
	int64_t state; /* payd_admin_reverse's outcome number */

	assert(rev->transfer_id > 0);
	*db_rc = ledger_admin_call(db, STMT_ADMIN_REVERSE, in, 5, out, 7);
	if (*db_rc != DB_OK)
		return LEDGER_ADMIN_FAILED;
	state = out[0].i64;
	if (state < 0 ||
	    state >= (int64_t)(sizeof(outcomes) / sizeof(outcomes[0]))) {
		*db_rc = DB_ERROR;
		return LEDGER_ADMIN_FAILED;
	}
	rev->reversal_id = out[1].i64;
	rev->sender_id = out[2].i64;
	rev->recipient_id = out[3].i64;
	rev->back_minor = out[4].i64;
	rev->fee_minor = out[5].i64;
	/* Read back under the locks: within the transfer, and moved once. */
	assert(state != 0 || (rev->reversal_id > rev->transfer_id &&
	                         rev->back_minor >= 0 && rev->fee_minor >= 0));
	return outcomes[state];
}

enum db_rc
ledger_admin_record(struct db *db, const struct ledger_admin_act *act,
    const char *action, const char *target, enum ledger_admin_rc outcome)
{
	struct db_val in[] = {
	    LEDGER_ADMIN_STR_IN(act->operator_name),
	    LEDGER_ADMIN_STR_IN(action),
	    LEDGER_ADMIN_STR_IN(target),
	    LEDGER_ADMIN_STR_IN(act->reason),
	    LEDGER_ADMIN_STR_IN(ledger_admin_rc_name(outcome)),
	    LEDGER_ADMIN_STR_IN(act->at_sql),
	};

	assert(db->in_txn);
	return db_exec(db, STMT_ADMIN_RECORD, in, 6, NULL);
}
