/*
 * A Galera node's readiness (docs/cluster.md): an app host answers only
 * from a node that is in the Primary component and Synced, so that it
 * never serves stale data or a write the cluster does not have.
 */
#ifndef WSREP_H
#define WSREP_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"

/*
 * Reads the state of the node behind db (db_read: connects, and tries
 * a fresh connection once). DB_OK, or the failure of the read: a node
 * outside the Primary component may refuse it (1047, DB_CONN).
 */
enum db_rc wsrep_read(struct db *db, struct wsrep_state *st);

/*
 * True when the node may serve: a single server, or Primary and Synced
 * (db_node_serves); logs wsrep_not_ready when not.
 */
bool wsrep_serves(const struct wsrep_state *st);

#endif /* WSREP_H */
