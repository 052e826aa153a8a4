/*
 * POST /login (API.md): a token for a username and password. An unknown
 * user and a wrong password get the same 401 invalid_credentials body,
 * and both cost one yescrypt verification, so neither the answer nor its
 * timing tells whether the account exists.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "handler.h"
#include "log.h"
#include "password.h"
#include "token.h"
#include "username.h"

/* The account a login names, as stored. */
struct login_user {
	int64_t id;
	char name[USERNAME_LEN_MAX + 1];
	char hash[PASSWORD_HASH_SIZE_MAX];
	int64_t token_gen; /* the generation its new token carries */
};

static enum db_rc login_find(
    struct ctx *ctx, const struct auth_creds *creds, struct login_user *user);
static void login_reject(struct ctx *ctx, const struct auth_creds *creds);
static void login_respond(struct ctx *ctx, const struct login_user *user);

/*
 * Looks the account up by name, without regard to case like the unique
 * index (db_row_read). A name that breaks the username rule cannot exist
 * and is not sent to the database.
 */
static enum db_rc
login_find(
    struct ctx *ctx, const struct auth_creds *creds, struct login_user *user)
{
	struct db_val in[] = {
	    DB_STR_IN((uintptr_t)creds->username, creds->username_len)};
	struct db_val out[] = {
	    DB_I64_OUT(),
	    DB_STR_OUT(user->name),
	    DB_STR_OUT(user->hash),
	    DB_I64_OUT(),
	};
	enum db_rc rc;

	if (!username_is_valid(creds->username, creds->username_len))
		return DB_NOT_FOUND;
	rc = db_row_read(ctx->db, STMT_USER_LOGIN, in, 1, out, 4);
	user->id = out[0].i64;
	user->token_gen = out[3].i64;
	assert(rc != DB_OK || user->id > 0);
	return rc;
}

/* One line for the operator, with the name as sent and never a password. */
static void
login_reject(struct ctx *ctx, const struct auth_creds *creds)
{
	char name[USERNAME_LEN_MAX * 4 + 16];

	(void)log_quote(name, sizeof(name), creds->username);
	log_event(LOG_INFO, "login_rejected", "user=%s", name);
	http_error(ctx->resp, API_INVALID_CREDENTIALS, NULL);
}

static void
login_respond(struct ctx *ctx, const struct login_user *user)
{
	const struct config *cfg = ctx->cfg;
	char token[TOKEN_SIZE_MAX + 1];
	struct buf *b = &ctx->resp->body;

	if (token_issue(cfg->jwt_secret, cfg->jwt_secret_len, user->id,
	        user->name, user->token_gen, (int64_t)time(NULL),
	        cfg->token_ttl_s, token) != TOKEN_OK) {
		http_error(ctx->resp, API_INTERNAL, NULL);
		return;
	}
	buf_reset(b);
	if (buf_puts(b, "{\"token\":") != 0 || buf_json_str(b, token) != 0 ||
	    buf_printf(b, ",\"token_type\":\"Bearer\",\"expires_in\":%d}",
	        cfg->token_ttl_s) != 0)
		http_error(ctx->resp, API_INTERNAL, NULL);
	else
		ctx->resp->status = 200;
	/*
	 * RFC 6749 section 5.1: a response with a token is not cached;
	 * http_write() sends Cache-Control: no-store with every answer.
	 */
	explicit_bzero(token, sizeof(token));
}

void
h_login(struct ctx *ctx)
{
	struct login_user user;
	struct auth_creds creds;
	enum password_rc prc;
	enum db_rc rc;

	memset(&user, 0, sizeof(user));
	if (auth_creds_read(ctx, &creds) != 0)
		return;
	rc = login_find(ctx, &creds, &user);
	if (rc == DB_OK) {
		prc = password_verify(
		    creds.password, creds.password_len, user.hash);
	} else if (rc == DB_NOT_FOUND) {
		prc = password_verify_dummy(creds.password, creds.password_len);
	} else {
		handler_db_error(ctx, rc);
		goto out_free_creds;
	}
	if (prc == PASSWORD_OK)
		login_respond(ctx, &user);
	else if (prc == PASSWORD_MISMATCH)
		login_reject(ctx, &creds);
	else
		http_error(ctx->resp, API_INTERNAL, NULL);
out_free_creds:
	explicit_bzero(&user, sizeof(user));
	auth_creds_free(&creds);
}
