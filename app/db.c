/*
 * The database layer: prepared statements only, typed binds, sticky
 * transaction errors, reconnect after a lost connection.
 */
#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errmsg.h>
#include <mysqld_error.h>

#include "bounds.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

struct db_stmt_def {
	const char *name;
	const char *sql;
	unsigned nparam;
};

/* Every statement of the service, prepared once per connection. */
static const struct db_stmt_def db_stmts[STMT__MAX] = {
    [STMT_PING] = {"ping", "SELECT 1", 0},
    /* wsrep_on: 0 on a single server, which needs nothing more. */
    [STMT_WSREP_ON] = {"wsrep_on", "SELECT @@GLOBAL.wsrep_on", 0},
    /* On a Galera node: wsrep_local_state (4: Synced), and 1 when
     * wsrep_ready is ON in the Primary component. */
    [STMT_WSREP_STATE] = {"wsrep_state",
        "SELECT COALESCE((SELECT CAST(VARIABLE_VALUE AS SIGNED) "
        "FROM information_schema.GLOBAL_STATUS "
        "WHERE VARIABLE_NAME = 'WSREP_LOCAL_STATE'), -1), "
        "(SELECT COUNT(*) FROM information_schema.GLOBAL_STATUS "
        "WHERE (VARIABLE_NAME = 'WSREP_READY' AND VARIABLE_VALUE = 'ON') "
        "OR (VARIABLE_NAME = 'WSREP_CLUSTER_STATUS' "
        "AND VARIABLE_VALUE = 'Primary')) = 2",
        0},
    /* Row locks (innodb_lock_wait_timeout) and metadata locks
     * (lock_wait_timeout, a year by default: a CALL behind an ALTER
     * TABLE would outlive the client's read timeout and commit after
     * the app answered 503). */
    [STMT_SET_LOCK_WAIT] = {"set_lock_wait",
        "SET SESSION innodb_lock_wait_timeout = ?, lock_wait_timeout = ?", 2},
    [STMT_USER_INSERT] = {"user_insert",
        "INSERT INTO users (username, password_hash, created_at) "
        "VALUES (?, ?, ?)",
        3},
    [STMT_USER_LOGIN] = {"user_login",
        "SELECT id, username, password_hash, token_gen FROM users "
        "WHERE username = ?",
        1},
    /* The caller's row, and whether it is the token's user: the rule is
     * payd_is_token_user (sql/R__payd_is_token_user.sql). The token's
     * name and generation, the id. */
    [STMT_USER_GET] = {"user_get",
        "SELECT payd_is_token_user(username, token_gen, ?, ?), balance, "
        "balance - reserved FROM users WHERE id = ?",
        3},
    /* POST /password: the hash to check the current password against,
     * while the token's generation is still the user's. */
    [STMT_USER_HASH] = {"user_hash",
        "SELECT password_hash FROM users WHERE id = ? AND token_gen = ?", 2},
    /* POST /password: the new hash, and every older token refused; only
     * while the token's generation is still the user's, so that of two
     * changes with one token only one is made. */
    [STMT_USER_PASSWORD_SET] = {"user_password_set",
        "UPDATE users SET password_hash = ?, token_gen = token_gen + 1, "
        "password_changed_at = ? WHERE id = ? AND token_gen = ?",
        4},
    /* POST /logout: every token issued so far refused. */
    [STMT_USER_LOGOUT] = {"user_logout",
        "UPDATE users SET token_gen = token_gen + 1 "
        "WHERE id = ? AND token_gen = ?",
        2},
    /* The callers of a batch of requests that a worker took at once
     * (worker.c), one point read each: the requests' tokens as one JSON
     * document, [[id, "name", gen], ...]; a row, by the request's index
     * from 1, for each whose user is there and is the token's user
     * (payd_is_token_user). */
    [STMT_USER_BATCH] = {"user_batch",
        "SELECT j.i, u.balance, u.balance - u.reserved "
        "FROM JSON_TABLE(?, '$[*]' COLUMNS (i FOR ORDINALITY, "
        "id BIGINT PATH '$[0]', name VARCHAR(32) PATH '$[1]', "
        "gen BIGINT PATH '$[2]')) AS j "
        "JOIN users u ON u.id = j.id "
        "WHERE payd_is_token_user(u.username, u.token_gen, j.name, j.gen)",
        1},
    /* The whole of POST /balance in one round trip: the stored procedure
     * of sql/R__payd_deposit.sql. */
    [STMT_DEPOSIT] = {"deposit", "CALL payd_deposit(?, ?, ?, ?, ?, ?, ?, ?)",
        8},
    /* The whole of POST /transfer in one round trip: the stored procedure
     * of sql/R__payd_transfer.sql. */
    [STMT_TRANSFER] = {"transfer",
        "CALL payd_transfer(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", 12},
    /* Up to WORKER_BATCH_MAX transfers in one transaction: the stored
     * procedure of sql/R__payd_transfer_many.sql, the transfers as one
     * JSON document, then the fee sub-account, the instant and the time
     * its row locks may take. */
    [STMT_TRANSFER_BATCH] = {"transfer_batch",
        "CALL payd_transfer_many(?, ?, ?, ?)", DB_TRANSFER_BATCH_PARAMS},
    [STMT_HISTORY_PAGE] = {"history_page",
        "SELECT e.movement_id, e.type, m.amount, m.fee, u.username, "
        "e.balance_after, "
        "DATE_FORMAT(e.created_at, '%Y-%m-%dT%H:%i:%sZ'), m.transfer_id "
        "FROM entries e JOIN movements m ON m.id = e.movement_id "
        "LEFT JOIN users u ON u.id = e.counterparty_id "
        "WHERE e.account_kind = 'user' AND e.account_id = ? "
        "AND e.movement_id < ? ORDER BY e.movement_id DESC LIMIT ?",
        3},
    /* GET /balance?at= and a statement's opening balance: one descent
     * of entries_account_time (sql/005_statements.sql), docs/money.md.
     * The time is bound as text; without the CAST the server compared
     * it as a string and read the account's whole range (make bench:
     * 25 reads/s on 100 000 entries, 3137/s with it). */
    [STMT_BALANCE_AT] = {"balance_at",
        "SELECT balance_after FROM entries "
        "WHERE account_kind = 'user' AND account_id = ? "
        "AND created_at <= CAST(? AS DATETIME) "
        "ORDER BY created_at DESC, movement_id DESC LIMIT 1",
        2},
    /* GET /statement: a range of entries_account_time, oldest first. */
    [STMT_STATEMENT] = {"statement",
        "SELECT e.movement_id, e.type, m.amount, m.fee, u.username, "
        "e.balance_after, "
        "DATE_FORMAT(e.created_at, '%Y-%m-%dT%H:%i:%sZ'), m.transfer_id, "
        "e.delta FROM entries e JOIN movements m ON m.id = e.movement_id "
        "LEFT JOIN users u ON u.id = e.counterparty_id "
        "WHERE e.account_kind = 'user' AND e.account_id = ? "
        "AND e.created_at >= CAST(? AS DATETIME) "
        "AND e.created_at < CAST(? AS DATETIME) "
        "ORDER BY e.created_at, e.movement_id LIMIT ?",
        4},
    /* The whole of POST /transfers/batch in one round trip: the stored
     * procedure of sql/R__payd_payout.sql. */
    [STMT_PAYOUT] = {"payout",
        "CALL payd_payout(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", 12},
    [STMT_IDEM_INSERT] = {"idem_insert",
        "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, "
        "status, response) VALUES (?, ?, UNHEX(SHA2(?, 256)), ?, ?)",
        5},
    [STMT_IDEM_GET] = {"idem_get",
        "SELECT request_hash = UNHEX(SHA2(?, 256)), status, response "
        "FROM idempotency_keys WHERE user_id = ? AND idem_key = ?",
        3},
    [STMT_IDEM_FINISH] = {"idem_finish",
        "UPDATE idempotency_keys SET status = ?, response = ? "
        "WHERE user_id = ? AND idem_key = ? AND status IS NULL",
        4},
    [STMT_IDEM_PURGE] = {"idem_purge",
        "DELETE FROM idempotency_keys "
        "WHERE created_at < UTC_TIMESTAMP() - INTERVAL ? SECOND LIMIT 500",
        1},
    [STMT_AUDIT_TOTALS] = {"audit_totals",
        "SELECT CAST((SELECT COALESCE(SUM(balance), 0) FROM users) + "
        "(SELECT COALESCE(SUM(balance), 0) FROM fee_accounts) AS SIGNED), "
        "CAST((SELECT COALESCE(SUM(amount), 0) FROM movements "
        "WHERE kind = 'deposit') AS SIGNED), "
        "CAST((SELECT COALESCE(-SUM(delta), 0) FROM entries "
        "WHERE account_kind = 'external') AS SIGNED)",
        0},
    [STMT_AUDIT_USERS] = {"audit_users",
        "SELECT u.id, u.balance, CAST(COALESCE(SUM(e.delta), 0) AS SIGNED) "
        "FROM users u LEFT JOIN entries e ON e.account_kind = 'user' "
        "AND e.account_id = u.id GROUP BY u.id, u.balance "
        "HAVING u.balance <> COALESCE(SUM(e.delta), 0) LIMIT 100",
        0},
    [STMT_AUDIT_FEES] = {"audit_fees",
        "SELECT f.id, f.balance, CAST(COALESCE(SUM(e.delta), 0) AS SIGNED) "
        "FROM fee_accounts f LEFT JOIN entries e ON e.account_kind = 'fee' "
        "AND e.account_id = f.id GROUP BY f.id, f.balance "
        "HAVING f.balance <> COALESCE(SUM(e.delta), 0) LIMIT 100",
        0},
    [STMT_AUDIT_MOVEMENTS] = {"audit_movements",
        "SELECT m.id, CAST(COALESCE(SUM(e.delta), 0) AS SIGNED), "
        "COUNT(e.movement_id) FROM movements m "
        "LEFT JOIN entries e ON e.movement_id = m.id "
        "GROUP BY m.id, m.kind HAVING COALESCE(SUM(e.delta), 0) <> 0 "
        "OR COUNT(e.movement_id) <> IF(m.kind IN ('deposit', 'refund'), 2, 3) "
        "LIMIT 100",
        0},
    /* Reversals that do not undo their transfer, or not once. */
    [STMT_AUDIT_REVERSALS] = {"audit_reversals",
        "SELECT r.id, COALESCE(r.transfer_id, 0) FROM movements r "
        "LEFT JOIN movements t ON t.id = r.transfer_id "
        "WHERE r.kind = 'reversal' AND (t.id IS NULL OR "
        "t.kind <> 'transfer' OR t.reversed_by IS NULL OR "
        "t.reversed_by <> r.id OR r.from_user <> t.to_user OR "
        "r.to_user <> t.from_user OR r.fee <> t.fee OR "
        "r.amount > t.amount) LIMIT 100",
        0},
    [STMT_AUDIT_NEGATIVE] = {"audit_negative",
        "SELECT id, balance FROM users WHERE balance < 0 UNION ALL "
        "SELECT -id - 1, balance FROM fee_accounts WHERE balance < 0 "
        "LIMIT 100",
        0},
    [STMT_TXN_BEGIN] = {"txn_begin", "START TRANSACTION", 0},
    /* payd admin: a user by id, or by name (id 0; "" is no name). */
    [STMT_ADMIN_USER] = {"admin_user",
        "SELECT id, username, balance, "
        "balance - payd_user_reserved(id), payd_user_pending_holds(id), "
        "IFNULL(DATE_FORMAT(frozen_at, '%Y-%m-%dT%H:%i:%sZ'), ''), "
        "IFNULL(frozen_reason, ''), "
        "DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ') "
        "FROM users WHERE id = ? OR username = ?",
        2},
    /* The operator commands of sql/R__payd_admin.sql. */
    [STMT_ADMIN_FREEZE] = {"admin_freeze",
        "CALL payd_admin_freeze(?, ?, ?, ?, ?, ?)", 6},
    [STMT_ADMIN_REVERSE] = {"admin_reverse",
        "CALL payd_admin_reverse(?, ?, ?, ?, ?)", 5},
    [STMT_ADMIN_RECORD] = {"admin_record",
        "INSERT INTO admin_actions (operator, action, target, reason, "
        "outcome, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        6},
    [STMT_ADMIN_LOG] = {"admin_log",
        "SELECT id, DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ'), "
        "operator, action, target, outcome, reason FROM admin_actions "
        "WHERE created_at >= ? ORDER BY id LIMIT ?",
        2},
    /* The invariants of holds and refunds, one row per problem: the check
     * (audit.c audit_holds), the row's id, what it holds, what it should.
     * 1 reserved != its pending holds; 2 available below zero; 3 a hold
     * captured above its amount, or captured without its transfer of that
     * amount (hold_id set); 4 a transfer refunded above its amount, or
     * whose refunded total != its refunds; 5 a refund that points at no
     * transfer, or moves a fee. */
    [STMT_AUDIT_HOLDS] = {"audit_holds",
        "SELECT 1, u.id, u.reserved, CAST(COALESCE(SUM(h.amount + h.fee), "
        "0) AS SIGNED) FROM users u LEFT JOIN holds h ON h.from_user = u.id "
        "AND h.status = 'pending' GROUP BY u.id, u.reserved HAVING "
        "u.reserved <> COALESCE(SUM(h.amount + h.fee), 0) "
        "UNION ALL SELECT 2, id, balance, reserved FROM users "
        "WHERE balance < reserved "
        "UNION ALL SELECT 3, h.id, h.captured, COALESCE(m.amount, -1) "
        "FROM holds h LEFT JOIN movements m ON m.id = h.transfer_id "
        "AND m.kind = 'transfer' AND m.hold_id = h.id "
        "WHERE h.captured > h.amount OR (h.status = 'captured' AND "
        "(m.id IS NULL OR m.amount <> h.captured)) "
        "UNION ALL SELECT 4, t.id, t.refunded, CAST(COALESCE(SUM(r.amount), "
        "0) AS SIGNED) FROM movements t LEFT JOIN movements r ON "
        "r.transfer_id = t.id AND r.kind = 'refund' WHERE t.kind = "
        "'transfer' GROUP BY t.id, t.refunded, t.amount HAVING "
        "t.refunded > t.amount OR t.refunded <> COALESCE(SUM(r.amount), 0) "
        "UNION ALL SELECT 5, r.id, r.fee, COALESCE(t.id, -1) "
        "FROM movements r LEFT JOIN movements t ON t.id = r.transfer_id "
        "AND t.kind = 'transfer' AND t.from_user = r.to_user "
        "AND t.to_user = r.from_user WHERE r.kind = 'refund' "
        "AND (t.id IS NULL OR r.fee <> 0) LIMIT 100",
        0},
    [STMT_HOLD_CREATE] = {"hold_create",
        "CALL payd_hold_create(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", 11},
    [STMT_HOLD_END] = {"hold_end",
        "CALL payd_hold_end(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", 12},
    [STMT_HOLD_SWEEP] = {"hold_sweep", "CALL payd_hold_sweep(?, ?, ?, ?)", 4},
/* The columns of a hold, as payd_hold_answer gives them after its
 * outcome (sql/R__payd_hold_answer.sql); the status as shown at the
 * first parameter's instant. */
#define DB_HOLD_COLUMNS                                                        \
	"SELECT h.id, fu.username, tu.username, h.amount, h.fee, "             \
	"h.captured, h.transfer_id, payd_hold_shown(h.status, h.expires_at, "  \
	"?), DATE_FORMAT(h.created_at, '%Y-%m-%dT%H:%i:%sZ'), "                \
	"DATE_FORMAT(h.expires_at, '%Y-%m-%dT%H:%i:%sZ') FROM holds h "        \
	"LEFT JOIN users fu ON fu.id = h.from_user "                           \
	"LEFT JOIN users tu ON tu.id = h.to_user "
    [STMT_HOLD_GET] = {"hold_get",
        DB_HOLD_COLUMNS "WHERE h.id = ? AND (h.from_user = ? OR "
                        "h.to_user = ?)",
        4},
    /* A page of the caller's holds: (status "" for all, else as shown). */
    [STMT_HOLD_LIST] = {"hold_list",
        DB_HOLD_COLUMNS "WHERE (h.from_user = ? OR h.to_user = ?) "
                        "AND h.id < ? AND (? = '' OR payd_hold_shown("
                        "h.status, h.expires_at, ?) = ?) "
                        "ORDER BY h.id DESC LIMIT ?",
        8},
#undef DB_HOLD_COLUMNS
    [STMT_REFUND] = {"refund", "CALL payd_refund(?, ?, ?, ?, ?, ?, ?, ?, ?)",
        9},
    /* A transfer of its sender or recipient and up to the last parameter
     * of its refunds, oldest first: one row a refund (or one row with the
     * refund's columns NULL). reversed: an operator's reversal of it. */
    [STMT_TRANSFER_GET] = {"transfer_get",
        "SELECT m.id, fu.username, tu.username, m.amount, m.fee, "
        "m.refunded, m.hold_id, EXISTS(SELECT 1 FROM movements v WHERE "
        "v.transfer_id = m.id AND v.kind = 'reversal'), "
        "DATE_FORMAT(m.created_at, '%Y-%m-%dT%H:%i:%sZ'), r.id, r.amount, "
        "DATE_FORMAT(r.created_at, '%Y-%m-%dT%H:%i:%sZ') FROM movements m "
        "LEFT JOIN users fu ON fu.id = m.from_user "
        "LEFT JOIN users tu ON tu.id = m.to_user "
        "LEFT JOIN movements r ON r.transfer_id = m.id AND r.kind = "
        "'refund' WHERE m.id = ? AND m.kind = 'transfer' AND "
        "(m.from_user = ? OR m.to_user = ?) ORDER BY r.id LIMIT ?",
        4},
};

static const char *const db_rc_names[DB_RC__MAX] = {
    "ok",        /* DB_OK */
    "not_found", /* DB_NOT_FOUND */
    "duplicate", /* DB_DUPLICATE */
    "retry",     /* DB_RETRY */
    "conn",      /* DB_CONN */
    "error",     /* DB_ERROR */
};

static void db_drop(struct db *db);
static enum db_rc db_classify(struct db *db, enum stmt id, unsigned err,
    const char *sqlstate, const char *msg);
static enum db_rc db_connect(struct db *db, int node, bool quiet);
static enum db_rc db_bind_in(
    struct db *db, enum stmt id, struct db_val *in, unsigned nin);
static enum db_rc db_bind_out(
    struct db *db, enum stmt id, struct db_val *out, unsigned nout);
static enum db_rc db_run(
    struct db *db, enum stmt id, struct db_val *in, unsigned nin);
static enum db_rc db_stmt_fail(struct db *db, enum stmt id);

const char *
db_rc_name(enum db_rc rc)
{
	return rc < DB_RC__MAX ? db_rc_names[rc] : "?";
}

const char *
db_stmt_name(enum stmt id)
{
	return id < STMT__MAX ? db_stmts[id].name : "?";
}

void
db_init(struct db *db, const struct config *cfg)
{
	memset(db, 0, sizeof(*db));
	db->cfg = cfg;
}

void
db_close(struct db *db)
{
	for (int i = 0; i < STMT__MAX; i++) {
		if (db->stmt[i] != NULL)
			(void)mysql_stmt_close(db->stmt[i]);
		db->stmt[i] = NULL;
	}
	if (db->conn != NULL)
		mysql_close(db->conn);
	db->conn = NULL;
	db->connected = false;
	db->in_txn = false;
}

/*
 * Drops a connection that is lost, or whose statement was cut short (a
 * KILL QUERY, max_statement_time: the CALL's handler, which rolls back,
 * never ran): closing it is what rolls back on the server whatever was
 * left open. A transaction of ours that was open stays marked open, with
 * DB_CONN as its sticky error, so that db_txn_end() answers DB_CONN and
 * db_txn_rollback() only clears it.
 */
static void
db_drop(struct db *db)
{
	bool in_txn = db->in_txn;

	db->lost = true;
	db_close(db);
	db->in_txn = in_txn;
	if (in_txn)
		db->txn_rc = DB_CONN;
}

/*
 * Maps a server or client error to an outcome. A lost connection closes
 * everything (db_drop) so that the next request reconnects and prepares
 * again.
 */
static enum db_rc
db_classify(struct db *db, enum stmt id, unsigned err, const char *sqlstate,
    const char *msg)
{
	switch (err) {
	case ER_LOCK_DEADLOCK:
	case ER_LOCK_WAIT_TIMEOUT:
		return DB_RETRY;
	case ER_DUP_ENTRY:
		return DB_DUPLICATE;
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_SERVER_LOST_EXTENDED:
	case ER_CONNECTION_KILLED:
	case ER_SERVER_SHUTDOWN:
	case ER_QUERY_INTERRUPTED:
	case ER_STATEMENT_TIMEOUT:
	case CR_COMMANDS_OUT_OF_SYNC:
	/* A Galera node outside the Primary component refuses every
	 * query: this node is no use until it rejoins (503, reconnect). */
	case ER_UNKNOWN_COM_ERROR:
		metrics_db_error();
		log_event(LOG_ERROR, "db_lost", "stmt=%s errno=%u sqlstate=%s",
		    db_stmt_name(id), err, sqlstate);
		db_drop(db);
		return DB_CONN;
	default:
		metrics_db_error();
		log_event(LOG_ERROR, "db_error",
		    "stmt=%s errno=%u sqlstate=%s "
		    "msg=\"%.200s\"",
		    db_stmt_name(id), err, sqlstate, msg);
		return DB_ERROR;
	}
}

static enum db_rc
db_stmt_fail(struct db *db, enum stmt id)
{
	MYSQL_STMT *st = db->stmt[id];

	/*
	 * A read that failed under a statement (a lost connection, a time-out
	 * while fetching) can leave its error on the connection only.
	 */
	if (mysql_stmt_errno(st) == 0 && mysql_errno(db->conn) != 0)
		return db_classify(db, id, mysql_errno(db->conn),
		    mysql_sqlstate(db->conn), mysql_error(db->conn));
	return db_classify(db, id, mysql_stmt_errno(st),
	    mysql_stmt_sqlstate(st), mysql_stmt_error(st));
}

MYSQL *
db_node_connect(
    MYSQL *conn, const struct config *cfg, int node, unsigned long flags)
{
	const struct config_db_node *n;
	bool unix_sock;

	assert(node >= 0 && node < cfg->db_node_count);
	n = &cfg->db_nodes[node];
	unix_sock = n->port == 0;
	return mysql_real_connect(conn, unix_sock ? NULL : n->host,
	    cfg->db_user, cfg->db_password, cfg->db_name, n->port,
	    unix_sock ? n->host : NULL, flags);
}

/* Connects to node (cfg->db_nodes), logging why not when quiet is false. */
static enum db_rc
db_connect(struct db *db, int node, bool quiet)
{
	const struct config *cfg = db->cfg;
	unsigned int connect_s = (unsigned int)cfg->db_connect_timeout_s;
	unsigned int rw_s = (unsigned int)cfg->db_rw_timeout_s;
	char init[128];
	int n;

	/* On a Galera cluster, reads wait for what the cluster committed
	 * before them (docs/cluster.md: read-your-writes across hosts).
	 * Unset, the statement is the single server's ("%.0d" of 0 is ""). */
	n = snprintf(init, sizeof(init),
	    "SET time_zone = '+00:00', SESSION tx_isolation = "
	    "'READ-COMMITTED'%s%.0d",
	    cfg->db_sync_wait > 0 ? ", SESSION wsrep_sync_wait = " : "",
	    cfg->db_sync_wait);
	assert(n > 0 && (size_t)n < sizeof(init));
	db->conn = mysql_init(NULL);
	if (db->conn == NULL)
		return DB_CONN;
	(void)mysql_options(db->conn, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
	(void)mysql_options(db->conn, MYSQL_OPT_READ_TIMEOUT, &rw_s);
	(void)mysql_options(db->conn, MYSQL_OPT_WRITE_TIMEOUT, &rw_s);
	(void)mysql_options(db->conn, MYSQL_INIT_COMMAND, init);
	(void)mysql_options(db->conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (db_node_connect(db->conn, cfg, node, 0) == NULL) {
		if (!quiet)
			log_event(LOG_ERROR, "db_lost",
			    "stage=connect host=%s port=%u errno=%u "
			    "msg=\"%.200s\"",
			    cfg->db_nodes[node].host, cfg->db_nodes[node].port,
			    mysql_errno(db->conn), mysql_error(db->conn));
		db_close(db);
		return DB_CONN;
	}
	return DB_OK;
}

/*
 * True when an idle connection has been closed by the server: between
 * requests nothing is due from it, so a readable socket (an error packet,
 * end of file or a reset) means it is gone. One poll(2), no round trip.
 */
static bool
db_idle_dead(struct db *db)
{
	struct pollfd pfd = {.fd = (int)mysql_get_socket(db->conn),
	    .events = POLLIN | POLLRDHUP};

	if (pfd.fd < 0)
		return true;
	return poll(&pfd, 1, 0) != 0;
}

/* Prepares every statement on a fresh connection and sets its lock waits. */
static enum db_rc
db_prepare(struct db *db)
{
	enum db_rc rc;

	for (int i = 0; i < STMT__MAX; i++) {
		MYSQL_STMT *st = mysql_stmt_init(db->conn);

		if (st == NULL)
			return DB_CONN;
		db->stmt[i] = st;
		if (mysql_stmt_prepare(
		        st, db_stmts[i].sql, strlen(db_stmts[i].sql)) != 0) {
			rc = db_stmt_fail(db, (enum stmt)i);
			log_event(LOG_ERROR, "db_prepare", "stmt=%s rc=%s",
			    db_stmts[i].name, db_rc_name(rc));
			return DB_CONN;
		}
		if (mysql_stmt_param_count(st) != db_stmts[i].nparam) {
			log_event(LOG_ERROR, "db_prepare",
			    "stmt=%s params=%lu "
			    "expected=%u",
			    db_stmts[i].name, mysql_stmt_param_count(st),
			    db_stmts[i].nparam);
			abort();
		}
	}
	db->connected = true;
	{
		/* Short enough for a CALL's waits: config_check(). */
		struct db_val in[] = {
		    DB_I64_IN(db->cfg->db_lock_wait_timeout_s),
		    DB_I64_IN(db->cfg->db_lock_wait_timeout_s)};

		rc = db_exec(db, STMT_SET_LOCK_WAIT, in, 2, NULL);
	}
	return rc == DB_OK ? DB_OK : DB_CONN;
}

enum db_rc
db_node_state(struct db *db, struct wsrep_state *st)
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

bool
db_node_serves(const struct wsrep_state *st)
{
	return !st->galera ||
	       (st->primary && st->local_state == WSREP_STATE_SYNCED);
}

/*
 * Connects to node, prepares, and checks that the node may serve: a
 * single server, or a Galera node that is Primary and Synced (a node that
 * answers 1047 or is not ready counts as down). DB_OK, or DB_CONN with
 * nothing left open.
 */
static enum db_rc
db_open(struct db *db, int node, bool quiet)
{
	struct wsrep_state st;

	if (db_connect(db, node, quiet) != DB_OK)
		return DB_CONN;
	memset(&st, 0, sizeof(st));
	if (db_prepare(db) == DB_OK && db_node_state(db, &st) == DB_OK &&
	    db_node_serves(&st)) {
		db->node = node;
		return DB_OK;
	}
	if (!quiet)
		log_event(LOG_ERROR, "db_lost",
		    "stage=ready host=%s port=%u local_state=%lld primary=%d",
		    db->cfg->db_nodes[node].host, db->cfg->db_nodes[node].port,
		    (long long)st.local_state, st.primary);
	db_close(db);
	return DB_CONN;
}

/*
 * Closes an idle connection to a fallback node that has served its time
 * (DB_FALLBACK_RETURN_MS), so that the next connect tries the preferred
 * node again.
 */
static void
db_fallback_expire(struct db *db)
{
	if (!db->connected || db->in_txn || db->node == 0 ||
	    util_now_ms() < db->fallback_until_ms)
		return;
	log_event(LOG_INFO, "db_fallback_end", "host=%s",
	    db->cfg->db_nodes[db->node].host);
	db_close(db);
}

enum db_rc
db_ensure(struct db *db)
{
	const struct config *cfg = db->cfg;
	int64_t t0;

	if (db->connected && !db->in_txn && db_idle_dead(db)) {
		metrics_db_error();
		log_event(LOG_ERROR, "db_lost", "stage=idle");
		db->lost = true;
		db_close(db);
	}
	db_fallback_expire(db);
	if (db->connected)
		return DB_OK;
	/* A connect that failed slowly: each request fails fast a while. */
	if (util_now_ms() < db->connect_after_ms)
		return DB_CONN;
	t0 = util_now_ms();
	/* The preferred node first, then each fallback in order; the nodes'
	 * failures are logged until a round fails whole, not once per
	 * request while the database stays down. */
	for (int i = 0; i < cfg->db_node_count; i++) {
		if (db_open(db, i, db->down) != DB_OK)
			continue;
		if (i > 0) {
			log_event(LOG_WARN, "db_fallback",
			    "host=%s port=%u preferred=%s",
			    cfg->db_nodes[i].host, cfg->db_nodes[i].port,
			    cfg->db_nodes[0].host);
			db->fallback_until_ms =
			    util_now_ms() + DB_FALLBACK_RETURN_MS;
		}
		if (db->lost)
			log_event(LOG_INFO, "db_restored",
			    "statements=%d host=%s", STMT__MAX,
			    cfg->db_nodes[i].host);
		db->lost = false;
		db->down = false;
		return DB_OK;
	}
	db->lost = true;
	db->down = true;
	/* Refused at once (a server down): the next may try again. */
	if (util_now_ms() - t0 >= DB_CONNECT_SLOW_MS)
		db->connect_after_ms = util_now_ms() + DB_CONNECT_PAUSE_MS;
	return DB_CONN;
}

static enum db_rc
db_bind_in(struct db *db, enum stmt id, struct db_val *in, unsigned nin)
{
	MYSQL_BIND bind[DB_PARAM_COUNT_MAX];
	/*
	 * mysql_stmt_execute() reads these after this frame is gone, so they
	 * are static: safe, as a worker runs one statement at a time.
	 */
	static my_bool nulls[DB_PARAM_COUNT_MAX];

	assert(nin <= DB_PARAM_COUNT_MAX);
	assert(mysql_stmt_param_count(db->stmt[id]) == nin);
	if (nin == 0)
		return DB_OK;
	memset(bind, 0, sizeof(bind));
	for (unsigned i = 0; i < nin; i++) {
		nulls[i] = (my_bool)in[i].is_null;
		bind[i].is_null = &nulls[i];
		if (in[i].type == DB_I64) {
			bind[i].buffer_type = MYSQL_TYPE_LONGLONG;
			bind[i].buffer = &in[i].i64;
		} else {
			assert(in[i].type == DB_STR);
			bind[i].buffer_type = MYSQL_TYPE_STRING;
			bind[i].buffer = in[i].str;
			bind[i].buffer_length = in[i].len;
			bind[i].length = &in[i].len;
		}
	}
	/* The client copies the bind array, not the data it points at. */
	if (mysql_stmt_bind_param(db->stmt[id], bind) != 0)
		return db_stmt_fail(db, id);
	return DB_OK;
}

static enum db_rc
db_run(struct db *db, enum stmt id, struct db_val *in, unsigned nin)
{
	enum db_rc rc;

	assert(id < STMT__MAX);
	if (db->in_txn && db->txn_rc != DB_OK)
		return db->txn_rc;
	if (!db->connected)
		rc = DB_CONN;
	else if ((rc = db_bind_in(db, id, in, nin)) == DB_OK &&
	         mysql_stmt_execute(db->stmt[id]) != 0)
		rc = db_stmt_fail(db, id);
	if (db->in_txn && rc != DB_OK)
		db->txn_rc = rc;
	return rc;
}

enum db_rc
db_exec(struct db *db, enum stmt id, struct db_val *in, unsigned nin,
    uint64_t *affected)
{
	enum db_rc rc = db_run(db, id, in, nin);

	if (rc == DB_OK && affected != NULL)
		*affected = (uint64_t)mysql_stmt_affected_rows(db->stmt[id]);
	return rc;
}

int64_t
db_insert_id(struct db *db, enum stmt id)
{
	assert(db->connected);
	return (int64_t)mysql_stmt_insert_id(db->stmt[id]);
}

static enum db_rc
db_bind_out(struct db *db, enum stmt id, struct db_val *out, unsigned nout)
{
	MYSQL_BIND bind[DB_COLUMN_COUNT_MAX];

	assert(nout <= DB_COLUMN_COUNT_MAX);
	/* A routine of another shape (an upgrade half done): an error. */
	if (mysql_stmt_field_count(db->stmt[id]) != nout) {
		metrics_db_error();
		log_event(LOG_ERROR, "db_error",
		    "stmt=%s msg=shape columns=%u expected=%u",
		    db_stmt_name(id), mysql_stmt_field_count(db->stmt[id]),
		    nout);
		return DB_ERROR;
	}
	memset(bind, 0, sizeof(bind));
	for (unsigned i = 0; i < nout; i++) {
		bind[i].is_null = &db->out_null[i];
		bind[i].error = &db->out_err[i];
		bind[i].length = &db->out_len[i];
		if (out[i].type == DB_I64) {
			bind[i].buffer_type = MYSQL_TYPE_LONGLONG;
			bind[i].buffer = &out[i].i64;
		} else {
			assert(out[i].type == DB_STR && out[i].cap > 0);
			bind[i].buffer_type = MYSQL_TYPE_STRING;
			bind[i].buffer = out[i].str;
			bind[i].buffer_length = out[i].cap - 1;
		}
	}
	db->out = out;
	db->nout = nout;
	if (mysql_stmt_bind_result(db->stmt[id], bind) != 0)
		return db_stmt_fail(db, id);
	return DB_OK;
}

enum db_rc
db_query(struct db *db, enum stmt id, struct db_val *in, unsigned nin,
    struct db_val *out, unsigned nout)
{
	enum db_rc rc = db_run(db, id, in, nin);

	if (rc != DB_OK)
		return rc;
	rc = db_bind_out(db, id, out, nout);
	if (rc != DB_OK && db->connected)
		(void)mysql_stmt_free_result(db->stmt[id]);
	if (db->in_txn && rc != DB_OK)
		db->txn_rc = rc;
	return rc;
}

enum db_rc
db_fetch(struct db *db, enum stmt id)
{
	enum db_rc rc = DB_OK;
	int r;

	if (!db->connected)
		return DB_CONN;
	r = mysql_stmt_fetch(db->stmt[id]);
	if (r == MYSQL_NO_DATA)
		return DB_NOT_FOUND;
	if (r == 1) {
		rc = db_stmt_fail(db, id);
	} else if (r == MYSQL_DATA_TRUNCATED) {
		log_event(LOG_ERROR, "db_error", "stmt=%s msg=truncated",
		    db_stmt_name(id));
		rc = DB_ERROR;
	} else {
		for (unsigned i = 0; i < db->nout; i++) {
			struct db_val *v = &db->out[i];

			v->is_null = db->out_null[i];
			if (v->type == DB_STR) {
				v->len = v->is_null ? 0 : db->out_len[i];
				v->str[v->len] = '\0';
			} else if (v->is_null) {
				v->i64 = 0;
			}
		}
	}
	if (db->in_txn && rc != DB_OK)
		db->txn_rc = rc;
	return rc;
}

void
db_query_end(struct db *db, enum stmt id)
{
	if (db->connected)
		(void)mysql_stmt_free_result(db->stmt[id]);
	db->out = NULL;
	db->nout = 0;
}

enum db_rc
db_row(struct db *db, enum stmt id, struct db_val *in, unsigned nin,
    struct db_val *out, unsigned nout)
{
	enum db_rc rc = db_query(db, id, in, nin, out, nout);

	if (rc != DB_OK)
		return rc;
	rc = db_fetch(db, id);
	db_query_end(db, id);
	return rc;
}

enum db_rc
db_read(struct db *db, enum db_rc (*read)(struct db *db, void *arg), void *arg)
{
	enum db_rc rc = DB_CONN;

	for (int attempt = 0; attempt < 2 && rc == DB_CONN; attempt++) {
		rc = db_ensure(db);
		if (rc == DB_OK)
			rc = read(db, arg);
	}
	return rc;
}

/* db_row()'s arguments, for db_read(). */
struct db_row_args {
	enum stmt id;
	struct db_val *in, *out;
	unsigned nin, nout;
};

static enum db_rc
db_row_once(struct db *db, void *arg)
{
	struct db_row_args *a = arg;

	return db_row(db, a->id, a->in, a->nin, a->out, a->nout);
}

enum db_rc
db_row_read(struct db *db, enum stmt id, struct db_val *in, unsigned nin,
    struct db_val *out, unsigned nout)
{
	struct db_row_args a = {
	    .id = id, .in = in, .out = out, .nin = nin, .nout = nout};

	return db_read(db, db_row_once, &a);
}

enum db_rc
db_call_query(struct db *db, enum stmt id, struct db_val *in, unsigned nin,
    struct db_val *out, unsigned nout)
{
	enum db_rc rc;

	assert(!db->in_txn);
	/*
	 * A CALL that reached the server may have moved money, so it is
	 * never sent again on a failure: a connection that died while idle
	 * is replaced before the CALL is sent (db_ensure: no round trip).
	 */
	rc = db_ensure(db);
	if (rc == DB_OK)
		rc = db_query(db, id, in, nin, out, nout);
	return rc;
}

enum db_rc
db_call_end(struct db *db, enum stmt id, enum db_rc rc, bool rows)
{
	MYSQL_STMT *st;
	int more;

	db_query_end(db, id);
	if (!db->connected)
		return rows ? DB_OK : rc == DB_OK ? DB_CONN : rc;
	st = db->stmt[id];
	while ((more = mysql_stmt_next_result(st)) == 0)
		(void)mysql_stmt_free_result(st);
	/*
	 * The result of a failed CALL is its error: nothing follows it, and
	 * the client's complaint about reading on is no news. After a CALL
	 * that ran, a failure is its own (logged; a lost connection is
	 * dropped); the rows, if any, stand.
	 */
	if (more > 0 && (rc == DB_OK || rc == DB_NOT_FOUND || rows)) {
		enum db_rc end = db_stmt_fail(db, id);

		if (!rows)
			rc = end;
	}
	if (rows)
		return DB_OK;
	/*
	 * No row. A deadlock, a lock-wait timeout or a duplicate key went
	 * through the procedure's handler, which rolled back; a cut-short
	 * CALL (a kill, a time limit) dropped the connection, which rolls
	 * back on the server. Anything else (an error raised, a result of
	 * the wrong shape) may have left the CALL's work open: the
	 * connection is dropped too, so that none of it outlives the CALL.
	 */
	if (rc == DB_ERROR && db->connected) {
		log_event(LOG_WARN, "db_reset", "stmt=%s", db_stmt_name(id));
		db_drop(db);
	}
	return rc;
}

enum db_rc
db_call(struct db *db, enum stmt id, struct db_val *in, unsigned nin,
    struct db_val *out, unsigned nout)
{
	enum db_rc rc = db_call_query(db, id, in, nin, out, nout);

	if (rc == DB_OK)
		rc = db_fetch(db, id);
	return db_call_end(db, id, rc, rc == DB_OK);
}

void
db_txn_adopt(struct db *db, enum stmt id)
{
	assert(!db->in_txn);
	db->in_txn = true;
	/* Lost since the CALL's row: the server has rolled it back. */
	db->txn_rc = db->connected ? DB_OK : DB_CONN;
	db->txn_stmt = id;
}

void
db_txn_rollback(struct db *db)
{
	if (db->in_txn && db->connected && mysql_rollback(db->conn) != 0)
		(void)db_classify(db, db->txn_stmt, mysql_errno(db->conn),
		    mysql_sqlstate(db->conn), mysql_error(db->conn));
	db->in_txn = false;
}

enum db_rc
db_txn_end(struct db *db)
{
	enum db_rc rc = db->txn_rc;

	assert(db->in_txn);
	if (rc != DB_OK) {
		db_txn_rollback(db);
		return rc;
	}
	db->in_txn = false;
	if (!db->connected)
		return DB_CONN;
	if (mysql_commit(db->conn) != 0)
		return db_classify(db, db->txn_stmt, mysql_errno(db->conn),
		    mysql_sqlstate(db->conn), mysql_error(db->conn));
	return DB_OK;
}

void
db_retry_sleep(unsigned attempt)
{
	unsigned char r = 0;
	struct timespec ts;
	long us;

	metrics_db_retry();
	(void)util_random(&r, sizeof(r));
	/* 2, 4, 8, 16 ms... (attempt 1 is the first retry), up to 64 ms,
	 * plus up to as much again of jitter, so that writers that collided
	 * (on a Galera cluster: at certification) do not collide again in
	 * step. */
	us = 1000L << (attempt < 6 ? attempt : 6);
	us += us * (long)r / 256;
	ts.tv_sec = 0;
	ts.tv_nsec = us * 1000;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}
