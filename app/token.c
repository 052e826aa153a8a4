/*
 * HS256 JWTs through libjwt 1.10. libjwt is trusted only after the header
 * has been read here: its jwt_decode() follows whatever "alg" the token
 * names, so a token saying "none" or another algorithm never reaches it.
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jwt.h>

#include "jsonio.h"
#include "token.h"
#include "username.h"
#include "util.h"

static const char *const token_rc_names[TOKEN_RC__MAX] = {
    "ok",        /* TOKEN_OK */
    "malformed", /* TOKEN_MALFORMED */
    "bad_alg",   /* TOKEN_BAD_ALG */
    "bad_sig",   /* TOKEN_BAD_SIG */
    "claims",    /* TOKEN_CLAIMS */
    "future",    /* TOKEN_FUTURE */
    "expired",   /* TOKEN_EXPIRED */
    "error",     /* TOKEN_ERROR */
};

static int token_b64url_value(unsigned char c);
static bool token_is_b64url(const char *s, size_t len);
static bool token_b64url_decode(const char *in, size_t len, unsigned char *out,
    size_t cap, size_t *out_len);
static enum token_rc token_check_header(const char *seg, size_t len);
static bool token_header_is_plain(struct json_object *obj);
static enum token_rc token_check_shape(const char *token, size_t len);
static bool token_parse_sub(const char *text, int64_t *out);
static bool token_get_int(jwt_t *jwt, const char *claim, int64_t *out);
static bool token_read_gen(jwt_t *jwt, int64_t *gen);
static enum token_rc token_read_claims(
    jwt_t *jwt, int64_t now, struct token_claims *claims);
static enum token_rc token_build(jwt_t *jwt, const char *secret,
    size_t secret_len, const struct token_claims *claims, int ttl_s);

const char *
token_rc_name(enum token_rc rc)
{
	return rc < TOKEN_RC__MAX ? token_rc_names[rc] : "?";
}

/* RFC 4648 section 5: the URL- and filename-safe alphabet. */
static int
token_b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

static bool
token_is_b64url(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (token_b64url_value((unsigned char)s[i]) < 0)
			return false;
	return true;
}

/*
 * Decodes unpadded base64url (RFC 7515 section 2). Refuses a length no
 * encoding has and leftover bits that are not zero, so that one header
 * has one spelling.
 */
static bool
token_b64url_decode(
    const char *in, size_t len, unsigned char *out, size_t cap, size_t *out_len)
{
	unsigned acc = 0, bits = 0;
	size_t n = 0;

	if (len % 4 == 1 || !token_is_b64url(in, len))
		return false;
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 6) |
		      (unsigned)token_b64url_value((unsigned char)in[i]);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= cap)
				return false;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)
		return false;
	*out_len = n;
	return true;
}

/*
 * The JOSE header (RFC 7515 section 4.1): "alg" must be exactly "HS256",
 * which shuts out "none", other HMACs and public-key algorithms alike
 * (RFC 8725 section 3.1); "typ", when present, must be "JWT"; "crit"
 * names extensions we do not implement, so it must be absent.
 */
static enum token_rc
token_check_header(const char *seg, size_t len)
{
	unsigned char raw[TOKEN_HEADER_SIZE_MAX];
	struct json_object *obj;
	enum token_rc rc = TOKEN_OK;
	const char *v;
	size_t n, vlen;

	if (!token_b64url_decode(seg, len, raw, sizeof(raw), &n))
		return TOKEN_MALFORMED;
	obj = jsonio_parse_object((const char *)raw, n);
	if (obj == NULL)
		return TOKEN_MALFORMED;
	if (jsonio_get_str(obj, "alg", &v, &vlen) != JSONIO_OK ||
	    strcmp(v, "HS256") != 0)
		rc = TOKEN_BAD_ALG;
	else if (!token_header_is_plain(obj))
		rc = TOKEN_MALFORMED;
	json_object_put(obj);
	return rc;
}

/* No "crit", and a "typ" that is absent or "JWT" in any case. */
static bool
token_header_is_plain(struct json_object *obj)
{
	const char *v;
	size_t vlen;

	if (json_object_object_get_ex(obj, "crit", NULL))
		return false;
	if (!json_object_object_get_ex(obj, "typ", NULL))
		return true;
	return jsonio_get_str(obj, "typ", &v, &vlen) == JSONIO_OK &&
	       strcasecmp(v, "JWT") == 0;
}

/* header.payload.signature, each non-empty base64url; alg checked first. */
static enum token_rc
token_check_shape(const char *token, size_t len)
{
	const char *dot1 = memchr(token, '.', len);
	const char *dot2, *end = token + len;
	enum token_rc rc;

	if (dot1 == NULL)
		return TOKEN_MALFORMED;
	dot2 = memchr(dot1 + 1, '.', (size_t)(end - dot1 - 1));
	if (dot2 == NULL ||
	    memchr(dot2 + 1, '.', (size_t)(end - dot2 - 1)) != NULL)
		return TOKEN_MALFORMED;
	rc = token_check_header(token, (size_t)(dot1 - token));
	if (rc != TOKEN_OK)
		return rc;
	if (!token_is_b64url(dot1 + 1, (size_t)(dot2 - dot1 - 1)) ||
	    !token_is_b64url(dot2 + 1, (size_t)(end - dot2 - 1)))
		return TOKEN_MALFORMED;
	return TOKEN_OK;
}

/* sub is the user id as we write it: "1" to INT64_MAX, no leading zero. */
static bool
token_parse_sub(const char *text, int64_t *out)
{
	long long v;

	if (text[0] < '1' || text[0] > '9')
		return false;
	if (util_parse_ll(text, 1, INT64_MAX, &v) != 0)
		return false;
	*out = (int64_t)v;
	return true;
}

/* A JSON integer claim; libjwt reports absence and other types in errno. */
static bool
token_get_int(jwt_t *jwt, const char *claim, int64_t *out)
{
	long v;

	errno = 0;
	v = jwt_get_grant_int(jwt, claim);
	if (errno != 0)
		return false;
	*out = (int64_t)v;
	return true;
}

/*
 * The gen claim: a JSON integer >= 0, or 0 when absent (API.md lists only
 * the other claims; 0 is the generation of a user who never logged out
 * nor changed the password). Read from its JSON text: libjwt 1.10's
 * jwt_get_grant_int() answers 0 for a string or a fraction.
 */
static bool
token_read_gen(jwt_t *jwt, int64_t *gen)
{
	char *json = jwt_get_grants_json(jwt, "gen");
	struct json_object *v;
	bool ok;

	/*
	 * Absent (or no memory to say): 0, which never lets a revoked token
	 * in, as the user's generation only grows from 0.
	 */
	*gen = 0;
	if (json == NULL)
		return true;
	v = json_tokener_parse(json);
	free(json);
	ok = v != NULL && json_object_is_type(v, json_type_int);
	if (ok) {
		*gen = (int64_t)json_object_get_int64(v);
		ok = *gen >= 0 && *gen < INT64_MAX;
	}
	json_object_put(v);
	return ok;
}

static enum token_rc
token_read_claims(jwt_t *jwt, int64_t now, struct token_claims *claims)
{
	const char *sub = jwt_get_grant(jwt, "sub");
	const char *name = jwt_get_grant(jwt, "name");
	const char *jti = jwt_get_grant(jwt, "jti");

	if (sub == NULL || !token_parse_sub(sub, &claims->user_id))
		return TOKEN_CLAIMS;
	if (name == NULL || !username_is_valid(name, strlen(name)))
		return TOKEN_CLAIMS;
	if (jti == NULL || jti[0] == '\0')
		return TOKEN_CLAIMS;
	if (!token_get_int(jwt, "iat", &claims->iat) ||
	    !token_get_int(jwt, "exp", &claims->exp))
		return TOKEN_CLAIMS;
	/*
	 * A token without gen (API.md lists only the other claims) is of
	 * generation 0, the generation of a user who never logged out nor
	 * changed the password.
	 */
	if (!token_read_gen(jwt, &claims->gen))
		return TOKEN_CLAIMS;
	/* Non-negative times keep every sum below from overflowing. */
	if (claims->iat < 0 || claims->exp <= claims->iat ||
	    claims->exp - claims->iat > TOKEN_TTL_S_MAX)
		return TOKEN_CLAIMS;
	/* API.md: a clock skew of at most TOKEN_SKEW_S either way. */
	if (claims->iat > now + TOKEN_SKEW_S)
		return TOKEN_FUTURE;
	if (now > claims->exp + TOKEN_SKEW_S)
		return TOKEN_EXPIRED;
	(void)snprintf(claims->name, sizeof(claims->name), "%s", name);
	return TOKEN_OK;
}

enum token_rc
token_verify(const char *secret, size_t secret_len, const char *token,
    int64_t now, struct token_claims *claims)
{
	size_t len = strnlen(token, TOKEN_SIZE_MAX + 1);
	enum token_rc rc;
	jwt_t *jwt = NULL;

	assert(secret_len > 0 && secret_len <= TOKEN_SECRET_LEN_MAX);
	assert(now >= 0);
	memset(claims, 0, sizeof(*claims));
	if (len == 0 || len > TOKEN_SIZE_MAX)
		return TOKEN_MALFORMED;
	rc = token_check_shape(token, len);
	if (rc != TOKEN_OK)
		return rc;
	if (jwt_decode(&jwt, token, (const unsigned char *)secret,
	        (int)secret_len) != 0 ||
	    jwt == NULL)
		return TOKEN_BAD_SIG;
	/* The header said HS256; libjwt must have verified exactly that. */
	if (jwt_get_alg(jwt) != JWT_ALG_HS256)
		rc = TOKEN_BAD_ALG;
	else
		rc = token_read_claims(jwt, now, claims);
	jwt_free(jwt);
	if (rc != TOKEN_OK)
		memset(claims, 0, sizeof(*claims));
	assert(rc != TOKEN_OK || claims->user_id > 0);
	return rc;
}

/* Adds the claims (sub, name, gen, iat) and the key to a fresh jwt. */
static enum token_rc
token_build(jwt_t *jwt, const char *secret, size_t secret_len,
    const struct token_claims *claims, int ttl_s)
{
	int64_t now = claims->iat;
	unsigned char raw[TOKEN_JTI_SIZE];
	char jti[TOKEN_JTI_SIZE * 2 + 1];
	char sub[24];
	int n;

	if (util_random(raw, sizeof(raw)) != 0)
		return TOKEN_ERROR;
	for (size_t i = 0; i < sizeof(raw); i++)
		(void)snprintf(jti + 2 * i, 3, "%02x", raw[i]);
	n = snprintf(sub, sizeof(sub), "%lld", (long long)claims->user_id);
	if (n < 0 || (size_t)n >= sizeof(sub))
		return TOKEN_ERROR;
	if (jwt_add_grant(jwt, "sub", sub) != 0 ||
	    jwt_add_grant(jwt, "name", claims->name) != 0 ||
	    jwt_add_grant_int(jwt, "gen", (long)claims->gen) != 0 ||
	    jwt_add_grant_int(jwt, "iat", (long)now) != 0 ||
	    jwt_add_grant_int(jwt, "exp", (long)(now + ttl_s)) != 0 ||
	    jwt_add_grant(jwt, "jti", jti) != 0)
		return TOKEN_ERROR;
	if (jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret,
	        (int)secret_len) != 0)
		return TOKEN_ERROR;
	return TOKEN_OK;
}

enum token_rc
token_issue(const char *secret, size_t secret_len, int64_t user_id,
    const char *name, int64_t gen, int64_t now, int ttl_s,
    char out[TOKEN_SIZE_MAX + 1])
{
	struct token_claims claims = {
	    .user_id = user_id, .iat = now, .gen = gen};
	enum token_rc rc;
	jwt_t *jwt = NULL;

	assert(secret_len > 0 && secret_len <= TOKEN_SECRET_LEN_MAX);
	assert(user_id > 0 && username_is_valid(name, strlen(name)));
	assert(ttl_s >= 1 && ttl_s <= TOKEN_TTL_S_MAX && now >= 0);
	assert(gen >= 0);
	out[0] = '\0';
	if (util_copy(claims.name, sizeof(claims.name), name) != 0 ||
	    jwt_new(&jwt) != 0)
		return TOKEN_ERROR;
	rc = token_build(jwt, secret, secret_len, &claims, ttl_s);
	if (rc == TOKEN_OK) {
		/* jwt_encode_str() allocates; libjwt 1.10 has no free_str. */
		char *text = jwt_encode_str(jwt);

		if (text == NULL ||
		    util_copy(out, TOKEN_SIZE_MAX + 1, text) != 0)
			rc = TOKEN_ERROR;
		if (text != NULL) {
			explicit_bzero(text, strlen(text));
			free(text);
		}
	}
	jwt_free(jwt);
	return rc;
}
