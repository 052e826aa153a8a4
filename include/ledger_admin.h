/*
 * The money side of the operator commands (`payd admin`, app/admin.c):
 * freezing an account and reversing a transfer, each one transaction in
 * one CALL of sql/R__payd_admin.sql, and the record of every command in
 * admin_actions. Plain requests in, a closed outcome out: no HTTP, no
 * JSON, no printing.
 */
#ifndef LEDGER_ADMIN_H
#define LEDGER_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include "bounds.h"
#include "db.h"
#include "util.h"

/* How a command ended; the outcome column names each. */
enum ledger_admin_rc {
	LEDGER_ADMIN_DONE,             /* "done": changed and committed */
	LEDGER_ADMIN_NO_SUCH_USER,     /* "no_such_user" */
	LEDGER_ADMIN_ALREADY_FROZEN,   /* "already_frozen" */
	LEDGER_ADMIN_NOT_FROZEN,       /* "not_frozen" */
	LEDGER_ADMIN_NO_SUCH_TRANSFER, /* "no_such_transfer" */
	LEDGER_ADMIN_ALREADY_REVERSED, /* "already_reversed" */
	LEDGER_ADMIN_RECIPIENT_SHORT,  /* "recipient_short" */
	LEDGER_ADMIN_SENDER_LIMIT,     /* "sender_limit": over the cap */
	LEDGER_ADMIN_FAILED,           /* "failed": the database failed */
	LEDGER_ADMIN_RC__MAX
};

/* Who runs a command, why, and when (one instant for all it writes). */
struct ledger_admin_act {
	const char *operator_name; /* 1 to LEDGER_ADMIN_OPERATOR_LEN_MAX */
	const char *reason;        /* 0 to LEDGER_ADMIN_REASON_LEN_MAX */
	char at_sql[UTIL_SQL_TIME_SIZE];
};

/* What a reversal did. */
struct ledger_admin_reversal {
	int64_t transfer_id; /* in: the transfer to reverse */
	int64_t reversal_id; /* the new movement of kind 'reversal' */
	int64_t sender_id, recipient_id;
	int64_t back_minor; /* what the recipient gave back */
	int64_t fee_minor;  /* the fee given back to the sender too */
};

/* The outcome's name, as admin_actions.outcome records it. */
const char *ledger_admin_rc_name(enum ledger_admin_rc rc);

/* Fills act->at_sql with the instant now. */
void ledger_admin_act_at(struct ledger_admin_act *act, int64_t now);

/*
 * Freezes (freeze true) or unfreezes user_id (0: no such user), recorded
 * in admin_actions under target in the same transaction. Returns DONE,
 * NO_SUCH_USER, ALREADY_FROZEN, NOT_FROZEN, or FAILED (*db_rc then says how; on
 * DB_CONN the command may have committed). A deadlock is retried, bounded.
 */
enum ledger_admin_rc ledger_admin_freeze(struct db *db,
    const struct ledger_admin_act *act, int64_t user_id, const char *target,
    bool freeze, enum db_rc *db_rc);

/*
 * Reverses rev->transfer_id (sql/R__payd_admin.sql payd_admin_reverse),
 * at most once, and fills rev. Returns DONE, NO_SUCH_TRANSFER,
 * ALREADY_REVERSED, RECIPIENT_SHORT, SENDER_LIMIT (nothing moved), or
 * FAILED as ledger_admin_freeze().
 */
enum ledger_admin_rc ledger_admin_reverse(struct db *db,
    const struct ledger_admin_act *act, struct ledger_admin_reversal *rev,
    enum db_rc *db_rc);

/*
 * Records a command that changes nothing (show, log) in admin_actions,
 * inside the transaction the caller opened (db_txn_adopt): action is
 * "show" or "log", target what it read, outcome how it ended (DONE, or
 * NO_SUCH_USER for a show). Returns the db_exec outcome.
 */
enum db_rc ledger_admin_record(struct db *db,
    const struct ledger_admin_act *act, const char *action, const char *target,
    enum ledger_admin_rc outcome);

#endif /* LEDGER_ADMIN_H */
