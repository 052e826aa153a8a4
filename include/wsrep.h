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

/* What the node says about itself. */
struct wsrep_state {
	bool galera;         /* wsrep_on: false on a single server */
	int64_t local_state; /* wsrep_local_state: 4 is Synced */
	bool primary;        /* wsrep_ready ON, wsrep_cluster_status Primary */
};

/* Galera's wsrep_local_state values that payd reads. */
enum wsrep_local_state {
	WSREP_STATE_SYNCED = 4, /* in the cluster and up to date */
};

/*
 * Reads the state of the node behind db (db_row_read: connects, and tries
 * a fresh connection once). DB_OK, or the failure of the read: a node
 * outside the Primary component may refuse it (1047, DB_CONN).
 */
enum db_rc wsrep_read(struct db *db, struct wsrep_state *st);
/*
 * The same on the connection db has, without connecting: for db_ensure,
 * which asks it of each node it connects to (a node that is not ready is
 * skipped for the next fallback).
 */
enum db_rc wsrep_read_now(struct db *db, struct wsrep_state *st);

/* True when the node may serve: a single server, or Primary and Synced. */
bool wsrep_serves(const struct wsrep_state *st);

#endif /* WSREP_H */
