/*
 * A Galera node's readiness, read from its status variables.
 */
#include "log.h"
#include "wsrep.h"

enum db_rc
wsrep_read_now(struct db *db, struct wsrep_state *st)
{
	struct db_val on[] = {DB_I64_OUT()};
	struct db_val out[] = {DB_I64_OUT(), DB_I64_OUT()};
	enum db_rc rc = db_row(db, STMT_WSREP_ON, NULL, 0, on, 1);

	st->galera = rc == DB_OK && on[0].i64 != 0;
	if (rc != DB_OK || !st->galera)
		return rc;
	/* The status read costs the server more: only on a cluster. */
	rc = db_row(db, STMT_WSREP_STATE, NULL, 0, out, 2);
	if (rc != DB_OK)
		return rc;
	st->local_state = out[0].is_null ? -1 : out[0].i64;
	st->primary = out[1].i64 == 1;
	return DB_OK;
}

static enum db_rc
wsrep_read_once(struct db *db, void *st)
{
	return wsrep_read_now(db, st);
}

enum db_rc
wsrep_read(struct db *db, struct wsrep_state *st)
{
	return db_read(db, wsrep_read_once, st);
}

bool
wsrep_serves(const struct wsrep_state *st)
{
	bool ok = !st->galera ||
	          (st->primary && st->local_state == WSREP_STATE_SYNCED);

	if (!ok)
		log_event(LOG_WARN, "wsrep_not_ready",
		    "local_state=%lld primary=%d", (long long)st->local_state,
		    st->primary);
	return ok;
}
