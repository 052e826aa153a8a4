/*
 * The database: one MariaDB connection per worker, every statement prepared
 * once, typed binds, and transactions with a sticky error.
 */
#ifndef DB_H
#define DB_H

#include <stdbool.h>
#include <stdint.h>

#include <mysql.h>

#include "config.h"

/* All SQL of the service. The text is in db.c, indexed by this enum. */
enum stmt {
	STMT_PING,              /* SELECT 1 */
	STMT_WSREP_ON,          /* 1 on a Galera node (app/wsrep.c) */
	STMT_WSREP_STATE,       /* a Galera node's state (app/wsrep.c) */
	STMT_SET_LOCK_WAIT,     /* the session's lock-wait timeout */
	STMT_USER_INSERT,       /* new user: username, hash */
	STMT_USER_LOGIN,        /* id, hash, token_gen by username */
	STMT_USER_GET,          /* is the token's, balance, available */
	STMT_USER_HASH,         /* the hash of an id under a token_gen */
	STMT_USER_PASSWORD_SET, /* new hash, token_gen + 1 */
	STMT_USER_LOGOUT,       /* token_gen + 1 */
	STMT_USER_BATCH,        /* index, balance, available of the callers */
	STMT_DEPOSIT,           /* CALL payd_deposit: a whole top-up */
	STMT_TRANSFER,          /* CALL payd_transfer: a whole transfer */
	STMT_TRANSFER_BATCH,    /* CALL payd_transfer_many: up to 8 at once */
	STMT_HISTORY_PAGE,      /* a user's entries, newest first */
	STMT_BALANCE_AT,        /* a user's balance after the last entry <= T */
	STMT_STATEMENT,       /* a user's entries of [from, to), oldest first */
	STMT_PAYOUT,          /* CALL payd_payout: POST /transfers/batch */
	STMT_IDEM_INSERT,     /* claim a key for this request */
	STMT_IDEM_GET,        /* hash match, status, response of a key */
	STMT_IDEM_FINISH,     /* store the response of a key */
	STMT_IDEM_PURGE,      /* drop keys past the retention */
	STMT_AUDIT_TOTALS,    /* balances vs deposits vs external */
	STMT_AUDIT_USERS,     /* users whose balance != their entries */
	STMT_AUDIT_FEES,      /* fee accounts whose balance != entries */
	STMT_AUDIT_MOVEMENTS, /* movements whose entries do not sum to 0 */
	STMT_AUDIT_REVERSALS, /* reversals that do not match a transfer */
	STMT_AUDIT_NEGATIVE,  /* accounts below zero */
	STMT_TXN_BEGIN,       /* START TRANSACTION: payd admin show, log */
	STMT_ADMIN_USER,      /* a user by id or name, for payd admin */
	STMT_ADMIN_FREEZE,    /* CALL payd_admin_freeze */
	STMT_ADMIN_REVERSE,   /* CALL payd_admin_reverse */
	STMT_ADMIN_RECORD,    /* one admin_actions row */
	STMT_ADMIN_LOG,       /* admin_actions since a time */
	STMT_AUDIT_HOLDS,     /* holds, reservations and refunds */
	STMT_HOLD_CREATE,     /* CALL payd_hold_create: POST /holds */
	STMT_HOLD_END,        /* CALL payd_hold_end: capture or void */
	STMT_HOLD_SWEEP,      /* CALL payd_hold_sweep: the sweeper's tick */
	STMT_HOLD_GET,        /* a hold, for its payer or recipient */
	STMT_HOLD_LIST,       /* a user's holds, newest first */
	STMT_REFUND,          /* CALL payd_refund: a refund */
	STMT_TRANSFER_GET,    /* a transfer and its refunds */
	STMT__MAX
};

/* Outcomes of a database call; handlers map them to API errors. */
enum db_rc {
	DB_OK,        /* done */
	DB_NOT_FOUND, /* no row */
	DB_DUPLICATE, /* a unique key said no (1062) */
	DB_RETRY,     /* deadlock or lock-wait timeout: retry the transaction */
	DB_CONN,      /* the connection is gone: 503, reconnect later */
	DB_ERROR,     /* anything else: 500 */
	DB_RC__MAX
};

enum db_type {
	DB_I64, /* int64_t, MYSQL_TYPE_LONGLONG */
	DB_STR, /* bytes, MYSQL_TYPE_STRING */
	DB_TYPE__MAX
};

/*
 * One parameter or result column. For input strings, str/len are the data.
 * For output strings, str is a buffer of cap bytes; len is set to the
 * length and str is NUL-terminated (a longer value is DB_ERROR).
 */
struct db_val {
	enum db_type type;
	int64_t i64;
	char *str;
	unsigned long len;
	unsigned long cap;
	bool is_null;
};

#define DB_I64_IN(v) ((struct db_val){.type = DB_I64, .i64 = (v)})
/* The client never writes through an input buffer: the cast is safe. */
#define DB_STR_IN(s, n)                                                        \
	((struct db_val){                                                      \
	    .type = DB_STR, .str = (char *)(uintptr_t)(s), .len = (n)})
#define DB_I64_OUT() ((struct db_val){.type = DB_I64})
#define DB_STR_OUT(buf)                                                        \
	((struct db_val){.type = DB_STR, .str = (buf), .cap = sizeof(buf)})

struct db {
	MYSQL *conn;
	MYSQL_STMT *stmt[STMT__MAX];
	bool connected;
	enum db_rc txn_rc; /* sticky error of the open transaction */
	bool in_txn;
	enum stmt txn_stmt; /* the CALL that opened it, for logs */
	const struct config *cfg;
	bool lost; /* logged db_lost, awaiting db_restored */
	bool down; /* the last connect found no node: log no more failures */
	int node;  /* of cfg->db_nodes, while connected: 0 is the preferred */
	/* util_now_ms() after which an idle fallback connection is closed. */
	int64_t fallback_until_ms;
	/* util_now_ms() before which no connect is tried (a slow failure). */
	int64_t connect_after_ms;
	/* Result binding of the statement being read (db_row, db_query). */
	struct db_val *out;
	unsigned nout;
	my_bool out_null[DB_COLUMN_COUNT_MAX];
	my_bool out_err[DB_COLUMN_COUNT_MAX];
	unsigned long out_len[DB_COLUMN_COUNT_MAX];
};

/* What a database node says about itself (app/wsrep.c, db_ensure). */
struct wsrep_state {
	bool galera;         /* wsrep_on: false on a single server */
	int64_t local_state; /* wsrep_local_state: 4 is Synced */
	bool primary;        /* wsrep_ready ON, wsrep_cluster_status Primary */
};

/* Galera's wsrep_local_state values that payd reads. */
enum wsrep_local_state {
	WSREP_STATE_SYNCED = 4, /* in the cluster and up to date */
};

/* Human names of enum db_rc and enum stmt, for logs. */
const char *db_rc_name(enum db_rc rc);
const char *db_stmt_name(enum stmt id);

/* Sets up db for cfg; connects lazily. cfg must outlive db. */
void db_init(struct db *db, const struct config *cfg);
/*
 * Connects and prepares every statement unless already connected: to the
 * first of cfg->db_nodes (db_host: the preferred node, then its fallbacks)
 * that accepts, within db_connect_timeout_s each, and may serve (on a
 * Galera cluster: Primary and Synced, app/wsrep.c). A fallback used is
 * logged ("db_fallback"); each connect starts at the preferred node, and
 * an idle connection to a fallback is closed after DB_FALLBACK_RETURN_MS
 * to make one. Nothing is ever sent again on the new connection: which
 * node the next one goes to is all that changes. A
 * connection that the server closed while it sat idle (a restart, a kill,
 * wait_timeout) is seen without a round trip, by its socket being
 * readable, and replaced before it is used. After a connect that failed
 * slowly (bounds.h), none is tried for DB_CONNECT_PAUSE_MS: a database
 * that cannot be reached costs the requests of that time nothing, rather
 * than a connect timeout each. Returns DB_OK or DB_CONN.
 * Logs "db_lost"/"db_restored" transitions.
 */
enum db_rc db_ensure(struct db *db);
/* Closes the connection and its statements. */
void db_close(struct db *db);
/*
 * mysql_real_connect() of conn to cfg->db_nodes[node] (a host and port, or
 * a unix socket) with the account of cfg and the client flags.
 */
MYSQL *db_node_connect(
    MYSQL *conn, const struct config *cfg, int node, unsigned long flags);
/*
 * Reads the state of the node on the connection db has, without
 * connecting (wsrep_read connects first). DB_OK, or the failure of the
 * read: a node outside the Primary component may refuse it (1047).
 */
enum db_rc db_node_state(struct db *db, struct wsrep_state *st);
/* True when the node may serve: a single server, or Primary and Synced. */
bool db_node_serves(const struct wsrep_state *st);

/*
 * Runs a statement that returns no rows. affected (may be NULL) receives
 * the affected-row count. Inside a transaction, an earlier error is sticky.
 */
enum db_rc db_exec(struct db *db, enum stmt id, struct db_val *in, unsigned nin,
    uint64_t *affected);
/* The AUTO_INCREMENT id of the last db_exec of statement id. */
int64_t db_insert_id(struct db *db, enum stmt id);

/*
 * Runs a statement and reads its first row into out. DB_NOT_FOUND when
 * there is none; further rows are discarded.
 */
enum db_rc db_row(struct db *db, enum stmt id, struct db_val *in, unsigned nin,
    struct db_val *out, unsigned nout);

/*
 * Runs a statement for several rows: db_query, then db_fetch until it
 * returns DB_NOT_FOUND, then db_query_end. out stays bound throughout.
 */
enum db_rc db_query(struct db *db, enum stmt id, struct db_val *in,
    unsigned nin, struct db_val *out, unsigned nout);
enum db_rc db_fetch(struct db *db, enum stmt id);
void db_query_end(struct db *db, enum stmt id);

/*
 * A read, safe to send twice (a SELECT): runs read(db, arg) on a
 * connection (db_ensure), and once more on a fresh one when the first
 * turns out to have died since the last request (DB_CONN). Returns what
 * the last run returned. The one retry loop of the reads.
 */
enum db_rc db_read(
    struct db *db, enum db_rc (*read)(struct db *db, void *arg), void *arg);
/* db_row() as such a read. */
enum db_rc db_row_read(struct db *db, enum stmt id, struct db_val *in,
    unsigned nin, struct db_val *out, unsigned nout);

/*
 * Runs a stored procedure CALL that answers one row (db_row), then reads
 * past the CALL's own status so the connection is ready for the next
 * statement. Outside a transaction only. Replaces a connection that died
 * while idle first (db_ensure), and never sends the CALL twice.
 */
enum db_rc db_call(struct db *db, enum stmt id, struct db_val *in, unsigned nin,
    struct db_val *out, unsigned nout);
/*
 * The same for a CALL that answers several rows: db_call_query(), then
 * db_fetch() until it returns DB_NOT_FOUND, then db_call_end() with the
 * outcome so far and whether any row was read. A row is the CALL's
 * answer (the procedures send theirs only once done): with rows it
 * returns DB_OK whatever follows them, a lost connection after them
 * included (it is dropped, and the next statement reconnects). Without,
 * it returns the CALL's final outcome (an error raised after its rows,
 * or the one given), and after a failure it rolls back whatever the CALL
 * may have left open, so that no transaction outlives a failed CALL.
 * A result of the wrong number of columns is DB_ERROR (logged).
 */
enum db_rc db_call_query(struct db *db, enum stmt id, struct db_val *in,
    unsigned nin, struct db_val *out, unsigned nout);
enum db_rc db_call_end(struct db *db, enum stmt id, enum db_rc rc, bool rows);

/*
 * Takes over a transaction that the CALL of statement id left open (a
 * movement with an Idempotency-Key), so that db_exec() and db_txn_end()
 * continue it; clears the sticky error, or sets it to DB_CONN when the
 * connection was lost since (the server rolled the transaction back).
 */
void db_txn_adopt(struct db *db, enum stmt id);
/*
 * Commits when the transaction is clean, else rolls back. Returns the
 * sticky error, or the commit's own failure.
 */
enum db_rc db_txn_end(struct db *db);
/* Rolls back, whatever the state. */
void db_txn_rollback(struct db *db);

/* Sleeps a jittered back-off before retry attempt (1-based). */
void db_retry_sleep(unsigned attempt);

#endif /* DB_H */
