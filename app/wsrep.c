/*
 * A Galera node's readiness, read from its status variables (the read and
 * the rule are db.c's, which also asks them of each node it connects to).
 */
#include "log.h"
#include "wsrep.h"

static enum db_rc
wsrep_read_once(struct db *db, void *st)
{
	return db_node_state(db, st);
}

enum db_rc
wsrep_read(struct db *db, struct wsrep_state *st)
{
	return db_read(db, wsrep_read_once, st);
}

bool
wsrep_serves(const struct wsrep_state *st)
{
	bool ok = db_node_serves(st);

	if (!ok)
		log_event(LOG_WARN, "wsrep_not_ready",
		    "local_state=%lld primary=%d", (long long)st->local_state,
		    st->primary);
	return ok;
}
