/*
 * payd audit: the money invariants, checked in the database. Each check is
 * one statement, so it reads one consistent snapshot even while the
 * service runs (READ COMMITTED takes a snapshot per statement).
 */
#include <inttypes.h>
#include <stdio.h>

#include "audit.h"
#include "db.h"
#include "money.h"

static int audit_totals(struct db *db);
static int audit_balances(struct db *db, enum stmt id, const char *what);
static int audit_movements(struct db *db);
static int audit_negative(struct db *db);
static int audit_reversals(struct db *db);
static int audit_holds(struct db *db);
static void audit_truncated(int rows);

static void
audit_truncated(int rows)
{
	if (rows >= AUDIT_ROWS_MAX)
		(void)printf(
		    "  (only the first %d are listed)\n", AUDIT_ROWS_MAX);
}

/*
 * Conservation: the balances of the users and the fee accounts together
 * equal all deposits, which equal what the external account paid in.
 * Returns the number of problems, or -1 when the query fails.
 */
static int
audit_totals(struct db *db)
{
	struct db_val out[] = {DB_I64_OUT(), DB_I64_OUT(), DB_I64_OUT()};
	char held[MONEY_TEXT_SIZE_MAX], deposits[MONEY_TEXT_SIZE_MAX];
	char external[MONEY_TEXT_SIZE_MAX];

	if (db_row(db, STMT_AUDIT_TOTALS, NULL, 0, out, 3) != DB_OK)
		return -1;
	money_format(out[0].i64, held);
	money_format(out[1].i64, deposits);
	money_format(out[2].i64, external);
	(void)printf("totals: balances %s, deposits %s, external funding %s\n",
	    held, deposits, external);
	if (out[0].i64 == out[1].i64 && out[1].i64 == out[2].i64)
		return 0;
	(void)printf("MISMATCH conservation: balances (users and fee "
	             "accounts) %s, deposits %s, external funding %s\n",
	    held, deposits, external);
	return 1;
}

/* Accounts (users or fee accounts) whose balance != sum of entries. */
static int
audit_balances(struct db *db, enum stmt id, const char *what)
{
	struct db_val out[] = {DB_I64_OUT(), DB_I64_OUT(), DB_I64_OUT()};
	char balance[MONEY_TEXT_SIZE_MAX], sum[MONEY_TEXT_SIZE_MAX];
	enum db_rc rc = DB_NOT_FOUND;
	int rows = 0;

	if (db_query(db, id, NULL, 0, out, 3) != DB_OK)
		return -1;
	while (rows < AUDIT_ROWS_MAX && (rc = db_fetch(db, id)) == DB_OK) {
		money_format(out[1].i64, balance);
		money_format(out[2].i64, sum);
		(void)printf("MISMATCH %s %" PRId64 ": balance %s, sum of its "
		             "entries %s\n",
		    what, out[0].i64, balance, sum);
		rows++;
	}
	db_query_end(db, id);
	if (rows < AUDIT_ROWS_MAX && rc != DB_NOT_FOUND)
		return -1;
	audit_truncated(rows);
	return rows;
}

/* Movements whose entries do not sum to zero or are not all there. */
static int
audit_movements(struct db *db)
{
	struct db_val out[] = {DB_I64_OUT(), DB_I64_OUT(), DB_I64_OUT()};
	char sum[MONEY_TEXT_SIZE_MAX];
	enum db_rc rc = DB_NOT_FOUND;
	int rows = 0;

	if (db_query(db, STMT_AUDIT_MOVEMENTS, NULL, 0, out, 3) != DB_OK)
		return -1;
	while (rows < AUDIT_ROWS_MAX &&
	       (rc = db_fetch(db, STMT_AUDIT_MOVEMENTS)) == DB_OK) {
		money_format(out[1].i64, sum);
		(void)printf(
		    "MISMATCH movement %" PRId64 ": its %" PRId64
		    " entries sum to %s (want 0.00; 3 entries for a transfer, "
		    "2 for any other)\n",
		    out[0].i64, out[2].i64, sum);
		rows++;
	}
	db_query_end(db, STMT_AUDIT_MOVEMENTS);
	if (rows < AUDIT_ROWS_MAX && rc != DB_NOT_FOUND)
		return -1;
	audit_truncated(rows);
	return rows;
}

/* Balances below zero; fee account n comes back as id -n - 1. */
static int
audit_negative(struct db *db)
{
	struct db_val out[] = {DB_I64_OUT(), DB_I64_OUT()};
	char balance[MONEY_TEXT_SIZE_MAX];
	enum db_rc rc = DB_NOT_FOUND;
	int rows = 0;

	if (db_query(db, STMT_AUDIT_NEGATIVE, NULL, 0, out, 2) != DB_OK)
		return -1;
	while (rows < AUDIT_ROWS_MAX &&
	       (rc = db_fetch(db, STMT_AUDIT_NEGATIVE)) == DB_OK) {
		money_format(out[1].i64, balance);
		if (out[0].i64 < 0)
			(void)printf("NEGATIVE fee account %" PRId64 ": %s\n",
			    -out[0].i64 - 1, balance);
		else
			(void)printf("NEGATIVE user %" PRId64 ": %s\n",
			    out[0].i64, balance);
		rows++;
	}
	db_query_end(db, STMT_AUDIT_NEGATIVE);
	if (rows < AUDIT_ROWS_MAX && rc != DB_NOT_FOUND)
		return -1;
	audit_truncated(rows);
	return rows;
}

/*
 * Reversals (payd admin reverse) that do not undo their transfer: from its
 * recipient back to its sender, its fee, at most its amount, and named by
 * the transfer's reversed_by (so at most one a transfer).
 */
static int
audit_reversals(struct db *db)
{
	struct db_val out[] = {DB_I64_OUT(), DB_I64_OUT()};
	enum db_rc rc = DB_NOT_FOUND;
	int rows = 0;

	if (db_query(db, STMT_AUDIT_REVERSALS, NULL, 0, out, 2) != DB_OK)
		return -1;
	while (rows < AUDIT_ROWS_MAX &&
	       (rc = db_fetch(db, STMT_AUDIT_REVERSALS)) == DB_OK) {
		(void)printf("MISMATCH reversal %" PRId64
		             " of transfer %" PRId64
		             ": not its recipient paying its sender back "
		             "at most its amount and its fee, once\n",
		    out[0].i64, out[1].i64);
		rows++;
	}
	db_query_end(db, STMT_AUDIT_REVERSALS);
	if (rows < AUDIT_ROWS_MAX && rc != DB_NOT_FOUND)
		return -1;
	audit_truncated(rows);
	return rows;
}

/*
 * Holds and refunds (STMT_AUDIT_HOLDS): each user's reservation is the sum
 * of its pending holds and within its balance; no hold captured above its
 * amount or without its transfer; no transfer refunded above its amount or
 * apart from its refunds; every refund points at its transfer, no fee.
 */
static int
audit_holds(struct db *db)
{
	/* Per check: the row's kind, then what its two values are. */
	static const char *const what[][3] = {
	    {"row", "value", "want"},
	    {"user", "reserved", "its pending holds"},
	    {"user", "balance", "below its reserved"},
	    {"hold", "captured", "its transfer moved"},
	    {"transfer", "refunded", "its refunds add up to"},
	    {"refund", "fee (want 0.00)", "its transfer (-1: none)"},
	};
	struct db_val out[] = {
	    DB_I64_OUT(), DB_I64_OUT(), DB_I64_OUT(), DB_I64_OUT()};
	char a[MONEY_TEXT_SIZE_MAX], b[MONEY_TEXT_SIZE_MAX];
	enum db_rc rc = DB_NOT_FOUND;
	int rows = 0;

	if (db_query(db, STMT_AUDIT_HOLDS, NULL, 0, out, 4) != DB_OK)
		return -1;
	while (rows < AUDIT_ROWS_MAX &&
	       (rc = db_fetch(db, STMT_AUDIT_HOLDS)) == DB_OK) {
		int64_t k = out[0].i64;

		if (k < 1 || k > 5)
			k = 0;
		money_format(out[2].i64, a);
		money_format(out[3].i64, b);
		if (k == 5) /* an id, not an amount */
			(void)snprintf(b, sizeof(b), "%" PRId64, out[3].i64);
		(void)printf("MISMATCH %s %" PRId64 ": %s %s, %s %s\n",
		    what[k][0], out[1].i64, what[k][1], a, what[k][2], b);
		rows++;
	}
	db_query_end(db, STMT_AUDIT_HOLDS);
	if (rows < AUDIT_ROWS_MAX && rc != DB_NOT_FOUND)
		return -1;
	audit_truncated(rows);
	return rows;
}

int
audit_run(const struct config *cfg)
{
	static struct db db;
	static struct config audit_cfg;
	int counts[7], problems = 0, failed = 0;

	/*
	 * Its queries read the whole ledger: a request's read timeout would
	 * cut them short on a large one.
	 */
	audit_cfg = *cfg;
	if (audit_cfg.db_rw_timeout_s < AUDIT_RW_TIMEOUT_S)
		audit_cfg.db_rw_timeout_s = AUDIT_RW_TIMEOUT_S;
	db_init(&db, &audit_cfg);
	if (db_ensure(&db) != DB_OK) {
		(void)printf("audit: cannot connect to the database\n");
		return 2;
	}
	counts[0] = audit_totals(&db);
	counts[1] = audit_balances(&db, STMT_AUDIT_USERS, "user");
	counts[2] = audit_balances(&db, STMT_AUDIT_FEES, "fee account");
	counts[3] = audit_movements(&db);
	counts[4] = audit_negative(&db);
	counts[5] = audit_reversals(&db);
	counts[6] = audit_holds(&db);
	db_close(&db);
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		if (counts[i] < 0)
			failed++;
		else
			problems += counts[i];
	}
	if (failed > 0) {
		(void)printf("audit: %d of %zu checks could not run\n", failed,
		    sizeof(counts) / sizeof(counts[0]));
		return 2;
	}
	if (problems > 0) {
		(void)printf("audit: FAILED, %d problems\n", problems);
		return 1;
	}
	(void)printf("audit: ok (conservation, user and fee balances, "
	             "movements, no negative balance, reversals, holds and "
	             "refunds)\n");
	return 0;
}
