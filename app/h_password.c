/*
 * POST /password (API.md): the caller changes its password. The current
 * password is checked against the stored hash, the new one is hashed with
 * the current cost (password.c), and the one UPDATE that stores it also
 * raises the user's token generation, so that every token issued before,
 * the one of this request included, is refused from then on (auth.c).
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "handler.h"
#include "jsonio.h"
#include "log.h"
#include "password.h"
#include "util.h"

/* The body: {"password": "<current>", "new_password": "<new>"}. */
struct password_change {
	struct json_object *obj; /* owns the two strings below */
	const char *current;
	size_t current_len;
	const char *next;
	size_t next_len;
};

static enum api_err password_change_read(
    struct ctx *ctx, struct password_change *pc);
static void password_change_free(struct password_change *pc);
static enum db_rc password_change_hash_of(
    struct ctx *ctx, char hash[PASSWORD_HASH_SIZE_MAX]);

/* Reads the two fields; answers 400 for a bad body or new password. */
static enum api_err
password_change_read(struct ctx *ctx, struct password_change *pc)
{
	memset(pc, 0, sizeof(*pc));
	pc->obj = handler_body_object(ctx);
	if (pc->obj == NULL)
		return API_INVALID_REQUEST;
	if (auth_field_read(ctx, pc->obj, "password", &pc->current,
	        &pc->current_len) != 0 ||
	    auth_field_read(
	        ctx, pc->obj, "new_password", &pc->next, &pc->next_len) != 0)
		return API_INVALID_REQUEST;
	/* The rule of POST /register. */
	if (!password_is_valid(pc->next, pc->next_len)) {
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The field new_password must be 8 to 128 bytes of UTF-8.");
		return API_INVALID_REQUEST;
	}
	return API__MAX;
}

/* Wipes both passwords and releases the body (as auth_creds_free). */
static void
password_change_free(struct password_change *pc)
{
	if (pc->current != NULL)
		explicit_bzero((char *)(uintptr_t)pc->current, pc->current_len);
	if (pc->next != NULL)
		explicit_bzero((char *)(uintptr_t)pc->next, pc->next_len);
	if (pc->obj != NULL)
		json_object_put(pc->obj);
	memset(pc, 0, sizeof(*pc));
}

/*
 * The caller's hash, while the token's generation is still the user's
 * (DB_NOT_FOUND otherwise: the token was revoked since auth_user()).
 */
static enum db_rc
password_change_hash_of(struct ctx *ctx, char hash[PASSWORD_HASH_SIZE_MAX])
{
	struct db_val in[] = {
	    DB_I64_IN(ctx->user_id), DB_I64_IN(ctx->token_gen)};
	struct db_val out[] = {
	    {.type = DB_STR, .str = hash, .cap = PASSWORD_HASH_SIZE_MAX}};

	return db_row(ctx->db, STMT_USER_HASH, in, 2, out, 1);
}

void
h_password(struct ctx *ctx)
{
	char hash[PASSWORD_HASH_SIZE_MAX] = "";
	char at_sql[UTIL_SQL_TIME_SIZE], at[UTIL_TIME_SIZE];
	struct password_change pc;
	int64_t now = (int64_t)time(NULL);
	uint64_t changed = 0;
	enum password_rc prc;
	enum db_rc rc;

	assert(ctx->user_id > 0 && ctx->user_checked);
	if (password_change_read(ctx, &pc) != API__MAX)
		goto out_free;
	rc = password_change_hash_of(ctx, hash);
	if (rc != DB_OK) {
		if (rc == DB_NOT_FOUND)
			http_error(ctx->resp, API_UNAUTHORIZED, NULL);
		else
			handler_db_error(ctx, rc);
		goto out_free;
	}
	prc = password_verify(pc.current, pc.current_len, hash);
	if (prc == PASSWORD_MISMATCH) {
		log_event(LOG_INFO, "password_rejected", "uid=%lld",
		    (long long)ctx->user_id);
		http_error(ctx->resp, API_WRONG_PASSWORD, NULL);
		goto out_free;
	}
	explicit_bzero(hash, sizeof(hash));
	if (prc != PASSWORD_OK ||
	    password_hash(pc.next, pc.next_len, hash) != PASSWORD_OK) {
		http_error(ctx->resp, API_INTERNAL, NULL);
		goto out_free;
	}
	util_format_sql_time(at_sql, now);
	util_format_time(at, now);
	{
		/* Only while the token's generation is still the user's: of
		 * two changes (or a change and a logout), one wins. */
		struct db_val in[] = {
		    DB_STR_IN(hash, strlen(hash)),
		    DB_STR_IN(at_sql, strlen(at_sql)),
		    DB_I64_IN(ctx->user_id),
		    DB_I64_IN(ctx->token_gen),
		};

		rc = handler_exec_retry(
		    ctx, STMT_USER_PASSWORD_SET, in, 4, &changed);
	}
	if (rc != DB_OK) {
		handler_db_error(ctx, rc);
		goto out_free;
	}
	if (changed != 1) {
		http_error(ctx->resp, API_UNAUTHORIZED, NULL);
		goto out_free;
	}
	log_event(
	    LOG_INFO, "password_changed", "uid=%lld", (long long)ctx->user_id);
	buf_reset(&ctx->resp->body);
	(void)buf_puts(&ctx->resp->body, "{\"username\":");
	(void)buf_json_str(&ctx->resp->body, ctx->username);
	(void)buf_printf(
	    &ctx->resp->body, ",\"password_changed_at\":\"%s\"}", at);
	ctx->resp->status = 200;
out_free:
	explicit_bzero(hash, sizeof(hash));
	password_change_free(&pc);
}
