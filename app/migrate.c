/*
 * Migrations: forward-only sql/NNN_name.sql files, applied in order.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "bounds.h"
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
/* Two migrators at once would race; the second waits for the first. */
static const char migrate_sql_lock[] = "SELECT GET_LOCK('payd_migrate', 60)";
static const char migrate_sql_applied[] =
    "SELECT COUNT(*) FROM schema_migrations WHERE version = ?";
static const char migrate_sql_record[] =
    "INSERT INTO schema_migrations (version, name) VALUES (?, ?)";

struct migration {
	int version;
	char name[256];
};

static int migrate_list(const char *dir, struct migration *out, int *count);
static int migrate_cmp(const void *a, const void *b);
static int migrate_simple(MYSQL *conn, const char *sql);
static int migrate_stmt(MYSQL *conn, const char *sql, long long version,
    const char *name, long long *count);
static int migrate_apply(
    MYSQL *conn, const char *dir, const struct migration *mig);

static int
migrate_cmp(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

static int
migrate_list(const char *dir, struct migration *out, int *count)
{
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
		char num[4];
		long long v;

		if (len < 9 || strcmp(n + len - 4, ".sql") != 0 || n[3] != '_')
			continue;
		memcpy(num, n, 3);
		num[3] = '\0';
		if (util_parse_ll(num, 1, 999, &v) != 0 ||
		    *count >= MIGRATION_COUNT_MAX ||
		    util_copy(out[*count].name, sizeof(out[*count].name), n))
			continue;
		out[(*count)++].version = (int)v;
	}
	(void)closedir(d);
	qsort(out, (size_t)*count, sizeof(*out), migrate_cmp);
	for (int i = 1; i < *count; i++)
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

/* A prepared statement with an optional (version, name) and one count. */
static int
migrate_stmt(MYSQL *conn, const char *sql, long long version, const char *name,
    long long *count)
{
	MYSQL_STMT *st = mysql_stmt_init(conn);
	MYSQL_BIND in[2], out[1];
	unsigned long name_len = name != NULL ? strlen(name) : 0;
	int rc = -1;

	if (st == NULL || mysql_stmt_prepare(st, sql, strlen(sql)) != 0)
		goto out_close;
	memset(in, 0, sizeof(in));
	memset(out, 0, sizeof(out));
	in[0].buffer_type = MYSQL_TYPE_LONGLONG;
	in[0].buffer = &version;
	in[1].buffer_type = MYSQL_TYPE_STRING;
	in[1].buffer = (char *)(uintptr_t)name;
	in[1].buffer_length = name_len;
	in[1].length = &name_len;
	if (mysql_stmt_param_count(st) > 0 &&
	    mysql_stmt_bind_param(st, in) != 0)
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

static int
migrate_apply(MYSQL *conn, const char *dir, const struct migration *mig)
{
	char path[CONFIG_PATH_SIZE_MAX + 256];
	char *sql = NULL;
	long long applied = 0;
	size_t n;
	FILE *fp;
	int rc = -1;

	if (migrate_stmt(
	        conn, migrate_sql_applied, mig->version, NULL, &applied) != 0)
		return -1;
	if (applied > 0)
		return 0;
	if (snprintf(path, sizeof(path), "%s/%s", dir, mig->name) >=
	    (int)sizeof(path))
		return -1;
	fp = fopen(path, "re");
	if (fp == NULL)
		return -1;
	sql = malloc(MIGRATION_SIZE_MAX + 1);
	if (sql == NULL)
		goto out_close;
	n = fread(sql, 1, MIGRATION_SIZE_MAX + 1, fp);
	if (n > MIGRATION_SIZE_MAX) {
		log_event(LOG_ERROR, "migrate", "file=%s msg=\"too large\"",
		    mig->name);
		goto out_free;
	}
	sql[n] = '\0';
	if (migrate_simple(conn, sql) != 0) {
		log_event(LOG_ERROR, "migrate",
		    "file=%s errno=%u "
		    "msg=\"%.200s\"",
		    mig->name, mysql_errno(conn), mysql_error(conn));
		goto out_free;
	}
	if (migrate_stmt(
	        conn, migrate_sql_record, mig->version, mig->name, NULL) != 0)
		goto out_free;
	log_event(LOG_INFO, "migrate", "file=%s applied=1", mig->name);
	rc = 0;
out_free:
	free(sql);
out_close:
	(void)fclose(fp);
	return rc;
}

int
migrate_run(const struct config *cfg)
{
	static struct migration migs[MIGRATION_COUNT_MAX];
	bool unix_sock = cfg->db_socket[0] != '\0';
	unsigned int timeout = (unsigned int)cfg->db_connect_timeout_s;
	int count = 0, rc = 1;
	MYSQL *conn;

	if (migrate_list(cfg->sql_dir, migs, &count) != 0)
		return 1;
	conn = mysql_init(NULL);
	if (conn == NULL)
		return 1;
	(void)mysql_options(conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	(void)mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (mysql_real_connect(conn, unix_sock ? NULL : cfg->db_host,
	        cfg->db_user, cfg->db_password, cfg->db_name,
	        unix_sock ? 0 : (unsigned int)cfg->db_port,
	        unix_sock ? cfg->db_socket : NULL,
	        CLIENT_MULTI_STATEMENTS) == NULL) {
		log_event(LOG_ERROR, "migrate",
		    "stage=connect errno=%u "
		    "msg=\"%.200s\"",
		    mysql_errno(conn), mysql_error(conn));
		goto out_close;
	}
	if (migrate_simple(conn, migrate_sql_lock) != 0 ||
	    migrate_simple(conn, migrate_sql_table) != 0) {
		log_event(LOG_ERROR, "migrate", "errno=%u msg=\"%.200s\"",
		    mysql_errno(conn), mysql_error(conn));
		goto out_close;
	}
	for (int i = 0; i < count; i++)
		if (migrate_apply(conn, cfg->sql_dir, &migs[i]) != 0) {
			log_event(LOG_ERROR, "migrate", "file=%s failed=1",
			    migs[i].name);
			goto out_close;
		}
	log_event(LOG_INFO, "migrate", "files=%d done=1", count);
	rc = 0;
out_close:
	mysql_close(conn);
	return rc;
}
