/*
 * A Galera node's readiness, read from its status variables.
 */
#include "log.h"
#include "wsrep.h"

enum db_rc
wsrep_read(struct db *db, struct wsrep_state *st)
{
	struct db_val out[] = {DB_I64_OUT(), DB_I64_OUT(), DB_I64_OUT()};
	enum db_rc rc = db_row_read(db, STMT_WSREP_STATE, NULL, 0, out, 3);

	if (rc != DB_OK)
		return rc;
	st->galera = out[0].i64 != 0;
	st->local_state = out[1].is_null ? -1 : out[1].i64;
	st->primary = out[2].i64 == 1;
	return DB_OK;
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
