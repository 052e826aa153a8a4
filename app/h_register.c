/*
 * POST /register (API.md): a new account with a zero balance. The username
 * is unique without regard to case, which the users table's unique index
 * enforces (its collation is case-insensitive); the password is stored only
 * as a yescrypt hash.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "handler.h"
#include "password.h"
#include "username.h"
#include "util.h"

static int register_times(
    time_t now, char db[REGISTER_DATETIME_SIZE], char api[UTIL_TIME_SIZE]);
static enum db_rc register_insert(struct ctx *ctx,
    const struct auth_creds *creds, char *hash, char *created, int64_t *id);
static void register_respond(struct ctx *ctx, int64_t id,
    const struct auth_creds *creds, const char *created);

/*
 * The one creation time in both spellings: UTC for the DATETIME column
 * (the session's time zone is +00:00) and RFC 3339 for the response.
 */
static int
register_times(
    time_t now, char db[REGISTER_DATETIME_SIZE], char api[UTIL_TIME_SIZE])
{
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(db, REGISTER_DATETIME_SIZE, "%Y-%m-%d %H:%M:%S", &tm) !=
	        REGISTER_DATETIME_SIZE - 1)
		return -1;
	util_format_time(api, (int64_t)now);
	return 0;
}

/*
 * One INSERT in autocommit. A deadlock or lock-wait victim was rolled back
 * entirely, so it is retried, a bounded number of times; a lost connection
 * is not, since the INSERT may have been committed before it was lost.
 */
static enum db_rc
register_insert(struct ctx *ctx, const struct auth_creds *creds, char *hash,
    char *created, int64_t *id)
{
	char name[USERNAME_LEN_MAX + 1];
	struct db_val in[] = {
	    DB_STR_IN(name, creds->username_len),
	    DB_STR_IN(hash, strlen(hash)),
	    DB_STR_IN(created, strlen(created)),
	};
	enum db_rc rc = db_ensure(ctx->db);

	/* A copy, because db_val wants a mutable pointer; the name is valid. */
	assert(creds->username_len <= USERNAME_LEN_MAX);
	memcpy(name, creds->username, creds->username_len);
	name[creds->username_len] = '\0';

	for (unsigned attempt = 1; rc == DB_OK; attempt++) {
		rc = db_exec(ctx->db, STMT_USER_INSERT, in, 3, NULL);
		if (rc != DB_RETRY || attempt >= DB_RETRY_COUNT_MAX)
			break;
		db_retry_sleep(attempt);
		rc = DB_OK;
	}
	if (rc == DB_OK)
		*id = db_insert_id(ctx->db, STMT_USER_INSERT);
	assert(rc != DB_OK || *id > 0);
	return rc;
}

static void
register_respond(struct ctx *ctx, int64_t id, const struct auth_creds *creds,
    const char *created)
{
	struct buf *b = &ctx->resp->body;

	buf_reset(b);
	if (buf_printf(b, "{\"id\":%lld,\"username\":", (long long)id) != 0 ||
	    buf_json_str(b, creds->username) != 0 ||
	    buf_printf(b, ",\"balance\":\"0.00\",\"created_at\":\"%s\"}",
	        created) != 0) {
		http_error(ctx->resp, API_INTERNAL, NULL);
		return;
	}
	ctx->resp->status = 201;
}

void
h_register(struct ctx *ctx)
{
	char hash[PASSWORD_HASH_SIZE_MAX] = "";
	char created_db[REGISTER_DATETIME_SIZE];
	char created_api[UTIL_TIME_SIZE];
	struct auth_creds creds;
	int64_t id = 0;
	enum db_rc rc;

	if (auth_creds_read(ctx, &creds) != 0)
		return;
	if (!username_is_valid(creds.username, creds.username_len)) {
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The field username must be 3 to 32 characters of "
		    "A-Z a-z 0-9 _ . -");
		goto out_free_creds;
	}
	if (!password_is_valid(creds.password, creds.password_len)) {
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The field password must be 8 to 128 bytes of UTF-8.");
		goto out_free_creds;
	}
	/* Hashed before the insert: a taken name costs as much as a new one. */
	if (password_hash(creds.password, creds.password_len, hash) !=
	        PASSWORD_OK ||
	    register_times(time(NULL), created_db, created_api) != 0) {
		http_error(ctx->resp, API_INTERNAL, NULL);
		goto out_free_creds;
	}
	rc = register_insert(ctx, &creds, hash, created_db, &id);
	if (rc == DB_OK)
		register_respond(ctx, id, &creds, created_api);
	else if (rc == DB_DUPLICATE)
		http_error(ctx->resp, API_USERNAME_TAKEN, NULL);
	else
		handler_db_error(ctx, rc);
out_free_creds:
	explicit_bzero(hash, sizeof(hash));
	auth_creds_free(&creds);
}
