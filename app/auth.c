/*
 * Authentication (API.md Authentication): the Authorization header, the
 * token, and the user it names; plus the username rule and the credentials
 * body shared by POST /register and POST /login.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth.h"
#include "jsonio.h"
#include "log.h"
#include "money.h"
#include "token.h"

static const char *auth_token_of(const char *header);
static enum db_rc auth_load_user(struct ctx *ctx, int64_t user_id,
    char name[USERNAME_LEN_MAX + 1], int64_t *balance_minor, int64_t *gen,
    int64_t *available_minor);
static bool auth_row_is_callers(struct ctx *ctx, int64_t user_id,
    const char *name, int64_t gen, int64_t balance_minor,
    int64_t available_minor);

/*
 * The token of "Bearer <t>" or "JWT <t>" (RFC 6750 section 2.1; the JWT
 * scheme is what django-rest-framework-jwt clients send): the scheme in
 * any case, then one or more spaces. NULL for anything else.
 */
static const char *
auth_token_of(const char *header)
{
	static const char *const schemes[] = {"Bearer", "JWT"};

	if (header == NULL ||
	    strnlen(header, HTTP_AUTH_SIZE_MAX + 1) > HTTP_AUTH_SIZE_MAX)
		return NULL;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i]);
		const char *p = header + n;

		if (strncasecmp(header, schemes[i], n) != 0 || *p != ' ')
			continue;
		while (*p == ' ')
			p++;
		return *p != '\0' ? p : NULL;
	}
	return NULL;
}

/*
 * Reads the username, balance, token generation and available (balance -
 * reserved by pending holds) of user_id (db_row_read: once more on a fresh
 * connection when the first had died). The balance comes with the row, so
 * GET /balance needs no second
 * read.
 */
static enum db_rc
auth_load_user(struct ctx *ctx, int64_t user_id,
    char name[USERNAME_LEN_MAX + 1], int64_t *balance_minor, int64_t *gen,
    int64_t *available_minor)
{
	/* Read and not used here; cppcheck sees only its initializer. */
	/* cppcheck-suppress variableScope */
	char created[AUTH_TIME_SIZE];
	struct db_val in[] = {DB_I64_IN(user_id)};
	struct db_val out[] = {
	    {.type = DB_STR, .str = name, .cap = USERNAME_LEN_MAX + 1},
	    DB_I64_OUT(),
	    DB_I64_OUT(),
	    DB_STR_OUT(created),
	    DB_I64_OUT(),
	};
	enum db_rc rc = db_row_read(ctx->db, STMT_USER_GET, in, 1, out, 5);

	if (rc == DB_OK) {
		*balance_minor = out[1].i64;
		*gen = out[2].i64;
		*available_minor = out[4].i64;
	}
	return rc;
}

int
auth_token(struct ctx *ctx)
{
	const struct config *cfg = ctx->cfg;
	struct token_claims claims;
	const char *token;
	enum token_rc trc;

	token = auth_token_of(ctx->req->authorization);
	if (token == NULL) {
		log_event(LOG_INFO, "auth_rejected", "reason=header");
		http_error(ctx->resp, API_UNAUTHORIZED, NULL);
		return -1;
	}
	trc = token_verify(cfg->jwt_secret, cfg->jwt_secret_len, token,
	    (int64_t)time(NULL), &claims);
	if (trc != TOKEN_OK) {
		log_event(
		    LOG_INFO, "auth_rejected", "reason=%s", token_rc_name(trc));
		http_error(ctx->resp, API_UNAUTHORIZED, NULL);
		return -1;
	}
	ctx->user_id = claims.user_id;
	ctx->token_gen = claims.gen;
	ctx->user_checked = false;
	ctx->balance_minor = -1;
	ctx->available_minor = -1;
	(void)snprintf(ctx->username, sizeof(ctx->username), "%s", claims.name);
	assert(ctx->user_id > 0 && ctx->username[0] != '\0');
	return 0;
}

/*
 * Whether the users row (user_id, name, gen, balance) is the token's user;
 * if so, the caller is checked and its balance kept. The name must match
 * too: should an id ever be reused after its user was deleted, an old
 * token would not open the new account. So must the token generation: a
 * token issued before the user's last POST /logout or POST /password is
 * refused (API.md), by this read that every request makes anyway.
 */
static bool
auth_row_is_callers(struct ctx *ctx, int64_t user_id, const char *name,
    int64_t gen, int64_t balance_minor, int64_t available_minor)
{
	if (user_id != ctx->user_id || strcmp(name, ctx->username) != 0 ||
	    gen != ctx->token_gen)
		return false;
	ctx->user_checked = true;
	ctx->balance_minor = balance_minor;
	ctx->available_minor = available_minor;
	/* The schema's CHECKs: balance in [0, cap], reserved within it. */
	assert(ctx->balance_minor >= 0 &&
	       ctx->balance_minor <= MONEY_BALANCE_MAX_MINOR);
	assert(ctx->available_minor >= 0 &&
	       ctx->available_minor <= ctx->balance_minor);
	return true;
}

int
auth_user(struct ctx *ctx)
{
	char name[USERNAME_LEN_MAX + 1];
	int64_t balance_minor = -1, gen = -1, available_minor = -1;
	enum db_rc rc;

	assert(ctx->user_id > 0);
	if (ctx->user_checked)
		return 0;
	rc = auth_load_user(
	    ctx, ctx->user_id, name, &balance_minor, &gen, &available_minor);
	if (rc != DB_OK && rc != DB_NOT_FOUND) {
		handler_db_error(ctx, rc);
		return -1;
	}
	if (rc == DB_NOT_FOUND || !auth_row_is_callers(ctx, ctx->user_id, name,
	                              gen, balance_minor, available_minor)) {
		bool revoked = rc == DB_OK && strcmp(name, ctx->username) == 0;

		log_event(LOG_INFO, "auth_rejected", "reason=%s uid=%lld",
		    revoked ? "revoked" : "no_user", (long long)ctx->user_id);
		http_error(ctx->resp, API_UNAUTHORIZED, NULL);
		return -1;
	}
	return 0;
}

void
auth_user_before_400(struct ctx *ctx)
{
	(void)auth_user(ctx);
}

void
auth_users_load(struct ctx *const *ctxs, size_t n)
{
	char name[USERNAME_LEN_MAX + 1] = ""; /* db_fetch fills it */
	struct db_val in[WORKER_BATCH_MAX];
	struct db_val out[] = {
	    DB_I64_OUT(),
	    {.type = DB_STR, .str = name, .cap = sizeof(name)},
	    DB_I64_OUT(),
	    DB_I64_OUT(),
	    DB_I64_OUT(),
	};
	struct db *db;

	assert(n <= WORKER_BATCH_MAX);
	if (n < 2)
		return; /* one row: auth_user()'s own read */
	/* No user has id 0: AUTO_INCREMENT starts at 1. */
	for (size_t i = 0; i < WORKER_BATCH_MAX; i++)
		in[i] = DB_I64_IN(i < n ? ctxs[i]->user_id : 0);
	db = ctxs[0]->db;
	if (db_ensure(db) != DB_OK || db_query(db, STMT_USER_BATCH, in,
	                                  WORKER_BATCH_MAX, out, 5) != DB_OK)
		return; /* each auth_user() tries again and answers */
	while (db_fetch(db, STMT_USER_BATCH) == DB_OK) {
		/* The same user may send several requests of a batch. */
		for (size_t i = 0; i < n; i++)
			if (!ctxs[i]->user_checked)
				(void)auth_row_is_callers(ctxs[i], out[0].i64,
				    name, out[3].i64, out[2].i64, out[4].i64);
	}
	db_query_end(db, STMT_USER_BATCH);
}

int
auth_field_read(struct ctx *ctx, struct json_object *obj, const char *field,
    const char **out, size_t *len)
{
	char msg[128];

	switch (jsonio_get_str(obj, field, out, len)) {
	case JSONIO_OK:
		return 0;
	case JSONIO_MISSING:
		(void)snprintf(
		    msg, sizeof(msg), "The field %s is required.", field);
		break;
	default:
		/* jsonio refuses a string with a NUL inside as a type error. */
		(void)snprintf(msg, sizeof(msg),
		    "The field %s must be a string without NUL characters.",
		    field);
		break;
	}
	http_error(ctx->resp, API_INVALID_REQUEST, msg);
	return -1;
}

int
auth_creds_read(struct ctx *ctx, struct auth_creds *creds)
{
	memset(creds, 0, sizeof(*creds));
	creds->obj = handler_body_object(ctx);
	if (creds->obj == NULL)
		return -1;
	if (auth_field_read(ctx, creds->obj, "username", &creds->username,
	        &creds->username_len) != 0 ||
	    auth_field_read(ctx, creds->obj, "password", &creds->password,
	        &creds->password_len) != 0) {
		auth_creds_free(creds);
		return -1;
	}
	return 0;
}

void
auth_creds_free(struct auth_creds *creds)
{
	/*
	 * json-c keeps the string in memory the object owns and may write;
	 * the cast through uintptr_t only drops the const of its getter.
	 */
	if (creds->password != NULL)
		explicit_bzero(
		    (char *)(uintptr_t)creds->password, creds->password_len);
	if (creds->obj != NULL)
		json_object_put(creds->obj);
	memset(creds, 0, sizeof(*creds));
}
