/*
 * Authentication (API.md Authentication): the Authorization header, the
 * token, and the user it names; plus the username rule and the credentials
 * body shared by POST /register and POST /login.
 */
#include <assert.h>
#include <inttypes.h>
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
static enum db_rc auth_load_user(struct ctx *ctx, bool *is_callers,
    int64_t *balance_minor, int64_t *available_minor);
static void auth_checked(
    struct ctx *ctx, int64_t balance_minor, int64_t available_minor);
static size_t auth_users_json(
    struct ctx *const *ctxs, size_t n, char json[DB_USER_BATCH_JSON_SIZE_MAX]);

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
 * Reads the row of the token's user id: whether it is the token's user
 * (*is_callers: the rule is payd_is_token_user,
 * sql/R__payd_is_token_user.sql),
 * its balance and available (balance - reserved by pending holds)
 * (db_row_read: once more on a fresh connection when the first had died).
 * The balance comes with the row, so GET /balance needs no second read.
 * DB_NOT_FOUND when there is no user of that id.
 */
static enum db_rc
auth_load_user(struct ctx *ctx, bool *is_callers, int64_t *balance_minor,
    int64_t *available_minor)
{
	struct db_val in[] = {
	    DB_STR_IN(ctx->username, strlen(ctx->username)),
	    DB_I64_IN(ctx->token_gen),
	    DB_I64_IN(ctx->user_id),
	};
	struct db_val out[] = {DB_I64_OUT(), DB_I64_OUT(), DB_I64_OUT()};
	enum db_rc rc = db_row_read(ctx->db, STMT_USER_GET, in, 3, out, 3);

	if (rc == DB_OK) {
		*is_callers = out[0].i64 != 0;
		*balance_minor = out[1].i64;
		*available_minor = out[2].i64;
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
 * The caller is checked (payd_is_token_user said the row is the token's
 * user: the id under the token's name and generation), and its balance
 * kept.
 */
static void
auth_checked(struct ctx *ctx, int64_t balance_minor, int64_t available_minor)
{
	ctx->user_checked = true;
	ctx->balance_minor = balance_minor;
	ctx->available_minor = available_minor;
	/* The schema's CHECKs: balance in [0, cap], reserved within it. */
	assert(ctx->balance_minor >= 0 &&
	       ctx->balance_minor <= MONEY_BALANCE_MAX_MINOR);
	assert(ctx->available_minor >= 0 &&
	       ctx->available_minor <= ctx->balance_minor);
}

int
auth_user(struct ctx *ctx)
{
	int64_t balance_minor = -1, available_minor = -1;
	bool is_callers = false;
	enum db_rc rc;

	assert(ctx->user_id > 0);
	if (ctx->user_checked)
		return 0;
	rc = auth_load_user(ctx, &is_callers, &balance_minor, &available_minor);
	if (rc != DB_OK && rc != DB_NOT_FOUND) {
		handler_db_error(ctx, rc);
		return -1;
	}
	if (!is_callers) {
		/* No such id (no_user), or its row is not the token's user:
		 * revoked by POST /logout or POST /password (or the id reused
		 * under another name). */
		log_event(LOG_INFO, "auth_rejected", "reason=%s uid=%lld",
		    rc == DB_OK ? "revoked" : "no_user",
		    (long long)ctx->user_id);
		http_error(ctx->resp, API_UNAUTHORIZED, NULL);
		return -1;
	}
	auth_checked(ctx, balance_minor, available_minor);
	return 0;
}

void
auth_user_before_400(struct ctx *ctx)
{
	(void)auth_user(ctx);
}

/*
 * The tokens of ctxs[0..n) as STMT_USER_BATCH's document, into json:
 * [[id, "name", gen], ...]. A token's name is a username (token_verify
 * checks it: A-Z a-z 0-9 _ . -, nothing to escape). Returns its length.
 */
static size_t
auth_users_json(
    struct ctx *const *ctxs, size_t n, char json[DB_USER_BATCH_JSON_SIZE_MAX])
{
	size_t len = 1;

	json[0] = '[';
	for (size_t i = 0; i < n; i++) {
		const struct ctx *c = ctxs[i];
		int k;

		assert(strcspn(c->username, "\"\\") == strlen(c->username));
		k = snprintf(json + len, DB_USER_ITEM_JSON_SIZE_MAX,
		    "%s[%" PRId64 ",\"%s\",%" PRId64 "]", i == 0 ? "" : ",",
		    c->user_id, c->username, c->token_gen);
		assert(k > 0 && k < DB_USER_ITEM_JSON_SIZE_MAX);
		len += (size_t)k;
	}
	json[len++] = ']';
	json[len] = '\0';
	assert(len < DB_USER_BATCH_JSON_SIZE_MAX);
	return len;
}

void
auth_users_load(struct ctx *const *ctxs, size_t n)
{
	char json[DB_USER_BATCH_JSON_SIZE_MAX];
	struct db_val in[1];
	/* the request's index from 1, balance, available */
	struct db_val out[] = {DB_I64_OUT(), DB_I64_OUT(), DB_I64_OUT()};
	struct db *db;

	assert(n <= WORKER_BATCH_MAX);
	if (n < 2)
		return; /* one row: auth_user()'s own read */
	in[0] = DB_STR_IN(json, auth_users_json(ctxs, n, json));
	db = ctxs[0]->db;
	if (db_ensure(db) != DB_OK ||
	    db_query(db, STMT_USER_BATCH, in, 1, out, 3) != DB_OK)
		return; /* each auth_user() tries again and answers */
	while (db_fetch(db, STMT_USER_BATCH) == DB_OK) {
		int64_t i = out[0].i64;

		/* A row only for a request whose row is the token's user. */
		if (i >= 1 && (size_t)i <= n && !ctxs[i - 1]->user_checked)
			auth_checked(ctxs[i - 1], out[1].i64, out[2].i64);
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
