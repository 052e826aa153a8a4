/*
 * Migrations: forward-only sql/NNN_name.sql files, applied once each in
 * order; then the stored routines, sql/R__name.sql (one CREATE OR REPLACE
 * each), applied again whenever their text changes.
 */
#include <assert.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <mysql.h>

#include "bounds.h"
#include "db.h"
#include "log.h"
#include "migrate.h"
#include "util.h"

/* The bookkeeping table; created before anything else, once. */
static const char migrate_sql_table[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INT NOT NULL PRIMARY KEY, "
    "name VARCHAR(255) NOT NULL, "
    "created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, "
    "updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP "
    "ON UPDATE CURRENT_TIMESTAMP"
    ") ENGINE = InnoDB DEFAULT CHARSET = utf8mb4";
/*
 * Two migrators at once would race; the second waits for the first, and
 * gives up rather than run beside it. The lock is a lease row claimed
 * with a conditional write, which a Galera cluster certifies like any
 * other write, so it holds across nodes (GET_LOCK() is one node's own lock
 * there, and refused by later MariaDB releases). A lease whose migrator
 * died expires after MIGRATE_LEASE_S (bounds.h).
 */
static const char migrate_sql_lease_table[] =
    "CREATE TABLE IF NOT EXISTS schema_lease ("
    "name VARCHAR(64) NOT NULL PRIMARY KEY, "
    "holder VARBINARY(16) NOT NULL, "
    "expires_at DATETIME NOT NULL"
    ") ENGINE = InnoDB DEFAULT CHARSET = utf8mb4";
/* Assignments run left to right: the second sees the first's holder. */
static const char migrate_sql_lease_claim[] =
    "INSERT INTO schema_lease (name, holder, expires_at) "
    "VALUES ('migrate', ?, UTC_TIMESTAMP() + INTERVAL ? SECOND) "
    "ON DUPLICATE KEY UPDATE "
    "holder = IF(expires_at < UTC_TIMESTAMP(), VALUES(holder), holder), "
    "expires_at = IF(holder = VALUES(holder), VALUES(expires_at), "
    "expires_at)";
static const char migrate_sql_lease_held[] =
    "SELECT COUNT(*) FROM schema_lease "
    "WHERE name = 'migrate' AND holder = ?";
static const char migrate_sql_lease_free[] =
    "DELETE FROM schema_lease WHERE name = 'migrate' AND holder = ?";
/*
 * Every routine of the database runs with its owner's rights, and its
 * owner cannot log in (deploy/grants.sql): one with another definer, or
 * SQL SECURITY INVOKER, would need the app to hold table rights it must
 * not have. Lists those that are not so.
 */
/*
 * A routine's parameter list as it was written (mysql.proc keeps the text):
 * an upgrade may not change it under the same name (migrate_interface).
 */
static const char migrate_sql_params[] =
    "SELECT param_list FROM mysql.proc WHERE db = DATABASE() AND name = ?";
#define MIGRATE_ROUTINE_OWNER "payd_owner@%"
static const char migrate_sql_owners[] =
    "SELECT ROUTINE_NAME, DEFINER, SECURITY_TYPE "
    "FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() "
    "AND (DEFINER <> '" MIGRATE_ROUTINE_OWNER "' "
    "OR SECURITY_TYPE <> 'DEFINER') ORDER BY ROUTINE_NAME";
static const char migrate_sql_applied[] =
    "SELECT COUNT(*) FROM schema_migrations WHERE version = ?";
static const char migrate_sql_record[] =
    "INSERT INTO schema_migrations (version, name) VALUES (?, ?)";
/*
 * A routine is re-applied when the SHA-256 of its file differs from the
 * one recorded when it was last applied (computed by the server: the text
 * is a parameter).
 */
static const char migrate_sql_routine_table[] =
    "CREATE TABLE IF NOT EXISTS schema_routines ("
    "name VARCHAR(255) NOT NULL PRIMARY KEY, "
    "sha256 BINARY(32) NOT NULL, "
    "applied_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP "
    "ON UPDATE CURRENT_TIMESTAMP"
    ") ENGINE = InnoDB DEFAULT CHARSET = utf8mb4";
static const char migrate_sql_routine_current[] =
    "SELECT COUNT(*) FROM schema_routines "
    "WHERE name = ? AND sha256 = UNHEX(SHA2(?, 256))";
static const char migrate_sql_routine_record[] =
    "INSERT INTO schema_routines (name, sha256) "
    "VALUES (?, UNHEX(SHA2(?, 256))) "
    "ON DUPLICATE KEY UPDATE sha256 = VALUES(sha256)";

/* The two kinds of file in sql_dir. */
enum migrate_kind {
	MIGRATE_VERSIONED, /* NNN_name.sql: once, in version order */
	MIGRATE_ROUTINE,   /* R__name.sql: when changed, in name order */
};

#define MIGRATE_ROUTINE_PREFIX "R__"

struct migration {
	int version; /* 0 for a routine */
	char name[256];
};

static int migrate_list(
    const char *dir, enum migrate_kind kind, struct migration *out, int *count);
static int migrate_cmp(const void *a, const void *b);
static int migrate_simple(MYSQL *conn, const char *sql);
struct migrate_param;
static int migrate_stmt(
    MYSQL *conn, const char *sql, struct migrate_param *p, long long *count);
static char *migrate_read(const char *dir, const char *name, size_t *len);
static int migrate_apply(MYSQL *conn, const char *dir,
    const struct migration *mig, enum migrate_kind kind);
static int migrate_lock(MYSQL *conn, const unsigned char *holder, int wait_s);
static void migrate_unlock(MYSQL *conn, const unsigned char *holder);
static int migrate_interface(MYSQL *conn, const char *file, const char *sql);
static int migrate_routines(
    MYSQL *conn, const char *dir, const struct migration *r, int n);
static int migrate_check_owners(MYSQL *conn);

static int
migrate_cmp(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;

	if (x->version != y->version)
		return (x->version > y->version) - (x->version < y->version);
	return strcmp(x->name, y->name);
}

/* The files of one kind in dir, sorted (version, then name). */
static int
migrate_list(
    const char *dir, enum migrate_kind kind, struct migration *out, int *count)
{
	static const size_t prefix_len = sizeof(MIGRATE_ROUTINE_PREFIX) - 1;
	struct dirent *de;
	DIR *d = opendir(dir);

	*count = 0;
	if (d == NULL) {
		log_event(LOG_ERROR, "migrate", "dir=%s error=\"%s\"", dir,
		    strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		size_t len = strlen(n);
		long long v = 0;

		if (len < 9 || strcmp(n + len - 4, ".sql") != 0)
			continue;
		if (kind == MIGRATE_ROUTINE) {
			if (strncmp(n, MIGRATE_ROUTINE_PREFIX, prefix_len) != 0)
				continue;
		} else {
			char num[4];

			if (n[3] != '_')
				continue;
			memcpy(num, n, 3);
			num[3] = '\0';
			if (util_parse_ll(num, 1, 999, &v) != 0)
				continue;
		}
		if (*count >= MIGRATION_COUNT_MAX ||
		    util_copy(out[*count].name, sizeof(out[*count].name), n))
			continue;
		out[(*count)++].version = (int)v;
	}
	(void)closedir(d);
	qsort(out, (size_t)*count, sizeof(*out), migrate_cmp);
	for (int i = 1; kind == MIGRATE_VERSIONED && i < *count; i++)
		if (out[i].version == out[i - 1].version) {
			log_event(LOG_ERROR, "migrate",
			    "msg=\"two files with "
			    "version %d\"",
			    out[i].version);
			return -1;
		}
	return 0;
}

/* Runs constant SQL text (possibly several statements), discarding rows. */
static int
migrate_simple(MYSQL *conn, const char *sql)
{
	int status;

	if (mysql_real_query(conn, sql, strlen(sql)) != 0)
		return -1;
	do {
		MYSQL_RES *res = mysql_store_result(conn);

		if (res != NULL)
			mysql_free_result(res);
		else if (mysql_field_count(conn) != 0)
			return -1;
		status = mysql_next_result(conn);
		if (status > 0)
			return -1;
	} while (status == 0);
	return 0;
}

/*
 * A prepared statement with up to two parameters, each a number (when its
 * text is NULL) or a text of its length, and an optional count to fetch.
 * The texts go as parameters, so the server hashes exactly a file's bytes.
 */
struct migrate_param {
	long long num;
	const char *text;
	unsigned long len;
};

static int
migrate_stmt(
    MYSQL *conn, const char *sql, struct migrate_param *p, long long *count)
{
	MYSQL_STMT *st = mysql_stmt_init(conn);
	MYSQL_BIND in[2], out[1];
	unsigned long nparam;
	int rc = -1;

	if (st == NULL || mysql_stmt_prepare(st, sql, strlen(sql)) != 0)
		goto out_close;
	/* A statement without parameters may come with p NULL. */
	nparam = mysql_stmt_param_count(st);
	assert(nparam <= 2 && (nparam == 0 || p != NULL));
	memset(in, 0, sizeof(in));
	memset(out, 0, sizeof(out));
	for (unsigned long i = 0; i < nparam; i++) {
		if (p[i].text == NULL) {
			in[i].buffer_type = MYSQL_TYPE_LONGLONG;
			in[i].buffer = &p[i].num;
			continue;
		}
		in[i].buffer_type = MYSQL_TYPE_BLOB;
		in[i].buffer = (char *)(uintptr_t)p[i].text;
		in[i].buffer_length = p[i].len;
		in[i].length = &p[i].len;
	}
	if (nparam > 0 && mysql_stmt_bind_param(st, in) != 0)
		goto out_close;
	if (mysql_stmt_execute(st) != 0)
		goto out_close;
	if (count != NULL) {
		out[0].buffer_type = MYSQL_TYPE_LONGLONG;
		out[0].buffer = count;
		if (mysql_stmt_bind_result(st, out) != 0 ||
		    mysql_stmt_fetch(st) != 0)
			goto out_close;
	}
	rc = 0;
out_close:
	if (rc != 0 && st != NULL)
		log_event(LOG_ERROR, "migrate", "errno=%u msg=\"%.200s\"",
		    mysql_stmt_errno(st), mysql_stmt_error(st));
	if (st != NULL)
		(void)mysql_stmt_close(st);
	return rc;
}

/* The whole of dir/name, NUL-terminated, or NULL (logged). */
static char *
migrate_read(const char *dir, const char *name, size_t *len)
{
	char path[CONFIG_PATH_SIZE_MAX + 256];
	char *sql = NULL;
	size_t n;
	FILE *fp;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path))
		return NULL;
	fp = fopen(path, "re");
	if (fp == NULL) {
		log_event(LOG_ERROR, "migrate", "file=%s error=\"%s\"", name,
		    strerror(errno));
		return NULL;
	}
	sql = malloc(MIGRATION_SIZE_MAX + 1);
	if (sql == NULL)
		goto out_close;
	n = fread(sql, 1, MIGRATION_SIZE_MAX + 1, fp);
	if (n > MIGRATION_SIZE_MAX) {
		log_event(
		    LOG_ERROR, "migrate", "file=%s msg=\"too large\"", name);
		free(sql);
		sql = NULL;
		goto out_close;
	}
	sql[n] = '\0';
	*len = n;
out_close:
	(void)fclose(fp);
	return sql;
}

/*
 * One file: a numbered migration is applied once, then recorded by
 * version; a routine (its file one CREATE OR REPLACE, so applying it again
 * is safe, and swaps the routine in one statement) whenever its text is
 * not the one recorded, then recorded by name and text.
 */
static int
migrate_apply(MYSQL *conn, const char *dir, const struct migration *mig,
    enum migrate_kind kind)
{
	const bool routine = kind == MIGRATE_ROUTINE;
	const struct migrate_param name = {
	    .text = mig->name, .len = strlen(mig->name)};
	struct migrate_param p[2];
	long long done = 0;
	size_t n = 0;
	char *sql = migrate_read(dir, mig->name, &n);
	int rc = -1;

	if (sql == NULL)
		return -1;
	/* (version, name) of a migration, (name, text) of a routine. */
	p[0] = routine ? name : (struct migrate_param){.num = mig->version};
	p[1] = routine ? (struct migrate_param){.text = sql, .len = n} : name;
	if (migrate_stmt(conn,
	        routine ? migrate_sql_routine_current : migrate_sql_applied, p,
	        &done) != 0)
		goto out_free;
	if (done > 0) {
		rc = 0;
		goto out_free;
	}
	if (routine && migrate_interface(conn, mig->name, sql) != 0)
		goto out_free;
	if (migrate_simple(conn, sql) != 0) {
		log_event(LOG_ERROR, "migrate",
		    "file=%s errno=%u "
		    "msg=\"%.200s\"",
		    mig->name, mysql_errno(conn), mysql_error(conn));
		goto out_free;
	}
	if (migrate_stmt(conn,
	        routine ? migrate_sql_routine_record : migrate_sql_record, p,
	        NULL) != 0)
		goto out_free;
	log_event(LOG_INFO, "migrate", "file=%s applied=1", mig->name);
	rc = 0;
out_free:
	free(sql);
	return rc;
}

/* Appends text[0..len) to out (size), one space for each white run. */
static size_t
migrate_append(char *out, size_t size, size_t n, const char *text, size_t len)
{
	for (size_t i = 0; i < len && n + 1 < size; i++) {
		char c = (char)toupper((unsigned char)text[i]);

		if (isspace((unsigned char)c)) {
			if (n == 0 || out[n - 1] == ' ' || out[n - 1] == '(' ||
			    out[n - 1] == ',')
				continue;
			c = ' ';
		} else if ((c == ')' || c == ',') && n > 0 && out[n - 1] == ' ')
			n--;
		out[n++] = c;
	}
	out[n] = '\0';
	return n;
}

/* One parameter ("IN p_from BIGINT") as "IN BIGINT", appended to out. */
static size_t
migrate_param(char *out, size_t size, size_t n, const char *p, size_t len)
{
	static const char *const modes[] = {"INOUT", "OUT", "IN"};
	const char *mode = "IN";

	while (len > 0 && isspace((unsigned char)*p))
		p++, len--;
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		size_t ml = strlen(modes[m]);

		if (len > ml && strncasecmp(p, modes[m], ml) == 0 &&
		    isspace((unsigned char)p[ml])) {
			mode = modes[m];
			p += ml, len -= ml;
			break;
		}
	}
	while (len > 0 && isspace((unsigned char)*p))
		p++, len--;
	/* The name, then the type. */
	while (len > 0 && !isspace((unsigned char)*p))
		p++, len--;
	n = migrate_append(out, size, n, mode, strlen(mode));
	n = migrate_append(out, size, n, " ", 1);
	return migrate_append(out, size, n, p, len);
}

/*
 * A parameter list as its callers see it, into out: each parameter's mode
 * and type, upper case, without its name ("IN BIGINT,OUT VARCHAR(32)"). A
 * parameter renamed is the same interface; a type, a mode or a count
 * changed is not.
 */
static void
migrate_signature(const char *text, size_t len, char *out, size_t size)
{
	size_t n = 0, start = 0;
	int depth = 0;

	out[0] = '\0';
	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] == '(')
			depth++;
		else if (i < len && text[i] == ')')
			depth--;
		if (i < len && (depth > 0 || text[i] != ','))
			continue;
		if (n > 0)
			n = migrate_append(out, size, n, ",", 1);
		n = migrate_param(out, size, n, text + start, i - start);
		start = i + 1;
	}
}

/*
 * The parameter list of routine name in the text of its file (after the
 * line that starts with CREATE OR REPLACE: the name, then "(", to the
 * matching ")"), as migrate_signature writes it. 0, or -1 when it is not
 * there.
 */
static int
migrate_text_params(const char *sql, const char *name, char *out, size_t size)
{
	const char *p = strstr(sql, "\nCREATE OR REPLACE ");
	size_t nlen = strlen(name);

	if (strncmp(sql, "CREATE OR REPLACE ", 18) == 0)
		p = sql;
	for (p = p != NULL ? strstr(p, name) : NULL; p != NULL;
	     p = strstr(p + 1, name)) {
		const char *q = p + nlen;
		int depth = 0;

		if (p[-1] != ' ' && p[-1] != '`')
			continue;
		q += *q == '`';
		while (isspace((unsigned char)*q))
			q++;
		if (*q != '(')
			continue;
		for (const char *e = q; *e != '\0'; e++) {
			depth += (*e == '(') - (*e == ')');
			if (depth == 0) {
				migrate_signature(
				    q + 1, (size_t)(e - q - 1), out, size);
				return 0;
			}
		}
		return -1;
	}
	return -1;
}

/*
 * The stored parameter list of routine name, as migrate_signature writes
 * it: 1, 0 when
 * the database has no such routine, -1 on an error (logged).
 */
static int
migrate_db_params(MYSQL *conn, const char *name, char *out, size_t size)
{
	MYSQL_STMT *st = mysql_stmt_init(conn);
	MYSQL_BIND in[1], res[1];
	unsigned long nlen = strlen(name), len = 0;
	char *raw = malloc(MIGRATE_PARAMS_SIZE_MAX);
	int rc = -1, fetched;

	if (st == NULL || raw == NULL ||
	    mysql_stmt_prepare(
	        st, migrate_sql_params, strlen(migrate_sql_params)) != 0)
		goto out;
	memset(in, 0, sizeof(in));
	memset(res, 0, sizeof(res));
	in[0].buffer_type = MYSQL_TYPE_STRING;
	in[0].buffer = (char *)(uintptr_t)name;
	in[0].buffer_length = nlen;
	in[0].length = &nlen;
	res[0].buffer_type = MYSQL_TYPE_STRING;
	res[0].buffer = raw;
	res[0].buffer_length = MIGRATE_PARAMS_SIZE_MAX;
	res[0].length = &len;
	if (mysql_stmt_bind_param(st, in) != 0 || mysql_stmt_execute(st) != 0 ||
	    mysql_stmt_bind_result(st, res) != 0)
		goto out;
	fetched = mysql_stmt_fetch(st);
	if (fetched == MYSQL_NO_DATA)
		rc = 0;
	else if (fetched == 0) {
		migrate_signature(raw, len, out, size);
		rc = 1;
	}
out:
	if (rc < 0)
		log_event(LOG_ERROR, "migrate", "routine=%s msg=\"%.200s\"",
		    name, st != NULL ? mysql_stmt_error(st) : "out of memory");
	if (st != NULL)
		(void)mysql_stmt_close(st);
	free(raw);
	return rc;
}

/* The routine of a file R__<name>.sql is <name>. */
static void
migrate_routine_name(const char *file, char *out, size_t size)
{
	size_t len = strlen(file) - strlen(MIGRATE_ROUTINE_PREFIX) - 4;

	if (len >= size)
		len = size - 1;
	memcpy(out, file + strlen(MIGRATE_ROUTINE_PREFIX), len);
	out[len] = '\0';
}

/*
 * A routine's interface is its name and its parameters (and the shape of
 * its result): the version still running calls it while migrate runs
 * (deploy/install.sh). A file may change a routine's body in place
 * (CREATE OR REPLACE swaps it in one statement), never its parameters:
 * those go to a new name, and the old one stays until a later numbered
 * migration drops it. 0, or -1 (logged) when the file would change them.
 */
static int
migrate_interface(MYSQL *conn, const char *file, const char *sql)
{
	static char want[MIGRATE_PARAMS_SIZE_MAX],
	    have[MIGRATE_PARAMS_SIZE_MAX];
	char name[256];
	int found;

	migrate_routine_name(file, name, sizeof(name));
	found = migrate_db_params(conn, name, have, sizeof(have));
	if (found <= 0)
		return found;
	if (migrate_text_params(sql, name, want, sizeof(want)) != 0) {
		log_event(LOG_ERROR, "migrate",
		    "file=%s msg=\"no CREATE OR REPLACE of %s(...) in it\"",
		    file, name);
		return -1;
	}
	if (strcmp(want, have) == 0)
		return 0;
	log_event(LOG_ERROR, "migrate",
	    "file=%s routine=%s msg=\"its parameters would change under the "
	    "same name, and the running version calls it: give the new "
	    "interface a new name (docs/operations.md, Upgrades)\"",
	    file, name);
	return -1;
}

/*
 * The routine files: first those whose routine the database does not have
 * yet, so that a new name exists before a routine that calls it is
 * replaced; then those whose text changed.
 */
static int
migrate_routines(MYSQL *conn, const char *dir, const struct migration *r, int n)
{
	static char params[MIGRATE_PARAMS_SIZE_MAX];

	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < n; i++) {
			char name[256];
			int found;

			migrate_routine_name(r[i].name, name, sizeof(name));
			found = migrate_db_params(
			    conn, name, params, sizeof(params));
			if (found < 0)
				return -1;
			if ((pass == 0) == (found == 1))
				continue;
			if (migrate_apply(conn, dir, &r[i], MIGRATE_ROUTINE) !=
			    0) {
				log_event(LOG_ERROR, "migrate",
				    "file=%s failed=1", r[i].name);
				return -1;
			}
		}
	return 0;
}

/*
 * Takes the migrators' lease for holder (MIGRATE_HOLDER_SIZE bytes),
 * trying once a second for wait_s seconds while another migrator holds
 * it; a claim that lost a certification conflict (1213) is tried again
 * like a wait. 0 once held, or -1 (logged) when it was not granted.
 */
static int
migrate_lock(MYSQL *conn, const unsigned char *holder, int wait_s)
{
	struct migrate_param p[2] = {
	    {.text = (const char *)holder, .len = MIGRATE_HOLDER_SIZE},
	    {.num = MIGRATE_LEASE_S}};

	if (migrate_stmt(conn, migrate_sql_lease_table, NULL, NULL) != 0)
		return -1;
	for (int tried = 0; tried <= wait_s; tried++) {
		long long held = 0;

		if (tried > 0)
			(void)sleep(1);
		if (migrate_stmt(conn, migrate_sql_lease_claim, p, NULL) == 0 &&
		    migrate_stmt(conn, migrate_sql_lease_held, p, &held) == 0 &&
		    held == 1)
			return 0;
	}
	log_event(LOG_ERROR, "migrate",
	    "msg=\"another migrate holds the lease (schema_lease); "
	    "not granted within %d s (migrate_lock_wait_s)\"",
	    wait_s);
	return -1;
}

/* Gives the lease back (were this to fail, it expires). */
static void
migrate_unlock(MYSQL *conn, const unsigned char *holder)
{
	/* migrate_stmt() may read two: the second is unused here. */
	struct migrate_param p[2] = {
	    {.text = (const char *)holder, .len = MIGRATE_HOLDER_SIZE},
	    {.num = 0}};

	(void)migrate_stmt(conn, migrate_sql_lease_free, p, NULL);
}

/* 0 when every routine is owned as migrate_sql_owners says; else -1. */
static int
migrate_check_owners(MYSQL *conn)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	int bad = 0;

	if (mysql_real_query(
	        conn, migrate_sql_owners, strlen(migrate_sql_owners)) != 0 ||
	    (res = mysql_store_result(conn)) == NULL) {
		log_event(LOG_ERROR, "migrate", "errno=%u msg=\"%.200s\"",
		    mysql_errno(conn), mysql_error(conn));
		return -1;
	}
	while ((row = mysql_fetch_row(res)) != NULL) {
		bad++;
		log_event(LOG_ERROR, "migrate",
		    "routine=%s definer=%s security=%s msg=\"a routine must be "
		    "DEFINER = payd_owner, SQL SECURITY DEFINER "
		    "(deploy/grants.sql)\"",
		    row[0], row[1] != NULL ? row[1] : "-",
		    row[2] != NULL ? row[2] : "-");
	}
	mysql_free_result(res);
	return bad == 0 ? 0 : -1;
}

/*
 * A connection to the first node of cfg->db_nodes that accepts one (any
 * node of a Galera cluster will do: the lease keeps migrators apart), or
 * NULL after logging each failure.
 */
static MYSQL *
migrate_connect(const struct config *cfg)
{
	unsigned int timeout = (unsigned int)cfg->db_connect_timeout_s;

	for (int i = 0; i < cfg->db_node_count; i++) {
		MYSQL *conn = mysql_init(NULL);

		if (conn == NULL)
			return NULL;
		(void)mysql_options(conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
		(void)mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
		if (db_node_connect(conn, cfg, i, CLIENT_MULTI_STATEMENTS) !=
		    NULL)
			return conn;
		log_event(LOG_ERROR, "migrate",
		    "stage=connect host=%s errno=%u msg=\"%.200s\"",
		    cfg->db_nodes[i].host, mysql_errno(conn),
		    mysql_error(conn));
		mysql_close(conn);
	}
	return NULL;
}

int
migrate_run(const struct config *cfg)
{
	static struct migration migs[MIGRATION_COUNT_MAX];
	static struct migration routines[MIGRATION_COUNT_MAX];
	int count = 0, nroutines = 0, rc = 1;
	unsigned char holder[MIGRATE_HOLDER_SIZE];
	bool locked = false;
	MYSQL *conn;

	if (migrate_list(cfg->sql_dir, MIGRATE_VERSIONED, migs, &count) != 0 ||
	    migrate_list(cfg->sql_dir, MIGRATE_ROUTINE, routines, &nroutines) !=
	        0)
		return 1;
	conn = migrate_connect(cfg);
	if (conn == NULL)
		return 1;
	if (util_random(holder, sizeof(holder)) != 0 ||
	    migrate_lock(conn, holder, cfg->migrate_lock_wait_s) != 0)
		goto out_close;
	locked = true;
	if (migrate_simple(conn, migrate_sql_table) != 0 ||
	    migrate_simple(conn, migrate_sql_routine_table) != 0) {
		log_event(LOG_ERROR, "migrate", "errno=%u msg=\"%.200s\"",
		    mysql_errno(conn), mysql_error(conn));
		goto out_close;
	}
	/* The tables first: a routine may use any of them. */
	for (int i = 0; i < count; i++)
		if (migrate_apply(
		        conn, cfg->sql_dir, &migs[i], MIGRATE_VERSIONED) != 0) {
			log_event(LOG_ERROR, "migrate", "file=%s failed=1",
			    migs[i].name);
			goto out_close;
		}
	if (migrate_routines(conn, cfg->sql_dir, routines, nroutines) != 0)
		goto out_close;
	if (migrate_check_owners(conn) != 0)
		goto out_close;
	log_event(LOG_INFO, "migrate", "files=%d routines=%d done=1", count,
	    nroutines);
	rc = 0;
out_close:
	if (locked)
		migrate_unlock(conn, holder);
	mysql_close(conn);
	return rc;
}
